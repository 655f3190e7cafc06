"""Grade a submission: sandboxed run -> observations -> trusted checks -> one report.

Example:
    >>> grader = Grader(GraderOptions(data_dir="../shared/data/fashion-mnist"))
    >>> report = grader.grade("solutions/fashion_mnist/fashion_mnist.ipynb")
    >>> report.score, report.max_score
    (100.0, 100.0)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import exercise
from autograder.checks import GradingContext, rubric
from autograder.checks.base import part_failure, run_check
from autograder.checks.callbacks import CALLBACK_CASES, CALLBACK_FITS
from autograder.checks.training import predict_probabilities
from autograder.data import FILES, locate_data, read_dataset
from autograder.observations import read_observations
from autograder.results import GradingReport, TestResult
from autograder.sandbox.isolation import Limits, choose_sandbox
from autograder.sandbox.runner import PartRun, Session
from autograder.submission import SubmissionError, load_chunks

DEFAULT_TIMEOUTS: dict[str, float] = {
    "import": 120.0,
    "between": 60.0,
    "CLASS_NAMES": 30.0,
    "load_data": 90.0,
    "scale_images": 30.0,
    "add_batch_dimension": 30.0,
    "build_model": 60.0,
    "StopOnLoss": 120.0,
    "StopOnAccuracy": 120.0,
    "train_model": 180.0,
    "predict_classes": 60.0,
    "pipeline": 600.0,
}


@dataclass
class GraderOptions:
    """How to grade. Every field has a sensible default for `make grade`."""

    data_dir: str | None = None
    sandbox: str = "auto"
    limits: Limits = field(default_factory=Limits)
    timeouts: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    pipeline_threshold: float = exercise.PIPELINE_THRESHOLD
    parts: tuple[str, ...] = exercise.PARTS


class Grader:
    """Holds what is shared between submissions: the data, the inputs, the sandbox choice."""

    def __init__(self, options: GraderOptions | None = None) -> None:
        self.options = options or GraderOptions()
        unknown = set(self.options.parts) - set(exercise.PARTS)
        if unknown:
            raise ValueError(
                f"unknown parts {sorted(unknown)}; parts are {', '.join(exercise.PARTS)}"
            )
        self.data_dir = locate_data(self.options.data_dir)
        self.dataset = read_dataset(self.data_dir)
        self.sandbox = choose_sandbox(self.options.sandbox)
        self.inputs_dir = Path(tempfile.mkdtemp(prefix="autograder-inputs-"))
        # Removed by close(), or when the grader is garbage-collected or the interpreter exits
        # (a grader kept in a global, as the self-check and nbgrader cells do, is never closed).
        self._remove_inputs = weakref.finalize(self, shutil.rmtree, self.inputs_dir, True)
        self.context = self._prepare_inputs()

    def close(self) -> None:
        self._remove_inputs()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the grader's own inputs --------------------------------------------------------------
    def _prepare_inputs(self) -> GradingContext:
        ds = self.dataset
        rng = np.random.default_rng(exercise.SEED)
        sample = ds.train_images[:100]
        subset = min(exercise.SUBSET_SIZE, len(ds.train_images))
        order = rng.permutation(len(ds.test_images))[: exercise.PREDICT_SIZE]
        predict_images = ds.test_images[order].astype(np.float32) / 255.0
        np.save(self.inputs_dir / "sample_images.npy", sample)
        np.save(self.inputs_dir / "subset_images.npy", ds.train_images[:subset])
        np.save(self.inputs_dir / "subset_labels.npy", ds.train_labels[:subset])
        np.save(self.inputs_dir / "predict_images.npy", predict_images)
        reference = self._reference_model()
        reference.save(self.inputs_dir / "reference_model.keras")
        predictions = predict_probabilities(reference, predict_images).argmax(axis=1)
        for path in self.inputs_dir.iterdir():
            path.chmod(0o444)
        self.inputs_dir.chmod(0o555)
        return GradingContext(
            train_images=ds.train_images,
            train_labels=ds.train_labels,
            test_images=ds.test_images,
            test_labels=ds.test_labels,
            sample_images=sample,
            predict_images=predict_images,
            reference_predictions=predictions,
            pipeline_threshold=self.options.pipeline_threshold,
        )

    @staticmethod
    def _reference_model():
        """An untrained, seeded model: its argmax differs from the true labels, so a
        `predict_classes` that looks labels up cannot agree with it."""
        import keras

        keras.utils.set_random_seed(exercise.SEED)
        model = keras.Sequential(
            [
                keras.Input(exercise.IMAGE_SHAPE),
                keras.layers.Flatten(),
                keras.layers.Dense(exercise.HIDDEN_UNITS, activation="relu"),
                keras.layers.Dense(exercise.NUM_CLASSES, activation="softmax"),
            ]
        )
        return model

    def _probe_config(self) -> dict:
        return {
            "seed": exercise.SEED,
            "hidden_units": exercise.HIDDEN_UNITS,
            "pipeline_epochs": exercise.PIPELINE_EPOCHS,
            "callback_cases": CALLBACK_CASES,
            "callback_fits": CALLBACK_FITS,
        }

    # -- grading --------------------------------------------------------------------------------
    def grade(self, submission: str | os.PathLike[str]) -> GradingReport:
        """Grade one `.ipynb` or `.py` file; never raises for a bad submission."""
        started = time.monotonic()
        name = str(submission)
        checks = [c for c in rubric() if c.part in self.options.parts]
        try:
            chunks = load_chunks(submission)
        except SubmissionError as exc:
            tests = [run_check(c, None, self.context, f"Not graded: {exc}.") for c in checks]  # type: ignore[arg-type]
            return GradingReport(
                name,
                tests,
                time.monotonic() - started,
                self.sandbox.describe(),
                {"submission": str(exc)},
            )
        session = Session(
            sandbox=self.sandbox,
            limits=self.options.limits,
            timeouts=self.options.timeouts,
            chunks=[c.to_dict() for c in chunks],
            inputs_dir=self.inputs_dir,
            data_files={n: (self.data_dir / n).resolve() for n in FILES.values()},
            config=self._probe_config(),
        )
        try:
            result = session.run(list(self.options.parts))
            tests, notes = self._score(result.out_dir, result.runs, self.options.parts)
            if result.network_attempts:
                notes["network"] = "tried to open a network connection: " + "; ".join(
                    result.network_attempts[:3]
                )
            if result.output_truncated:
                notes["output"] = (
                    f"output was capped at {self.options.limits.output_bytes // 1024} KiB per stream"
                )
            artifacts = dict(self.context.artifacts)
            artifacts["stdout_tail"] = result.stdout[-2000:]
            artifacts["part_seconds"] = {p: r.seconds for p, r in result.runs.items()}
            artifacts["children_started"] = result.children_started
        finally:
            session.cleanup()
        return GradingReport(
            name, tests, time.monotonic() - started, self.sandbox.describe(), notes, artifacts
        )

    def _score(
        self, out_dir: Path, runs: dict[str, PartRun], parts: tuple[str, ...] | list[str]
    ) -> tuple[list[TestResult], dict[str, str]]:
        """Run the trusted checks over the observations in `out_dir`."""
        self.context.artifacts = {}
        checks = rubric()
        tests: list[TestResult] = []
        notes: dict[str, str] = {}
        for part in parts:
            run = runs.get(part, PartRun("crashed", "did not run"))
            obs = read_observations(out_dir, part, run)
            if run.status != "ok":
                notes[part] = run.message
            reason = part_failure(obs)
            tests += [run_check(c, obs, self.context, reason) for c in checks if c.part == part]
        return tests, notes

    def check_namespace(
        self, namespace: dict, parts: tuple[str, ...] | list[str], label: str = "notebook"
    ) -> GradingReport:
        """Self-check objects already defined in the caller's process (a student's kernel).

        Same probes, same checks and same feedback as `grade`, without the sandbox: only for
        students checking their own work. Grades always come from `grade`.
        """
        from autograder.sandbox import probe

        started = time.monotonic()
        out_dir = Path(tempfile.mkdtemp(prefix="autograder-selfcheck-"))
        try:
            config = {
                **self._probe_config(),
                "out_dir": str(out_dir),
                "inputs_dir": str(self.inputs_dir),
                "parts": list(parts),
                "source_names": sorted({f for f in _code_filenames(namespace)}),
            }
            probe.run_in_process(config, namespace)
            runs = {part: PartRun("ok") for part in parts}
            tests, notes = self._score(out_dir, runs, parts)
            artifacts = dict(self.context.artifacts)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        return GradingReport(
            label,
            tests,
            time.monotonic() - started,
            "none (self-check in your own kernel)",
            notes,
            artifacts,
        )


def _code_filenames(namespace: dict) -> list[str]:
    """Filenames of the code objects defined in a namespace, so tracebacks keep the student's lines."""
    names = []
    for value in list(namespace.values()):
        code = getattr(value, "__code__", None)
        if code is None and isinstance(value, type):
            code = next(
                (
                    getattr(v, "__code__", None)
                    for v in vars(value).values()
                    if hasattr(v, "__code__")
                ),
                None,
            )
        if code is not None:
            names.append(code.co_filename)
    return names

"""Grade a submission: sandboxed run -> observations -> trusted checks -> one report.

Example:
    >>> grader = Grader(GraderOptions(data_dir="../shared/data/fashion-mnist"))
    >>> report = grader.grade("solutions/fashion_mnist/fashion_mnist.ipynb")
    >>> report.score, report.max_score
    (100.0, 100.0)
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
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
from autograder.checks.training import predict_probabilities
from autograder.data import FILES, locate_data, read_dataset
from autograder.inputs import GradingInputs, draw_inputs, grading_seed, load_secret
from autograder.observations import read_import_errors, read_observations
from autograder.results import GradingReport, TestResult
from autograder.sandbox.isolation import Limits, choose_sandbox
from autograder.sandbox.runner import PartRun, Session
from autograder.submission import Chunk, SubmissionError, load_submission

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
REFERENCE_MODEL = "reference_model.keras"
FLOOD_BYTES = 4 * 2**20  # a full grading's progress bars print well under 1 MiB


@dataclass
class GraderOptions:
    """How to grade. Every field has a sensible default for `make grade`."""

    data_dir: str | None = None
    sandbox: str = "auto"
    limits: Limits = field(default_factory=Limits)
    timeouts: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    pipeline_threshold: float = exercise.PIPELINE_THRESHOLD
    parts: tuple[str, ...] = exercise.PARTS
    # Keys the per-grading inputs (see autograder.inputs); default: $AUTOGRADER_SECRET or a key
    # kept in the grader user's state directory.
    secret: bytes | None = None
    # The released notebook (its bytes, so a batch can ship it to workers): notebook submissions'
    # locked cells are graded as released unless `grade` is given another release.
    release: bytes | None = None


class Grader:
    """Holds what is shared between submissions: the data, the reference model, the sandbox."""

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
        self.secret = self.options.secret or load_secret()
        self.inputs_dir = Path(tempfile.mkdtemp(prefix="autograder-inputs-"))
        # Removed by close(), or when the grader is garbage-collected or the interpreter exits
        # (a grader kept in a global, as the self-check does, is never closed).
        self._remove_inputs = weakref.finalize(self, shutil.rmtree, self.inputs_dir, True)
        self.reference = self._reference_model()
        self.reference.save(self.inputs_dir / REFERENCE_MODEL)
        self.reference_weights = [np.asarray(w) for w in self.reference.get_weights()]
        self.release_path: Path | None = None
        if self.options.release is not None:
            self.release_path = self.inputs_dir / "release.ipynb"
            self.release_path.write_bytes(self.options.release)
        (self.inputs_dir / REFERENCE_MODEL).chmod(0o444)
        self.inputs_dir.chmod(0o555)

    def close(self) -> None:
        self._remove_inputs()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the grader's own inputs --------------------------------------------------------------
    @staticmethod
    def _reference_model():
        """An untrained, seeded, compiled model: the start of the probe's short fits, and the
        model given to `predict_classes` (its argmax differs from the true labels, so a
        `predict_classes` that looks labels up cannot agree with it)."""
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
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    def draw(self, seed: int) -> GradingInputs:
        ds = self.dataset
        return draw_inputs(ds.train_images, ds.train_labels, ds.test_images, seed)

    def _context(self, inputs: GradingInputs) -> GradingContext:
        from autograder.checks.training import training_loss

        ds = self.dataset
        predict_images = inputs.arrays["predict_images"]
        context = GradingContext(
            train_images=ds.train_images,
            train_labels=ds.train_labels,
            test_images=ds.test_images,
            test_labels=ds.test_labels,
            sample_images=inputs.arrays["sample_images"],
            predict_images=predict_images,
            reference_predictions=predict_probabilities(self.reference, predict_images).argmax(
                axis=1
            ),
            reference_weights=self.reference_weights,
            subset_images=inputs.arrays["subset_images"],
            subset_labels=inputs.arrays["subset_labels"],
            start_loss=0.0,
            expectations=inputs.expectations,
            pipeline_threshold=self.options.pipeline_threshold,
        )
        context.start_loss = training_loss(self.reference, context)
        return context

    def _write_inputs(self, inputs: GradingInputs) -> Path:
        """A read-only folder of this grading's inputs (removed by the caller)."""
        folder = Path(tempfile.mkdtemp(prefix="autograder-inputs-"))
        inputs.write(folder)
        shutil.copyfile(self.inputs_dir / REFERENCE_MODEL, folder / REFERENCE_MODEL)
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        return folder

    def _probe_config(self, inputs: GradingInputs) -> dict:
        return {
            "seed": exercise.SEED,
            "pipeline_epochs": exercise.PIPELINE_EPOCHS,
            **inputs.child_config(),
        }

    # -- grading --------------------------------------------------------------------------------
    def grade(
        self, submission: str | os.PathLike[str], *, release: str | os.PathLike[str] | None = None
    ) -> GradingReport:
        """Grade one `.ipynb` or `.py` file; never raises for a bad submission.

        `release`: the released notebook; the submission's locked cells are graded as released
        (restored from it, as nbgrader does), so every route gives the same grade.
        """
        started = time.monotonic()
        name = str(submission)
        if release is None:
            release = self.release_path
        try:
            loaded = load_submission(submission, release=release)
        except Exception as exc:  # an unreadable file is graded "Not graded", never a crash
            reason = str(exc) if isinstance(exc, SubmissionError) else _unexpected(exc)
            return self._not_graded(name, f"Not graded: {reason}.", started)
        notes: dict[str, str] = {}
        if loaded.restored:
            notes["locked cells"] = (
                "graded as released (restored from the release notebook): "
                + ", ".join(loaded.restored)
            )
        inputs = self.draw(grading_seed(self.secret, _code_bytes(loaded.chunks)))
        inputs_dir = self._write_inputs(inputs)
        session = None
        try:
            context = self._context(inputs)
            context.ungraded = loaded.ungraded
            context.code = [c.source for c in loaded.chunks]
            session = Session(
                sandbox=self.sandbox,
                limits=self.options.limits,
                timeouts=self.options.timeouts,
                chunks=[c.to_dict() for c in loaded.chunks],
                inputs_dir=inputs_dir,
                data_files={n: (self.data_dir / n).resolve() for n in FILES.values()},
                config=self._probe_config(inputs),
                depends=exercise.DEPENDS,
            )
            result = session.run(list(self.options.parts))
            tests, part_notes = self._score(
                result.out_dir, result.runs, self.options.parts, context
            )
            notes.update(part_notes)
            loading = describe_import_errors(read_import_errors(result.out_dir))
            if loading:
                notes["loading"] = loading
            if result.network_attempts:
                notes["network"] = "tried to open a network connection: " + "; ".join(
                    result.network_attempts[:3]
                )
            if result.output_bytes > FLOOD_BYTES:
                # Progress bars fill the kept 64 KiB routinely; only a flood is worth a note.
                notes["output"] = (
                    f"the submission printed {result.output_bytes / 2**20:.0f} MiB; output was "
                    f"capped at {self.options.limits.output_bytes // 1024} KiB per stream"
                )
            if result.protocol_violation:
                notes["grader"] = result.protocol_violation
            artifacts = dict(context.artifacts)
            artifacts["stdout_tail"] = result.stdout[-2000:]
            artifacts["output_bytes"] = result.output_bytes
            artifacts["part_seconds"] = {p: r.seconds for p, r in result.runs.items()}
            artifacts["children_started"] = result.children_started
        except Exception as exc:  # a fault of the grader's own: record it, never lose the grade
            return self._not_graded(name, f"Not graded: {_unexpected(exc)}.", started)
        finally:
            if session is not None:
                session.cleanup()
            shutil.rmtree(inputs_dir, ignore_errors=True)
        return GradingReport(
            name, tests, time.monotonic() - started, self.sandbox.describe(), notes, artifacts
        )

    def _not_graded(self, name: str, reason: str, started: float) -> GradingReport:
        checks = [c for c in rubric() if c.part in self.options.parts]
        tests = [TestResult(c.name, c.part, c.points, 0.0, message=reason) for c in checks]
        return GradingReport(
            name,
            tests,
            time.monotonic() - started,
            self.sandbox.describe(),
            {"submission": reason},
        )

    def _score(
        self,
        out_dir: Path,
        runs: dict[str, PartRun],
        parts: tuple[str, ...] | list[str],
        context: GradingContext,
    ) -> tuple[list[TestResult], dict[str, str]]:
        """Run the trusted checks over the observations in `out_dir`; never raises."""
        checks = rubric()
        tests: list[TestResult] = []
        notes: dict[str, str] = {}
        for part in parts:
            part_checks = [c for c in checks if c.part == part]
            run = runs.get(part, PartRun("crashed", "did not run"))
            if run.status != "ok":
                notes[part] = run.message
            try:
                obs = read_observations(out_dir, part, run)
                reason = part_failure(obs, context.ungraded)
            except Exception as exc:  # malformed observations cost the part, not the grading
                obs, reason = None, f"Not gradable: {_unexpected(exc)}."
            tests += [run_check(c, obs, context, reason) for c in part_checks]  # type: ignore[arg-type]
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
        inputs = self.draw(secrets.randbits(64))
        inputs_dir = self._write_inputs(inputs)
        try:
            context = self._context(inputs)
            context.code = _namespace_sources(namespace)
            config = {
                **self._probe_config(inputs),
                "out_dir": str(out_dir),
                "inputs_dir": str(inputs_dir),
                "parts": list(parts),
                "source_names": sorted({f for f in _code_filenames(namespace)}),
            }
            probe.run_in_process(config, namespace)
            runs = {part: PartRun("ok") for part in parts}
            tests, notes = self._score(out_dir, runs, parts, context)
            artifacts = dict(context.artifacts)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
            shutil.rmtree(inputs_dir, ignore_errors=True)
        return GradingReport(
            label,
            tests,
            time.monotonic() - started,
            "none (self-check in your own kernel)",
            notes,
            artifacts,
        )


def _unexpected(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"the grader could not read it ({type(exc).__name__}{': ' + text if text else ''})"


def _code_bytes(chunks: list[Chunk]) -> bytes:
    """The code that is graded: the same for every route to the same submission."""
    return json.dumps([dataclasses.astuple(c) for c in chunks]).encode()


def describe_import_errors(errors: list[dict]) -> str:
    """One line per statement that failed while the submission was loaded."""
    lines = []
    # A stub's NotImplementedError is reported by its own part ("not implemented yet").
    errors = [e for e in errors if e.get("type") != "NotImplementedError"]
    for error in errors[:20]:
        where = error.get("label", "?")
        frames = error.get("frames") or []
        line = frames[-1].get("line") if frames else None
        if line and not str(where).startswith("line "):
            where = f"{where}, line {line}"
        kind, message = error.get("type", "Exception"), error.get("message", "")
        if kind == "SystemExit":
            lines.append(
                f"{where}: {message}; graded code must not exit (the rest was still graded)"
            )
        else:
            lines.append(f"{where}: {kind}{': ' + message if message else ''}")
    if not lines:
        return ""
    more = f" (+{len(errors) - 20} more)" if len(errors) > 20 else ""
    return "statements that failed when the submission was loaded: " + "; ".join(lines) + more


def _namespace_sources(namespace: dict) -> list[str]:
    """The source of the functions and classes in a kernel's namespace (for feedback only).

    A class defined in a notebook cell has no source file Python can find, but its methods
    do: the class is rebuilt from them."""
    import inspect
    import textwrap

    sources = []
    for name, value in list(namespace.items()):
        try:
            if inspect.isfunction(value):
                sources.append(textwrap.dedent(inspect.getsource(value)))
            elif inspect.isclass(value) and value.__module__ == namespace.get("__name__"):
                methods = [
                    textwrap.indent(textwrap.dedent(inspect.getsource(member)), "    ")
                    for member in vars(value).values()
                    if inspect.isfunction(member)
                ]
                sources.append(f"class {name}:\n" + ("\n".join(methods) or "    pass\n"))
        except (OSError, TypeError):
            continue
    return sources


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

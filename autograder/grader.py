"""The grader: grade a submission, sandboxed run -> observations -> the exercise's graders -> one
report.

"Grader" here is the `Grader` class, the engine's pipeline for any exercise (see
autograder.exercise_spec): the submission is read, the exercise draws this grading's inputs, the
harness runs the parts' declared calls in the sandbox, the observations are read and validated here,
and the exercise's graders (the `@grader` tests in its `graders/` folder) score them through
pytest (autograder.scoring). Around it, each in its own module: the process's shared graders
(autograder.shared_graders), the pytest bridge (autograder.scoring.direct_run), the in-kernel
self-check (autograder.kernel_check) and the source it rebuilds (autograder.namespace_source).

Example:
    >>> grader = Grader(GraderOptions(exercise="fashion_mnist", data_dir="../shared/data/fashion-mnist"))
    >>> report = grader.grade("solutions/fashion_mnist/fashion_mnist.ipynb")
    >>> report.score, report.max_score
    (100.0, 100.0)
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.data import locate_data, no_dataset, read_dataset
from autograder.declare import array_bounds
from autograder.exercise_spec import (
    Exercise,
    ExerciseSetup,
    GradingInputs,
    identity_notes,
    instructor_exercise,
)
from autograder.inputs import grading_seed, load_secret
from autograder.readers.observations import read_import_errors, read_observations
from autograder.results import GradingReport, TestResult
from autograder.sandbox.isolation import Limits, choose_sandbox
from autograder.sandbox.outcome import PartRun
from autograder.sandbox.runner import Session, child_files
from autograder.scoring.feedback import part_failure
from autograder.scoring.observed import Observed
from autograder.scoring.run import rubric, score
from autograder.scratch import scratch_dir
from autograder.solution_definitions import (
    own_definitions,
    ran_with_own,
    resolved_calls,
    solution_definitions,
    solution_missing,
)
from autograder.student_text import one_line
from autograder.submission import Chunk, SubmissionError, load_submission
from autograder.threads import fix_threads

# Before anything imports TensorFlow: what this process computes from the child's models (test
# accuracy, predictions) uses the grading's thread pools, as the child's training does.
fix_threads()

# The phases around the parts: loading the submission, and the gaps between parts.
PHASE_TIMEOUTS: dict[str, float] = {"import": 120.0, "between": 60.0}
FLOOD_BYTES = 4 * 2**20  # a full grading's progress bars print well under 1 MiB


@dataclass
class Observation:
    """One submission's run, read: the graders' input, the report's notes and artifacts. The
    child's files stay until `close()` (graders read arrays and models lazily)."""

    found: Observed
    notes: dict[str, str]
    artifacts: dict[str, Any]
    session: Session | None = None

    def close(self) -> None:
        if self.session is not None:
            self.session.cleanup()


@dataclass
class GraderOptions:
    """How to grade. Every field has a sensible default for `make grade`."""

    # The exercise's name (autograder/exercises/<name>); default: the only one there is.
    exercise: str | None = None
    data_dir: str | None = None
    sandbox: str = "auto"
    limits: Limits = field(default_factory=Limits)
    # Per part and phase, in seconds; default: the exercise's part limits.
    timeouts: dict[str, float] | None = None
    # The exercise's own settings (e.g. {"pipeline_threshold": 0.85}).
    settings: dict[str, Any] = field(default_factory=dict)
    # The parts to grade; default: all of the exercise's.
    parts: tuple[str, ...] | None = None
    # Keys the per-grading inputs (see autograder.inputs); default: $AUTOGRADER_SECRET or a key
    # kept in the grader user's state directory.
    secret: bytes | None = None
    # The released notebook (its bytes, so a batch can ship it to workers): notebook submissions'
    # locked cells are graded as released unless `grade` is given another release.
    release: bytes | None = None
    # The solution's definitions of the names declared calls take from it (`Reference(name)`,
    # autograder.solution_definitions); default: read from the course's solution notebook (the
    # current directory's, else the kit checkout's), none when there is none.
    solution_definitions: dict[str, str] | None = None


def default_timeouts(exercise: Exercise) -> dict[str, float]:
    return {**PHASE_TIMEOUTS, **exercise.timeouts}


class Grader:
    """Holds what is shared between submissions: the exercise, its data and reference, the
    sandbox."""

    def __init__(self, options: GraderOptions | None = None) -> None:
        self.options = options or GraderOptions()
        self.exercise = instructor_exercise(self.options.exercise)
        parts = self.options.parts or self.exercise.part_names
        unknown = set(parts) - set(self.exercise.part_names)
        if unknown:
            raise ValueError(
                f"unknown parts {sorted(unknown)}; parts are {', '.join(self.exercise.part_names)}"
            )
        self.data_dir: Path | None = None
        self.dataset = no_dataset()
        if self.exercise.dataset is not None:
            self.data_dir = locate_data(self.exercise.dataset, self.options.data_dir)
            self.dataset = read_dataset(self.data_dir, self.exercise.dataset)
        self.sandbox = choose_sandbox(self.options.sandbox)
        self.definitions = self.options.solution_definitions
        if self.definitions is None:
            self.definitions = solution_definitions(self.exercise)
        self.secret = self.options.secret or load_secret()
        self.inputs_dir = scratch_dir("inputs")
        # Removed by close(), or when the grader is garbage-collected or the interpreter exits
        # (a grader kept in a global, as the self-check does, is never closed).
        self._remove_inputs = weakref.finalize(self, shutil.rmtree, self.inputs_dir, True)
        self._setup: ExerciseSetup | None = None
        self.release_path: Path | None = None
        if self.options.release is not None:
            self.release_path = self.inputs_dir / "release.ipynb"
            self.release_path.write_bytes(self.options.release)
            self.release_path.chmod(0o444)

    @property
    def setup(self) -> ExerciseSetup:
        """The exercise's reference, made on first use: it imports TensorFlow, which the first
        grading does while its child starts (see `observe`)."""
        if self._setup is None:
            settings = {**self.exercise.settings, **self.options.settings}
            self._setup = self.exercise.make_setup(self.dataset, self.inputs_dir, **settings)
            for path in self.inputs_dir.iterdir():
                path.chmod(0o444)
            self.inputs_dir.chmod(0o555)
        return self._setup

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts graded, in rubric order (read from the options at each grading)."""
        chosen = self.options.parts or self.exercise.part_names
        return tuple(p for p in self.exercise.part_names if p in chosen)

    @property
    def timeouts(self) -> dict[str, float]:
        return {**default_timeouts(self.exercise), **(self.options.timeouts or {})}

    def close(self) -> None:
        self._remove_inputs()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rubric(self):
        """The rubric lines of the parts this grader grades (from pytest's collection)."""
        return rubric(self.exercise, self.parts)

    # -- the grader's own inputs --------------------------------------------------------------
    def write_inputs(self, inputs: GradingInputs, folder: Path | None = None) -> Path:
        """This grading's inputs in `folder` (default: a new one; removed by the caller), made
        read-only."""
        import numpy as np

        folder = folder or scratch_dir("inputs")
        for name, array in inputs.arrays.items():
            np.save(folder / f"{name}.npy", array, allow_pickle=False)
        for name, source in self.setup.files.items():
            shutil.copyfile(source, folder / name)
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        return folder

    def child_config(self, inputs: GradingInputs, *, in_sandbox: bool = True) -> dict:
        """What the child is told: the inputs' config, where each data set file is (in
        the child's Keras cache; for a self-check, the grader's own copy), and the declared
        calls with the solution's definitions they use (never in a self-check: that runs in
        the student's kernel)."""
        spec = self.exercise.dataset
        files = {
            key: spec.cache_path(name) if in_sandbox else str((self.data_dir / name).resolve())
            for key, name in (spec.files.items() if spec is not None else ())
        }
        limits = dataclasses.asdict(self.exercise.model_limits)
        limits["layers"] = sorted(limits["layers"])
        return {
            **inputs.config,
            "dataset_files": files,
            "model_limits": limits,
            "declared": resolved_calls(
                self.exercise.declared, self.definitions if in_sandbox else {}
            ),
            "declared_schema": self.exercise.declared_schema,
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
        outcome = self.observe(submission, release=release)
        if isinstance(outcome, GradingReport):
            return outcome
        scoring = time.monotonic()
        try:
            tests = score(self.exercise, outcome.found, self.parts)
            own = own_definitions(self.exercise, self.definitions)
            tests = ran_with_own(tests, own)
            if own:  # the instructor's grading is meant to substitute: say it did not
                outcome.notes["solution"] = solution_missing(self.exercise, own)
        except Exception as exc:  # a fault of the grader's own: record it, never lose the grade
            return self._not_graded(str(submission), f"Not graded: {_unexpected(exc)}.", started)
        finally:
            outcome.close()
        outcome.artifacts["grading_seconds"]["scoring"] = round(time.monotonic() - scoring, 2)
        return GradingReport(
            str(submission),
            tests,
            time.monotonic() - started,
            self.sandbox.describe(),
            outcome.notes,
            {**outcome.found.artifacts, **outcome.artifacts},
            exercise=self.exercise.name,
        )

    def observe(
        self, submission: str | os.PathLike[str], *, release: str | os.PathLike[str] | None = None
    ) -> Observation | GradingReport:
        """Run the submission in the sandbox and read what it did: the graders' input, the
        report's notes and artifacts; a "Not graded" report when it cannot be run at all."""
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
        if loaded.missing:
            notes["missing cells"] = (
                "locked cells of the release missing from this notebook (not added back): "
                + ", ".join(loaded.missing)
            )
        # The exercise is the instructor's: a submission that says otherwise is told so.
        notes.update(
            identity_notes(self.exercise, loaded.metadata, [c.source for c in loaded.chunks])
        )

        session = None
        inputs_dir = None
        try:
            inputs_dir = scratch_dir("inputs")
            session = Session(
                sandbox=self.sandbox,
                limits=self.options.limits,
                timeouts=self.timeouts,
                chunks=[c.to_dict() for c in loaded.chunks],
                inputs_dir=inputs_dir,
                data_files=self.dataset.files(),
                grader_files=child_files(self.exercise),
                depends=self.exercise.depends,
            )
            # The child loads Python and TensorFlow while this process draws the inputs (and,
            # at the first grading, imports TensorFlow and builds the reference itself).
            session.start()
            inputs = self.setup.draw(grading_seed(self.secret, _code_bytes(loaded.chunks)))
            self.write_inputs(inputs, inputs_dir)
            prepared = time.monotonic()
            result = session.run(list(self.parts), self.child_config(inputs))
            ran = time.monotonic()
            import_errors = read_import_errors(result.out_dir)
            found = self.read_observed(
                result.out_dir, result.runs, self.parts, inputs.context, import_errors,
                array_sizes(inputs.arrays),
            )  # fmt: skip
            found.ungraded = loaded.ungraded
            found.code = [c.source for c in loaded.chunks]
            for part, run in result.runs.items():
                if run.status != "ok":
                    notes[part] = run.message
            loading = describe_import_errors(import_errors)
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
            artifacts = {
                "stdout_tail": result.stdout[-2000:],
                "output_bytes": result.output_bytes,
                "part_seconds": {p: r.seconds for p, r in result.runs.items()},
                # Where the grading's time went, on the grader's clock (`grade` adds scoring).
                "grading_seconds": {
                    "preparing": round(prepared - started, 2),
                    "child_loading_after_go": result.child_loading_seconds,
                    "running_parts": round(ran - prepared, 2),
                },
                "children_started": result.children_started,
            }
            observation = Observation(found, notes, artifacts, session)
            session = None  # the observation owns the child's files now
        except Exception as exc:  # a fault of the grader's own: record it, never lose the grade
            return self._not_graded(name, f"Not graded: {_unexpected(exc)}.", started)
        finally:
            if session is not None:
                session.cleanup()
            if inputs_dir is not None:
                shutil.rmtree(inputs_dir, ignore_errors=True)
        return observation

    def read_observed(
        self,
        out_dir: Path,
        runs: dict[str, PartRun],
        parts,
        context: Any,
        import_errors: list[dict],
        input_sizes: dict[str, int] | None = None,
    ) -> Observed:
        """Read and validate each part's observations; never raises. `import_errors`: what
        failed while the child loaded the submission, read once for every part; `input_sizes`:
        the values of each input array, which bound what a declared call may return."""
        schema = self.exercise.schema
        limits = self.exercise.model_limits
        bounds = {
            p.name: array_bounds(p.calls, input_sizes or {}) for p in self.exercise.parts if p.calls
        }
        observations, reasons = {}, {}
        for part in parts:
            run = runs.get(part, PartRun("crashed", "did not run"))
            try:
                obs = read_observations(
                    out_dir, part, run, schema, limits, import_errors, bounds.get(part)
                )
                reasons[part] = part_failure(obs)
            except Exception as exc:  # malformed observations cost the part, not the grading
                unreadable = PartRun("crashed", "unreadable")
                obs = read_observations(
                    out_dir, part, unreadable, schema, limits, import_errors, bounds.get(part)
                )
                reasons[part] = f"Not gradable: {_unexpected(exc)}."
            observations[part] = obs
        return Observed(observations, reasons, context)

    def _not_graded(self, name: str, reason: str, started: float) -> GradingReport:
        try:
            lines = self.rubric()
        except Exception:  # the exercise's graders themselves are broken: nothing to list
            lines = []
        tests = [TestResult(c.name, c.part, c.points, 0.0, message=reason) for c in lines]
        return GradingReport(
            name,
            tests,
            time.monotonic() - started,
            self.sandbox.describe(),
            {"submission": reason},
            exercise=self.exercise.name,
        )


def _unexpected(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"the grader could not read it ({type(exc).__name__}{': ' + text if text else ''})"


def array_sizes(arrays: dict[str, Any]) -> dict[str, int]:
    """Input array name -> its values (what a declared call given it may return)."""
    return {name: int(getattr(array, "size", 0)) for name, array in arrays.items()}


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
        # One line per statement: a line break in the student's message must not start a
        # line of the report (a forged "Score: 100/100").
        kind, message = error.get("type", "Exception"), one_line(error.get("message", ""))
        where = one_line(where)
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

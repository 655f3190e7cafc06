"""The pytest plugin that runs an exercise's graders over one submission's observations.

Two ways in, one scoring:

- `autograder grade` runs the sandbox, reads the observations, then runs pytest in-process over
  the exercise's `graders/` with a `Scorer` holding them (see `autograder.scoring.run`).
- An instructor runs pytest directly:

      pytest autograder/exercises/fashion_mnist --submission submitted/alice/fashion_mnist.ipynb

  and this plugin grades the submission in the sandbox once, at session start, exactly as
  `autograder grade` does, then scores it. `-k`, `-v`, `--junitxml` work as usual; each rubric
  line's points and score are junit properties, and the summary prints the total.

Registered through the `pytest11` entry point; without `--submission` (and outside a scoring
run) the graders are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autograder.observations import ObservationError
from autograder.results import Feedback, TestResult
from autograder.sandbox.schema import SchemaError
from autograder.scoring.feedback import CheckFailed, source_cause, ungraded_cause
from autograder.scoring.markers import MARKER, rubric_line
from autograder.scoring.observed import Observed

OBSERVED = pytest.StashKey[Observed]()


class PartNotGradable(CheckFailed):
    """The whole part could not be graded (it timed out, crashed, or is not defined)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading a submission with an exercise's graders")
    group.addoption("--submission", help="the notebook or .py file to grade")
    group.addoption("--exercise", help="the exercise (default: from the graders' folder)")
    group.addoption("--release", help="the released notebook (locked cells graded as released)")
    group.addoption("--data-dir", dest="autograder_data_dir", help="the data set's folder")
    group.addoption(
        "--sandbox", dest="autograder_sandbox", default="auto", help="see autograder grade"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(part, title, points): a rubric line of an exercise's graders"
    )
    if config.getoption("submission", None):
        config.pluginmanager.register(DirectRun(config), "autograder-direct-run")


def observed(request: pytest.FixtureRequest) -> Observed:
    try:
        return request.config.stash[OBSERVED]
    except KeyError:
        pytest.skip("no submission to grade: run with --submission PATH")


def _line(request: pytest.FixtureRequest):
    line = rubric_line(request.node)
    if line is None:
        raise RuntimeError(f"{request.node.nodeid} uses `obs` but is not marked with @grader")
    return line


@pytest.fixture
def obs(request: pytest.FixtureRequest):
    """The validated observations of the part this rubric line grades."""
    found = observed(request)
    return found.observations.get(_line(request).part)


@pytest.fixture
def ctx(request: pytest.FixtureRequest) -> Any:
    """The grader's own reference data for this grading (never produced by the submission)."""
    return observed(request).context


@pytest.fixture
def record(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Plot data for the reports (accuracy, confusion matrix, training curves)."""
    return observed(request).artifacts


@pytest.fixture
def submission(request: pytest.FixtureRequest) -> Observed:
    """The graded code and its ungraded names: only to explain a failure, never to score."""
    return observed(request)


def result_for(line, excinfo, found: Observed) -> TestResult:
    """A rubric line's outcome as a TestResult: full points when the test passed, 0 with the
    feedback otherwise. Never raises."""
    if excinfo is None:
        return TestResult(line.name, line.part, line.points, line.points)
    error = excinfo.value
    if isinstance(error, PartNotGradable):
        return TestResult(line.name, line.part, line.points, 0.0, message=error.message)
    if isinstance(error, CheckFailed):
        feedback = error.feedback
        text = error.message + "\n" + feedback.received
        cause = ungraded_cause(text, found.ungraded, line.part) or source_cause(
            found.code, line.part, text
        )
        if cause and not feedback.hint:
            feedback = Feedback(feedback.expected, feedback.received, cause)
        return TestResult(line.name, line.part, line.points, 0.0, feedback, error.message)
    if isinstance(error, ObservationError):
        return TestResult(line.name, line.part, line.points, 0.0, message=f"Not gradable: {error}.")
    if isinstance(error, SchemaError):
        message = f"Not gradable: the grader itself is broken ({error})."
        return TestResult(line.name, line.part, line.points, 0.0, message=message)
    if isinstance(error, pytest.skip.Exception):
        return TestResult(line.name, line.part, line.points, 0.0, message="Not graded: skipped.")
    # A malformed observation must cost the check, not the grade.
    message = f"Not gradable: the submission's output was malformed ({type(error).__name__})."
    return TestResult(line.name, line.part, line.points, 0.0, message=message)


class Scorer:
    """Scores one submission's observations: registered for one in-process pytest run."""

    def __init__(
        self, found: Observed, parts: tuple[str, ...] | None = None, *, tracebacks: bool = True
    ) -> None:
        self.found = found
        self.parts = parts
        self.tracebacks = tracebacks

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[OBSERVED] = self.found
        if not self.tracebacks:
            # A failed check's report gets its feedback (makereport below), never its traceback;
            # pytest would still format that traceback first, with the repr of every argument
            # (the observations and their arrays): about 0.3 s of CPU per failed check.
            config.option.tbstyle = "no"

    def pytest_collection_modifyitems(self, items: list, config: pytest.Config) -> None:
        """Only the rubric lines of the parts being graded run."""
        if self.parts is None:
            return
        keep = [i for i in items if (line := rubric_line(i)) and line.part in self.parts]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function):
        line = rubric_line(pyfuncitem)
        if line is not None:
            reason = self.found.reasons.get(line.part)
            if reason:
                raise PartNotGradable(message=reason)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        line = rubric_line(item)
        if line is None or report.skipped:
            return report
        if call.when == "call" or (call.when == "setup" and report.failed):
            result = result_for(line, call.excinfo, self.found)
            self.found.results.append(result)
            # On the item: junit reports take their properties from the teardown report.
            item.user_properties += [
                ("rubric", result.name),
                ("points", result.max_score),
                ("score", result.score),
            ]
            if not result.passed:
                report.longrepr = result.output or "failed"
        return report


class DirectRun(Scorer):
    """`pytest <exercise folder> --submission PATH`: grade the submission in the sandbox once,
    then score it like `autograder grade`."""

    def __init__(self, config: pytest.Config) -> None:
        from autograder.grader import observe_for_pytest

        self.label = config.getoption("submission")
        found, self.close = observe_for_pytest(
            submission=config.getoption("submission"),
            exercise=config.getoption("exercise") or _exercise_from_args(config.args),
            release=config.getoption("release"),
            data_dir=config.getoption("autograder_data_dir"),
            sandbox=config.getoption("autograder_sandbox"),
        )
        super().__init__(found)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.close()

    def pytest_terminal_summary(self, terminalreporter) -> None:
        results = self.found.results
        score = sum(r.score for r in results)
        total = sum(r.max_score for r in results)
        terminalreporter.write_sep("=", "autograder")
        terminalreporter.write_line(f"Score: {score:g} / {total:g} for {self.label}")


def _exercise_from_args(args: list[str]) -> str | None:
    """The exercise whose folder the test paths point into (autograder/exercises/<name>)."""
    for arg in args:
        parts = Path(arg.split("::")[0]).resolve().parts
        if "exercises" in parts:
            index = len(parts) - 1 - parts[::-1].index("exercises")
            if index + 1 < len(parts):
                return parts[index + 1]
    return None

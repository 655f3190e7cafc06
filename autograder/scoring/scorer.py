"""Score one submission's observations in an in-process pytest run: the `Scorer` plugin and
how a rubric line's outcome becomes a TestResult (`autograder.scoring.run` registers it)."""

from __future__ import annotations

import pytest

from autograder.child.schema import SchemaError
from autograder.readers.observations import ObservationError
from autograder.results import Feedback, TestResult
from autograder.scoring.feedback import CheckFailed, source_cause, ungraded_cause
from autograder.scoring.markers import rubric_line
from autograder.scoring.observed import Observed

# Where a run's observations are kept for the fixtures (autograder.scoring.plugin).
OBSERVED = pytest.StashKey[Observed]()


class PartNotGradable(CheckFailed):
    """The whole part could not be graded (it timed out, crashed, or is not defined)."""


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

"""The pytest plugin that runs an exercise's graders over one submission's observations.

Two ways in, one scoring:

- `autograder grade` runs the sandbox, reads the observations, then runs pytest in-process over
  the exercise's `graders/` with a `Scorer` holding them (see `autograder.scoring.run`).
- An instructor runs pytest directly:

      pytest autograder/exercises/fashion_mnist --submission submitted/alice/fashion_mnist.ipynb

  and this plugin registers the pytest bridge (`autograder.scoring.direct_run`), which grades
  the submission in the sandbox once, at session start, exactly as `autograder grade` does,
  then scores it. `-k`, `-v`, `--junitxml` work as usual; each rubric
  line's points and score are junit properties, and the summary prints the total.

This module holds what both ways share: the options, the rubric marker and the fixtures the
`@grader` tests take. How an outcome is scored is `autograder.scoring.scorer`. Registered through
the `pytest11` entry point; without `--submission` (and outside a scoring run) the graders are
skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from autograder.scoring.markers import MARKER, rubric_line
from autograder.scoring.observed import Observed
from autograder.scoring.scorer import OBSERVED


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
        # Only a direct run needs the whole pipeline (the sandbox, the grader).
        from autograder.scoring.direct_run import DirectRun

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

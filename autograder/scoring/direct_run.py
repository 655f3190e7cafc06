"""The pytest bridge: `pytest <exercise folder> --submission PATH` grades the submission in the
sandbox once, at session start, exactly as `autograder grade` does, then scores it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autograder.exercise_spec import instructor_exercise
from autograder.grader import Grader, GraderOptions, Observation
from autograder.results import GradingReport
from autograder.scoring.observed import Observed
from autograder.scoring.scorer import Scorer


def observe_for_pytest(
    submission: str,
    exercise: str | None,
    release: str | None,
    data_dir: str | None,
    sandbox: str,
) -> tuple[Observed, Any]:
    """The observations of one submission for `pytest <exercise> --submission PATH`, and a
    callable that removes the grader's files when the session ends."""
    chosen = instructor_exercise(exercise)
    grader = Grader(GraderOptions(exercise=chosen.name, data_dir=data_dir, sandbox=sandbox))
    outcome = grader.observe(submission, release=release)
    if isinstance(outcome, GradingReport):  # not gradable: every line fails with the reason
        reason = outcome.part_notes.get("submission", "Not graded.")
        found = Observed({}, dict.fromkeys(chosen.part_names, reason), None)
    else:
        found = outcome.found

    def close() -> None:
        if isinstance(outcome, Observation):
            outcome.close()
        grader.close()

    return found, close


class DirectRun(Scorer):
    """`pytest <exercise folder> --submission PATH`: grade the submission in the sandbox once,
    then score it like `autograder grade`."""

    def __init__(self, config: pytest.Config) -> None:
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

"""Fake graders for batch tests: no TensorFlow, no sandbox; importable by spawned pool workers.

A fake grader scores a submission by its *content* (the batch sends bytes, so the grader sees a
temporary copy, never the original name): the first word of the file is the student's "answer".
`alice` earns full marks, `broken` makes the grader raise, anything else earns 4 of 15.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.results import Feedback, GradingReport
from autograder.results import TestResult as Result  # pytest would try to collect "Test*"


class FakeGrader:
    def __init__(self, log: str | None = None, delay: float = 0.0) -> None:
        self.log, self.delay = log, delay
        self.graded: list[str] = []

    def _log(self, line: str) -> None:
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def close(self) -> None:
        if self.log:
            self._log(f"closed {os.getpid()}\n")

    def grade(self, submission) -> GradingReport:
        path = Path(submission)
        text = path.read_text(errors="replace").split()
        answer = text[0] if text else ""
        self.graded.append(answer)
        if self.delay:
            time.sleep(self.delay)
        if self.log:  # one short line per finished grading, appended atomically
            self._log(f"{answer} {os.getpid()}\n")
        if answer == "broken":
            raise RuntimeError("sandbox exploded\nlong traceback")
        good = answer == "alice"
        tests = [
            Result("build_model: layers", "build_model", 4, 4),
            Result(
                "pipeline: accuracy",
                "pipeline",
                11,
                11 if good else 0,
                Feedback(expected="0.85", received="<0.5>"),
            ),
        ]
        return GradingReport(
            str(path),
            tests,
            1.5,
            "rlimits",
            artifacts={"test_accuracy": 0.9},
            exercise="fashion_mnist",
        )


class FakeGraderContext(FakeGrader):
    """A FakeGrader made as the CLI makes the real one (`Grader(options)`, used as a context)."""

    def __init__(self, options) -> None:
        super().__init__()
        self.options = options

    def __enter__(self) -> FakeGraderContext:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def grade(self, submission, *, release=None):
        return super().grade(submission)


@dataclass(frozen=True)
class FakeFactory:
    """Picklable: what a pool worker calls to build its grader."""

    log: str | None = None
    delay: float = 0.0

    def __call__(self) -> FakeGrader:
        return FakeGrader(self.log, self.delay)


@dataclass(frozen=True)
class NoGrader:
    """A factory that fails like a worker without the data."""

    def __call__(self) -> FakeGrader:
        raise FileNotFoundError("no Fashion-MNIST here")


def read_log(path: Path, *, closed: bool = False) -> list[str]:
    """The answers graded (or, with closed=True, the pids of graders closed) in the log."""
    lines = [line.split() for line in path.read_text().splitlines()] if path.exists() else []
    if closed:
        return [words[1] for words in lines if words[0] == "closed"]
    return [words[0] for words in lines if words[0] != "closed"]

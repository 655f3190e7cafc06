"""The one result model every exporter reads.

Modelled on otter-grader's small test-case dataclasses: a `TestResult` per named check and a
`GradingReport` for one submission. Scores are computed only by the trusted checks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Feedback:
    """What a student needs to fix a failed check: expected vs received, and the likely cause."""

    expected: str = ""
    received: str = ""
    hint: str = ""

    def render(self) -> str:
        lines = []
        if self.expected:
            lines.append(f"Expected: {self.expected}")
        if self.received:
            lines.append(f"Received: {self.received}")
        if self.hint:
            lines.append(f"Likely cause: {self.hint}")
        return "\n".join(lines)


@dataclass(frozen=True)
class TestResult:
    """One named check. `name` always starts with the part it grades, e.g. `build_model: ...`."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    part: str
    max_score: float
    score: float
    feedback: Feedback = field(default_factory=Feedback)
    message: str = ""  # a one-line summary, shown even when the check passed

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    @property
    def output(self) -> str:
        body = self.feedback.render()
        return "\n".join(part for part in (self.message, body) if part)


@dataclass
class GradingReport:
    """Everything known about one graded submission."""

    submission: str
    tests: list[TestResult]
    execution_time: float = 0.0
    isolation: str = ""
    # Part-level notes (timeouts, crashes, trimmed tracebacks) keyed by part name.
    part_notes: dict[str, str] = field(default_factory=dict)
    # Plain data for plots in reports: training history, confusion matrix, accuracy.
    artifacts: dict[str, Any] = field(default_factory=dict)
    exercise: str = ""  # the exercise it was graded as (autograder/exercises/<name>)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)

    def parts(self) -> list[str]:
        """Part names in rubric order, each once."""
        return list(dict.fromkeys(t.part for t in self.tests))

    def part_score(self, part: str) -> tuple[float, float]:
        tests = [t for t in self.tests if t.part == part]
        return (round(sum(t.score for t in tests), 4), round(sum(t.max_score for t in tests), 4))

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "exercise": self.exercise,
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 2),
            "isolation": self.isolation,
            "part_notes": dict(self.part_notes),
            "artifacts": self.artifacts,
            "tests": [
                {**dataclasses.asdict(t), "status": t.status, "output": t.output}
                for t in self.tests
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingReport:
        tests = [
            TestResult(
                name=t["name"],
                part=t["part"],
                max_score=t["max_score"],
                score=t["score"],
                feedback=Feedback(**t.get("feedback", {})),
                message=t.get("message", ""),
            )
            for t in data["tests"]
        ]
        return cls(
            submission=data["submission"],
            tests=tests,
            execution_time=data.get("execution_time", 0.0),
            isolation=data.get("isolation", ""),
            part_notes=data.get("part_notes", {}),
            artifacts=data.get("artifacts", {}),
            exercise=str(data.get("exercise", "")),
        )

"""One submission's validated observations: what the exercise's graders (the `@grader` tests
of its `graders/` folder) receive in one scoring run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autograder.readers.observations import PartObservation
from autograder.results import TestResult


@dataclass
class Observed:
    """Everything the graders may look at, made in the grader's process from the child's files
    and the grader's own inputs; the scoring run adds `results` and `artifacts`."""

    observations: dict[str, PartObservation]
    # Why a part cannot be graded at all (timeout, crash, missing name), or None when it can.
    reasons: dict[str, str | None]
    context: Any  # the exercise's reference data for this grading
    code: list[str] = field(default_factory=list)  # the graded code, to explain failures
    ungraded: dict[str, str] = field(default_factory=dict)  # name -> ungraded cell
    results: list[TestResult] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)

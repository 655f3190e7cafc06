"""Rubric lines as the report names them ("part: title"), looked up by the grader that scores them.

Tests name a line by its exercise, part and grader function (`test_loss` in the exercise's
graders/), so a title reworded in the graders needs no edit here, and a grader renamed or
removed fails with the part's graders listed.
"""

from __future__ import annotations

from functools import cache

from fashion import rubric


@cache
def _lines(exercise: str) -> dict[tuple[str, str], str]:
    return {(line.part, line.nodeid.rsplit("::", 1)[-1]): line.name for line in rubric(exercise)}


def rubric_line(exercise: str, part: str, grader: str) -> str:
    """The name of the rubric line that `grader` (a test function) scores for `part`."""
    lines = _lines(exercise)
    if (part, grader) not in lines:
        known = sorted(g for p, g in lines if p == part)
        raise KeyError(f"{exercise}: no grader {grader!r} scores part {part!r} (it has {known})")
    return lines[(part, grader)]

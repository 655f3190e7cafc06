"""The `@grader` decorator: a rubric line's part, title and points, next to its test (the tests
it marks, in an exercise's `graders/` folder, are "the exercise's graders"; the class that
runs them is `autograder.grader.Grader`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

MARKER = "grader"


@dataclass(frozen=True)
class RubricLine:
    """One line of an exercise's rubric: a pytest test worth `points`."""

    part: str
    title: str
    points: float
    nodeid: str = ""

    @property
    def name(self) -> str:
        return f"{self.part}: {self.title}"


def grader(part: str, title: str, points: float) -> Callable:
    """Mark a pytest test as the rubric line `"{part}: {title}"`, worth `points`.

    Example:
        >>> @grader("CLASS_NAMES", "ten class names in label order", points=3)
        ... def test_class_names(obs, ctx): ...
    """
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        raise ValueError(
            f"grader {part}: {title!r}: points must be a positive number, received {points!r}"
        )
    return getattr(pytest.mark, MARKER)(part=part, title=title, points=float(points))


def rubric_line(item) -> RubricLine | None:
    """The rubric line of a collected pytest item, or None for an ordinary test."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    return RubricLine(
        marker.kwargs["part"], marker.kwargs["title"], marker.kwargs["points"], item.nodeid
    )

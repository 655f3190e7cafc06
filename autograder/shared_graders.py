"""The process's `Grader` instances, one per exercise, shared by the self-checks and nbgrader's autograde
step (a process-global registry: made on first use with `autograder grade`'s defaults)."""

from __future__ import annotations

from autograder.grader import Grader, GraderOptions

_SHARED: dict[str, Grader] = {}


def shared_grader(exercise: str) -> Grader:
    """The process's grader for `exercise`, made on first use with `autograder grade`'s
    defaults (data, sandbox, limits): self-checks and nbgrader's autograde step share it."""
    if exercise not in _SHARED:
        _SHARED[exercise] = Grader(GraderOptions(exercise=exercise))
    return _SHARED[exercise]


def share_grader(grader: Grader | None) -> None:
    """Use `grader` for its exercise's following self-checks and nbgrader gradings (None:
    forget every shared grader)."""
    if grader is None:
        _SHARED.clear()
    else:
        _SHARED[grader.exercise.name] = grader


def shared_exercises() -> list[str]:
    """The exercises that have a shared grader in this process."""
    return list(_SHARED)

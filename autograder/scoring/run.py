"""Run an exercise's graders (the `@grader` tests of its `graders/` folder) through pytest, in
this process: scoring and the rubric.

Example:
    >>> lines = rubric(load_exercise("fashion_mnist"))
    >>> lines[0].name, lines[0].points
    ('CLASS_NAMES: ten class names in label order', 3.0)
"""

from __future__ import annotations

import contextlib
import io

import pytest

from autograder.exercise_spec import Exercise
from autograder.results import TestResult
from autograder.scoring.markers import RubricLine, rubric_line
from autograder.scoring.observed import Observed
from autograder.scoring.scorer import Scorer

# A quiet, side-effect-free run: no cache folder written into the exercise, no terminal output,
# no other installed plugin, none of the project's own pytest options.
PYTEST_ARGS = (
    "--disable-plugin-autoload",
    "-p",
    "autograder.scoring.plugin",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:terminal",
    "-p",
    "no:junitxml",
    "-p",
    "no:doctest",
    # Their clean-up runs gc.collect() five times per run, seconds in a process holding Keras.
    "-p",
    "no:unraisableexception",
    "-p",
    "no:threadexception",
    "-p",
    "no:faulthandler",
    "--capture=no",
    "-o",
    "addopts=",
    "-o",
    "python_files=test_*.py",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)


class GradersError(RuntimeError):
    """The exercise's graders could not be collected or run (a bug in the exercise)."""


class _Collector:
    def __init__(self) -> None:
        self.lines: list[RubricLine] = []
        self.errors: list[str] = []

    def pytest_collection_modifyitems(self, items) -> None:
        self.lines = [line for line in map(rubric_line, items) if line is not None]

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext.strip()[-800:]}")


def _pytest(args: list[str], plugins: list) -> int:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = pytest.main(args, plugins=plugins)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise GradersError(f"pytest exited with {code!r}: {out.getvalue()[-800:]}")
    return code


def _order(exercise: Exercise, lines: list[RubricLine]) -> list[RubricLine]:
    """Rubric order: the exercise's parts in order, then the order the tests are collected."""
    order = {name: i for i, name in enumerate(exercise.part_names)}
    unknown = sorted({line.part for line in lines} - set(order))
    if unknown:
        raise GradersError(f"{exercise.name}'s graders grade unknown parts {unknown}")
    return sorted(lines, key=lambda line: order[line.part])


_RUBRICS: dict[str, tuple[RubricLine, ...]] = {}


def _rubric(exercise: Exercise) -> tuple[RubricLine, ...]:
    """Collected once per exercise and process (about 0.2 s)."""
    if exercise.name in _RUBRICS:
        return _RUBRICS[exercise.name]
    collector = _Collector()
    args = [str(exercise.graders_dir), "--collect-only", *PYTEST_ARGS]
    _pytest([*args, f"--rootdir={exercise.graders_dir}"], [collector])
    if collector.errors:
        raise GradersError("; ".join(collector.errors))
    _RUBRICS[exercise.name] = tuple(_order(exercise, collector.lines))
    return _RUBRICS[exercise.name]


def rubric(
    exercise: Exercise, parts: tuple[str, ...] | list[str] | None = None
) -> list[RubricLine]:
    """The rubric as pytest collects it from the exercise's graders, in rubric order."""
    lines = list(_rubric(exercise))
    return [line for line in lines if parts is None or line.part in parts]


def score(
    exercise: Exercise, found: Observed, parts: tuple[str, ...] | list[str]
) -> list[TestResult]:
    """Run the graders of `parts` over `found`, through pytest; one TestResult per rubric line,
    in rubric order. A rubric line that produced no outcome scores 0."""
    lines = rubric(exercise, parts)
    if not lines:
        return []
    found.results = []
    scorer = Scorer(found, parts=tuple(parts), tracebacks=False)
    _pytest(
        [str(exercise.graders_dir), *PYTEST_ARGS, f"--rootdir={exercise.graders_dir}"], [scorer]
    )
    by_name = {result.name: result for result in found.results}
    return [
        by_name.get(line.name)
        or TestResult(line.name, line.part, line.points, 0.0, message="Not graded: no outcome.")
        for line in lines
    ]

"""The style tables: every way real students write each part, graded in a few combined
submissions (tests/style_table.py packs them; the rows are in tests/styles_*.py).

Each combination is graded once; every row is then its own test, so a failure names the
combination and the row: a correct row must pass all its part's lines, a wrong one must lose
exactly its lines with its hint. Each combination's test checks every other line and the total.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
import styles_fashion_mnist
import styles_fashion_mnist_cnn
from fashion import fast_options, reference_source, rubric
from style_table import Combination, Style, combine

from autograder.grader import Grader
from autograder.results import GradingReport

TABLES = {
    "fashion_mnist": (styles_fashion_mnist.STYLES, reference_source),
    "fashion_mnist_cnn": (
        styles_fashion_mnist_cnn.STYLES,
        lambda: reference_source("fashion_mnist_cnn"),
    ),
}
COMBINATIONS = {exercise: combine(exercise, styles) for exercise, (styles, _) in TABLES.items()}
ROWS = [
    (exercise, combination, style)
    for exercise, combinations in COMBINATIONS.items()
    for combination in combinations
    for style in combination.styles
]
POINTS = {
    exercise: {f"{line.part}: {line.title}": line.points for line in rubric(exercise)}
    for exercise in TABLES
}
_REPORTS: dict[str, GradingReport] = {}


def expected_score(exercise: str, lost: set[str]) -> float:
    """The total a submission losing exactly the rubric lines `lost` earns."""
    return sum(POINTS[exercise].values()) - sum(POINTS[exercise][line] for line in lost)


def test_each_table_has_at_least_30_distinct_styles_of_real_rubric_lines() -> None:
    for exercise, (styles, _) in TABLES.items():
        assert len({s.name for s in styles}) >= 30, exercise
        assert any(s.correct for s in styles) and any(not s.correct for s in styles)
        unknown = {line for s in styles for line in s.lost} - set(POINTS[exercise])
        assert not unknown, f"{exercise}: no such rubric lines {unknown}"


@pytest.fixture(scope="module")
def graders(synthetic_dir: Path):
    """One grader per exercise, started when a row of that exercise is first graded."""
    with ExitStack() as stack:
        started: dict[str, Grader] = {}

        def grader_of(exercise: str) -> Grader:
            if exercise not in started:
                options = fast_options(synthetic_dir, exercise=exercise)
                started[exercise] = stack.enter_context(Grader(options))
            return started[exercise]

        yield grader_of


def graded(graders, exercise: str, combination: Combination, tmp_path_factory) -> GradingReport:
    """The report of `combination`, graded once however many rows ask."""
    if combination.id not in _REPORTS:
        path = tmp_path_factory.mktemp("styles") / f"{combination.id}.py"
        path.write_text(combination.source(TABLES[exercise][1]()))
        _REPORTS[combination.id] = graders(exercise).grade(path)
    return _REPORTS[combination.id]


def failed_lines(report: GradingReport) -> set[str]:
    return {t.name for t in report.tests if not t.passed}


def feedback(report: GradingReport, lines: tuple[str, ...]) -> str:
    return "\n".join(t.output for t in report.tests if t.name in lines)


def _row_id(row: tuple[str, Combination, Style]) -> str:
    """E.g. fashion_mnist-wrong1/scale_by_256(-4): the combination, the row, its points lost."""
    exercise, combination, style = row
    lost = expected_score(exercise, set()) - expected_score(exercise, set(style.lost))
    return f"{combination.id}/{style.name}" + (f"(-{lost:g})" if lost else "")


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_style(row, graders, tmp_path_factory) -> None:
    exercise, combination, style = row
    report = graded(graders, exercise, combination, tmp_path_factory)
    failed = failed_lines(report)
    parts = {line.split(":")[0] for line in style.lost} or {style.slot.split(".")[0]}
    if not parts & {t.part for t in report.tests}:  # e.g. the imports: every part uses them
        parts = {t.part for t in report.tests}
    own = {t.name for t in report.tests if t.part in parts}
    details = "\n\n".join(f"{t.name}\n{t.output}" for t in report.tests if t.name in failed)
    # Another row of the combination may rewrite another piece of the same part.
    assert set(style.lost) <= failed, f"{style.name}:\n{details}"
    maybe = combination.may_lose()
    assert (failed & own) - maybe == (combination.lost() & own) - maybe, f"{style.name}:\n{details}"
    if style.lost:
        text = feedback(report, style.lost)
        assert style.hint in text, f"{style.name}: {style.hint!r} not in\n{text}"
        if style.not_hint:
            assert style.not_hint not in text, f"{style.name}: {style.not_hint!r} in\n{text}"


@pytest.mark.parametrize(
    "exercise, combination",
    [(e, c) for e, cs in COMBINATIONS.items() for c in cs],
    ids=[c.id for cs in COMBINATIONS.values() for c in cs],
)
def test_combination(exercise, combination, graders, tmp_path_factory) -> None:
    """Every line's verdict and the total: exactly the rows' lines fail (and, by the draw, their
    `may_lose` lines), nothing else."""
    report = graded(graders, exercise, combination, tmp_path_factory)
    failed = failed_lines(report)
    expected, maybe = combination.lost(), combination.may_lose()
    details = "\n\n".join(
        f"{t.name}\n{t.output}" for t in report.tests if t.name in failed ^ expected
    )
    assert expected <= failed <= expected | maybe, (
        f"{[s.name for s in combination.styles]}\n{details}"
    )
    assert report.max_score == 100
    assert report.score == pytest.approx(expected_score(exercise, failed))

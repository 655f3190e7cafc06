"""The autograded test cells: their output is the part's score for nbgrader, and nothing else."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from conftest import SOLUTION

from autograder import nbgrader_cells
from autograder.checks import rubric
from autograder.exercise import PARTS
from autograder.nbgrader_cells import GradingUnavailable, PartResult, find_notebook, grade_part

nbgrader_utils = pytest.importorskip("nbgrader.utils")


def nbgrader_grade(result: PartResult, points: float) -> tuple[float | None, float]:
    """What nbgrader records for a test cell whose only output is `result`, displayed by IPython."""
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(result)
    cell = nbformat.v4.new_code_cell(
        "grade_part(...)",
        metadata={
            "nbgrader": {
                "grade": True,
                "solution": False,
                "locked": True,
                "points": points,
                "grade_id": "t",
                "schema_version": 3,
            }
        },
    )
    cell.outputs = [nbformat.v4.new_output("execute_result", data=data, execution_count=1)]
    return nbgrader_utils.determine_grade(cell)


@pytest.mark.parametrize("score", [0, 2.5, 27])
def test_nbgrader_takes_the_score_as_partial_credit(score: float) -> None:
    result = PartResult("build_model", score, 27, "<p>feedback</p>")
    assert nbgrader_grade(result, 27) == (score, 27)


def test_notebook_points_equal_the_rubric() -> None:
    notebook = nbformat.read(str(SOLUTION), as_version=4)
    points = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    expected = {f"test_{part}": sum(c.points for c in rubric() if c.part == part) for part in PARTS}
    assert points == expected
    for part in PARTS:
        cell = next(
            c
            for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == f"test_{part}"
        )
        assert cell.metadata["nbgrader"]["locked"]
        assert f'grade_part("{part}")' in cell.source.split("### BEGIN HIDDEN TESTS")[1]


def test_find_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JPY_SESSION_NAME", "AUTOGRADER_NOTEBOOK"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(GradingUnavailable, match="no notebook"):
        find_notebook(tmp_path)
    (tmp_path / "mine.ipynb").write_text("{}")
    assert find_notebook(tmp_path) == tmp_path / "mine.ipynb"
    (tmp_path / "other.ipynb").write_text("{}")
    with pytest.raises(GradingUnavailable, match="several notebooks"):
        find_notebook(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "other.ipynb"))
    assert find_notebook(tmp_path) == tmp_path / "other.ipynb"
    # A session name inherited from a kernel elsewhere is ignored.
    monkeypatch.setenv("JPY_SESSION_NAME", "/somewhere/else/other.ipynb")
    (tmp_path / "fashion_mnist.ipynb").write_text("{}")
    assert find_notebook(tmp_path) == tmp_path / "fashion_mnist.ipynb"
    monkeypatch.setenv("AUTOGRADER_NOTEBOOK", "mine.ipynb")
    assert find_notebook(tmp_path) == tmp_path / "mine.ipynb"


def test_silenced_blocks_every_kind_of_output(capfd: pytest.CaptureFixture[str]) -> None:
    with nbgrader_cells._silenced():
        print("stdout")
        print("stderr", file=sys.stderr)
        os.write(1, b"fd 1\n")
        os.write(2, b"fd 2 (TensorFlow's C++ logs)\n")
        warnings.warn("a warning", UserWarning, stacklevel=1)
        logging.getLogger("tensorflow").error("a log line")
    assert capfd.readouterr() == ("", "")
    print("after")
    assert capfd.readouterr().out == "after\n"


def test_grade_part_equals_the_grader_and_prints_nothing(
    grader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SOLUTION, tmp_path / "fashion_mnist.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("AUTOGRADER_NOTEBOOK", raising=False)
    nbgrader_cells.set_grader(grader)
    try:
        capfd.readouterr()
        results = {part: grade_part(part) for part in PARTS}
        assert capfd.readouterr() == ("", "")
    finally:
        nbgrader_cells.set_grader(None)
    report = grader.grade(tmp_path / "fashion_mnist.ipynb")
    for part, result in results.items():
        assert (result.score, result.max_score) == report.part_score(part)
        assert nbgrader_grade(result, result.max_score) == report.part_score(part)
        assert "[PASS]" in result._repr_html_()
    assert sum(r.score for r in results.values()) == report.score == 100


def test_failed_check_html_has_want_and_got(grader) -> None:
    from autograder.results import Feedback, GradingReport, TestResult

    report = GradingReport(
        "nb",
        [
            TestResult(
                "build_model: params",
                "build_model",
                5,
                0,
                Feedback("401,920 <params>", "100,480", "128 units"),
            )
        ],
    )
    html = nbgrader_cells.render_html(report, "build_model", ["test_build_model"], first=True)
    assert "Expected: 401,920 &lt;params&gt;" in html and "Received: 100,480" in html
    assert "Likely cause: 128 units" in html
    assert "test_build_model) was changed" in html


def test_unknown_part_is_an_error_without_traceback() -> None:
    with pytest.raises(GradingUnavailable) as info:
        grade_part("nope")
    assert info.value._render_traceback_() == [f"GradingUnavailable: {info.value}"]

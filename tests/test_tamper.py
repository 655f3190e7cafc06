"""Tampered locked cells are named; honest students get no warning."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from fashion import PARTS, RELEASE, SOLUTION

from autograder.cli import main
from autograder.exercise_spec import load_exercise
from autograder.tamper import find_release, locked_release_cells, tampered_cells

pytest.importorskip("nbgrader")


def write(notebook, path: Path) -> Path:
    nbformat.write(notebook, str(path))
    return path


def cell(notebook, grade_id: str):
    return next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


@pytest.fixture
def release():
    return nbformat.read(str(RELEASE), as_version=4)


def test_release_locks_imports_and_every_test_cell() -> None:
    locked = locked_release_cells(RELEASE)
    assert "imports" in locked
    assert {name for name in locked if name.startswith("test_")} == {
        f"test_{part}" for part in PARTS
    }


def test_honest_submission_is_not_flagged(release, tmp_path: Path) -> None:
    # Answered solution cells, extra cells, outputs and changed unlocked cells are the student's.
    cell(release, "build_model").source = "def build_model(hidden_units=512):\n    return None\n"
    release.cells.append(nbformat.v4.new_code_cell("print('my own experiment')"))
    cell(release, "test_build_model").outputs = [nbformat.v4.new_output("stream", text="hello")]
    assert tampered_cells(write(release, tmp_path / "honest.ipynb"), RELEASE) == []


def test_source_line_list_and_string_are_the_same(release, tmp_path: Path) -> None:
    path = write(release, tmp_path / "copy.ipynb")
    assert tampered_cells(path, RELEASE) == []


@pytest.mark.parametrize(
    ("grade_id", "change"),
    [
        ("test_build_model", lambda c: setattr(c, "source", "27")),
        ("test_pipeline", lambda c: setattr(c, "source", c.source + "\nassert True")),
        ("test_StopOnLoss", lambda c: c.metadata["nbgrader"].update(points=100)),
        ("imports", lambda c: setattr(c, "source", c.source + "\nimport os")),
        ("test_CLASS_NAMES", lambda c: c.metadata["nbgrader"].update(grade=False)),
        ("imports", lambda c: c.metadata["nbgrader"].update(locked=False)),
        ("test_load_data", lambda c: setattr(c, "cell_type", "markdown")),
    ],
)
def test_each_kind_of_tampering_is_named(release, tmp_path: Path, grade_id: str, change) -> None:
    change(cell(release, grade_id))
    assert tampered_cells(write(release, tmp_path / "t.ipynb"), RELEASE) == [grade_id]


def test_deleted_and_renamed_locked_cells_count(release, tmp_path: Path) -> None:
    release.cells.remove(cell(release, "test_train_model"))
    cell(release, "test_scale_images").metadata["nbgrader"]["grade_id"] = "mine"
    assert tampered_cells(write(release, tmp_path / "t.ipynb"), RELEASE) == [
        "test_scale_images",
        "test_train_model",
    ]


def test_source_notebook_differs_by_its_hidden_tests() -> None:
    """The instructor's notebook is not a submission: every test cell differs from the release."""
    assert len(tampered_cells(SOLUTION, RELEASE)) == len(locked_release_cells(RELEASE)) - 1


def test_find_release_takes_the_nbgrader_courses_own_release(tmp_path: Path, release) -> None:
    course = tmp_path / "course"
    (course / "assignments" / "fashion_mnist").mkdir(parents=True)
    released = write(release, course / "assignments" / "fashion_mnist" / "fashion_mnist.ipynb")
    student = course / "submitted" / "alice" / "fashion_mnist"
    student.mkdir(parents=True)
    submission = write(release, student / "fashion_mnist.ipynb")
    exercise = load_exercise("fashion_mnist")
    assert find_release(submission, exercise) == released
    assert find_release(released, exercise) != released


def test_cli_tamper_command(tmp_path: Path, release, capsys: pytest.CaptureFixture[str]) -> None:
    honest = write(release, tmp_path / "honest.ipynb")
    assert main(["tamper", str(honest), "--release", str(RELEASE)]) == 0
    assert "No locked cell was changed" in capsys.readouterr().out
    cell(release, "test_build_model").source = "27"
    tampered = write(release, tmp_path / "tampered.ipynb")
    assert main(["tamper", str(tampered), "--release", str(RELEASE)]) == 1
    out = capsys.readouterr().out
    assert "test_build_model" in out and "graded as released" in out
    assert main(["tamper", str(tmp_path / "missing.ipynb")]) == 2

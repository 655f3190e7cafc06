"""`autograder rebuild-notebooks`: points from the rubric, a class-body stub refused naming its
cell, and grading refuses a release older than its source, naming the release."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.authoring.rebuild import (
    check_release_current,
    points_per_part,
    rebuild_notebooks,
    refuse_class_body_stubs,
    released_stub,
)
from autograder.exercise_spec import ExerciseError

ROOT = Path(__file__).resolve().parents[1]
NAME = "digits_callback"
WHOLE_METHOD = (
    "class myCallback(keras.callbacks.Callback):\n"
    "    ### BEGIN SOLUTION\n"
    "    def on_epoch_end(self, epoch, logs=None):\n"
    "        self.model.stop_training = True\n"
    "    ### END SOLUTION\n"
)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder holding the exercise's source and its release, as committed."""
    for folder in ("solutions", "assignments"):
        shutil.copytree(ROOT / folder / NAME, tmp_path / folder / NAME)
    return tmp_path


def notebook(course: Path, folder: str = "solutions") -> Path:
    return course / folder / NAME / f"{NAME}.ipynb"


def test_a_solution_region_around_a_whole_method_is_refused_naming_the_cell() -> None:
    assert released_stub(WHOLE_METHOD).splitlines()[1] == "    raise NotImplementedError()"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WHOLE_METHOD)])
    nb.cells[0].metadata["nbgrader"] = {"solution": True, "grade_id": "myCallback"}
    with pytest.raises(ExerciseError, match=r"cell 'myCallback' \(class myCallback\)"):
        refuse_class_body_stubs(nb, "demo.ipynb")


def test_a_region_inside_a_method_is_released_as_a_stub_of_that_method(course: Path) -> None:
    refuse_class_body_stubs(nbformat.read(notebook(course), as_version=4), "source")


def test_points_come_from_the_rubric(course: Path) -> None:
    nb = nbformat.read(notebook(course), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["nbgrader"]["points"] = 1
    nbformat.write(nb, notebook(course))
    rebuild_notebooks(NAME, course, release=False)
    got = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nbformat.read(notebook(course), as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    assert got == {f"test_{part}": points for part, points in points_per_part(NAME).items()}
    assert notebook(course).read_bytes() == notebook(ROOT).read_bytes()


def test_a_part_without_its_autograded_cell_is_named(course: Path) -> None:
    nb = nbformat.read(notebook(course), as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_myCallback"]  # fmt: skip
    nbformat.write(nb, notebook(course))
    with pytest.raises(ExerciseError, match=r"parts without an autograded cell: \['myCallback'\]"):
        rebuild_notebooks(NAME, course, release=False)


def test_grading_with_a_release_older_than_its_source_names_the_release(
    course: Path, capsys: pytest.CaptureFixture
) -> None:
    check_release_current(notebook(course, "assignments"))  # as committed: current
    nb = nbformat.read(notebook(course), as_version=4)
    nb.cells[1].source += "\nimport math"  # the locked imports cell changed since the release
    nbformat.write(nb, notebook(course))
    with pytest.raises(ExerciseError, match="older than its source"):
        check_release_current(notebook(course, "assignments"))
    release = notebook(course, "assignments")
    code = cli.main(["grade", str(notebook(course)), "--release", str(release), "--exercise", NAME])
    error = capsys.readouterr().err
    assert code != 0 and str(release) in error and "rebuild-notebooks" in error, error


def test_nbgrader_autograde_with_a_release_older_than_its_source_names_the_release(
    course: Path,
) -> None:
    """nbgrader's route finds the release itself (the course's assignments/): a stale one
    stops the grading with the same error, naming it, before any notebook is graded or any
    locked cell restored from it."""
    from types import SimpleNamespace

    from autograder import nbgrader_grading
    from autograder.exercise_spec import load_exercise

    pytest.importorskip("nbgrader")
    nb = nbformat.read(notebook(course), as_version=4)
    nb.cells[1].source += "\nimport math"  # the locked imports cell changed since the release
    nbformat.write(nb, notebook(course))
    folder = course / "autograded" / "student" / NAME
    folder.mkdir(parents=True)
    shutil.copy(notebook(course), folder)

    def grade(*args, **kwargs):
        raise AssertionError("graded with a stale release")

    nbgrader_grading.set_grader(SimpleNamespace(exercise=load_exercise(NAME), grade=grade))
    resources = {
        "metadata": {"path": str(folder)},
        "nbgrader": {"notebook": NAME, "assignment": NAME},
    }
    try:
        with pytest.raises(nbgrader_grading.GradingUnavailable, match="older than its source"):
            nbgrader_grading.GradeInSandbox().score_cells(nb, resources)
        # The same release, current again: the grading goes on (here, to the stand-in grader).
        shutil.copy(ROOT / "solutions" / NAME / f"{NAME}.ipynb", notebook(course))
        with pytest.raises(AssertionError, match="graded with a stale release"):
            nbgrader_grading.GradeInSandbox().score_cells(nb, resources)
    finally:
        nbgrader_grading.set_grader(None)


def whole_method_source(course: Path) -> None:
    """The myCallback solution cell with its region around the whole method."""
    nb = nbformat.read(notebook(course), as_version=4)
    cell = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "myCallback"
    )
    cell.source = WHOLE_METHOD
    nbformat.write(nb, notebook(course))


def test_make_release_refuses_a_class_body_stub_before_nbgrader_runs(course: Path) -> None:
    """`make release` calls nbgrader itself: its recipe first runs the check `rebuild-notebooks`
    runs (`checked_source`, through `python -m autograder.authoring.rebuild NAME`), which stops
    the release naming the cell and rewrites no points."""
    import subprocess
    import sys

    from autograder.authoring.rebuild import checked_source, main

    dry_run = subprocess.run(
        ["make", "-n", "release", f"EXERCISES={NAME}", "FORCE=1"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    recipe = dry_run[dry_run.index("for exercise in") :]
    assert recipe.index("-m autograder.authoring.rebuild $exercise") < recipe.index(
        "nbgrader generate_assignment"
    )
    assert checked_source(NAME, course) == notebook(course)
    before = notebook(course).read_bytes()
    assert main([NAME, "--course", str(course)]) == 0
    assert notebook(course).read_bytes() == before  # no points rewritten
    whole_method_source(course)
    with pytest.raises(ExerciseError, match=r"cell 'myCallback' \(class myCallback\)"):
        checked_source(NAME, course)
    command = [sys.executable, "-m", "autograder.authoring.rebuild", NAME, "--course", str(course)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "class body raising" in done.stderr, done.stderr

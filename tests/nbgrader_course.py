"""Helpers for the nbgrader tests: a temporary copy of the course, submissions, running nbgrader.

The course copy holds `nbgrader_config.py`, `solutions/` and `assignments/`; the config resolves
`CourseDirectory.root` from its own location, so nbgrader run in the copy works on the copy only.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mutate
import nbformat
from fashion import PARTS, RELEASE, SOLUTION, rubric

from autograder.nbgrader_grading import autograded_cells

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "fashion_mnist"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
BIN = Path(sys.executable).parent
HIDDEN_UNITS_LINE = 'keras.layers.Dense(hidden_units, activation="relu")'
# Exploratory training in the notebook: cheaper in the test copies only (the course is untouched).
EXPLORATORY_FIT = "    scale_images(train_images),\n    train_labels,\n    epochs=5,"
CHEAP_FIT = "    scale_images(train_images[:1000]),\n    train_labels[:1000],\n    epochs=1,"


def make_course(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    for folder in ("solutions", "assignments"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, root / folder, dirs_exist_ok=True)
    return root


def nbgrader_env(data_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # nbgrader runs alembic (and the kernel) from the environment's bin.
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("NBGRADER_EXECUTION", "JPY_SESSION_NAME", "AUTOGRADER_NOTEBOOK", "KERAS_HOME"):
        env.pop(name, None)
    if data_dir is not None:
        env["FASHION_MNIST_DIR"] = str(data_dir)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    return env


def nbgrader(
    root: Path, env: dict[str, str], *args: str, timeout: float = 3600
) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in the course copy; fail with its log when it fails."""
    command = [str(BIN / "nbgrader"), *args, f"--CourseDirectory.root={root}"]
    result = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def comparable(notebook: nbformat.NotebookNode) -> list[tuple]:
    """What a release is made of, without volatile fields (outputs, counts, ids)."""
    cells = []
    for cell in notebook.cells:
        metadata = {
            k: v
            for k, v in cell.get("metadata", {}).items()
            if k not in {"execution", "collapsed", "scrolled"}
        }
        cells.append((cell.cell_type, cell.source, repr(sorted(metadata.items()))))
    return cells


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def _strip_solution_markers(source: str) -> str:
    return "\n".join(
        line
        for line in source.split("\n")
        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


def answered(
    release: nbformat.NotebookNode, source: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """The release with every solution cell answered as in the instructor's notebook: what a
    student who gets everything right hands in."""
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: _strip_solution_markers(c.source)
        for c in source.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return notebook


def cheapen_exploration(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`notebook` training 1 epoch on 1,000 images where it explores (its `history = ...` cell)."""
    edit = mutate.Edit("history", EXPLORATORY_FIT, CHEAP_FIT, count=1)
    return mutate.edit_notebook(copy.deepcopy(notebook), edit, label="the exploratory fit")


def edit_cell(notebook: nbformat.NotebookNode, grade_id: str, edit) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = edit(cell.source)
            return notebook
    raise AssertionError(f"no cell {grade_id}")


def edited_release(edit) -> dict:
    """The release answered as in the solution (what an honest student hands in), as JSON, then
    `edit`: a function that changes that JSON in place."""
    notebook = json.loads(nbformat.writes(answered(read(RELEASE), read(SOLUTION))))
    edit(notebook)
    return notebook


def submit(root: Path, student: str, notebook: nbformat.NotebookNode) -> Path:
    path = root / "submitted" / student / ASSIGNMENT / NOTEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


# An untagged cell that, under the old in-kernel grading, made every test cell print full points.
FORGERY = """
import autograder.nbgrader_grading as m

class _Points:
    POINTS = {points!r}
    def __init__(self, part):
        self.part = part
    def __repr__(self):
        return str(self.POINTS[self.part])

m.scored_outside_the_kernel = _Points
m.grade_part = _Points
"""


def full_points() -> dict[str, float]:
    return {part: sum(c.points for c in rubric() if c.part == part) for part in PARTS}


def forged(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`notebook` with the forging cell and test cells already showing full points."""
    notebook = copy.deepcopy(notebook)
    notebook.cells.insert(2, nbformat.v4.new_code_cell(FORGERY.format(points=full_points())))
    for cell in autograded_cells(notebook):
        part = cell.metadata["nbgrader"]["grade_id"][len("test_") :]
        cell.outputs = [
            nbformat.v4.new_output(
                "execute_result", data={"text/plain": str(full_points()[part])}, execution_count=1
            )
        ]
    return notebook

"""Find the locked cells a student changed, by comparing checksums with the release.

nbgrader restores locked cells from its database before autograding, so editing a test cell does
not change the grade, but it only logs a warning, and it warns for honest students too (the
database holds the test cells *with* their hidden tests, the students' copies do not). The release
notebook's own checksums (computed by `nbgrader generate_assignment` after the hidden tests were
removed) are what an honest student's cells still match, so they are the ones compared here.

Example:
    >>> tampered_cells("submitted/alice/fashion_mnist/fashion_mnist.ipynb",
    ...                "assignments/fashion_mnist/fashion_mnist.ipynb")
    ['test_build_model']
"""

from __future__ import annotations

import os
from pathlib import Path


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader") or {}


def compute_checksum(cell) -> str:
    """nbgrader's checksum of a cell (source, type, grade/solution/locked flags, id, points)."""
    try:
        from nbgrader.utils import compute_checksum as nbgrader_checksum
    except ImportError:
        raise RuntimeError(
            "naming tampered locked cells needs nbgrader's checksums: install the kit with its "
            "nbgrader extra (pip install 'keras-exercise-autograder[nbgrader]')"
        ) from None

    return nbgrader_checksum(cell)


def locked_release_cells(release_nb_path: str | os.PathLike[str]) -> dict[str, str]:
    """grade_id -> checksum of every locked cell of the release notebook."""
    import nbformat  # here: importing it costs seconds, and find_release does not need it

    release = nbformat.read(str(release_nb_path), as_version=4)
    cells = {}
    for cell in release.cells:
        meta = _nbgrader(cell)
        if meta.get("locked") and meta.get("grade_id") and meta.get("checksum"):
            cells[meta["grade_id"]] = meta["checksum"]
    return cells


def tampered_cells(
    submitted_nb_path: str | os.PathLike[str], release_nb_path: str | os.PathLike[str]
) -> list[str]:
    """grade_ids of the release's locked cells that the submission changed or deleted.

    A cell counts as tampered when its source, type, points or nbgrader flags differ from the
    release (nbgrader's checksum covers all of these), or when it is missing. Cells are matched by
    grade_id, in the release's order.
    """
    expected = locked_release_cells(release_nb_path)
    import nbformat

    submitted = nbformat.read(str(submitted_nb_path), as_version=4)
    found: dict[str, str | None] = {}
    for cell in submitted.cells:
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id")
        if grade_id not in expected or grade_id in found:
            continue
        try:
            found[grade_id] = compute_checksum(cell)
        except (KeyError, TypeError, ValueError):  # metadata mangled beyond checksumming
            found[grade_id] = None
    return [grade_id for grade_id, checksum in expected.items() if found.get(grade_id) != checksum]


NBGRADER_SUBMISSIONS = ("submitted", "autograded")  # nbgrader's own folders, per student


def nbgrader_course(submission: str | os.PathLike[str]) -> Path | None:
    """The course root of a file at nbgrader's `<root>/submitted/<student>/<assignment>/<file>`
    (or `autograded/`), else None. Only the student's folder name is the student's choice here;
    the root is two levels above it, outside everything a student can name."""
    path = Path(submission).resolve()
    if len(path.parents) > 3 and path.parents[2].name in NBGRADER_SUBMISSIONS:
        return path.parents[3]
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def find_release(
    submission: str | os.PathLike[str], exercise, course: str | os.PathLike[str] | None = None
) -> Path | None:
    """The course's release of `exercise` (the instructor's): `assignments/<name>/<name>.ipynb`
    of `course`, else of the nbgrader course the submission sits in, else of the current
    directory; None when there is none.

    Never a release found by walking up from the submission, nor one inside nbgrader's
    submissions: a student who names herself `assignments` must not choose the release her
    classmates' locked cells are restored from (SECURITY.md, "Identity is the instructor's").
    """
    submission = Path(submission).resolve()
    root = nbgrader_course(submission)
    courses = [Path(course)] if course is not None else []
    courses += [root] if root is not None else []
    courses.append(Path.cwd())
    student_trees = [root / name for name in NBGRADER_SUBMISSIONS] if root is not None else []
    for folder in courses:
        candidate = exercise.release_notebook(folder.resolve())
        if not candidate.is_file():
            continue
        real = candidate.resolve()
        if real == submission or any(_inside(real, tree.resolve()) for tree in student_trees):
            continue
        return candidate
    return None


def describe(cells: list[str]) -> str:
    """One sentence for reports; empty when nothing was tampered with."""
    if not cells:
        return ""
    names = ", ".join(cells)
    return (
        f"Locked cells changed in this submission: {names}. They were graded as released "
        "(changing them does not change the grade)."
    )

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


def find_release(
    submission: str | os.PathLike[str],
    exercise=None,
    start: str | os.PathLike[str] | None = None,
) -> Path | None:
    """The release notebook matching `submission`: `assignments/<assignment>/<name>.ipynb` in the
    nearest course directory above `start` (default: the submission's folder), else the
    exercise's release under the current directory."""
    submission = Path(submission).resolve()
    assignment, name = submission.parent.name, submission.name
    for folder in [
        Path(start or submission.parent).resolve(),
        *Path(start or submission.parent).resolve().parents,
    ]:
        candidate = folder / "assignments" / assignment / name
        if candidate.is_file() and candidate.resolve() != submission:
            return candidate
    if exercise is None:
        return None
    fallback = exercise.release_notebook(Path.cwd())
    return fallback if fallback.is_file() and fallback.resolve() != submission else None


def describe(cells: list[str]) -> str:
    """One sentence for reports; empty when nothing was tampered with."""
    if not cells:
        return ""
    names = ", ".join(cells)
    return (
        f"Locked cells changed in this submission: {names}. They were graded as released "
        "(changing them does not change the grade)."
    )

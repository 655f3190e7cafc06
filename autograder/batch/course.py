"""The instructor's side of a batch: the course folders around the submissions, and the release
whose locked cells are restored.

Everything under the submissions folder (for nbgrader, its `submitted/`) was written by
students: a student id is a folder name the student chose (a hub user name can be
`assignments`). So the exercise and the release are looked for only in the folders *above* the
submissions and in the current directory, and a release that resolves into the submissions is
never taken (SECURITY.md, "Identity is the instructor's").
"""

from __future__ import annotations

from pathlib import Path

from autograder.batch.layouts import submissions_root


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def course_folders(folder: str | Path, layout: str = "auto") -> tuple[Path, ...]:
    """Where the course's own `assignments/` may be, nearest first: each folder above the
    submissions root, then the current directory (unless it is inside the submissions)."""
    root = submissions_root(folder, layout).resolve()
    found = list(root.parents)
    here = Path.cwd().resolve()
    if not _inside(here, root) and here not in found:
        found.append(here)
    return tuple(found)


def course_release(folder: str | Path, exercise, layout: str = "auto") -> Path | None:
    """The course's release notebook of `exercise` for a batch over `folder`: the first
    `assignments/<name>/<name>.ipynb` of `course_folders` that is a file outside the
    submissions; None when there is none."""
    root = submissions_root(folder, layout).resolve()
    for course in course_folders(folder, layout):
        candidate = exercise.release_notebook(course)
        if candidate.is_file() and not _inside(candidate.resolve(), root):
            return candidate
    return None

"""`autograder rebuild-notebooks NAME`: an exercise's notebooks brought in line with its parts.

The instructor's source, `solutions/<name>/<name>.ipynb`, gets each part's autograded cell worth
what the rubric (the graders) gives the part; a part without its cell, or a cell for a part the
exercise does not have, is an error naming them. A solution region that would leave a class
body raising in the release is refused, naming the cell. Then the students' release,
`assignments/<name>/<name>.ipynb`, is written again with `nbgrader generate_assignment`.

Grading checks the release against its source (`check_release_current`): a release whose locked
cells are not its source's (made before the source last changed) is an error naming it, never a
silent restore of old locked cells.

Example:
    >>> rebuild_notebooks("digits_callback", course=Path("."))    # doctest: +SKIP
    [PosixPath('solutions/digits_callback/digits_callback.ipynb'), PosixPath('assignments/...')]
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.exercise_spec import ExerciseError, load_exercise

SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*", re.M | re.S)
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.M | re.S)  # fmt: skip
STUB = "raise NotImplementedError()"


def points_per_part(name: str) -> dict[str, int]:
    """Each part's points, from the exercise's rubric (its graders, collected by pytest)."""
    from autograder.scoring.run import rubric

    points: dict[str, int] = {}
    for line in rubric(load_exercise(name)):
        points[line.part] = points.get(line.part, 0) + int(line.points)
    return points


def released_stub(source: str) -> str:
    """A solution cell as nbgrader releases it: each solution region replaced by a
    `raise NotImplementedError()` at the region's indentation."""
    return SOLUTION.sub(lambda m: f"{m.group(1)}{STUB}", source)


def class_bodies_raising(source: str) -> list[str]:
    """The classes whose body the released stub of `source` would make raise when defined
    (a solution region around a whole method: `class C: raise NotImplementedError()`)."""
    try:
        tree = ast.parse(released_stub(source))
    except SyntaxError:
        return []
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and any(isinstance(s, ast.Raise) for s in node.body)
    ]


def refuse_class_body_stubs(notebook, where: str) -> None:
    """ExerciseError naming every solution cell whose release would leave a class body raising."""
    refused = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        for name in class_bodies_raising(cell.source):
            grade_id = cell.metadata["nbgrader"].get("grade_id", f"cell {index}")
            refused.append(f"cell {grade_id!r} (class {name})")
    if refused:
        raise ExerciseError(
            f"{where}: the release would leave a class body raising NotImplementedError in "
            f"{', '.join(refused)}: put the solution region inside a method's body"
        )


def _locked(notebook) -> dict[str, str]:
    """grade_id -> source of each locked cell, as released (hidden tests removed)."""
    cells = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") and not meta.get("solution"):
            cells[meta["grade_id"]] = HIDDEN.sub("", cell.source).rstrip()
    return cells


def source_of(release: Path) -> Path:
    """The source a release is made from: `<course>/solutions/<a>/<n>` for
    `<course>/assignments/<a>/<n>`."""
    return release.parents[2] / "solutions" / release.parent.name / release.name


def check_release_current(release: Path | str) -> None:
    """ExerciseError naming `release` when its locked cells are not those of its source (in
    the same course); nothing when it has no source there (a release handed out alone)."""
    release = Path(release)
    source = source_of(release.resolve()) if len(release.resolve().parents) > 2 else None
    if source is None or not source.is_file():
        return
    try:
        released, wanted = (_locked(nbformat.read(p, as_version=4)) for p in (release, source))
    except Exception:  # an unreadable notebook is reported where it is used, as before
        return
    if released != wanted:
        changed = sorted(k for k in {*released, *wanted} if released.get(k) != wanted.get(k))
        raise ExerciseError(
            f"the release {release} is older than its source {source} (locked cells "
            f"{', '.join(changed)} differ): run `autograder rebuild-notebooks "
            f"{release.parent.name}` (or `make release`) before grading"
        )


def checked_source(name: str, course: Path) -> Path:
    """The source notebook a release of exercise `name` is made from, checked as every release
    is (`rebuild-notebooks`, `make release`): ExerciseError when it is missing or when a
    solution region would leave a class body raising, naming the cell."""
    source = Path(course) / "solutions" / name / load_exercise(name).notebook_name
    if not source.is_file():
        raise ExerciseError(f"{source} does not exist: `autograder new-exercise {name}` writes it")
    refuse_class_body_stubs(nbformat.read(source, as_version=4), str(source))
    return source


def main(argv: list[str] | None = None) -> int:
    """`python -m autograder.authoring.rebuild NAME... [--course DIR]`: check each source as a
    release is made from it (what `make release` runs before nbgrader; no points rewritten)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.authoring.rebuild")
    parser.add_argument("names", nargs="+", help="the exercises about to be released")
    parser.add_argument("--course", default=".", help="the course folder (solutions/)")
    args = parser.parse_args(argv)
    try:
        for name in args.names:
            checked_source(name, Path(args.course))
    except ExerciseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def rebuild_notebooks(name: str, course: Path, *, release: bool = True) -> list[Path]:
    """Set each part's points in the source notebook from the rubric, refuse a class-body stub,
    then write the release (nbgrader, run in `course`); the files written."""
    exercise = load_exercise(name)
    source = checked_source(name, course)
    notebook = nbformat.read(source, as_version=4)
    points, cells = points_per_part(name), {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.metadata.get("nbgrader", {}).get("grade") and grade_id.startswith("test_"):
            cells[grade_id.removeprefix("test_")] = cell
    missing, unknown = sorted(set(points) - set(cells)), sorted(set(cells) - set(points))
    if missing or unknown:
        raise ExerciseError(
            f"{source}: parts without an autograded cell: {missing or 'none'}; autograded cells "
            f"for no graded part: {unknown or 'none'} (the parts are {sorted(points)})"
        )
    for part, cell in cells.items():
        cell.metadata["nbgrader"]["points"] = points[part]
    nbformat.write(notebook, source)
    written = [source]
    if release:
        bin_dir = Path(sys.executable).parent  # nbgrader_config.py wants the kit's bin on PATH
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        command = [str(bin_dir / "nbgrader"), "generate_assignment", name, "--force"]
        done = subprocess.run(command, cwd=course, capture_output=True, text=True, env=env)
        if done.returncode:
            raise ExerciseError(
                f"nbgrader generate_assignment {name} failed:\n{done.stderr[-2000:]}"
            )
        written.append(exercise.release_notebook(course))
    return written


if __name__ == "__main__":
    sys.exit(main())

"""`autograder new-exercise NAME` writes an exercise that works at once: `make release` (nbgrader)
writes its students' notebook, `autograder grade` gives its solution full marks, its code passes
the project's lint, and the generic suite (tests/test_every_exercise.py) covers it without any
edit. Run in a copy of the course, so the checkout is never changed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fashion import ROOT

BIN = Path(sys.executable).parent
COPIED = ("autograder", "solutions", "assignments", "tests", "nbgrader_config.py", "pyproject.toml")


def run(args: list, course: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(course),  # the copy's autograder package, before the installed one
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    return subprocess.run(
        [str(a) for a in args], cwd=course, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this course with `demo` added by `autograder new-exercise` and released."""
    root = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    made = run([BIN / "python", "-m", "autograder", "new-exercise", "demo"], root)
    assert made.returncode == 0, made.stderr[-2000:]
    assert "wrote" in made.stdout and "make release EXERCISES=demo" in made.stdout
    # What `make release EXERCISES=demo` runs.
    released = run([BIN / "nbgrader", "generate_assignment", "demo", "--force"], root)
    assert released.returncode == 0, released.stderr[-2000:]
    return root


@pytest.mark.slow
def test_the_new_exercise_is_graded_full_marks_without_any_edit(course: Path) -> None:
    results = course / "results.json"
    graded = run(
        [BIN / "python", "-m", "autograder", "grade", "solutions/demo/demo.ipynb",
         "--exercise", "demo", "--results", results],
        course,
    )  # fmt: skip
    assert graded.returncode == 0, graded.stderr[-2000:]
    report = json.loads(results.read_text())
    assert report["score"] == 100, graded.stdout
    release = (course / "assignments" / "demo" / "demo.ipynb").read_text()
    assert "BEGIN SOLUTION" not in release and "NotImplementedError" in release


@pytest.mark.slow
def test_the_new_exercise_passes_lint_and_the_generic_suite(course: Path) -> None:
    folder = course / "autograder" / "exercises" / "demo"
    for command in (["check"], ["format", "--check"]):
        linted = run([BIN / "ruff", *command, folder], course)
        assert linted.returncode == 0, linted.stdout + linted.stderr
    suite = run(
        [BIN / "python", "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "tests/test_every_exercise.py", "-k", "demo", "-rs"],
        course,
    )  # fmt: skip
    assert suite.returncode == 0, suite.stdout[-3000:]
    passed = re.search(r"(\d+) passed", suite.stdout)
    # Every generic test ran for demo (each is parametrized over the exercises found).
    generic = (course / "tests" / "test_every_exercise.py").read_text().count("\ndef test_")
    assert passed and int(passed.group(1)) == generic, suite.stdout[-2000:]
    assert "skipped" not in suite.stdout and "deselected" in suite.stdout, suite.stdout[-2000:]


def test_a_taken_or_malformed_name_writes_nothing(tmp_path: Path) -> None:
    from autograder.authoring.scaffold import new_exercise
    from autograder.exercise_spec import ExerciseError

    for name in ("fashion_mnist", "Bad-Name"):
        with pytest.raises(ExerciseError, match="already exists|must match"):
            new_exercise(name, tmp_path)
    assert list(tmp_path.iterdir()) == []

"""The released notebook, run top to bottom with `jupyter nbconvert --execute` as a student would
(every cell, the inspection cells too): with the stubs every check says "not implemented yet";
with correct code every check passes and no line of the page warns; with one plausible mistake
per part every self-check names the mistake; and the executed notebook stays small."""

from __future__ import annotations

from pathlib import Path

import mutate
import nbformat
import pytest
from fashion import RELEASE, SOLUTION
from nbgrader_course import answered, read
from student_run import (
    MISTAKES,
    execute,
    mistaken_notebook,
    output_lines,
    run_as_student,
    self_check_outputs,
    student_env,
)

MAX_EXECUTED_KIB = 400


@pytest.mark.slow
def test_every_self_check_points_at_the_students_mistake(tmp_path: Path, synthetic_dir) -> None:
    pytest.importorskip("nbconvert")
    path = tmp_path / "fashion_mnist.ipynb"
    nbformat.write(mistaken_notebook(RELEASE, SOLUTION), str(path))
    executed = execute(path, student_env(tmp_path / "home", synthetic_dir))
    said = self_check_outputs(executed)
    for part, (_, _, cause) in MISTAKES.items():
        assert cause in said[part], (part, said[part])
        assert "All checks passed" not in said[part], part
    assert "Pipeline test accuracy" in said["pipeline"] or "pipeline" in said["pipeline"]
    size = executed.stat().st_size / 1024
    assert size < MAX_EXECUTED_KIB, f"the executed notebook is {size:.0f} KiB"


# Said once on a machine's first run (a fresh HOME here, as on a student's new laptop).
FIRST_RUN = {"Matplotlib is building the font cache; this may take a moment."}
# What a page must never show a student whose code is correct.
ALARMS = ("warning", "will not see the same code", "not when graded", "traceback")


@pytest.mark.slow
def test_stubs_run_top_to_bottom_each_check_says_not_implemented_yet(
    tmp_path: Path, synthetic_dir
) -> None:
    pytest.importorskip("nbconvert")
    executed = run_as_student(read(RELEASE), tmp_path, synthetic_dir)
    said = self_check_outputs(executed)
    assert set(said) == {*MISTAKES, "pipeline"}
    for part, text in said.items():
        assert "not implemented yet" in text, (part, text)
        assert "run the cell above first" not in text, (part, text)  # it was just run
        assert "is not defined" not in text, (part, text)
        assert "All checks passed" not in text, (part, text)


@pytest.mark.slow
def test_correct_code_passes_every_check_and_no_line_warns(tmp_path: Path, synthetic_dir) -> None:
    """The release with the solutions typed in, every cell run in order (the "Inspect the
    model" cell defines `model`, which the callbacks' `self.model` is not)."""
    pytest.importorskip("nbconvert")
    notebook = answered(read(RELEASE), read(SOLUTION))
    # the synthetic test set has 200 images, the real one 10,000
    mutate.edit_notebook(notebook, mutate.Edit("", "index = 333", "index = 33", count=1))
    executed = run_as_student(notebook, tmp_path, synthetic_dir)
    said = self_check_outputs(executed)
    assert set(said) == {*MISTAKES, "pipeline"}
    for part, text in said.items():
        assert "All checks passed." in text, (part, text)
        assert "[FAIL]" not in text, (part, text)
    assert "pipeline: trained " in said["pipeline"], said["pipeline"]  # its progress, at the end
    lines = output_lines(executed)
    alarming = [(cell, kind, line) for cell, kind, line in lines
                if (kind in ("stderr", "error") or any(a in line.lower() for a in ALARMS))
                and line not in FIRST_RUN]  # fmt: skip
    assert alarming == [], alarming
    summary = [line for _, _, line in lines if 'Model: "' in line]
    assert summary and all('Model: "sequential"' in line for line in summary), summary

"""The released notebook, run top to bottom with `jupyter nbconvert --execute` as a student would,
with one plausible mistake per part: every self-check names the mistake, and the executed
notebook stays small."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import RELEASE, SOLUTION
from student_run import MISTAKES, execute, mistaken_notebook, self_check_outputs, student_env

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

"""Students check themselves: `check(part)` in the notebook and `autograder check` in a terminal."""

from __future__ import annotations

import contextlib
from pathlib import Path

import keras
import nbformat
import pytest
from conftest import PARTS, RELEASE, SOLUTION, reference_source

from autograder import grader as grader_module
from autograder import selfcheck
from autograder.cli import main
from autograder.data import read_dataset
from autograder.exercise_spec import load_exercise
from autograder.submission import load_chunks

QUICK_PARTS = [p for p in PARTS if p != "pipeline"]


@pytest.fixture
def use_grader(grader, monkeypatch: pytest.MonkeyPatch):
    """The self-check with the small synthetic data set (and keras loading it too)."""
    monkeypatch.setattr(grader_module, "_SHARED", {grader.exercise.name: grader})
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    data = read_dataset(grader.data_dir, grader.exercise.dataset)
    arrays = ((data.train_images, data.train_labels), (data.test_images, data.test_labels))
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: arrays)
    return grader


def namespace_of(cells: list[str]) -> dict:
    """Run cells like a notebook does: a failing cell (a stub) does not stop the others."""
    namespace: dict = {"__name__": "__main__"}
    for source in cells:
        with contextlib.suppress(NotImplementedError):
            exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def cells_of(notebook: Path) -> list[str]:
    return [chunk.source for chunk in load_chunks(notebook)]


def reference_namespace() -> dict:
    return namespace_of(cells_of(SOLUTION))


def stub_namespace() -> dict:
    return namespace_of(cells_of(RELEASE))


@pytest.mark.parametrize("part", QUICK_PARTS)
def test_reference_passes_each_self_check(
    use_grader, part: str, capsys: pytest.CaptureFixture[str]
) -> None:
    selfcheck.check(part, namespace=reference_namespace())
    out = capsys.readouterr().out
    assert out.startswith(f"{part}  ") or f"\n{part}  " in out
    assert "All checks passed." in out, out
    assert "[FAIL]" not in out
    if load_exercise("fashion_mnist").part(part).selfcheck_note:
        assert "train briefly on 512 of the training images" in out


def test_self_check_feedback_is_the_graders(
    use_grader, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The same want/got text as `autograder grade` for the same mistake."""
    source = reference_source().replace('activation="relu"', 'activation="sigmoid"')
    module = tmp_path / "defective.py"
    module.write_text(source)
    graded = use_grader.grade(module)
    cells = [c.replace('activation="relu"', 'activation="sigmoid"') for c in cells_of(SOLUTION)]
    selfcheck.check("build_model", namespace=namespace_of(cells))
    out = capsys.readouterr().out
    expected = [t.output for t in graded.tests if t.part == "build_model" and not t.passed]
    assert expected, "the defect should fail a build_model check"
    for text in expected:
        for line in text.splitlines():
            assert line.strip() in out
    score = graded.part_score("build_model")
    assert f"build_model  {score[0]:g}/{score[1]:g}" in out


@pytest.mark.parametrize("part", QUICK_PARTS)
def test_stubs_say_not_implemented_yet(
    use_grader, part: str, capsys: pytest.CaptureFixture[str]
) -> None:
    selfcheck.check(part, namespace=stub_namespace())
    out = capsys.readouterr().out
    assert "not implemented yet" in out, out
    assert f"{part}  0/" in out


def test_pipeline_is_skipped_unless_slow(use_grader, capsys: pytest.CaptureFixture[str]) -> None:
    selfcheck.check("pipeline", namespace=reference_namespace())
    out = capsys.readouterr().out
    assert "skipped" in out and 'check("pipeline", slow=True)' in out
    selfcheck.check("pipeline", slow=True, namespace=reference_namespace())
    out = capsys.readouterr().out
    assert "All checks passed." in out, out
    assert "Pipeline test accuracy" in out


def test_namespace_defaults_to_the_callers_globals(
    use_grader, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = {"__name__": "__main__", "check": selfcheck.check}
    exec(
        "import numpy as np\ndef add_batch_dimension(image):\n    return np.expand_dims(image, 0)\n"
        'check("add_batch_dimension")',
        namespace,
    )
    assert "All checks passed." in capsys.readouterr().out


def test_unknown_part_and_nbgrader_runs(
    use_grader, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    selfcheck.check("build_modle", namespace={})
    assert "Unknown part 'build_modle'" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    selfcheck.check("build_model", namespace={})
    assert "skipped while nbgrader runs the notebook" in capsys.readouterr().out


def test_student_notebook_has_a_self_check_after_each_part() -> None:
    notebook = nbformat.read(str(RELEASE), as_version=4)
    sources = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert "from autograder.selfcheck import check" in sources
    for part in QUICK_PARTS:
        solution = next(
            i
            for i, c in enumerate(notebook.cells)
            if c.metadata.get("nbgrader", {}).get("grade_id") == part
        )
        assert notebook.cells[solution + 1].source == f'check("{part}")'


def test_cli_check_skips_the_pipeline_and_names_tampered_cells(
    synthetic_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nbgrader_course import answered, edit_cell, read

    notebook = answered(read(RELEASE), read(SOLUTION))
    notebook = edit_cell(notebook, "test_build_model", lambda s: "27")
    path = tmp_path / "fashion_mnist.ipynb"
    nbformat.write(notebook, str(path))
    args = [
        "--data-dir",
        str(synthetic_dir),
        "--release",
        str(RELEASE),
        "--exercise",
        "fashion_mnist",
    ]
    assert main(["check", str(path), *args]) == 0
    out = capsys.readouterr().out
    assert "Score: 89/89" in out  # everything but the pipeline's 11 points
    assert "\npipeline  " not in out
    assert "add --slow to run them" in out
    assert "Locked cells changed in this submission: test_build_model" in out


def test_missing_data_is_a_message_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(grader_module, "_SHARED", {})
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    selfcheck.check("scale_images", namespace={})
    out = capsys.readouterr().out
    assert "`scale_images` not defined yet" in out
    assert "cannot run without the Fashion-MNIST files" in out

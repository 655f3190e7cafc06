"""A student who follows the notebook is never misled: the self-check and the grader agree."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import mutate
import pytest
from hostile_submissions import grade, hostile
from nbgrader_course import edited_release

from autograder import selfcheck
from autograder.scoring.feedback import ungraded_hint
from autograder.selfcheck import report_part
from autograder.submission import load_submission

HIDDEN_LINE = 'keras.layers.Dense(hidden_units, activation="relu")'


def _with_cell(notebook: dict, after_grade_id: str, source: str) -> dict:
    """`notebook` with a new untagged code cell (a student's own) after the given cell."""
    cells = notebook["cells"]
    index = next(
        i
        for i, c in enumerate(cells)
        if c["metadata"].get("nbgrader", {}).get("grade_id") == after_grade_id
    )
    cells.insert(index + 1, {"cell_type": "code", "metadata": {}, "outputs": [],
                             "execution_count": None, "source": source})  # fmt: skip
    return notebook


def _edit_build_model(notebook: dict, old: str, new: str) -> dict:
    return mutate.edit_notebook(notebook, mutate.Edit("build_model", old, new, every=True))


@pytest.fixture(autouse=True)
def kernel_grader(grader):
    """The self-check grades with the tests' grader (synthetic data)."""
    selfcheck.set_grader(grader)
    yield
    selfcheck.set_grader(None)


def _kernel_namespace(path: Path) -> dict:
    """What a kernel holds after running every code cell of the notebook (imports and
    definitions; nothing is called)."""
    namespace: dict = {}
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        if source and "check(" not in source and "load_data()" not in source:
            with contextlib.suppress(Exception):
                exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def _notebook(tmp_path: Path, edit) -> Path:
    path = tmp_path / "fashion_mnist.ipynb"
    path.write_text(json.dumps(edited_release(edit)))
    return path


def test_an_import_in_a_cell_of_ones_own_counts_for_grading_and_self_check(
    grader, tmp_path
) -> None:
    def use_layers(nb):
        _with_cell(nb, "imports", "from keras import layers\n")
        _edit_build_model(nb, HIDDEN_LINE, 'layers.Dense(hidden_units, activation="relu")')

    path = _notebook(tmp_path, use_layers)
    assert any(c.label.startswith("imports of cell") for c in load_submission(path).chunks)
    report = _grade_notebook(grader, path, ("build_model",))
    assert report.part_score("build_model") == (27, 27), report.tests[0].output
    checked = report_part("build_model", _kernel_namespace(path), notebook=str(path))
    assert "All checks passed." in checked and "not when graded" not in checked


def _grade_notebook(grader, path: Path, parts):
    import copy
    import dataclasses

    variant = copy.copy(grader)
    variant.options = dataclasses.replace(grader.options, parts=tuple(parts))
    return variant.grade(path)


def test_a_name_defined_in_an_ungraded_cell_gets_one_message_from_both(grader, tmp_path) -> None:
    def use_constant(nb):
        _with_cell(nb, "imports", 'ACTIVATION = "relu"\n')
        _edit_build_model(
            nb, HIDDEN_LINE, "keras.layers.Dense(hidden_units, activation=ACTIVATION)"
        )

    path = _notebook(tmp_path, use_constant)
    cell = 'the cell `ACTIVATION = "relu"` under "How this notebook is graded"'  # as on the page
    message = ungraded_hint("build_model", "ACTIVATION", cell)
    report = _grade_notebook(grader, path, ("build_model",))
    assert report.part_score("build_model")[0] == 0
    assert message in "\n".join(t.output for t in report.tests)
    checked = report_part("build_model", _kernel_namespace(path), notebook=str(path))
    assert message in checked and "but not when graded" in checked


def test_the_self_check_finds_the_data_offline_with_only_fashion_mnist_dir(
    synthetic_dir, tmp_path
) -> None:
    script = """
import keras
from autograder import selfcheck
from autograder.selfcheck import report_part

def load_data():
    return keras.datasets.fashion_mnist.load_data()

print(report_part("load_data", {"load_data": load_data, "keras": keras}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "JPY_SESSION_NAME")}
    env.update(HOME=str(tmp_path), FASHION_MNIST_DIR=str(synthetic_dir), TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert "load_data  8/8" in result.stdout, result.stdout + result.stderr[-2000:]
    assert "network" not in result.stdout


ACC_VARIANTS = {  # as students write it: an error, or a callback that never stops
    "subscript": 'accuracy = logs["acc"]',
    "get, guarded": 'accuracy = logs.get("acc")',
    "get, compared": 'accuracy = logs.get("acc")\n        if accuracy >= self.target:\n            self.model.stop_training = True',
}


def test_reading_acc_gets_its_hint_however_it_is_written(grader, tmp_path) -> None:
    for name, line in ACC_VARIANTS.items():
        source = hostile(('accuracy = logs.get("accuracy")', line))
        report = grade(grader, tmp_path, source, parts=("StopOnAccuracy",))
        failed = [t for t in report.tests if not t.passed]
        assert failed, name
        text = "\n".join(t.output for t in failed)
        assert "Keras 3 logs the metric as 'accuracy', not 'acc'" in text, (name, text)
        if "guarded" not in name:  # raised: the student's failing line is shown
            assert line.splitlines()[1 if "compared" in name else 0].strip() in text, (name, text)


def test_a_missing_data_set_is_diagnosed_as_that_with_the_fix() -> None:
    from autograder.scoring.feedback import diagnose_error

    error = {
        "type": "Exception",
        "message": "URL fetch failure on https://storage.googleapis.com/tensorflow/"
        "tf-keras-datasets/train-labels-idx1-ubyte.gz: None -- [Errno -2] Name or service not known",
    }
    hint = diagnose_error(error)
    assert "not in Keras' cache" in hint and "FASHION_MNIST_DIR" in hint


@pytest.mark.real_data
@pytest.mark.slow
def test_a_model_trained_on_unscaled_pixels_is_told_so(real_grader, tmp_path) -> None:
    """The grader scales its own test images (/ 255): a pipeline whose scale_images left the
    training pixels 0-255 (as float32, so only the model itself can tell) is told that is why
    its test accuracy is low, not "check the parts above"."""
    path = tmp_path / "submission.py"
    path.write_text(hostile(("return images / 255.0", 'return images.astype("float32")')))
    report = _grade_notebook(real_grader, path, ("pipeline",))
    text = "\n".join(t.output for t in report.tests if t.part == "pipeline" and not t.passed)
    assert "trained on values 0-255 and is tested on pixels / 255" in text, text
    assert "on unscaled test images it gets" in text, text
    assert "scale_images must divide the pixels by 255" in text, text


def test_integer_scaled_images_are_named_without_evaluating_anything() -> None:
    from autograder.scoring.keras_models import unscaled_training_cause

    cause = unscaled_training_cause(
        None, "model", None, None, 0.1, "scale_images must divide the pixels by 255",
        {"type": "numpy.ndarray", "dtype": "uint8"},
    )  # fmt: skip
    assert "trained on values 0-255" in cause and "came back as uint8" in cause
    assert (
        unscaled_training_cause(None, "model", None, None, 0.1, "fix", {"dtype": "float32"}) == ""
    )


def test_the_bundle_is_dated_when_it_was_made_and_reproducible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jupyter shows an unpacked notebook's mtime ("Last Checkpoint: ..."): the entries carry the
    release's date (SOURCE_DATE_EPOCH, else the checkout's last commit), the same every build."""
    import time
    import zipfile

    from autograder.platforms.student import build_student_bundle

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = build_student_bundle(tmp_path / "a.zip", exercise="fashion_mnist").read_bytes()
    again = build_student_bundle(tmp_path / "b.zip", exercise="fashion_mnist").read_bytes()
    assert first == again
    commit = subprocess.run(
        ["git", "-C", str(Path(__file__).parents[1]), "log", "-1", "--format=%ct"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        dates = {info.date_time for info in archive.infolist()}
    made = time.gmtime(int(commit))
    assert dates == {(*made[:5], made[5] // 2 * 2)}  # a zip keeps even seconds
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796650000")  # 2026-12-07 13:26:40 UTC
    build_student_bundle(tmp_path / "c.zip", exercise="fashion_mnist")
    with zipfile.ZipFile(tmp_path / "c.zip") as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 12, 7, 13, 26, 40)}

"""Students check themselves: `check(part)` in the notebook and `autograder check` in a terminal."""

from __future__ import annotations

import contextlib
from pathlib import Path

import keras
import mutate
import nbformat
import pytest
from fashion import PARTS, RELEASE, SOLUTION, reference_source

from autograder import selfcheck, shared_graders
from autograder.cli import main
from autograder.data import read_dataset
from autograder.exercise_spec import load_exercise
from autograder.submission import load_chunks

QUICK_PARTS = [p for p in PARTS if p != "pipeline"]


@pytest.fixture
def use_grader(grader, monkeypatch: pytest.MonkeyPatch):
    """The self-check with the small synthetic data set (and keras loading it too)."""
    monkeypatch.setattr(shared_graders, "_SHARED", {grader.exercise.name: grader})
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
    sigmoid = mutate.Edit("build_model", 'activation="relu"', 'activation="sigmoid"', every=True)
    source = mutate.apply(reference_source(), sigmoid)
    module = tmp_path / "defective.py"
    module.write_text(source)
    graded = use_grader.grade(module)
    cells = mutate.edit_cells(cells_of(SOLUTION), sigmoid)
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
    monkeypatch.setattr(shared_graders, "_SHARED", {})
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    selfcheck.check("scale_images", namespace={})
    out = capsys.readouterr().out
    assert "`scale_images` not defined yet" in out
    assert "cannot run without the Fashion-MNIST files" in out


CORRECT_CALLBACK = """
class StopOnLoss(keras.callbacks.Callback):
    def __init__(self, threshold=0.4):
        super().__init__()
        self.threshold = threshold

    def on_epoch_end(self, epoch, logs=None):
        if logs["loss"] < self.threshold:
            print("stopping")
            self.model.stop_training = True
"""


def test_attribute_names_are_not_globals_the_callback_reads() -> None:
    """`self.model.stop_training` reads no global `model` (the release's own "Inspect the
    model" cell defines one): a correct callback is never told it will lose points."""
    namespace = namespace_of(["import keras", CORRECT_CALLBACK])
    assert "model" not in selfcheck._global_names(namespace["StopOnLoss"])
    assert "stop_training" not in selfcheck._global_names(namespace["StopOnLoss"])
    namespace = namespace_of(
        [
            "import numpy as np",
            "class Uses:\n    @staticmethod\n    def f():\n        return [ACT for _ in range(2)]\n"
            "    @property\n    def p(self):\n        return (lambda: model)()",
            "def g(images):\n    return np.mean(images) / SCALE",
        ]
    )
    assert {"ACT", "model"} <= selfcheck._global_names(namespace["Uses"])
    assert {"np", "SCALE"} <= selfcheck._global_names(namespace["g"])


def test_a_correct_callback_in_the_release_gets_no_ungraded_warning(
    use_grader, tmp_path: Path
) -> None:
    """The released notebook with every answer filled in and every cell run (its "Inspect the
    model" cell defines `model`): the callbacks' self-checks carry no warning."""
    from nbgrader_course import answered, read

    path = tmp_path / "fashion_mnist.ipynb"
    nbformat.write(answered(read(RELEASE), read(SOLUTION)), str(path))
    namespace = reference_namespace()
    namespace["model"] = object()  # what the "Inspect the model" cell leaves in the kernel
    for part in ("StopOnLoss", "StopOnAccuracy"):
        assert selfcheck.ungraded_warnings(part, namespace, str(path)) == [], part


def test_a_cell_is_named_as_the_student_sees_it() -> None:
    from autograder.notebook_places import cell_place
    from autograder.submission import read_notebook, ungraded_definitions

    notebook = read_notebook(RELEASE)
    ungraded = ungraded_definitions(notebook)
    assert ungraded["model"] == 'the cell `model = build_model()` under "Inspect the model"'
    cells = [{"cell_type": "code", "source": "# only a comment\n\n"}]
    assert cell_place(cells, 0) == "the cell `# only a comment`"
    hostile = [
        {"cell_type": "markdown", "source": "## Part\nScore: 100/100"},
        {"cell_type": "code", "source": "x = 1  # " + "y" * 200 + "\nScore: 100/100"},
    ]
    place = cell_place(hostile, 1)
    assert "\n" not in place and len(place) < 160 and place.endswith('under "Part"')


def test_a_stub_that_ran_is_not_implemented_yet_not_unrun(
    use_grader, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLASS_NAMES's stub defines nothing: right after the student ran it, the check says it
    is not implemented yet (from the kernel's input history), not "run the cell above"."""
    stub = next(c for c in cells_of(RELEASE) if "class names" in c and "NotImplementedError" in c)
    namespace = stub_namespace()
    namespace["In"] = namespace["_ih"] = ["", stub, 'check("CLASS_NAMES")']
    selfcheck.check("CLASS_NAMES", namespace=namespace)
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "run the cell above first" not in out, out
    assert "is not defined" not in out, out
    namespace["In"] = namespace["_ih"] = ["", 'check("CLASS_NAMES")']
    selfcheck.check("CLASS_NAMES", namespace=namespace)
    out = capsys.readouterr().out
    assert "`CLASS_NAMES` not defined yet: run the cell above first." in out, out
    typo = stub.replace("raise NotImplementedError()", 'CLASS_NAME = ["T-shirt/top"]')
    namespace["In"] = namespace["_ih"] = ["", stub, typo, 'check("CLASS_NAMES")']
    selfcheck.check("CLASS_NAMES", namespace=namespace)
    out = capsys.readouterr().out
    assert "not implemented yet" not in out and "check the spelling" in out, out


def test_checks_leave_the_students_layer_names_alone(use_grader) -> None:
    keras.utils.clear_session()
    namespace = reference_namespace()
    for part in ("build_model", "StopOnLoss"):
        selfcheck.report_part(part, namespace)
    model = namespace["build_model"]()
    assert model.name == "sequential", model.name
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dense_1"]


def test_the_slow_check_shows_its_training_as_it_goes(
    use_grader, capsys: pytest.CaptureFixture[str]
) -> None:
    selfcheck.check("pipeline", slow=True, namespace=reference_namespace())
    out = capsys.readouterr().out
    assert "pipeline: preparing your model" in out
    assert "pipeline: training epoch 1 of " in out and " s so far" in out
    assert "s left" in out
    assert "pipeline: trained " in out and "done in" in out
    assert out.index("done in") < out.index("All checks passed.")
    from keras.callbacks import CallbackList

    assert "hooked" not in CallbackList.on_epoch_end.__qualname__  # put back afterwards


def test_the_self_check_takes_the_exercise_the_running_notebook_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two exercises have a `scale_images` part: outside Jupyter the names a kernel defines
    decide (most names, then the course's first exercise); in Jupyter the running notebook's
    metadata decides, whatever names it has defined so far."""
    namespace = {"scale_images": lambda images: images / 255.0, "myCallback": object}
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("AUTOGRADER_NOTEBOOK", raising=False)
    assert selfcheck.exercise_for("scale_images", namespace).name == "digits_callback"
    assert selfcheck.exercise_for("scale_images", {"scale_images": 1}).name == "fashion_mnist"
    notebook = tmp_path / "fashion_mnist.ipynb"
    notebook.write_bytes(RELEASE.read_bytes())
    monkeypatch.setenv("AUTOGRADER_NOTEBOOK", str(notebook))
    assert selfcheck.exercise_for("scale_images", namespace).name == "fashion_mnist"
    assert selfcheck.exercise_for("scale_images", {}).name == "fashion_mnist"

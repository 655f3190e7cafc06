"""The second exercise, fashion_mnist_cnn: the same bar as the first, through the same engine.

The reference earns full marks and the release's stubs nothing; each typical mistake costs
exactly its own part, with the diagnosis a student needs; hostile models are refused by the
vetting extended to convolutions; the exercise is found from a notebook's metadata or names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mutate
import pytest
from fashion import ROOT, failed_parts, fast_options
from fashion import reference_source as fashion_reference_source
from rubric_lines import rubric_line

from autograder.exercise_spec import ExerciseError, instructor_exercise, load_exercise
from autograder.grader import Grader
from autograder.submission import load_chunks

EXERCISE = "fashion_mnist_cnn"
SOLUTION = ROOT / "solutions" / EXERCISE / f"{EXERCISE}.ipynb"
RELEASE = ROOT / "assignments" / EXERCISE / f"{EXERCISE}.ipynb"
QUICK_PARTS = tuple(p for p in load_exercise(EXERCISE).part_names if p != "pipeline")


def reference_source() -> str:
    return fashion_reference_source(EXERCISE)


@pytest.fixture(scope="module")
def cnn_grader(synthetic_dir: Path):
    with Grader(fast_options(synthetic_dir, exercise=EXERCISE)) as instance:
        yield instance


@pytest.fixture(scope="module")
def quick_grader(synthetic_dir: Path):
    with Grader(fast_options(synthetic_dir, exercise=EXERCISE, parts=QUICK_PARTS)) as instance:
        yield instance


def test_the_reference_earns_full_marks_and_the_stubs_nothing(cnn_grader) -> None:
    report = cnn_grader.grade(SOLUTION)
    assert report.exercise == EXERCISE
    assert report.score == report.max_score == 100, [t for t in report.tests if not t.passed]
    assert report.artifacts["test_accuracy"] >= 0.8
    stubs = cnn_grader.grade(RELEASE)
    assert stubs.score == 0
    assert "not implemented yet" in stubs.tests[0].output


SEQUENTIAL_CNN = """    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(filters, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Conv2D(filters, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )"""
# Correct models written the other ways students write them: each earns full marks.
CNN_STYLES = {
    "functional": """    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(filters, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(filters, 3, activation=tf.nn.relu)(x)
    x = keras.layers.MaxPooling2D(pool_size=(2, 2))(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)""",
    "added_no_input_shape": """    model = tf.keras.models.Sequential()
    model.add(tf.keras.layers.Conv2D(filters, (3, 3), activation="relu"))
    model.add(tf.keras.layers.MaxPooling2D(2, 2))
    model.add(tf.keras.layers.Conv2D(filters, (3, 3), activation="relu"))
    model.add(tf.keras.layers.MaxPooling2D(2, 2))
    model.add(tf.keras.layers.Flatten())
    model.add(tf.keras.layers.Dense(128, activation="relu"))
    model.add(tf.keras.layers.Dense(10, activation="softmax"))""",
}


@pytest.mark.parametrize("style", sorted(CNN_STYLES))
def test_every_correct_model_style_earns_full_marks(cnn_grader, tmp_path, style) -> None:
    """A functional CNN was once costed as if its first Conv2D read 784 channels (46/100)."""
    source = reference_source()
    assert SEQUENTIAL_CNN in source
    path = tmp_path / f"{style}.py"
    edit = mutate.Edit("build_model", SEQUENTIAL_CNN, CNN_STYLES[style], count=1)
    path.write_text(mutate.apply(source, edit, label=f"style {style}: the reference"))
    report = cnn_grader.grade(path)
    assert [f"{t.name}: {t.output}" for t in report.tests if not t.passed] == []
    assert report.score == 100


@dataclass(frozen=True)
class Defect:
    id: str
    old: str
    new: str
    part: str  # the only part it breaks (the pipeline aside)
    hint: str  # must appear in the part's feedback

    def apply(self, source: str) -> str:
        """`source` with every `old` in the definition of `part` replaced by `new`."""
        edit = mutate.Edit(self.part, self.old, self.new, every=True)
        return mutate.apply(source, edit, label=f"{self.id}: the reference")


RESHAPE = 'return images.reshape(-1, 28, 28, 1).astype("float32") / 255.0'
SHAPES = "return [tuple(layer.output.shape[1:]) for layer in model.layers]"
DEFECTS = [
    Defect(
        "no_channel_axis",
        RESHAPE,
        'return images.astype("float32") / 255.0',
        "reshape_images",
        "channel axis",
    ),
    Defect(
        "not_scaled",
        RESHAPE,
        'return images.reshape(-1, 28, 28, 1).astype("float32")',
        "reshape_images",
        "not scaled",
    ),
    Defect(
        "float64",
        RESHAPE,
        "return images.reshape(-1, 28, 28, 1) / 255.0",
        "reshape_images",
        "float64",
    ),
    Defect(
        "one_conv_block",
        '            keras.layers.Conv2D(filters, (3, 3), activation="relu"),\n'
        "            keras.layers.MaxPooling2D(2, 2),\n"
        "            keras.layers.Flatten(),",
        "            keras.layers.Flatten(),",
        "build_model",
        "two Conv2D layers",
    ),
    Defect(
        "fixed_filters",
        "keras.layers.Conv2D(filters,",
        "keras.layers.Conv2D(64,",
        "build_model",
        "filters=32",
    ),
    Defect(
        "relu_output",
        'keras.layers.Dense(10, activation="softmax")',
        'keras.layers.Dense(10, activation="relu")',
        "build_model",
        "softmax",
    ),
    Defect(
        "one_hot_loss",
        '        loss="sparse_categorical_crossentropy",',  # the call, not the docstring
        '        loss="categorical_crossentropy",',
        "build_model",
        "one-hot",
    ),
    Defect(
        "batch_axis_kept",
        SHAPES,
        "return [tuple(layer.output.shape) for layer in model.layers]",
        "layer_output_shapes",
        "batch dimension",
    ),
    Defect(
        "keras2_output_shape",
        SHAPES,
        "return [tuple(layer.output_shape[1:]) for layer in model.layers]",
        "layer_output_shapes",
        "Keras 2",
    ),
    Defect(
        "hard_coded_shapes",
        SHAPES,
        "return [(26, 26, 64), (13, 13, 64), (11, 11, 64), (5, 5, 64), (1600,), (128,), (10,)]",
        "layer_output_shapes",
        "compute them from the model",
    ),
    Defect(
        "acc_key",
        'logs.get("accuracy")',
        'logs.get("acc")',
        "StopAtAccuracy",
        "'accuracy', not 'acc'",
    ),
    Defect(
        "strict_target",
        "accuracy >= self.target",
        "accuracy > self.target",
        "StopAtAccuracy",
        "inclusive",
    ),
    Defect(
        "probabilities",
        "return np.argmax(model.predict(images, verbose=0), axis=1)",
        "return model.predict(images, verbose=0)",
        "predict_classes",
        "probabilities",
    ),
    Defect(
        "predict_scaled_again",
        "return np.argmax(model.predict(images, verbose=0), axis=1)",
        "return np.argmax(model.predict(images / 255.0, verbose=0), axis=1)",
        "predict_classes",
        "scaling them again",
    ),
]


def _batches(defects: list[Defect]) -> list[list[Defect]]:
    """Defects of different parts go into one submission: fewer gradings, same verdicts."""
    batches: list[list[Defect]] = []
    for defect in defects:
        for batch in batches:
            if all(other.part != defect.part for other in batch):
                batch.append(defect)
                break
        else:
            batches.append([defect])
    return batches


@pytest.mark.parametrize("batch", _batches(DEFECTS), ids=lambda b: "+".join(d.id for d in b))
def test_each_mistake_costs_its_own_part_with_a_diagnosis(quick_grader, tmp_path, batch) -> None:
    source = reference_source()
    for defect in batch:
        source = defect.apply(source)
    path = tmp_path / "defective.py"
    path.write_text(source)
    report = quick_grader.grade(path)
    assert failed_parts(report) == {d.part for d in batch}, [
        t for t in report.tests if not t.passed
    ]
    for defect in batch:
        feedback = "\n".join(
            t.output for t in report.tests if t.part == defect.part and not t.passed
        )
        assert defect.hint in feedback, f"{defect.id}: {feedback}"


def test_one_conv_block_keeps_the_exact_layer_and_parameter_diagnosis(quick_grader, tmp_path):
    """A model that trains fine but is not the exercise's loses build_model's architecture
    lines and keeps its compile lines."""
    path = tmp_path / "one_block.py"
    path.write_text(DEFECTS[3].apply(reference_source()))
    report = quick_grader.grade(path)
    lost = {t.name for t in report.tests if t.part == "build_model" and not t.passed}
    assert rubric_line(EXERCISE, "build_model", "test_layer_order") in lost
    assert rubric_line(EXERCISE, "build_model", "test_optimizer") not in lost


HOSTILE_MODEL = """
def build_model(filters=64):
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(2048, (3, 3), padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def layer_output_shapes(model):
    return [(1,) * 8] * 10**6
"""


def test_a_huge_convolution_and_a_huge_answer_are_refused_not_run(quick_grader, tmp_path) -> None:
    """Conv2D(2048) on 28 x 28 holds 1.6 M values per image: refused before Keras allocates
    anything, and the rest is graded."""
    path = tmp_path / "hostile.py"
    path.write_text(reference_source() + HOSTILE_MODEL)
    report = quick_grader.grade(path)
    build = "\n".join(t.output for t in report.tests if t.part == "build_model")
    assert "values per image" in build or "multiply-adds" in build, build
    assert report.part_score("build_model")[0] == 0
    assert report.part_score("layer_output_shapes")[0] == 0
    score, maximum = report.part_score("StopAtAccuracy")
    assert score == maximum > 0


WIDE_MODEL = """
def build_model(filters=64):
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(1024, (3, 3), padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2, 2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


def test_a_model_the_grader_refuses_is_not_trained_first(cnn_grader, tmp_path) -> None:
    """Conv2D(1024, padding="same") on 28 x 28: the child vets it with the grader's bounds
    before the pipeline's training (which once ran until the 600 s limit), and the grader,
    vetting it again, says why the pipeline fails."""
    from autograder.scoring.run import score

    path = tmp_path / "wide.py"
    path.write_text(reference_source() + WIDE_MODEL)
    outcome = cnn_grader.observe(path)
    try:
        pipeline = outcome.found.observations["pipeline"]
        assert pipeline.get("fit_seconds") == 0.0  # the declared fit call, key "fit"
        tests = score(cnn_grader.exercise, outcome.found, ("pipeline",))
    finally:
        outcome.close()
    assert all(t.score == 0 for t in tests)
    assert "values per image" in tests[0].output or "multiply-adds" in tests[0].output


def test_the_exercise_is_the_instructors_never_the_notebooks() -> None:
    """The CNN notebook's metadata names its exercise; only the instructor's choice counts."""
    assert instructor_exercise(EXERCISE).name == EXERCISE
    with pytest.raises(ExerciseError, match="pass --exercise"):
        instructor_exercise(None)


def test_a_batch_of_cnn_notebooks_is_graded_as_that_exercise(synthetic_dir, tmp_path, capsys):
    from autograder import cli

    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.ipynb").write_bytes(SOLUTION.read_bytes())
    (folder / "bob.ipynb").write_bytes(RELEASE.read_bytes())
    out = tmp_path / "out"
    args = [
        "batch",
        str(folder),
        "--out",
        str(out),
        "--jobs",
        "1",
        "--data-dir",
        str(synthetic_dir),
        "--exercise",
        EXERCISE,
    ]
    assert cli.main(args) == 0
    summary = capsys.readouterr().out
    assert "Graded 2 submissions" in summary and "/100" in summary
    grades = (out / "grades.csv").read_text().splitlines()
    assert grades[0].startswith("assignment,") and grades[1].startswith("fashion_mnist_cnn,")
    header = (out / "parts.csv").read_text().splitlines()[0].split(",")
    assert header[header.index("max_score") + 1 :][:6] == list(load_exercise(EXERCISE).part_names)


def test_the_notebooks_self_checks_know_the_exercise_and_pass_the_reference(
    quick_grader, capsys, monkeypatch
) -> None:
    """`check(part)` in the CNN notebook grades with the CNN exercise (found from the names the
    kernel defines: `build_model` is a part of both exercises) and agrees with the grader."""
    from autograder import selfcheck, shared_graders

    monkeypatch.setattr(shared_graders, "_SHARED", {EXERCISE: quick_grader})
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    namespace: dict = {"__name__": "__main__"}
    for chunk in load_chunks(SOLUTION):
        exec(compile(chunk.source, chunk.filename, "exec"), namespace)
    assert selfcheck.exercise_for("build_model", namespace).name == EXERCISE
    for part in ("reshape_images", "build_model", "layer_output_shapes", "predict_classes"):
        selfcheck.check(part, namespace=namespace)
        out = capsys.readouterr().out
        assert out.startswith(f"{part}  ") and "All checks passed." in out, out
    selfcheck.check("pipeline", namespace=namespace)
    assert 'check("pipeline", slow=True)' in capsys.readouterr().out

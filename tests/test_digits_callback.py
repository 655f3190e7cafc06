"""digits_callback, the course's 99 %-accuracy callback assignment written with declared parts
alone: the reference earns full marks, each typical mistake costs its own part's lines with a
hint that names it (a wrong callback never costs the training part: that part runs with the
grader's callback), hostile submissions get nothing they did not earn, and the exercise stays
within 150 lines of Python."""

from __future__ import annotations

import json
from pathlib import Path

import mutate
import pytest
from rubric_lines import rubric_line
from submission_batch import edited, grade_edits, rubric_lines

SOLUTION = """
import numpy as np
import keras


def scale_images(images):
    return images / 255.0


class myCallback(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if logs.get("accuracy") is not None and logs.get("accuracy") > 0.99:
            self.model.stop_training = True


def train_mnist(x_train, y_train):
    callbacks = myCallback()
    model = keras.Sequential([keras.Input(shape=(8, 8)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=10, callbacks=[callbacks], verbose=0)
    return history
"""
DECISIONS = rubric_line("digits_callback", "myCallback", "test_decisions")
BOUNDARY = rubric_line("digits_callback", "myCallback", "test_boundary")
FITS = rubric_line("digits_callback", "myCallback", "test_fits")
HISTORY = rubric_line("digits_callback", "train_mnist", "test_history")
ACCURACY = rubric_line("digits_callback", "train_mnist", "test_accuracy")
STOPPED = rubric_line("digits_callback", "train_mnist", "test_stopped")

# The callback's comparison reversed: it stops below 0.99.
REVERSED = mutate.Edit("myCallback", 'logs.get("accuracy") > 0.99', 'logs.get("accuracy") < 0.99')
# name -> (replacements in SOLUTION, {rubric line that fails: words its feedback must hold}).
SUBMISSIONS = {
    "acc_key": (
        [('logs.get("accuracy")', 'logs.get("acc")')],
        {DECISIONS: "not 'acc'", FITS: "not 'acc'"},
    ),
    "threshold_0_9": (
        [("> 0.99", "> 0.9")],
        {DECISIONS: "it should keep going", BOUNDARY: "it should keep going"},
    ),
    "inclusive_comparison": ([("> 0.99", ">= 0.99")], {BOUNDARY: "(strict)"}),
    "reversed_comparison": (
        [("> 0.99", "< 0.99")],
        {DECISIONS: "the comparison is reversed", FITS: "epoch"},
    ),
    "callback_not_passed_to_fit": (
        [("callbacks=[callbacks], ", "")],
        {STOPPED: "callbacks=[callbacks]"},
    ),
    "no_scaling": (
        [("return images / 255.0", "return images")],
        {rubric_line("digits_callback", "scale_images", "test_scaled"): "255"},
    ),
    # Hostile: stops at once whatever the logs say, after rewriting them.
    "stops_without_checking": (
        [
            (
                '        if logs.get("accuracy") is not None and logs.get("accuracy") > 0.99:\n'
                "            self.model.stop_training = True",
                '        logs["accuracy"] = 1.0\n        self.model.stop_training = True',
            )
        ],
        {DECISIONS: "keep going", BOUNDARY: "keep going", FITS: "epoch"},
    ),
    # Hostile: no training, a History forged around an untrained model.
    "forged_history": (
        [
            (
                "    history = model.fit(x_train, y_train, epochs=10, callbacks=[callbacks], verbose=0)",
                "    history = keras.callbacks.History()\n    history.set_model(model)\n"
                "    history.epoch = [0, 1, 2]\n    history.history = {'accuracy': [0.5, 0.9, 0.995]}",
            )
        ],
        {HISTORY: "model.fit", ACCURACY: "model.fit", STOPPED: "model.fit"},
    ),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every submission above and the solution, graded by `autograder batch --jobs 2`."""
    edits = {name: replacements for name, (replacements, _) in SUBMISSIONS.items()}
    return grade_edits(tmp_path_factory.mktemp("digits"), "digits_callback", SOLUTION, edits)


def test_the_reference_earns_full_marks(batch: Path) -> None:
    tests = rubric_lines(batch, "solution")
    assert [n for n, t in tests.items() if t["score"] != t["max_score"]] == []
    assert sum(t["max_score"] for t in tests.values()) == 100


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_each_mistake_costs_its_own_lines_and_says_why(batch: Path, name: str) -> None:
    expected = SUBMISSIONS[name][1]
    tests = rubric_lines(batch, name)
    failed = {n for n, t in tests.items() if t["score"] < t["max_score"]}
    assert failed == set(expected), {n: tests[n]["output"] for n in failed}
    for line, words in expected.items():
        assert words in tests[line]["output"], (line, tests[line]["output"])


def test_the_exercise_takes_at_most_150_lines_of_python() -> None:
    """The authoring promise for a callback exercise: the whole folder (data, declarations,
    draws, start model and graders) in at most 150 non-blank, non-comment lines of Python."""
    import autograder.exercises.digits_callback as exercise

    folder = Path(exercise.__file__).parent
    counted = {
        str(path.relative_to(folder)): sum(
            1
            for line in path.read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")
        )
        for path in sorted(folder.rglob("*.py"))
    }
    assert sum(counted.values()) <= 150, counted


def test_the_gradescope_bundle_grades_with_the_solutions_callback(tmp_path: Path) -> None:
    """Gradescope's server has no solutions/: the instructor's bundle carries the solution's
    definition of myCallback (never in the students' kit), and grading a reversed callback
    there costs the callback part alone; without it, the training part would fail too and
    say that it ran with the student's own callback."""
    import zipfile

    import nbformat

    from autograder.platforms import gradescope

    root = tmp_path / "autograder"
    bundle = gradescope.build_bundle(tmp_path / "gs.zip", exercise="digits_callback")
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    config = json.loads((root / "source" / gradescope.CONFIG_NAME).read_text())
    assert list(config["solution_definitions"]) == ["myCallback"]
    assert "stop_training = True" in config["solution_definitions"]["myCallback"]
    notebook = nbformat.read(
        Path(__file__).parents[1] / "solutions/digits_callback/digits_callback.ipynb", 4
    )
    mutate.edit_notebook(notebook, REVERSED)
    (root / "submission").mkdir()
    nbformat.write(notebook, root / "submission" / "digits_callback.ipynb")
    results = gradescope.run(root)
    failed = {t["name"].split(":")[0] for t in results["tests"] if t["score"] < t["max_score"]}
    assert failed == {"myCallback"}, [t["output"] for t in results["tests"]]


def test_the_self_check_runs_the_students_own_callback_and_says_so() -> None:
    """The self-check runs in the student's kernel: the solution's callback never goes there
    (not even in the instructor's checkout), so train_mnist runs with the student's own, and
    its failed checks say so instead of blaming train_mnist alone."""
    from autograder.grader import Grader, GraderOptions
    from autograder.kernel_check import check_namespace

    namespace: dict = {}
    exec(edited(SOLUTION, [("> 0.99", "< 0.99")]), namespace)  # noqa: S102
    with Grader(GraderOptions(exercise="digits_callback")) as grader:
        assert "myCallback" in grader.definitions  # the checkout's solution: the grader has it
        report = check_namespace(grader, namespace, ["myCallback", "train_mnist"])
    failed = [t for t in report.tests if not t.passed]
    assert {t.part for t in failed} == {"myCallback", "train_mnist"}
    for test in failed:
        said = "This check ran with your own `myCallback`" in test.feedback.hint
        assert said == (test.part == "train_mnist"), test.feedback.hint


def test_nbgrader_autograde_grades_with_the_solutions_callback(tmp_path: Path) -> None:
    """nbgrader's route (the kit's GradeInSandbox, in nbgrader's process, from the course
    folder): the grader reads the solution's callback there too, so a reversed callback costs
    the myCallback cell alone."""
    import nbformat
    from nbgrader.utils import determine_grade

    from autograder import nbgrader_grading
    from autograder.grader import Grader, GraderOptions

    root = Path(__file__).parents[1]
    notebook = nbformat.read(root / "solutions/digits_callback/digits_callback.ipynb", 4)
    mutate.edit_notebook(notebook, REVERSED)
    folder = tmp_path / "autograded" / "student" / "digits_callback"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "digits_callback.ipynb")
    resources = {
        "metadata": {"path": str(folder)},
        "nbgrader": {"notebook": "digits_callback", "assignment": "digits_callback"},
    }
    grader = Grader(GraderOptions(exercise="digits_callback"))
    nbgrader_grading.set_grader(grader)
    try:
        graded, _ = nbgrader_grading.GradeInSandbox().score_cells(notebook, resources)
    finally:
        nbgrader_grading.set_grader(None)
        grader.close()
    scores = {
        cell.metadata["nbgrader"]["grade_id"]: determine_grade(cell)
        for cell in nbgrader_grading.autograded_cells(graded)
    }
    lost = {grade_id for grade_id, (score, most) in scores.items() if score < most}
    assert lost == {"test_myCallback"}, scores

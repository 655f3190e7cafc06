"""housing_prices, the course's first lesson, graded as students write it: the typical mistakes
each cost their own lines with a hint that names them, hostile submissions get nothing they
did not earn, and a batch grades them all (two jobs) with the same verdicts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rubric_lines import rubric_line
from submission_batch import grade_edits, rubric_lines

SOLUTION = """
import numpy as np
import keras


def make_data():
    xs = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    ys = 0.5 + 0.5 * xs
    return xs, ys


def build_model():
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    return model


def train_model(model, xs, ys, epochs=500):
    return model.fit(xs, ys, epochs=epochs, verbose=0)


def predict_price(model, bedrooms):
    prediction = model.predict(np.array([[bedrooms]], dtype="float32"), verbose=0)
    return float(prediction[0][0])
"""

# name -> (replacements in SOLUTION, {rubric line that fails: words its feedback must hold}).
SUBMISSIONS = {
    # Prices in dollars; predict_price hands back the model's (1, 1) array.
    "unscaled_prices_and_an_array": (
        [
            ("0.5 + 0.5 * xs", "50000 + 50000 * xs"),
            ("return float(prediction[0][0])", "return prediction"),
        ],
        {
            rubric_line("housing_prices", "make_data", "test_prices"): "hundreds of thousands",
            rubric_line("housing_prices", "predict_price", "test_price"): "float(prediction[0][0])",
            rubric_line("housing_prices", "pipeline", "test_pipeline"): "prices scaled",
        },
    ),
    # The mean absolute error, and a fit that ignores its `epochs` (50 of them, every time).
    "mae_and_fifty_epochs": (
        [('loss="mean_squared_error"', 'loss="mae"'), ("epochs=epochs", "epochs=50")],
        {
            rubric_line(
                "housing_prices", "build_model", "test_compiled"
            ): "loss='mean_squared_error'",
            rubric_line("housing_prices", "train_model", "test_epochs"): "epochs=epochs",
            rubric_line("housing_prices", "pipeline", "test_pipeline"): "500 epochs",
        },
    ),
    # Six inputs per house (one per example): 7 parameters, and its own fit cannot run; adam
    # (the Fashion-MNIST exercise's optimizer) where the lesson asks for sgd.
    "six_inputs_and_adam": (
        [
            ("keras.Input(shape=(1,))", "keras.Input(shape=(6,))"),
            ('optimizer="sgd"', 'optimizer="adam"'),
        ],
        {
            rubric_line("housing_prices", "build_model", "test_layers"): "keras.Input((1,))",
            rubric_line("housing_prices", "build_model", "test_compiled"): "the SGD optimizer",
            rubric_line("housing_prices", "pipeline", "test_pipeline"): "raised an error",
        },
    ),
    # Hostile: no training at all, the answer written into the weights and a History forged.
    "forged_training": (
        [
            (
                "    return model.fit(xs, ys, epochs=epochs, verbose=0)",
                "    model.set_weights([np.array([[0.5]]), np.array([0.5])])\n"
                "    model.optimizer.iterations.assign(epochs)\n"
                "    class History:\n"
                "        epoch = list(range(epochs))\n"
                "        history = {'loss': [0.0] * epochs}\n"
                "    return History()",
            )
        ],
        {
            rubric_line("housing_prices", "train_model", "test_epochs"): "model.fit",
            rubric_line("housing_prices", "train_model", "test_loss_drops"): "model.fit",
            rubric_line("housing_prices", "pipeline", "test_pipeline"): "model.fit",
        },
    ),
    # Hostile (issue 31, item 7): the answer written into the weights, the step counter set and
    # Keras' own History made by hand. The grader replays the training and finds no such one.
    "answer_written_with_a_keras_history": (
        [
            (
                "    return model.fit(xs, ys, epochs=epochs, verbose=0)",
                "    model.set_weights([np.array([[0.5]]), np.array([0.5])])\n"
                "    model.optimizer.iterations.assign(epochs)\n"
                "    history = keras.callbacks.History()\n"
                "    history.set_model(model)\n"
                "    history.epoch = list(range(epochs))\n"
                "    history.history = {'loss': [0.0] * epochs}\n"
                "    model.history = history\n"
                "    return history",
            )
        ],
        {
            rubric_line("housing_prices", "train_model", "test_epochs"): "the grader replays them",
            rubric_line(
                "housing_prices", "train_model", "test_loss_drops"
            ): "the grader replays them",
            rubric_line("housing_prices", "pipeline", "test_pipeline"): "the grader replays them",
        },
    ),
    # Hostile (item 8): one real epoch, then the step counter and the History say `epochs`.
    "one_epoch_and_forged_counters": (
        [
            (
                "    return model.fit(xs, ys, epochs=epochs, verbose=0)",
                "    history = model.fit(xs, ys, epochs=1, verbose=0)\n"
                "    model.optimizer.iterations.assign(epochs)\n"
                "    history.epoch = list(range(epochs))\n"
                "    history.history = {'loss': history.history['loss'] * epochs}\n"
                "    return history",
            )
        ],
        {
            rubric_line("housing_prices", "train_model", "test_epochs"): "the grader replays them",
            rubric_line(
                "housing_prices", "train_model", "test_loss_drops"
            ): "the grader replays them",
            rubric_line("housing_prices", "pipeline", "test_pipeline"): "the grader replays them",
        },
    ),
    # Honest: batches of two (three steps an epoch, shuffled): the grader's replay cannot know
    # the order, and the length of the move it checks instead keeps full marks.
    "batches_of_two": (
        [("epochs=epochs, verbose=0)", "epochs=epochs, verbose=0, batch_size=2)")],
        {},
    ),
    # Hostile: a real fit whose step counter then claims 10**8 steps an epoch: the grader
    # refuses to replay that many rather than spend them.
    "a_forged_step_counter_too_big_to_replay": (
        [
            (
                "    return model.fit(xs, ys, epochs=epochs, verbose=0)",
                "    history = model.fit(xs, ys, epochs=epochs, verbose=0)\n"
                "    model.optimizer.iterations.assign(epochs * 10**8)\n"
                "    return history",
            )
        ],
        {
            rubric_line(
                "housing_prices", "train_model", "test_epochs"
            ): "more than the grader replays",
            rubric_line(
                "housing_prices", "train_model", "test_loss_drops"
            ): "more than the grader replays",
            rubric_line(
                "housing_prices", "pipeline", "test_pipeline"
            ): "more than the grader replays",
        },
    ),
    # Hostile: an answer far too big to be a price.
    "huge_answer": (
        [("return float(prediction[0][0])", "return np.zeros(10**7)")],
        {rubric_line("housing_prices", "predict_price", "test_price"): "shape (10000000,)"},
    ),
    # Hostile: a million bedrooms, more values than make_data may return: never read (issue 31).
    "oversized_data": (
        [("    return xs, ys", "    return np.zeros(1_000_001, dtype=bool), ys")],
        {
            rubric_line(
                "housing_prices", "make_data", "test_bedrooms"
            ): "an array of at most 1,000,000 values",
            rubric_line("housing_prices", "make_data", "test_prices"): "at most 1,000,000 values",
            rubric_line("housing_prices", "pipeline", "test_pipeline"): "raised an error",
        },
    ),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every submission above and the solution, graded by `autograder batch --jobs 2`."""
    edits = {name: replacements for name, (replacements, _) in SUBMISSIONS.items()}
    return grade_edits(tmp_path_factory.mktemp("housing"), "housing_prices", SOLUTION, edits)


def test_the_solution_earns_full_marks_in_the_batch(batch: Path) -> None:
    tests = rubric_lines(batch, "solution")
    assert [n for n, t in tests.items() if t["score"] != t["max_score"]] == []
    rows = list(csv.DictReader((batch / "grades.csv").open()))
    assert {row["student_id"]: float(row["score"]) for row in rows}["solution"] == 100


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_each_mistake_costs_its_own_lines_and_says_why(batch: Path, name: str) -> None:
    expected = SUBMISSIONS[name][1]
    tests = rubric_lines(batch, name)
    failed = {n for n, t in tests.items() if t["score"] < t["max_score"]}
    assert failed == set(expected), {n: tests[n]["output"] for n in failed}
    for line, words in expected.items():
        assert words in tests[line]["output"], (line, tests[line]["output"])


def test_the_lesson_takes_at_most_100_lines_of_grading_code() -> None:
    """The authoring promise, kept: the whole exercise folder (its declarations, draws, start
    model and graders) in at most 100 non-blank, non-comment lines of Python."""
    import autograder.exercises.housing_prices as lesson

    folder = Path(lesson.__file__).parent
    counted = {
        str(path.relative_to(folder)): sum(
            1
            for line in path.read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")
        )
        for path in sorted(folder.rglob("*.py"))
    }
    assert sum(counted.values()) <= 100, counted

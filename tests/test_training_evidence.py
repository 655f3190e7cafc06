"""Training is proven by the grader's own evidence (issue 31, items 7-9), through the CLI a user
runs: the grader replays the training from the start weights it knows on its own data, so a model
with the answer written in, a forged step counter or a hand-made History earns nothing; and a
grading whose feedback cannot be drawn still writes every output, with the failure noted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mutate
import numpy as np
import pytest
from fashion import reference_source
from rubric_lines import rubric_line

from autograder.scoring import checks

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
ENV.pop("GITHUB_OUTPUT", None)
ENV.pop("GITHUB_STEP_SUMMARY", None)

HOUSING = """
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
FIT = "    return model.fit(xs, ys, epochs=epochs, verbose=0)"
# Item 7: no training; the known answer, the step counter and Keras' own History, all by hand.
ANSWER_WRITTEN = mutate.replace_in(
    HOUSING,
    "train_model",
    FIT,
    """    model.set_weights([np.array([[0.5]]), np.array([0.5])])
    model.optimizer.iterations.assign(epochs)
    history = keras.callbacks.History()
    history.set_model(model)
    history.epoch = list(range(epochs))
    history.history = {"loss": [0.0] * epochs}
    model.history = history
    return history""",
)
# Item 8: one real epoch, then the counter and the History say `epochs`.
ONE_EPOCH = mutate.replace_in(
    HOUSING,
    "train_model",
    FIT,
    """    history = model.fit(xs, ys, epochs=1, verbose=0)
    model.optimizer.iterations.assign(epochs)
    history.epoch = list(range(epochs))
    history.history = {"loss": history.history["loss"] * epochs}
    return history""",
)
TRAINING_LINES = (
    rubric_line("housing_prices", "train_model", "test_epochs"),
    rubric_line("housing_prices", "train_model", "test_loss_drops"),
    rubric_line("housing_prices", "pipeline", "test_pipeline"),
)


def grade(path: Path, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(path), *options],
        env=env or ENV, cwd=path.parent, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def housing_results(tmp_path: Path, name: str, source: str) -> dict[str, dict]:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    results = tmp_path / f"{name}.json"
    done = grade(path, "--exercise", "housing_prices", "--results", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(results.read_text())
    return {"score": data["score"], **{t["name"]: t for t in data["tests"]}}


def test_the_answer_written_by_hand_scores_60_and_honest_training_100(tmp_path: Path) -> None:
    honest = housing_results(tmp_path, "honest", HOUSING)
    assert honest["score"] == 100
    forged = housing_results(tmp_path, "forged", ANSWER_WRITTEN)
    assert forged["score"] == 60  # make_data, build_model and predict_price only
    for line in TRAINING_LINES:
        assert forged[line]["score"] == 0, forged[line]
        assert "the grader replays them" in forged[line]["output"], forged[line]["output"]


def test_one_real_epoch_with_forged_counters_fails_the_epochs_line(tmp_path: Path) -> None:
    forged = housing_results(tmp_path, "one_epoch", ONE_EPOCH)
    assert forged[rubric_line("housing_prices", "train_model", "test_epochs")]["score"] == 0
    assert forged["score"] <= 60


def test_an_exporter_that_fails_is_noted_and_every_other_output_written(tmp_path: Path) -> None:
    path = tmp_path / "honest.py"
    path.write_text(HOUSING)
    (tmp_path / "junit.xml").mkdir()  # where --junit must write: it cannot
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {**ENV, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    done = grade(
        path, "--exercise", "housing_prices", "--results", "results.json", "--junit",
        "junit.xml", "--html", "report.html", "--report", "report.json", "--github", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--junit could not be written (IsADirectoryError" in done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == 100 and "exporting: not written: --junit" in results["output"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["part_notes"]["exporting"].startswith("not written: --junit (IsADirectoryError")
    assert "not written: --junit" in (tmp_path / "report.html").read_text()
    assert "\nresult=" in output.read_text()  # the whole grade, after every part's runner
    assert "exporting" in summary.read_text() and "junit" in summary.read_text()


def test_a_history_key_in_math_text_writes_every_output_with_its_plot(
    tmp_path: Path, synthetic_dir: Path
) -> None:
    """Item 9: matplotlib's math text raised on this key in the HTML exporter, and no --report
    or --github output was written. Every output is written and the plot shows the key."""
    fit = "    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)"
    source = reference_source()
    assert fit in source
    path = tmp_path / "fashion_mnist.py"
    path.write_text(
        mutate.replace_in(
            source,
            "train_model",
            fit,
            "    history = model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n"
            "    history.history['$\\\\undefinedcommand$'] = list(history.history['loss'])\n"
            "    return history",
        )
    )
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {**ENV, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    files = ["--results", "results.json", "--junit", "junit.xml", "--html", "report.html"]
    done = grade(
        path, "--exercise", "fashion_mnist", "--data-dir", str(synthetic_dir), *files,
        "--report", "report.json", "--github", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert "$\\undefinedcommand$" in report["artifacts"]["history"]
    assert "exporting" not in report["part_notes"] and "could not be" not in done.stderr
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "not drawn" not in page
    for name in ("results.json", "junit.xml", "github_output", "summary.md"):
        assert (tmp_path / name).stat().st_size > 0


# -- The generic rule's parts ------------------------------------------------------------------
def test_steps_split_into_the_epochs_asked_only_in_batches_of_one_size() -> None:
    assert checks._batches(5, 5, 6) == 1  # one batch an epoch (the default 32 of 6 examples)
    assert checks._batches(10, 5, 6) == 2  # batches of 3
    assert checks._batches(15, 5, 6) == 3  # batches of 2
    assert checks._batches(20, 5, 6) is None  # 4 a epoch: batches of 2 make 3, of 1 make 6
    assert checks._batches(35, 5, 6) is None  # 7 batches of 6 examples: none
    assert checks._batches(7, 5, 6) is None  # not whole epochs
    training = checks.Training([np.zeros(1)], np.zeros(6), np.zeros(6), 5)
    assert checks._splits(50, training) == [(50, 1)]  # epochs=50 hard-coded: 50 of one batch
    assert checks._splits(10, training) == [(5, 2), (10, 1)]


def test_the_replay_rebuilds_only_keras_own_optimizers_and_losses() -> None:
    import keras

    sgd = {"module": "keras.optimizers", "class_name": "SGD", "config": {"learning_rate": 0.1}}
    rebuilt = checks._keras_object(sgd, keras.optimizers, checks.REPLAYED_OPTIMIZERS, "o")
    assert isinstance(rebuilt, keras.optimizers.SGD)
    assert float(rebuilt.learning_rate) == pytest.approx(0.1)
    for hostile in (
        {**sgd, "module": "os"},
        {**sgd, "class_name": "LossScaleOptimizer"},
        {**sgd, "config": {"learning_rate": {"class_name": "ExponentialDecay"}}},
        ["sgd"],
    ):
        with pytest.raises(ValueError, match="cannot replay"):
            checks._keras_object(hostile, keras.optimizers, checks.REPLAYED_OPTIMIZERS, "o")


def test_evidence_is_accepted_only_where_the_replay_ends() -> None:
    one = checks.TrainingEvidence(5, 1.0, 0.5, 1, 0.01, "", 1.0)
    assert one.replayed()
    assert not checks.TrainingEvidence(5, 1.0, 0.5, 1, 0.2, "", 1.0).replayed()
    many = checks.TrainingEvidence(80, 1.0, 0.5, 16, 0.65, "", 1.14)  # another shuffle
    assert many.replayed()
    assert not checks.TrainingEvidence(80, 1.0, 0.5, 16, 0.7, "", 0.6).replayed()  # 1 of 3 epochs
    assert not checks.TrainingEvidence(5, 1.0, 0.5, 1, None, "no replay").replayed()

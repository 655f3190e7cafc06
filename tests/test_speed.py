"""The grader's speed-ups leave the student's training bit-identical to the student's own `fit`.

The pipeline probe runs the student's `train_model` inside `fast_training` (Keras'
`steps_per_execution` set on the student's compiled model, no per-batch progress bar). These tests
train the reference pipeline on synthetic data both ways under the same seed with op determinism
and compare the loss history and every weight bit for bit, once in a plain process and once
through the whole grader (sandboxed child, observations, parent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fashion import SOLUTION, fast_options, write_synthetic_dataset

from autograder.child import keras_tools
from autograder.exercises.fashion_mnist import constants as exercise
from autograder.grader import Grader
from autograder.scoring.keras_models import reported_seconds

ROOT = Path(__file__).resolve().parents[1]
# 4,000 images at batch 32: 125 steps an epoch, one full execution of 64 steps and a shorter one.
N_TRAIN = 4000

SCRIPT = r"""
import hashlib, json, sys
import keras, tensorflow as tf
from autograder.data import read_dataset
from autograder.exercises.datasets import FASHION_MNIST
from autograder.child.keras_tools import KerasTools
from autograder.submission import load_chunks

fast_training = KerasTools().fast_training

data_dir, solution, seed, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
dataset = read_dataset(__import__("pathlib").Path(data_dir), FASHION_MNIST)
namespace = {}
for chunk in load_chunks(solution):
    exec(compile(chunk.source, chunk.filename, "exec"), namespace)
tf.config.experimental.enable_op_determinism()


class Seen(keras.callbacks.Callback):  # epoch-level only, like the exercise's callbacks
    def on_train_begin(self, logs=None):
        self.steps_per_execution = self.model.steps_per_execution


out = {}
for mode in ("plain", "fast"):
    keras.utils.set_random_seed(seed)
    images = namespace["scale_images"](dataset.train_images)
    model = namespace["build_model"]()
    seen = Seen()
    if mode == "fast":
        with fast_training(model):
            history = namespace["train_model"](
                model, images, dataset.train_labels, epochs=epochs, callbacks=[seen]
            )
    else:
        history = namespace["train_model"](
            model, images, dataset.train_labels, epochs=epochs, callbacks=[seen]
        )
    out[mode] = {
        "history": history.history,
        "weights": [hashlib.sha256(w.numpy().tobytes()).hexdigest() for w in model.weights],
        "during": seen.steps_per_execution,
        "after": model.steps_per_execution,
        "compiled_with": model.get_compile_config().get("steps_per_execution"),
    }
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def larger_synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_dataset(tmp_path_factory.mktemp("speed-synthetic"), n_train=N_TRAIN)


@pytest.fixture(scope="module")
def plain_and_fast(larger_synthetic_dir: Path) -> dict:
    """Both trainings in a fresh process: op determinism is process-wide."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(larger_synthetic_dir),
            str(SOLUTION),
            str(exercise.SEED),
            str(exercise.PIPELINE_EPOCHS),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


def test_fast_training_is_bit_identical_to_a_plain_fit(plain_and_fast: dict) -> None:
    plain, fast = plain_and_fast["plain"], plain_and_fast["fast"]
    assert plain["during"] == 1
    assert fast["during"] == keras_tools.PIPELINE_STEPS_PER_EXECUTION > 1
    assert len(fast["history"]["loss"]) == exercise.PIPELINE_EPOCHS
    assert fast["history"] == plain["history"]  # exact floats, every epoch and metric
    assert fast["weights"] == plain["weights"]
    # Undone afterwards, and never part of what the student compiled (nor of the saved model).
    assert fast["after"] == 1
    assert fast["compiled_with"] == plain["compiled_with"] == 1


@pytest.fixture(scope="module")
def pipeline_report(larger_synthetic_dir: Path):
    """The reference's pipeline part graded through the whole grader (sandboxed child)."""
    with Grader(fast_options(larger_synthetic_dir, parts=("pipeline",))) as grader:
        return grader.grade(SOLUTION)


def test_the_graders_pipeline_trains_exactly_as_a_plain_fit(
    pipeline_report, plain_and_fast: dict
) -> None:
    """Through the whole grader: the history the sandboxed child reports is the plain fit's."""
    assert pipeline_report.artifacts["history"] == plain_and_fast["plain"]["history"]
    assert pipeline_report.score == pipeline_report.max_score > 0


def test_the_report_says_where_the_gradings_time_went(pipeline_report) -> None:
    """On the grader's clock: preparing (the child loads TensorFlow meanwhile), the child still
    loading after the go line, running the parts, scoring; and the student's fit, as the child
    timed it, inside its part (what `benchmarks/single_submission.py` prints)."""
    artifacts = pipeline_report.artifacts
    phases = artifacts["grading_seconds"]
    assert set(phases) == {"preparing", "child_loading_after_go", "running_parts", "scoring"}
    assert all(seconds >= 0 for seconds in phases.values())
    assert phases["child_loading_after_go"] <= phases["running_parts"]
    # Parts run one after another inside `running_parts` (each rounded to 0.01 s).
    assert sum(artifacts["part_seconds"].values()) <= phases["running_parts"] + 0.05
    assert phases["preparing"] + phases["running_parts"] + phases["scoring"] <= (
        pipeline_report.execution_time + 0.05
    )
    assert 0 < artifacts["training_seconds"] <= artifacts["part_seconds"]["pipeline"] + 0.05


@pytest.mark.parametrize(
    "value, shown",
    [(18.694, 18.69), (0, 0.0), (float("nan"), None), (float("inf"), None), (-1.0, None),
     (1e300, None), (True, None), ("3", None), (None, None)],
)  # fmt: skip
def test_a_reported_training_time_is_shown_only_when_it_is_a_time(value, shown) -> None:
    """The child writes `training_seconds`; NaN, infinities, huge or negative numbers and
    non-numbers never reach a report (JSON exporters would write invalid JSON for NaN)."""
    assert reported_seconds(value) == shown


def test_a_model_compiled_with_its_own_steps_per_execution_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The probe binds Keras' objects once per process: keep this test's binding to itself (the
    # self-check tests bind a patched keras loader later in the same process).
    monkeypatch.setattr(keras_tools, "_KERAS", {})
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=3)
    with keras_tools.KerasTools().fast_training(model):
        assert model.steps_per_execution == 3
    assert model.steps_per_execution == 3
    progbar = keras.callbacks.ProgbarLogger
    assert progbar.on_train_batch_end is not keras_tools._no_batch_update
    with keras_tools.KerasTools().fast_training(
        object()
    ):  # not a model: nothing to set, nothing raised
        assert progbar.on_train_batch_end is keras_tools._no_batch_update
    assert progbar.on_train_batch_end is not keras_tools._no_batch_update


class _StartModelTools(keras_tools.KerasTools):
    """The harness's Keras tools over a folder holding the grader's start model."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config = {"start_model": "start.keras"}

    def input_path(self, name: str) -> str:
        return str(self.folder / name)


@pytest.fixture
def start_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> _StartModelTools:
    monkeypatch.setattr(keras_tools, "_KERAS", {})  # bound afresh: see the test above
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "start.keras")
    return _StartModelTools(tmp_path)


def _short_fit(model) -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.random((64, 6), dtype=np.float32), rng.integers(0, 3, 64)
    model.fit(images, labels, epochs=2, batch_size=16, shuffle=False, verbose=0)


def _state(model) -> list[bytes]:
    return [v.numpy().tobytes() for v in [*model.variables, *model.optimizer.variables]]


def test_the_start_model_is_put_back_as_saved_and_not_traced_again(start_tools) -> None:
    """Short fits reuse one start model: after a fit it is exactly a fresh copy again (weights
    and optimizer), and trains exactly as one, with the train function Keras traced once."""
    fresh = start_tools.load_model_input("start.keras")
    fresh.optimizer.build(fresh.trainable_variables)
    model = start_tools.start_model()
    assert _state(model) == _state(fresh)
    _short_fit(model)
    traced = model.train_function
    assert int(model.optimizer.iterations.numpy()) == 8 and _state(model) != _state(fresh)

    again = start_tools.start_model()
    assert again is model and _state(again) == _state(fresh)
    _short_fit(again)
    _short_fit(fresh)
    assert again.train_function is traced
    assert _state(again) == _state(fresh)  # bit for bit, optimizer steps included


def test_a_start_model_whose_optimizer_was_replaced_is_loaded_afresh(start_tools) -> None:
    model = start_tools.start_model()
    model.compile(optimizer="sgd", loss="mse")  # what a student's train_model may do
    replaced = start_tools.start_model()
    assert replaced is not model
    assert type(replaced.optimizer).__name__ == "Adam"
    assert int(replaced.optimizer.iterations.numpy()) == 0


def _small_fit(fast: bool, **fit_kwargs) -> tuple[list, dict]:
    """A one-neuron model trained on six examples, many one-step epochs (the housing-prices
    lesson's shape), plainly or inside fast_training, from the same seed."""
    import keras

    keras.utils.set_random_seed(7)
    xs = np.arange(1.0, 7.0)
    ys = 0.5 + 0.5 * xs
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    if fast:
        from keras.src.trainers.epoch_iterator import EpochIterator

        keras_method = EpochIterator._enumerate_iterator
        with keras_tools.KerasTools().fast_training(model):
            assert EpochIterator._enumerate_iterator is not keras_method  # the lean epochs
            history = model.fit(xs, ys, verbose=0, **fit_kwargs)
    else:
        history = model.fit(xs, ys, verbose=0, **fit_kwargs)
    return [w.numpy().tobytes() for w in model.weights], history.history


@pytest.mark.parametrize(
    "fit_kwargs",
    [
        {"epochs": 40},
        {"epochs": 12, "batch_size": 4},  # a full and a partial batch each epoch
        {"epochs": 10, "validation_split": 0.34},
        {"epochs": 10, "shuffle": False},
    ],
    ids=["one-step-epochs", "two-step-epochs", "validation-split", "no-shuffle"],
)
def test_small_many_epoch_fits_are_bit_identical_with_their_batches_replayed(
    fit_kwargs: dict,
) -> None:
    from keras.src.trainers.epoch_iterator import EpochIterator

    keras_method = EpochIterator._enumerate_iterator
    assert _small_fit(True, **fit_kwargs) == _small_fit(False, **fit_kwargs)
    assert EpochIterator._enumerate_iterator is keras_method  # put back after the fit


class _Epochs:
    """What `_replay` reads of Keras' EpochIterator: the batch count and the dataset."""

    def __init__(self, dataset, batches: int) -> None:
        self._num_batches = batches
        self._get_iterator = lambda: dataset


def test_batches_are_replayed_only_when_two_fresh_iterators_agree() -> None:
    import tensorflow as tf

    same = tf.data.Dataset.from_tensor_slices(np.arange(6.0)).batch(4)
    replay = keras_tools._replay(_Epochs(same, 2), tf)
    assert [b.numpy().tolist() for b in replay] == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
    calls = iter(range(100))  # every fresh iterator of this one gives other values
    differs = tf.data.Dataset.from_generator(
        lambda: iter([float(next(calls))]), output_signature=tf.TensorSpec((), tf.float64)
    )
    assert keras_tools._replay(_Epochs(differs, 1), tf) is None
    many = tf.data.Dataset.range(keras_tools.MAX_REPLAY_BATCHES + 1)
    assert keras_tools._replay(_Epochs(many, keras_tools.MAX_REPLAY_BATCHES + 1), tf) is None


def test_larger_fits_keep_keras_batches_with_tf_data_autotuning_off() -> None:
    """Too many batches to replay: Keras' own dataset, the same batches in the same order, but
    without the autotuning thread that made deleting each epoch's iterator wait. (The 125-batch
    fits above take this path: their weights are compared bit for bit.)"""
    import tensorflow as tf

    batches = keras_tools.MAX_REPLAY_BATCHES + 1

    def keras_dataset():  # reshuffled at every iterator, as Keras' is at every epoch
        return tf.data.Dataset.range(batches * 2).shuffle(50, seed=7).batch(2)

    plain = keras_dataset()
    assert plain.options().autotune.enabled is not False
    epochs = _Epochs(keras_dataset(), batches)
    lean = keras_tools._without_autotune(epochs, tf)
    assert lean.options().autotune.enabled is False
    for _epoch in range(2):
        assert [b.numpy().tolist() for b in lean] == [b.numpy().tolist() for b in plain]
    assert keras_tools._without_autotune(epochs, tf) is lean  # one per fit, not per epoch
    not_tf_data = _Epochs(iter([1, 2]), batches)  # another backend's iterator: left as it is
    assert keras_tools._without_autotune(not_tf_data, tf) is not_tf_data._get_iterator()

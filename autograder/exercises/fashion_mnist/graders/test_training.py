"""Graders of train_model, predict_classes and the end-to-end pipeline."""

import numpy as np

from autograder.exercises.fashion_mnist.constants import CLASS_NAMES, NUM_CLASSES, PIPELINE_EPOCHS
from autograder.scoring import CheckFailed, checks, grader, raise_for_error
from autograder.scoring.keras_models import check_agreement, check_class_shape, predicted_classes


def _call(key: str, ctx) -> str:
    epochs = f"epochs={ctx.train_epochs}, " if key == "explicit" else ""
    return f"train_model(model, images, labels, {epochs}callbacks=[...])"


def _fit(obs, key: str, ctx) -> tuple[int, bool]:
    """The optimizer steps of one train_model call's model, and whether its weights changed,
    measured by the grader from the start weights it drew (checks.fit_from_start)."""
    call, start = _call(key, ctx), ctx.train_starts[key]
    raise_for_error(obs, key, call)
    if not isinstance(obs.get(key), dict):
        raise CheckFailed(message=f"{call} produced no result.")
    images = start.images.astype(np.float32) / 255.0
    return checks.fit_from_start(
        obs, f"{key}_model", call, start.weights, images, start.labels, start.loss
    )


@grader("train_model", "runs exactly the requested epochs (default 5)", points=3)
def test_runs_epochs(obs, ctx) -> None:
    for key, expected in (("explicit", ctx.train_epochs), ("default", 5)):
        steps, _ = _fit(obs, key, ctx)
        images, per_epoch = len(ctx.train_starts[key].images), ctx.expectations.steps_per_epoch
        checks.check_epochs_ran(obs, key, steps, expected, images, per_epoch, key == "explicit")


@grader("train_model", "passes the callbacks to fit", points=3)
def test_passes_callbacks(obs, ctx) -> None:
    _fit(obs, "explicit", ctx)
    checks.check_callbacks_passed(obs, "explicit", "train_model")


@grader("train_model", "returns the History of that fit", points=2)
def test_returns_history(obs, ctx) -> None:
    steps, _ = _fit(obs, "explicit", ctx)
    images = len(ctx.train_starts["explicit"].images)
    checks.check_history_of_fit(obs, "explicit", "train_model", steps, images)


@grader("train_model", "really trains: the weights change", points=2)
def test_weights_change(obs, ctx) -> None:
    if not _fit(obs, "explicit", ctx)[1]:
        raise CheckFailed(expected="the model's weights to change during training", received="the weights are exactly as before",
                          hint="train the model that was passed in, with model.fit")  # fmt: skip


@grader("predict_classes", "integer classes of shape (N,)", points=2)
def test_predict_shape(obs, ctx) -> None:
    check_class_shape(predicted_classes(obs), len(ctx.predict_images), NUM_CLASSES)


@grader("predict_classes", "agrees with the argmax of the model's predictions", points=4)
def test_predict_agrees(obs, ctx) -> None:
    classes = predicted_classes(obs)
    check_agreement(classes, ctx.reference_predictions, NUM_CLASSES, ctx.scaled_again_predictions)


@grader(
    "pipeline", f"test accuracy after {PIPELINE_EPOCHS} epochs reaches the threshold", points=11
)
def test_pipeline_accuracy(obs, ctx, record: dict) -> None:
    checks.check_pipeline_accuracy(
        obs, "model", "scale_images", ctx.test_images, ctx.test_labels, CLASS_NAMES,
        ctx.pipeline_threshold, record, "scale_images must divide the pixels by 255",
        curves_key="train_model_curves", seconds_key="train_model_seconds",
    )  # fmt: skip

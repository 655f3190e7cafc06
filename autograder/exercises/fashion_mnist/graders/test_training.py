"""Graders of train_model, predict_classes and the end-to-end pipeline."""

from __future__ import annotations

import numpy as np

from autograder.exercises.fashion_mnist.constants import (
    CLASS_NAMES,
    MODEL_LIMITS,
    NUM_CLASSES,
    PIPELINE_EPOCHS,
)
from autograder.exercises.fashion_mnist.reference import Context, TrainStart
from autograder.model_eval import mean_loss
from autograder.observations import (
    MODEL_SUFFIX,
    ObservationError,
    PartObservation,
    trained_model,
)
from autograder.scoring import CheckFailed, checks, grader, raise_for_error
from autograder.scoring.feedback import unscaled_training_cause
from autograder.scoring.keras_models import (
    check_agreement,
    check_class_shape,
    check_test_accuracy,
    predicted_classes,
)


def _call(key: str, ctx: Context) -> str:
    if key == "explicit":
        return f"train_model(model, images, labels, epochs={ctx.train_epochs}, callbacks=[...])"
    return "train_model(model, images, labels, callbacks=[...])"


def _expected_epochs(key: str, ctx: Context) -> int:
    return ctx.train_epochs if key == "explicit" else 5


LOSS_DROP = 0.8  # one real epoch on the subset takes the loss below 40 % of the start's


def training_loss(model, start: TrainStart) -> float:
    """Sparse categorical cross-entropy of `model` on the call's images, computed here."""
    return mean_loss(model, start.images.astype(np.float32) / 255.0, start.labels)


def _measure(path) -> tuple[int | None, list[np.ndarray], object]:
    steps, model = trained_model(path, MODEL_LIMITS)  # the archive is read and vetted once
    return steps, [np.asarray(w) for w in model.get_weights()], model


def _training(obs: PartObservation, key: str, ctx: Context) -> dict:
    """The record of one train_model call, with what the grader measured in the model that came
    back: `trained_steps` (the optimizer's step counter), `weights_changed` (against the start
    weights, which the grader made) and the loss on the training images, which must have dropped:
    every train_model check rests on a real fit of the model that was passed in."""
    call = _call(key, ctx)
    raise_for_error(obs, key, call)
    returned = obs.get(key)
    if not isinstance(returned, dict):
        raise CheckFailed(message=f"{call} produced no result.")
    record = {
        "returned": returned,
        "is_history": obs.get(f"{key}_is_history"),
        "is_fit_history": returned.get("of_model_argument") is True,
        "history_epochs": obs.get(f"{key}_epochs"),
        "callback_epochs": obs.get(f"{key}_callback_epochs"),
        "callback_inside_fit": obs.get(f"{key}_callback_inside_fit"),
    }
    start = ctx.train_starts[key]
    if key not in obs.measured:
        try:
            steps, weights, model = _measure(obs.path(f"{key}_model{MODEL_SUFFIX}"))
            loss = training_loss(model, start) if steps else None
            obs.measured[key] = (steps, weights, loss)
        except ObservationError as exc:
            obs.measured[key] = exc
        except Exception as exc:  # a model that loads but cannot run on the images
            obs.measured[key] = ObservationError(f"it cannot be run ({type(exc).__name__})")
    if isinstance(obs.measured[key], ObservationError):
        raise CheckFailed(
            message=f"{call}: the trained model did not come back ({obs.measured[key]})."
        )
    steps, weights, loss = obs.measured[key]
    if not steps:
        raise CheckFailed(
            expected="model.fit to train the model that was passed in",
            received="no training step ran (the optimizer never updated the weights)",
            hint="return model.fit(...); do not build or fake a History yourself",
        )
    checks.check_started_from(weights, start.weights)  # the generic rule's start evidence
    if loss is None or not loss < LOSS_DROP * start.loss:
        raise CheckFailed(
            expected=f"training to lower the loss on the training images (from {start.loss:.3f})",
            received=f"a loss of {loss:.3f} after training"
            if loss is not None
            else "a model that was not trained",
            hint="train the model that was passed in with model.fit(images, labels, ...)",
        )
    changed = any(
        a.shape != b.shape or not np.array_equal(a, b)
        for a, b in zip(weights, start.weights, strict=True)
    )
    return {**record, "trained_steps": steps, "weights_changed": changed}


@grader("train_model", "runs exactly the requested epochs (default 5)", points=3)
def test_runs_epochs(obs: PartObservation, ctx: Context) -> None:
    for key in ("explicit", "default"):
        expected = _expected_epochs(key, ctx)
        record = _training(obs, key, ctx)
        callback_epochs = record.get("callback_epochs") or []
        history_epochs = record.get("history_epochs") or []
        ran = len(callback_epochs) if callback_epochs else len(history_epochs)
        steps = record["trained_steps"]
        # The epochs the child reports must agree with the steps the grader counted.
        if ran != expected or steps % expected != 0:
            call = f"epochs={expected}" if key == "explicit" else "no epochs argument"
            raise CheckFailed(
                expected=f"{expected} epochs with {call}",
                received=f"{ran} epochs ({steps} training steps)",
                hint=_epochs_hint(key, ran, steps, expected, ctx),
            )


def _epochs_hint(key: str, ran: int, steps: int, expected: int, ctx: Context) -> str:
    """The likely cause of a train_model call that ran `ran` epochs instead of `expected`."""
    images = len(ctx.train_starts[key].images)
    if ran == 1 and expected > 1 and steps == -(-images // expected):
        # One epoch in batches of `epochs` images: fit(images, labels, epochs).
        return (
            "epochs went in as batch_size: model.fit's third positional parameter is "
            "batch_size, so pass it by name: fit(images, labels, epochs=epochs, ...)"
        )
    if ran == 1 or steps == ctx.expectations.steps_per_epoch:
        return (
            "epochs is not passed to model.fit (Keras defaults to 1 epoch): fit(..., epochs=epochs)"
        )
    if key == "explicit":
        return (
            f"the epochs argument is ignored ({ran} epochs when {expected} were asked for): "
            "pass it on, fit(..., epochs=epochs)"
        )
    return "the default must be epochs=5"


@grader("train_model", "passes the callbacks to fit", points=3)
def test_passes_callbacks(obs: PartObservation, ctx: Context) -> None:
    record = _training(obs, "explicit", ctx)
    if not record.get("callback_epochs") or not record.get("callback_inside_fit"):
        raise CheckFailed(
            expected="the callbacks given to train_model to be called by model.fit",
            received="they were never called",
            hint="callbacks are not passed to model.fit: fit(..., callbacks=callbacks)",
        )


@grader("train_model", "returns the History of that fit", points=2)
def test_returns_history(obs: PartObservation, ctx: Context) -> None:
    record = _training(obs, "explicit", ctx)
    if not record.get("is_history"):
        returned = record.get("returned")
        kind = str(returned.get("type", "?")) if isinstance(returned, dict) else "?"
        raise CheckFailed(
            expected="the keras.callbacks.History returned by model.fit",
            received=kind,
            hint="return model.fit(...)" if kind.endswith("NoneType") else "",
        )
    # Judged against the fit that really ran (the steps the grader counted), not the epochs
    # requested: ignoring `epochs` costs the epochs line only. The History's epochs must split
    # those steps evenly, at most one pass over the images each: at most one step per image
    # (batch_size=1); a validation split or a larger batch makes fewer, a smaller batch more
    # than the default's 32 images a step.
    steps = record["trained_steps"]
    recorded = len(record.get("history_epochs") or [])
    consistent = (
        recorded >= 1
        and steps % recorded == 0
        and steps // recorded <= max(1, len(ctx.train_starts["explicit"].images))
    )
    if not record.get("is_fit_history") or not consistent:
        raise CheckFailed(
            expected="the History of the fit that train_model ran",
            received="another History object",
            hint="return what model.fit returns; do not build a History yourself",
        )


@grader("train_model", "really trains: the weights change", points=2)
def test_weights_change(obs: PartObservation, ctx: Context) -> None:
    record = _training(obs, "explicit", ctx)
    if not record["weights_changed"]:
        raise CheckFailed(
            expected="the model's weights to change during training",
            received="the weights are exactly as before",
            hint="train the model that was passed in, with model.fit",
        )


@grader("predict_classes", "integer classes of shape (N,)", points=2)
def test_predict_shape(obs: PartObservation, ctx: Context) -> None:
    check_class_shape(predicted_classes(obs), len(ctx.predict_images), NUM_CLASSES)


@grader("predict_classes", "agrees with the argmax of the model's predictions", points=4)
def test_predict_agrees(obs: PartObservation, ctx: Context) -> None:
    check_agreement(
        predicted_classes(obs), ctx.reference_predictions, NUM_CLASSES, ctx.scaled_again_predictions
    )


@grader(
    "pipeline", f"test accuracy after {PIPELINE_EPOCHS} epochs reaches the threshold", points=11
)
def test_pipeline_accuracy(obs: PartObservation, ctx: Context, record: dict) -> None:
    raise_for_error(obs, "scale_images", "scale_images (used by the pipeline)")
    if (obs.get("scale_images") or {}).get("type") == "builtins.NoneType":
        # Otherwise train_model's fit is blamed for the None it was handed.
        raise CheckFailed(
            message="scale_images returned None, so the pipeline had no images to train on.",
            hint="scale_images returns nothing: end it with a `return` of the scaled array",
        )
    for key, call in (("build_model", "build_model()"), ("train_model", "train_model")):
        raise_for_error(obs, key, f"{call} (used by the pipeline)")
    try:
        check_test_accuracy(
            obs,
            key="model",
            images=ctx.test_images.astype(np.float32) / 255.0,
            labels=ctx.test_labels,
            class_names=CLASS_NAMES,
            threshold=ctx.pipeline_threshold,
            record=record,
            curves_key="train_model_curves",
            seconds_key="train_model_seconds",
            hint="check the parts above: scaling, architecture and training all feed this result",
        )
    except CheckFailed as failed:
        accuracy = record.get("test_accuracy")
        cause = (
            unscaled_training_cause(
                obs,
                "model",
                ctx.test_images,
                ctx.test_labels,
                accuracy,
                "scale_images must divide the pixels by 255",
                obs.get("scale_images"),
            )
            if isinstance(accuracy, float)
            else ""
        )
        if not cause:
            raise
        raise CheckFailed(
            expected=failed.feedback.expected, received=failed.feedback.received, hint=cause
        ) from None

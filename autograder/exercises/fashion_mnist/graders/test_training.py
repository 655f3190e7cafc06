"""Graders of train_model, predict_classes and the end-to-end pipeline."""

import numpy as np

from autograder.exercises.fashion_mnist.constants import CLASS_NAMES, NUM_CLASSES, PIPELINE_EPOCHS
from autograder.scoring import CheckFailed, checks, grader, raise_for_error
from autograder.scoring.keras_models import check_agreement, check_class_shape, predicted_classes


def _call(key: str, ctx) -> str:
    epochs = f"epochs={ctx.train_epochs}, " if key == "explicit" else ""
    return f"train_model(model, images, labels, {epochs}callbacks=[...])"


def _training(obs, key: str, ctx) -> dict:
    """The record of one train_model call, with what the grader measured in the model it
    trained from the start weights the grader drew (checks.fit_from_start)."""
    call, start = _call(key, ctx), ctx.train_starts[key]
    raise_for_error(obs, key, call)
    returned = obs.get(key)
    if not isinstance(returned, dict):
        raise CheckFailed(message=f"{call} produced no result.")
    images = start.images.astype(np.float32) / 255.0
    steps, changed = checks.fit_from_start(
        obs, f"{key}_model", call, start.weights, images, start.labels, start.loss
    )
    return {"returned": returned, "trained_steps": steps, "weights_changed": changed,
            **{name: obs.get(f"{key}_{name}") for name in
               ("is_history", "epochs", "callback_epochs", "callback_inside_fit")}}  # fmt: skip


@grader("train_model", "runs exactly the requested epochs (default 5)", points=3)
def test_runs_epochs(obs, ctx) -> None:
    for key in ("explicit", "default"):
        expected = ctx.train_epochs if key == "explicit" else 5
        record = _training(obs, key, ctx)
        ran = len(record["callback_epochs"] or record["epochs"] or [])
        steps = record["trained_steps"]
        # The epochs the child reports must agree with the steps the grader counted.
        if ran != expected or steps % expected != 0:
            call = f"epochs={expected}" if key == "explicit" else "no epochs argument"
            raise CheckFailed(
                expected=f"{expected} epochs with {call}",
                received=f"{ran} epochs ({steps} training steps)",
                hint=_epochs_hint(key, ran, steps, expected, ctx),
            )


def _epochs_hint(key: str, ran: int, steps: int, expected: int, ctx) -> str:
    """The likely cause of a train_model call that ran `ran` epochs instead of `expected`."""
    if ran == 1 and expected > 1 and steps == -(-len(ctx.train_starts[key].images) // expected):
        # One epoch in batches of `epochs` images: fit(images, labels, epochs).
        return ("epochs went in as batch_size: model.fit's third positional parameter is "
                "batch_size, so pass it by name: fit(images, labels, epochs=epochs, ...)")  # fmt: skip
    if ran == 1 or steps == ctx.expectations.steps_per_epoch:
        return (
            "epochs is not passed to model.fit (Keras defaults to 1 epoch): fit(..., epochs=epochs)"
        )
    if key == "explicit":
        return (f"the epochs argument is ignored ({ran} epochs when {expected} were asked for): "
                "pass it on, fit(..., epochs=epochs)")  # fmt: skip
    return "the default must be epochs=5"


@grader("train_model", "passes the callbacks to fit", points=3)
def test_passes_callbacks(obs, ctx) -> None:
    record = _training(obs, "explicit", ctx)
    if not record["callback_epochs"] or not record["callback_inside_fit"]:
        raise CheckFailed(
            expected="the callbacks given to train_model to be called by model.fit",
            received="they were never called",
            hint="callbacks are not passed to model.fit: fit(..., callbacks=callbacks)",
        )


@grader("train_model", "returns the History of that fit", points=2)
def test_returns_history(obs, ctx) -> None:
    record = _training(obs, "explicit", ctx)
    if not record["is_history"]:
        kind = str(record["returned"].get("type", "?"))
        hint = "return model.fit(...)" if kind.endswith("NoneType") else ""
        raise CheckFailed(
            expected="the keras.callbacks.History returned by model.fit", received=kind, hint=hint
        )
    # Judged against the fit that really ran (the steps the grader counted), not the epochs
    # requested: ignoring `epochs` costs the epochs line only. The History's epochs must split
    # those steps evenly, at most one step per image each (batch_size=1).
    steps, recorded = record["trained_steps"], len(record["epochs"] or [])
    images = max(1, len(ctx.train_starts["explicit"].images))
    consistent = recorded >= 1 and steps % recorded == 0 and steps // recorded <= images
    if not record["returned"].get("of_model_argument") or not consistent:
        raise CheckFailed(
            expected="the History of the fit that train_model ran",
            received="another History object",
            hint="return what model.fit returns; do not build a History yourself",
        )


@grader("train_model", "really trains: the weights change", points=2)
def test_weights_change(obs, ctx) -> None:
    if not _training(obs, "explicit", ctx)["weights_changed"]:
        raise CheckFailed(
            expected="the model's weights to change during training",
            received="the weights are exactly as before",
            hint="train the model that was passed in, with model.fit",
        )


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

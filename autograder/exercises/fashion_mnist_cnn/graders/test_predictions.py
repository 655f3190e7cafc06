"""Graders of predict_classes and of the end-to-end pipeline (the grader measures the test
accuracy of the student's own model, trained on the student's own reshaped images)."""

from __future__ import annotations

import numpy as np

from autograder.exercises.fashion_mnist_cnn.constants import (
    CLASS_NAMES,
    MODEL_LIMITS,
    PIPELINE_EPOCHS,
    PIPELINE_IMAGES,
)
from autograder.exercises.fashion_mnist_cnn.reference import Context, scaled
from autograder.model_eval import accuracy_and_confusion
from autograder.observations import ObservationError
from autograder.scoring import CheckFailed, grader, raise_for_error
from autograder.scoring.keras_models import load_saved


def _predictions(obs) -> np.ndarray:
    raise_for_error(obs, "call", "predict_classes(model, images)")
    info = obs.get("result") or {}
    if not info.get("saved"):
        raise CheckFailed(
            expected="a numpy array of class indices",
            received=str(info.get("type", "nothing")),
            hint="take the argmax over the classes of model.predict(images)",
        )
    return obs.array("result")


@grader("predict_classes", "integer classes of shape (N,)", points=4)
def test_predict_shape(obs, ctx: Context) -> None:
    result = _predictions(obs)
    n = len(ctx.predict_images)
    if result.shape != (n,) or result.dtype.kind not in "iu":
        hint = ""
        if result.shape == (n, 10):
            hint = "these are probabilities: take np.argmax(..., axis=1) to get classes"
        elif result.shape in {(10,), ()}:
            hint = "argmax over the wrong axis: use axis=1 (one class per image)"
        raise CheckFailed(
            expected=f"integers of shape ({n},)",
            received=f"dtype {result.dtype}, shape {result.shape}",
            hint=hint,
        )


@grader("predict_classes", "agrees with the argmax of the model's predictions", points=6)
def test_predict_agrees(obs, ctx: Context) -> None:
    result = _predictions(obs)
    reference = ctx.reference_predictions
    if result.shape != reference.shape:
        raise CheckFailed(
            expected=f"{len(reference)} class indices", received=f"shape {result.shape}"
        )
    agreement = float(np.mean(result == reference))
    if agreement < 1.0:
        raise CheckFailed(
            expected="exactly the classes the given model predicts (argmax of model.predict)",
            received=f"{agreement:.1%} agreement",
            hint="use the model passed in: np.argmax(model.predict(images), axis=1)",
        )


@grader(
    "pipeline",
    f"test accuracy after {PIPELINE_EPOCHS} epochs on {PIPELINE_IMAGES:,} images reaches the threshold",
    points=24,
)
def test_pipeline_accuracy(obs, ctx: Context, record: dict) -> None:
    for key, call in (
        ("reshape_images", "reshape_images"),
        ("build_model", "build_model()"),
        ("fit", "model.fit on your reshaped images"),
    ):
        raise_for_error(obs, key, f"{call} (used by the pipeline)")
    if not obs.get("model_saved"):
        raise CheckFailed(
            message="the trained model could not be saved for evaluation: "
            + str(obs.get("model_save_error") or "no model came back")
        )
    try:
        model = load_saved(str(obs.path("model.keras")), MODEL_LIMITS)
    except ObservationError as exc:
        raise CheckFailed(message=f"the trained model cannot be evaluated: {exc}") from None
    accuracy, confusion, outputs = accuracy_and_confusion(
        model, scaled(ctx.test_images), ctx.test_labels, len(CLASS_NAMES)
    )
    if outputs.ndim != 2:
        raise CheckFailed(
            expected="one row of 10 scores per image", received=f"output shape {outputs.shape}"
        )
    record["test_accuracy"] = round(accuracy, 4)
    record["pipeline_threshold"] = ctx.pipeline_threshold
    record["confusion_matrix"] = confusion.tolist()
    record["class_names"] = list(CLASS_NAMES)
    if isinstance(obs.get("history"), dict):
        record["history"] = obs.get("history")
    if accuracy < ctx.pipeline_threshold:
        raise CheckFailed(
            expected=f"test accuracy of at least {ctx.pipeline_threshold:.3f} (measured by the grader on the real test set)",
            received=f"test accuracy {accuracy:.4f}",
            hint="check the parts above: reshaping, scaling and the architecture all feed this result",
        )

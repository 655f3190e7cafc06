"""Graders of predict_classes and of the end-to-end pipeline (the grader measures the test
accuracy of the student's own model, trained on the student's own reshaped images)."""

from __future__ import annotations

import numpy as np

from autograder.exercises.fashion_mnist_cnn.constants import (
    CLASS_NAMES,
    PIPELINE_EPOCHS,
    PIPELINE_IMAGES,
)
from autograder.exercises.fashion_mnist_cnn.reference import Context, scaled
from autograder.scoring import CheckFailed, grader, raise_for_error
from autograder.scoring.keras_models import check_test_accuracy


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
    check_test_accuracy(
        obs,
        key="model",
        images=scaled(ctx.test_images),
        labels=ctx.test_labels,
        class_names=CLASS_NAMES,
        threshold=ctx.pipeline_threshold,
        record=record,
        hint="check the parts above: reshaping, scaling and the architecture all feed this result",
    )

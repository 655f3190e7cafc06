"""Graders of predict_classes and of the end-to-end pipeline (the grader measures the test
accuracy of the student's own model, trained on the student's own reshaped images)."""

from __future__ import annotations

from autograder.exercises.fashion_mnist_cnn.constants import (
    CLASS_NAMES,
    NUM_CLASSES,
    PIPELINE_EPOCHS,
    PIPELINE_IMAGES,
)
from autograder.exercises.fashion_mnist_cnn.reference import Context, scaled
from autograder.scoring import CheckFailed, grader, raise_for_error
from autograder.scoring.keras_models import (
    check_agreement,
    check_class_shape,
    check_test_accuracy,
    predicted_classes,
    unscaled_training_cause,
)


@grader("predict_classes", "integer classes of shape (N,)", points=4)
def test_predict_shape(obs, ctx: Context) -> None:
    check_class_shape(predicted_classes(obs), len(ctx.predict_images), NUM_CLASSES)


@grader("predict_classes", "agrees with the argmax of the model's predictions", points=6)
def test_predict_agrees(obs, ctx: Context) -> None:
    check_agreement(
        predicted_classes(obs), ctx.reference_predictions, NUM_CLASSES, ctx.scaled_again_predictions
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
    try:
        check_test_accuracy(
            obs,
            key="model",
            images=scaled(ctx.test_images),
            labels=ctx.test_labels,
            class_names=CLASS_NAMES,
            threshold=ctx.pipeline_threshold,
            record=record,
            hint="check the parts above: reshaping, scaling and the architecture all feed this "
            "result",
        )
    except CheckFailed as failed:
        accuracy = record.get("test_accuracy")
        raw = scaled(ctx.test_images) * 255.0  # the grader's test images, not divided
        cause = (
            unscaled_training_cause(
                obs,
                "model",
                raw,
                ctx.test_labels,
                accuracy,
                "reshape_images must also divide the pixels by 255",
            )
            if isinstance(accuracy, float)
            else ""
        )
        if not cause:
            raise
        raise CheckFailed(
            expected=failed.feedback.expected,
            received=failed.feedback.received,
            hint=cause,
        ) from None

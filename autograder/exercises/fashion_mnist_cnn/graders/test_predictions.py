"""Graders of predict_classes and of the end-to-end pipeline (the grader measures the test
accuracy of the student's own model, trained on the student's own reshaped images)."""

from __future__ import annotations

from autograder.exercises.fashion_mnist_cnn.constants import (
    CLASS_NAMES,
    NUM_CLASSES,
    PIPELINE_EPOCHS,
    PIPELINE_IMAGES,
    PIPELINE_THRESHOLD,
)
from autograder.exercises.fashion_mnist_cnn.reference import scaled
from autograder.scoring import CheckFailed, grader, raise_for_error
from autograder.scoring.feedback import unscaled_training_cause
from autograder.scoring.keras_models import (
    check_agreement,
    check_class_shape,
    check_test_accuracy,
    predicted_classes,
)


@grader("predict_classes", "integer classes of shape (N,)", points=4)
def test_predict_shape(obs, ctx) -> None:
    check_class_shape(predicted_classes(obs), len(ctx.predict_images), NUM_CLASSES)


@grader("predict_classes", "agrees with the argmax of the model's predictions", points=6)
def test_predict_agrees(obs, ctx) -> None:
    check_agreement(predicted_classes(obs), ctx.reference_predictions, NUM_CLASSES,
                    ctx.scaled_again_predictions)  # fmt: skip


@grader(
    "pipeline",
    f"test accuracy after {PIPELINE_EPOCHS} epochs on {PIPELINE_IMAGES:,} images reaches the threshold",
    points=24,
)
def test_pipeline_accuracy(obs, ctx, record: dict) -> None:
    for key, call in (("reshape_images", "reshape_images"), ("build_model", "build_model()"),
                      ("fit", "model.fit on your reshaped images")):  # fmt: skip
        raise_for_error(obs, key, f"{call} (used by the pipeline)")
    images = scaled(ctx.test_images)
    threshold = ctx.settings.get("pipeline_threshold", PIPELINE_THRESHOLD)
    hint = "check the parts above: reshaping, scaling and the architecture all feed this result"
    try:
        check_test_accuracy(obs, key="model", images=images, labels=ctx.test_labels,
                            class_names=CLASS_NAMES, threshold=threshold, record=record, hint=hint,
                            curves="fit_curves", seconds="fit_seconds")  # fmt: skip
    except CheckFailed as failed:
        accuracy = record.get("test_accuracy")
        cause = isinstance(accuracy, float) and unscaled_training_cause(
            obs, "model", images * 255.0, ctx.test_labels, accuracy,
            "reshape_images must also divide the pixels by 255")  # fmt: skip
        if not cause:
            raise
        raise CheckFailed(expected=failed.feedback.expected, received=failed.feedback.received,
                          hint=cause) from None  # fmt: skip

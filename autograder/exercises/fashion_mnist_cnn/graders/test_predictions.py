"""Graders of predict_classes and of the end-to-end pipeline (the grader measures the test
accuracy of the student's own model, trained on the student's own reshaped images)."""

from __future__ import annotations

from autograder.exercises.fashion_mnist_cnn import constants as c
from autograder.exercises.fashion_mnist_cnn.reference import scaled
from autograder.scoring import checks, grader, raise_for_error
from autograder.scoring.keras_models import check_agreement, check_class_shape, predicted_classes


@grader("predict_classes", "integer classes of shape (N,)", points=4)
def test_predict_shape(obs, ctx) -> None:
    check_class_shape(predicted_classes(obs), len(ctx.predict_images), c.NUM_CLASSES)


@grader("predict_classes", "agrees with the argmax of the model's predictions", points=6)
def test_predict_agrees(obs, ctx) -> None:
    check_agreement(predicted_classes(obs), ctx.reference_predictions, c.NUM_CLASSES,
                    ctx.scaled_again_predictions)  # fmt: skip


@grader(
    "pipeline",
    f"test accuracy after {c.PIPELINE_EPOCHS} epochs on {c.PIPELINE_IMAGES:,} images reaches the threshold",
    points=24,
)
def test_pipeline_accuracy(obs, ctx, record: dict) -> None:
    for key, call in (("reshape_images", "reshape_images"), ("build_model", "build_model()"),
                      ("fit", "model.fit on your reshaped images")):  # fmt: skip
        raise_for_error(obs, key, f"{call} (used by the pipeline)")
    test = (scaled(ctx.test_images), ctx.test_labels, c.CLASS_NAMES)
    threshold = ctx.settings.get("pipeline_threshold", c.PIPELINE_THRESHOLD)
    hint = "check the parts above: reshaping, scaling and the architecture all feed this result"
    unscaled = "reshape_images must also divide the pixels by 255"
    checks.check_model_accuracy(obs, "model", test, threshold, record, hint=hint, unscaled=unscaled,
                                curves="fit_curves", seconds="fit_seconds")  # fmt: skip

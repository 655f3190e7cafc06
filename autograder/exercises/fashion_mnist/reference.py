"""Fashion-MNIST's grading inputs and reference, made in the grader's process.

`FashionSetup` is made once per grader: it builds the seeded reference model (the start of the
probe's short fits and the model given to `predict_classes`). `draw(seed)` then makes one
grading's inputs: the images, callback cases and fit lengths sent to the child, and the
`Context` the graders compare against, which the child never sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.exercise_spec import GradingInputs
from autograder.exercises.fashion_mnist import constants as c
from autograder.inputs import (
    STEPS_BATCH,
    Expectations,
    accuracy_cases,
    callback_fits,
    case_ids,
    draw_images,
    loss_cases,
)
from autograder.model_eval import mean_loss, predict_probabilities

REFERENCE_MODEL = "reference_model.keras"


@dataclass
class Context:
    """The grader's own reference data for one grading, never produced by the submission."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    sample_images: np.ndarray  # given to scale_images / add_batch_dimension
    predict_images: np.ndarray  # permuted, scaled test images given to predict_classes
    reference_predictions: np.ndarray  # the reference model's own argmax on predict_images
    reference_weights: list[np.ndarray]  # the weights the probe's short fits start from
    subset_images: np.ndarray  # the short fits' training images (uint8) and labels
    subset_labels: np.ndarray
    start_loss: float  # the reference model's loss on them before any training
    expectations: Expectations  # this grading's callback decisions and fit lengths
    train_epochs: int  # the explicit `epochs=` given to train_model
    pipeline_threshold: float


def reference_model():
    """An untrained, seeded, compiled model: the start of the probe's short fits, and the model
    given to `predict_classes` (its argmax differs from the true labels, so a `predict_classes`
    that looks labels up cannot agree with it)."""
    import keras

    keras.utils.set_random_seed(c.SEED)
    model = keras.Sequential(
        [
            keras.Input(c.IMAGE_SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(c.HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(c.NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class FashionSetup:
    """What the grader prepares once: the data and the reference model (saved for the child)."""

    def __init__(self, data, folder: Path, pipeline_threshold: float = c.PIPELINE_THRESHOLD):
        self.data = data
        self.pipeline_threshold = pipeline_threshold
        self.reference = reference_model()
        self.reference.save(folder / REFERENCE_MODEL)
        self.reference_weights = [np.asarray(w) for w in self.reference.get_weights()]
        self.files = {REFERENCE_MODEL: folder / REFERENCE_MODEL}

    def draw(self, seed: int) -> GradingInputs:
        """Everything the child is given for one grading, and what the answers must be."""
        data = self.data
        rng = np.random.default_rng(seed)
        drawn = draw_images(
            rng,
            data.train_images,
            data.train_labels,
            data.test_images,
            sample=100,
            subset=c.SUBSET_SIZE,
            predict=c.PREDICT_SIZE,
        )
        subset_size = len(drawn["subset_images"])
        ids = case_ids(rng)
        expectations = Expectations(
            cases={
                "StopOnLoss": loss_cases(rng, ids, c.DEFAULT_LOSS_THRESHOLD, "threshold"),
                "StopOnAccuracy": accuracy_cases(rng, ids, c.DEFAULT_ACCURACY_TARGET, "target"),
            },
            fits={
                "StopOnLoss": callback_fits(rng, "loss", "threshold"),
                "StopOnAccuracy": callback_fits(rng, "accuracy", "target"),
            },
            steps_per_epoch=-(-subset_size // STEPS_BATCH),
        )
        train_epochs = int(rng.choice([2, 3, 4]))
        arrays = {
            "sample_images": drawn["sample_images"],
            "subset_images": drawn["subset_images"],
            "subset_labels": drawn["subset_labels"],
            "predict_images": data.test_images[drawn["predict_index"]].astype(np.float32) / 255.0,
        }
        subset_scaled = arrays["subset_images"].astype(np.float32) / 255.0
        context = Context(
            train_images=data.train_images,
            train_labels=data.train_labels,
            test_images=data.test_images,
            test_labels=data.test_labels,
            sample_images=drawn["sample_images"],
            predict_images=arrays["predict_images"],
            reference_predictions=predict_probabilities(
                self.reference, arrays["predict_images"]
            ).argmax(axis=1),
            reference_weights=self.reference_weights,
            subset_images=arrays["subset_images"],
            subset_labels=arrays["subset_labels"],
            start_loss=mean_loss(self.reference, subset_scaled, arrays["subset_labels"]),
            expectations=expectations,
            train_epochs=train_epochs,
            pipeline_threshold=self.pipeline_threshold,
        )
        config = {
            **expectations.child_config(),
            "train_epochs": train_epochs,
            "small_units": c.SMALL_HIDDEN_UNITS,
            "start_model": REFERENCE_MODEL,
            "model_input_shape": list(c.IMAGE_SHAPE),
            "fit_images": "subset_images",
            "fit_labels": "subset_labels",
            "seed": c.SEED,
            "pipeline_epochs": c.PIPELINE_EPOCHS,
        }
        return GradingInputs(seed, arrays, config, context)

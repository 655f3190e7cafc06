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
    DrawnFit,
    Expectations,
    accuracy_cases,
    callback_fits,
    case_ids,
    draw_images,
    fresh_weights,
    loss_cases,
    prediction_weights,
    weight_arrays,
)
from autograder.model_eval import mean_loss

REFERENCE_MODEL = "reference_model.keras"


# The two train_model calls the probe makes; each starts from its own weights and images.
TRAIN_CALLS = ("explicit", "default")
# The callback parts: the logs key each watches and its constructor argument.
CALLBACKS = (("StopOnLoss", "loss", "threshold"), ("StopOnAccuracy", "accuracy", "target"))


@dataclass
class TrainStart:
    """What one train_model call starts from, drawn for it alone and never handed to the
    student's code before: the start weights, the images (uint8) and labels, and the loss of
    those weights on those images, which training must lower."""

    weights: list[np.ndarray]
    images: np.ndarray
    labels: np.ndarray
    loss: float


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
    scaled_again_predictions: np.ndarray  # its argmax on them divided by 255 again
    expectations: Expectations  # this grading's callback decisions and fit lengths
    train_epochs: int  # the explicit `epochs=` given to train_model
    pipeline_threshold: float
    train_starts: dict[str, TrainStart]  # per train_model call (TRAIN_CALLS)


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
        self.scratch = reference_model()  # measures drawn start weights' losses

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
        steps = -(-len(drawn["subset_images"]) // STEPS_BATCH)
        ids = case_ids(rng)
        cases = {
            "StopOnLoss": loss_cases(rng, ids, c.DEFAULT_LOSS_THRESHOLD, "threshold"),
            "StopOnAccuracy": accuracy_cases(rng, ids, c.DEFAULT_ACCURACY_TARGET, "target"),
        }
        fits = {
            part: [DrawnFit(f.id, f.kwargs, f.epochs, f.expect, "fit_images", "subset_labels",
                            None, steps) for f in callback_fits(rng, watched, argument)]
            for part, watched, argument in CALLBACKS
        }  # fmt: skip
        expectations = Expectations(cases, fits, steps_per_epoch=steps)
        train_epochs = int(rng.choice([2, 3, 4]))
        arrays = {
            "sample_images": drawn["sample_images"],
            # add_batch_dimension's image: the first sample, scaled (no draw: the others stay).
            "batch_image": drawn["sample_images"][0].astype(np.float32) / 255.0,
            "subset_images": drawn["subset_images"],
            "subset_labels": drawn["subset_labels"],
            "fit_images": drawn["subset_images"].astype(np.float32) / 255.0,
            "predict_images": data.test_images[drawn["predict_index"]].astype(np.float32) / 255.0,
        }
        # Drawn last: the draws above stay what they were for every seed.
        predict_weights, reference_predictions, scaled_again = prediction_weights(
            rng, self.scratch, self.reference_weights, arrays["predict_images"],
            c.PREDICT_BIAS_LIMIT,
        )  # fmt: skip
        predict_arrays = weight_arrays("predict", predict_weights)
        arrays.update(predict_arrays)
        train_starts, train_config = {}, {}
        for key in TRAIN_CALLS:
            start = train_starts[key] = self._train_start(rng)
            arrays[f"train_{key}_images"] = start.images.astype(np.float32) / 255.0
            arrays[f"train_{key}_labels"] = start.labels
            weights = weight_arrays(f"train_{key}", start.weights)
            arrays.update(weights)
            train_config[f"train_{key}"] = list(weights)
        context = Context(
            train_images=data.train_images,
            train_labels=data.train_labels,
            test_images=data.test_images,
            test_labels=data.test_labels,
            sample_images=drawn["sample_images"],
            predict_images=arrays["predict_images"],
            reference_predictions=reference_predictions,
            scaled_again_predictions=scaled_again,
            expectations=expectations,
            train_epochs=train_epochs,
            pipeline_threshold=self.pipeline_threshold,
            train_starts=train_starts,
        )
        config = {
            **{
                f"{rule}_{kind}": [x.for_child() for x in drawn_of[part]]
                for part, rule in (("StopOnLoss", "loss"), ("StopOnAccuracy", "accuracy"))
                for kind, drawn_of in (("cases", cases), ("fits", fits))
            },  # fmt: skip
            **train_config,
            "train_epochs": train_epochs,
            "small_units": c.SMALL_HIDDEN_UNITS,
            "start_model": REFERENCE_MODEL,
            "model_input_shape": list(c.IMAGE_SHAPE),
            "seed": c.SEED,
            "pipeline_epochs": c.PIPELINE_EPOCHS,
            "predict_weights": list(predict_arrays),
        }
        return GradingInputs(seed, arrays, config, context)

    def _train_start(self, rng: np.random.Generator) -> TrainStart:
        data = self.data
        count = min(c.SUBSET_SIZE, len(data.train_images))
        index = np.sort(rng.choice(len(data.train_images), count, replace=False))
        images, labels = data.train_images[index], data.train_labels[index]
        weights = fresh_weights(rng, self.reference_weights)
        self.scratch.set_weights(weights)
        loss = mean_loss(self.scratch, images.astype(np.float32) / 255.0, labels)
        return TrainStart(weights, images, labels, loss)

"""The convolutional exercise's grading inputs and reference, made in the grader's process.

`CnnSetup` is made once per grader: the seeded reference CNN (the start of the callback's short
fits and the model given to `predict_classes`). `draw(seed)` makes one grading's inputs: sample
images, callback cases, the models `layer_output_shapes` is asked about (their sizes drawn, so a
hard-coded list fails), and the `Context` the graders compare against, never sent to the child.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.exercise_spec import GradingInputs
from autograder.exercises.fashion_mnist_cnn import constants as c
from autograder.inputs import (
    STEPS_BATCH,
    Expectations,
    accuracy_cases,
    callback_fits,
    case_ids,
    draw_images,
    prediction_weights,
    weight_arrays,
)

REFERENCE_MODEL = "reference_cnn.keras"


@dataclass(frozen=True)
class ShapeModel:
    """A model `layer_output_shapes` is called on, and the shapes it must return."""

    id: str
    filters: tuple[int, int]
    kernels: tuple[int, int]
    dense: int

    @property
    def expected(self) -> list[tuple[int, ...]]:
        return c.output_shapes(self.filters, self.kernels, self.dense)

    def for_child(self) -> dict:
        return {
            "id": self.id,
            "filters": list(self.filters),
            "kernels": list(self.kernels),
            "dense": self.dense,
        }

    def describe(self) -> str:
        return (
            f"Conv2D({self.filters[0]}, {self.kernels[0]}x{self.kernels[0]}) -> MaxPooling2D -> "
            f"Conv2D({self.filters[1]}, {self.kernels[1]}x{self.kernels[1]}) -> MaxPooling2D -> "
            f"Flatten -> Dense({self.dense}) -> Dense(10)"
        )


@dataclass
class Context:
    """The grader's own reference data for one grading, never produced by the submission."""

    test_images: np.ndarray
    test_labels: np.ndarray
    sample_images: np.ndarray  # uint8 (n, 28, 28) given to reshape_images
    predict_images: np.ndarray  # (n, 28, 28, 1) float32 given to predict_classes
    reference_predictions: np.ndarray  # the reference CNN's own argmax on them
    scaled_again_predictions: np.ndarray  # its argmax on them divided by 255 again
    expectations: Expectations  # StopAtAccuracy's decisions and fit lengths
    shape_models: list[ShapeModel]  # the exercise's model first, then drawn ones
    pipeline_threshold: float


def reference_model():
    """The exercise's CNN, untrained, seeded and compiled."""
    import keras

    keras.utils.set_random_seed(c.SEED)
    model = keras.Sequential(
        [
            keras.Input(c.IMAGE_SHAPE),
            keras.layers.Conv2D(c.FILTERS, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Conv2D(c.FILTERS, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Flatten(),
            keras.layers.Dense(c.DENSE_UNITS, activation="relu"),
            keras.layers.Dense(c.NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def scaled(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1]: what reshape_images must do."""
    return (images.astype(np.float32) / 255.0).reshape((len(images), *c.IMAGE_SHAPE))


class CnnSetup:
    """What the grader prepares once: the data and the reference CNN (saved for the child)."""

    def __init__(self, data, folder: Path, pipeline_threshold: float = c.PIPELINE_THRESHOLD):
        self.data = data
        self.pipeline_threshold = pipeline_threshold
        self.reference = reference_model()
        self.reference.save(folder / REFERENCE_MODEL)
        self.files = {REFERENCE_MODEL: folder / REFERENCE_MODEL}
        self.reference_weights = [np.asarray(w) for w in self.reference.get_weights()]
        self.scratch = reference_model()  # predicts with the weights drawn for a grading

    def draw(self, seed: int) -> GradingInputs:
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
            cases={"StopAtAccuracy": accuracy_cases(rng, ids, c.DEFAULT_TARGET, "target")},
            fits={"StopAtAccuracy": callback_fits(rng, "accuracy", "target")},
            steps_per_epoch=-(-subset_size // STEPS_BATCH),
        )
        shape_models = [ShapeModel("exercise", (c.FILTERS, c.FILTERS), (3, 3), c.DENSE_UNITS)]
        for index in range(2):
            shape_models.append(
                ShapeModel(
                    f"m{index}",
                    (int(rng.integers(4, 33)), int(rng.integers(4, 33))),
                    (int(rng.choice([3, 5])), int(rng.choice([3, 5]))),
                    int(rng.integers(8, 97)),
                )
            )
        arrays = {
            "sample_images": drawn["sample_images"],
            "subset_images": drawn["subset_images"],
            "subset_labels": drawn["subset_labels"],
            "predict_images": scaled(data.test_images[drawn["predict_index"]]),
        }
        # Drawn last: the draws above stay what they were for every seed.
        predict_weights, reference_predictions, scaled_again = prediction_weights(
            rng, self.scratch, self.reference_weights, arrays["predict_images"],
            c.PREDICT_BIAS_LIMIT,
        )  # fmt: skip
        predict_arrays = weight_arrays("predict", predict_weights)
        arrays.update(predict_arrays)
        context = Context(
            test_images=data.test_images,
            test_labels=data.test_labels,
            sample_images=drawn["sample_images"],
            predict_images=arrays["predict_images"],
            reference_predictions=reference_predictions,
            scaled_again_predictions=scaled_again,
            expectations=expectations,
            shape_models=shape_models,
            pipeline_threshold=self.pipeline_threshold,
        )
        config = {
            **expectations.child_config(),
            "start_model": REFERENCE_MODEL,
            "model_input_shape": list(c.IMAGE_SHAPE),
            "fit_images": "subset_images",
            "fit_labels": "subset_labels",
            "fit_shape": list(c.IMAGE_SHAPE),
            "small_filters": c.SMALL_FILTERS,
            "shape_models": [m.for_child() for m in shape_models],
            "seed": c.SEED,
            "pipeline_images": c.PIPELINE_IMAGES,
            "pipeline_epochs": c.PIPELINE_EPOCHS,
            "predict_weights": list(predict_arrays),
        }
        return GradingInputs(seed, arrays, config, context)

"""The convolutional exercise's reference CNN and one grading's draw (autograder.drawn); what
the graders compare against is `GraderOnly`, never sent to the child."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from autograder import inputs
from autograder.drawn import GraderOnly
from autograder.exercises.fashion_mnist_cnn import constants as c


@dataclass(frozen=True)
class ShapeModel:
    """A model `layer_output_shapes` is called on (config `shape_<id>`), and its shapes."""

    id: str
    filters: tuple[int, int]
    kernels: tuple[int, int]
    dense: int

    @property
    def expected(self) -> list[tuple[int, ...]]:
        """Each layer's output shape (no batch axis): valid convolutions, 2 x 2 pools."""
        (f1, f2), (k1, k2) = self.filters, self.kernels
        first = 28 - k1 + 1
        second = first // 2 - k2 + 1
        last = second // 2
        return [(first, first, f1), (first // 2, first // 2, f1), (second, second, f2),
                (last, last, f2), (last * last * f2,), (self.dense,), (c.NUM_CLASSES,)]  # fmt: skip

    def describe(self) -> str:
        (f1, f2), (k1, k2) = self.filters, self.kernels
        return (f"Conv2D({f1}, {k1}x{k1}) -> MaxPooling2D -> Conv2D({f2}, {k2}x{k2}) -> "
                f"MaxPooling2D -> Flatten -> Dense({self.dense}) -> Dense(10)")  # fmt: skip


@cache
def serialized(filters: tuple[int, int], kernels: tuple[int, int], dense: int) -> dict:
    """The CNN of these sizes as the child builds it (autograder.declare.BuiltModel)."""
    import keras

    return keras.saving.serialize_keras_object(cnn(filters, kernels, dense))


def cnn(filters=(c.FILTERS, c.FILTERS), kernels=(3, 3), dense=c.DENSE_UNITS):
    """The exercise's CNN (of other sizes when asked), untrained and uncompiled."""
    import keras

    layers = keras.layers
    return keras.Sequential([
        keras.Input(c.IMAGE_SHAPE),
        layers.Conv2D(filters[0], (kernels[0], kernels[0]), activation="relu"),
        layers.MaxPooling2D(2, 2),
        layers.Conv2D(filters[1], (kernels[1], kernels[1]), activation="relu"),
        layers.MaxPooling2D(2, 2),
        layers.Flatten(),
        layers.Dense(dense, activation="relu"),
        layers.Dense(c.NUM_CLASSES, activation="softmax"),
    ])  # fmt: skip


def reference_model():
    """The exercise's CNN, untrained, seeded and compiled: the callback fits' start model."""
    import keras

    keras.utils.set_random_seed(c.SEED)
    model = cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@cache
def _reference_weights() -> tuple[object, list[np.ndarray]]:
    """A copy of the reference CNN to predict with drawn weights, and its own weights."""
    return reference_model(), [np.asarray(w) for w in reference_model().get_weights()]


def scaled(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1]: what reshape_images must do."""
    return (images.astype(np.float32) / 255.0).reshape((len(images), *c.IMAGE_SHAPE))


def draw(rng: np.random.Generator, data) -> dict:
    drawn = inputs.draw_images(rng, data.train_images, data.train_labels, data.test_images,
                        sample=100, subset=c.SUBSET_SIZE, predict=c.PREDICT_SIZE)  # fmt: skip
    steps = -(-len(drawn["subset_images"]) // inputs.STEPS_BATCH)
    cases = inputs.accuracy_cases(rng, inputs.case_ids(rng), c.DEFAULT_TARGET, "target")
    fits = [inputs.DrawnFit(f.id, f.kwargs, f.epochs, f.expect, steps_per_epoch=steps)
            for f in inputs.callback_fits(rng, "accuracy", "target")]  # fmt: skip
    models = [ShapeModel("exercise", (c.FILTERS, c.FILTERS), (3, 3), c.DENSE_UNITS)]
    for index in range(2):
        filters = (int(rng.integers(4, 33)), int(rng.integers(4, 33)))
        kernels = (int(rng.choice([3, 5])), int(rng.choice([3, 5])))
        models.append(ShapeModel(f"m{index}", filters, kernels, int(rng.integers(8, 97))))
    predict_images = scaled(data.test_images[drawn["predict_index"]])
    # Drawn last: the draws above stay what they were for every seed.
    scratch, like = _reference_weights()
    weights, own, again = inputs.prediction_weights(rng, scratch, like, predict_images, c.PREDICT_BIAS_LIMIT)  # fmt: skip
    return dict(
        sample_images=drawn["sample_images"], cases=cases, fits=fits,
        fit_images=scaled(drawn["subset_images"]), fit_labels=drawn["subset_labels"],
        **{f"shape_{m.id}": serialized(m.filters, m.kernels, m.dense) for m in models}, shape_models=GraderOnly(models),
        predict_images=predict_images, predict_weights=weights,
        reference_predictions=GraderOnly(own), scaled_again_predictions=GraderOnly(again),
        pipeline_images=data.train_images[: c.PIPELINE_IMAGES],
        pipeline_labels=data.train_labels[: c.PIPELINE_IMAGES],
        test_images=GraderOnly(data.test_images), test_labels=GraderOnly(data.test_labels),
    )  # fmt: skip

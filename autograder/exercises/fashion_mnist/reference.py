"""Fashion-MNIST's grading inputs, made in the grader's process: `FashionSetup` saves the
seeded reference model once per grader; `draw(seed)` makes one grading's inputs and the context
the graders compare against (right decisions, the reference's predictions, the full data),
which the child never sees."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from autograder import inputs as drawn
from autograder.exercise_spec import GradingInputs
from autograder.exercises.fashion_mnist import constants as c
from autograder.model_eval import mean_loss

REFERENCE_MODEL = "reference_model.keras"
TRAIN_CALLS = ("explicit", "default")  # train_model's calls, each from its own start
CALLBACKS = (("StopOnLoss", "loss", "threshold"), ("StopOnAccuracy", "accuracy", "target"))


def reference_model():
    """An untrained, seeded, compiled model (its argmax differs from the true labels, so a
    `predict_classes` that looks labels up cannot agree with it)."""
    import keras

    keras.utils.set_random_seed(c.SEED)
    layers = keras.layers
    model = keras.Sequential([keras.Input(c.IMAGE_SHAPE), layers.Flatten(),
                              layers.Dense(c.HIDDEN_UNITS, activation="relu"),
                              layers.Dense(c.NUM_CLASSES, activation="softmax")])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class FashionSetup:
    """What the grader prepares once: the data and the reference model (saved for the child)."""

    def __init__(self, data, folder: Path, pipeline_threshold: float = c.PIPELINE_THRESHOLD):
        self.data, self.pipeline_threshold = data, pipeline_threshold
        reference_model().save(folder / REFERENCE_MODEL)
        self.files = {REFERENCE_MODEL: folder / REFERENCE_MODEL}
        self.scratch = reference_model()  # measures and predicts with drawn weights
        self.reference_weights = [np.asarray(w) for w in self.scratch.get_weights()]

    def draw(self, seed: int) -> GradingInputs:
        """Everything the child is given for one grading (arrays, config), and the graders'
        context. The order of the draws is fixed: each seed gives the same inputs."""
        data, rng = self.data, np.random.default_rng(seed)
        images = drawn.draw_images(rng, data.train_images, data.train_labels, data.test_images,
                                   sample=100, subset=c.SUBSET_SIZE, predict=c.PREDICT_SIZE)  # fmt: skip
        steps, ids = -(-len(images["subset_images"]) // drawn.STEPS_BATCH), drawn.case_ids(rng)
        cases = {"StopOnLoss": drawn.loss_cases(rng, ids, c.DEFAULT_LOSS_THRESHOLD, "threshold"),
                 "StopOnAccuracy": drawn.accuracy_cases(rng, ids, c.DEFAULT_ACCURACY_TARGET, "target")}  # fmt: skip
        fits = {part: [drawn.DrawnFit(f.id, f.kwargs, f.epochs, f.expect, "fit_images", "subset_labels", None, steps)
                       for f in drawn.callback_fits(rng, watched, argument)]
                for part, watched, argument in CALLBACKS}  # fmt: skip
        train_epochs = int(rng.choice([2, 3, 4]))
        predict = data.test_images[images["predict_index"]].astype(np.float32) / 255.0
        arrays = {"sample_images": images["sample_images"], "predict_images": predict,
                  # add_batch_dimension's image: the first sample, scaled (no draw: the others stay).
                  "batch_image": images["sample_images"][0].astype(np.float32) / 255.0,
                  "subset_images": images["subset_images"], "subset_labels": images["subset_labels"],
                  "fit_images": images["subset_images"].astype(np.float32) / 255.0}  # fmt: skip
        # Drawn after the others: the draws above stay what they were for every seed.
        weights, reference_predictions, scaled_again = drawn.prediction_weights(
            rng, self.scratch, self.reference_weights, predict, c.PREDICT_BIAS_LIMIT)  # fmt: skip
        arrays.update(drawn.weight_arrays("predict", weights))
        config = {"predict_weights": [f"predict_w{i}" for i in range(len(weights))],
                  "train_epochs": train_epochs, "small_units": c.SMALL_HIDDEN_UNITS,
                  "start_model": REFERENCE_MODEL, "model_input_shape": list(c.IMAGE_SHAPE),
                  "seed": c.SEED, "pipeline_epochs": c.PIPELINE_EPOCHS}  # fmt: skip
        for part, rule, _ in CALLBACKS:
            config[f"{rule}_cases"] = [case.for_child() for case in cases[part]]
            config[f"{rule}_fits"] = [fit.for_child() for fit in fits[part]]
        starts = {key: self._train_start(rng) for key in TRAIN_CALLS}
        for key, start in starts.items():
            arrays[f"train_{key}_images"] = start.images.astype(np.float32) / 255.0
            arrays[f"train_{key}_labels"] = start.labels
            arrays.update(named := drawn.weight_arrays(f"train_{key}", start.weights))
            config[f"train_{key}"] = list(named)
        context = SimpleNamespace(
            train_images=data.train_images, train_labels=data.train_labels,
            test_images=data.test_images, test_labels=data.test_labels,
            sample_images=images["sample_images"], predict_images=predict,
            reference_predictions=reference_predictions, scaled_again_predictions=scaled_again,
            expectations=drawn.Expectations(cases, fits, steps_per_epoch=steps),
            train_epochs=train_epochs, pipeline_threshold=self.pipeline_threshold, train_starts=starts,
        )  # fmt: skip
        return GradingInputs(seed, arrays, config, context)

    def _train_start(self, rng: np.random.Generator) -> SimpleNamespace:
        """One train_model call's start, never handed to the student's code before: weights,
        images (uint8), labels, and the loss on them, which training must lower."""
        count = min(c.SUBSET_SIZE, len(self.data.train_images))
        index = np.sort(rng.choice(len(self.data.train_images), count, replace=False))
        images, labels = self.data.train_images[index], self.data.train_labels[index]
        weights = drawn.fresh_weights(rng, self.reference_weights)
        self.scratch.set_weights(weights)
        loss = mean_loss(self.scratch, images.astype(np.float32) / 255.0, labels)
        return SimpleNamespace(weights=weights, images=images, labels=labels, loss=loss)

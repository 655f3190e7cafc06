"""The table of typical mistakes in fashion_mnist (graded by tests/test_defects.py, and on real data
by test_real_data and test_any_machine): each is the reference solution with one mistake written
into the definition of the one part it breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import mutate
from fashion import reference_source
from rubric_lines import rubric_line


@dataclass(frozen=True)
class Defect:
    id: str
    old: str
    new: str
    breaks: frozenset[str]  # exactly these parts fail, apart from the pipeline
    hint: str  # must appear in the feedback of a failed check
    pipeline: str = "passes"  # "passes", "fails" or "either"
    wrong_hint: str = ""  # must not appear: a cause this mistake does not have
    lines: tuple[str, ...] = ()  # when given: exactly these rubric lines fail (pipeline aside)

    def source(self) -> str:
        """The reference with this mistake written into the definition of the part it breaks."""
        (part,) = self.breaks
        edit = mutate.Edit(part, self.old, self.new)
        return mutate.apply(reference_source(), edit, label=f"{self.id}: the reference")


FIT = "return model.fit(images, labels, epochs=epochs, callbacks=callbacks)"
HIDDEN = 'keras.layers.Dense(hidden_units, activation="relu")'

DEFECTS = [
    Defect(
        "class_names_order",
        '"Coat",\n    "Sandal",\n    "Shirt"',
        '"Shirt",\n    "Sandal",\n    "Coat"',
        frozenset({"CLASS_NAMES"}),
        "out of order",
    ),
    Defect(
        "load_data_swapped",
        "return (train_images, train_labels), (test_images, test_labels)",
        "return (test_images, test_labels), (train_images, train_labels)",
        frozenset({"load_data"}),
        "Expected: train_images: shape",
    ),
    Defect(
        "no_scaling",
        "return images / 255.0",
        "return images.astype('float64')",
        frozenset({"scale_images"}),
        "not scaled",
        pipeline="either",
    ),
    Defect(
        "returned_unscaled",
        "return images / 255.0",
        "return images",
        frozenset({"scale_images"}),
        "not scaled: `images / 255.0` gives floats",
        pipeline="either",
        wrong_hint="integer division",
    ),
    Defect(
        "scaled_and_flattened",
        "return images / 255.0",
        "return images.reshape(len(images), -1) / 255.0",
        frozenset({"scale_images"}),
        "should not reshape or flatten",
        pipeline="fails",
        lines=(
            rubric_line("fashion_mnist", "scale_images", "test_scale_shape"),
        ),  # the right values in another shape
    ),
    Defect(
        "floor_division",
        "return images / 255.0",
        "return images // 255",
        frozenset({"scale_images"}),
        "integer division",
        pipeline="either",
    ),
    Defect(
        "in_place_uint8",
        "return images / 255.0",
        "images /= 255.0\n    return images",
        frozenset({"scale_images"}),
        "in-place division of a uint8 array",
        pipeline="fails",
    ),
    Defect(
        "batch_axis_last",
        "np.expand_dims(image, 0)",
        "np.expand_dims(image, -1)",
        frozenset({"add_batch_dimension"}),
        "new axis goes first",
    ),
    Defect(
        "units_128",
        HIDDEN,
        'keras.layers.Dense(128, activation="relu")',
        frozenset({"build_model"}),
        "128 hidden units instead of 512",
    ),
    Defect(
        "hidden_units_ignored",
        HIDDEN,
        'keras.layers.Dense(512, activation="relu")',
        frozenset({"build_model"}),
        "hidden_units is ignored",
    ),
    Defect(
        "missing_flatten",
        "keras.layers.Flatten(),",
        "",
        frozenset({"build_model"}),
        "missing Flatten",
        pipeline="fails",
    ),
    Defect(
        "output_sigmoid",
        'keras.layers.Dense(10, activation="softmax")',
        'keras.layers.Dense(10, activation="sigmoid")',
        frozenset({"build_model"}),
        "needs softmax",
    ),
    Defect(
        "extra_softmax_layer",
        'keras.layers.Dense(10, activation="softmax")',
        'keras.layers.Dense(10, activation="softmax"),\n            keras.layers.Softmax()',
        frozenset({"build_model"}),
        "applies softmax twice",
        pipeline="either",
        wrong_hint="128 hidden units",
    ),
    Defect(
        "separate_softmax_layer",
        'keras.layers.Dense(10, activation="softmax")',
        "keras.layers.Dense(10),\n            keras.layers.Softmax()",
        frozenset({"build_model"}),
        "a separate Softmax layer: give each Dense layer its activation",
        pipeline="either",
    ),
    Defect(
        "output_size_9",
        'keras.layers.Dense(10, activation="softmax")',
        'keras.layers.Dense(9, activation="softmax")',
        frozenset({"build_model"}),
        "10 units",
        pipeline="fails",
    ),
    Defect(
        "categorical_loss",
        '        loss="sparse_categorical_crossentropy"',
        '        loss="categorical_crossentropy"',
        frozenset({"build_model"}),
        "one-hot",
        pipeline="fails",
    ),
    Defect(
        "reversed_comparison",
        "loss < self.threshold",
        "loss > self.threshold",
        frozenset({"StopOnLoss"}),
        "comparison is reversed",
    ),
    Defect(
        "self_stop_training",
        "self.model.stop_training = True",
        "self.stop_training = True",
        frozenset({"StopOnLoss"}),
        "self.model.stop_training = True",
    ),
    Defect(
        "threshold_ignored",
        "loss < self.threshold",
        "loss < 0.4",
        frozenset({"StopOnLoss"}),
        "threshold argument is ignored",
    ),
    Defect(
        "acc_key",
        'accuracy = logs.get("accuracy")',
        'accuracy = logs["acc"]',
        frozenset({"StopOnAccuracy"}),
        "'accuracy', not 'acc'",
    ),
    Defect(
        "exclusive_target",
        "accuracy >= self.target",
        "accuracy > self.target",
        frozenset({"StopOnAccuracy"}),
        "(inclusive)",
    ),
    Defect(
        "epochs_not_passed",
        FIT,
        "return model.fit(images, labels, callbacks=callbacks)",
        frozenset({"train_model"}),
        "epochs is not passed",
        pipeline="either",
        lines=(rubric_line("fashion_mnist", "train_model", "test_runs_epochs"),),
    ),
    Defect(
        "epochs_hard_coded",
        FIT,
        "return model.fit(images, labels, epochs=5, callbacks=callbacks)",
        frozenset({"train_model"}),
        "epochs",
        lines=(rubric_line("fashion_mnist", "train_model", "test_runs_epochs"),),
    ),
    Defect(
        "callbacks_not_passed",
        FIT,
        "return model.fit(images, labels, epochs=epochs)",
        frozenset({"train_model"}),
        "callbacks are not passed",
    ),
    Defect(
        "probabilities",
        "np.argmax(model.predict(images, verbose=0), axis=1)",
        "model.predict(images, verbose=0)",
        frozenset({"predict_classes"}),
        "probabilities",
    ),
    Defect(
        "loss_typo",
        '        loss="sparse_categorical_crossentropy",\n',
        '        loss="sparse_categorical_crossentropie",\n',
        frozenset({"build_model"}),
        "misspelt loss name",
        pipeline="fails",  # Keras looks the name up when fit starts
        lines=(rubric_line("fashion_mnist", "build_model", "test_loss"),),
    ),
    Defect(
        "callback_without_init",
        "    def __init__(self, threshold=0.4):\n        ### BEGIN SOLUTION\n        super().__init__()\n"
        "        self.threshold = threshold\n        ### END SOLUTION\n\n",
        "",
        frozenset({"StopOnLoss"}),
        "has no __init__ of its own",
    ),
    Defect(
        "input_shape_changed",
        "    return images / 255.0\n",
        "    images.shape = (len(images), 28 * 28)\n    return (images / 255.0).reshape(-1, 28, 28)\n",
        frozenset({"scale_images"}),
        "reshape it in place",
        lines=(rubric_line("fashion_mnist", "scale_images", "test_scale_input_untouched"),),
    ),
    Defect(
        "predict_scaled_again",
        "np.argmax(model.predict(images, verbose=0), axis=1)",
        "np.argmax(model.predict(images / 255.0, verbose=0), axis=1)",
        frozenset({"predict_classes"}),
        "scaling them again",
    ),
    Defect(
        "argmax_axis_0",
        "np.argmax(model.predict(images, verbose=0), axis=1)",
        "np.argmax(model.predict(images, verbose=0), axis=0)",
        frozenset({"predict_classes"}),
        "wrong axis",
    ),
]

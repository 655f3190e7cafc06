"""Every correct way of writing the exercise earns full marks."""

from __future__ import annotations

from pathlib import Path

import mutate
import pytest
from fashion import reference_source

SEQUENTIAL = """    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden_units, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )"""

FUNCTIONAL = """    inputs = keras.Input((28, 28))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(hidden_units, activation=tf.nn.relu)(x)
    outputs = keras.layers.Dense(10, activation=tf.nn.softmax)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )"""

INPUT_SHAPE = """    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(hidden_units, activation=tf.nn.relu),
        tf.keras.layers.Dense(10, activation=tf.nn.softmax),
    ])
    model.compile(optimizer=tf.optimizers.Adam(),
                  loss=tf.keras.losses.sparse_categorical_crossentropy,
                  metrics=["accuracy"])"""

# The original notebook's own style: no input shape anywhere, so Keras 3 leaves the model unbuilt
# until its first fit (the grader builds it on the exercise's input to count its parameters).
SEED_NOTEBOOK = """    model = tf.keras.models.Sequential([tf.keras.layers.Flatten(),
                                        tf.keras.layers.Dense(hidden_units, activation=tf.nn.relu),
                                        tf.keras.layers.Dense(10, activation=tf.nn.softmax)])
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])"""

ADDED = """    model = keras.Sequential()
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(hidden_units, activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])"""

VARIANTS = {
    "seed_notebook_no_input_shape": [(SEQUENTIAL, SEED_NOTEBOOK)],
    # What students add to the notebook's fit: a validation split (fewer steps an epoch than
    # the grader's images make) and the callbacks' `logs={}` default.
    "validation_split_logs_default": [
        (
            "return model.fit(images, labels, epochs=epochs, callbacks=callbacks)",
            "return model.fit(images, labels, epochs=epochs, callbacks=callbacks,\n"
            "                     validation_split=0.1, verbose=2)",
        ),
        mutate.Edit(
            "StopOnLoss",
            "    def on_epoch_end(self, epoch, logs=None):\n",
            "    def on_epoch_end(self, epoch, logs={}):\n",
        ),
    ],
    "added_layers_no_input_shape": [(SEQUENTIAL, ADDED)],
    "functional_tf_nn_objects": [
        (SEQUENTIAL, FUNCTIONAL),
        ("return images / 255.0", "return (images / 255).astype('float32')"),
        (
            "np.argmax(model.predict(images, verbose=0), axis=1)",
            "tf.argmax(model.predict(images), axis=1).numpy()",
        ),
        ("CLASS_NAMES = [", "CLASS_NAMES = tuple(["),
        ('    "Ankle boot",\n]', '    "Ankle boot",\n])'),
    ],
    "input_shape_functions": [
        (SEQUENTIAL, INPUT_SHAPE),
        (
            "return model.fit(images, labels, epochs=epochs, callbacks=callbacks)",
            "history = model.fit(x=images, y=labels, epochs=epochs, callbacks=callbacks, verbose=0)\n    return history",
        ),
        ('loss = logs.get("loss")', 'loss = logs["loss"]'),
        ("np.expand_dims(image, 0)", "image[np.newaxis, ...]"),
    ],
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_correct_variant_scores_full_marks(name: str, grader, tmp_path: Path) -> None:
    edits = mutate.edits(VARIANTS[name])  # each in the one definition holding its text
    source = mutate.apply(reference_source(), *edits, label=f"variant {name}: the reference")
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    report = grader.grade(path)
    assert [f"{t.name}: {t.output}" for t in report.tests if not t.passed] == []

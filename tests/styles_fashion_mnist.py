"""How real students write each part of fashion_mnist: correct styles earn full marks, common
mistakes lose exactly their lines with a hint naming the cause (see tests/style_table.py)."""

from __future__ import annotations

from rubric_lines import rubric_line
from style_table import Style

IMPORTS = "import numpy as np\nimport keras\nimport tensorflow as tf\n"
CLASS_NAMES = (
    'CLASS_NAMES = [\n    "T-shirt/top",\n    "Trouser",\n    "Pullover",\n    "Dress",\n'
    '    "Coat",\n    "Sandal",\n    "Shirt",\n    "Sneaker",\n    "Bag",\n    "Ankle boot",\n]'
)
LOAD = (
    "    (train_images, train_labels), (test_images, test_labels) = (\n"
    "        keras.datasets.fashion_mnist.load_data()\n    )\n"
    "    return (train_images, train_labels), (test_images, test_labels)"
)
SCALE = "    return images / 255.0\n"
BATCH = "    return np.expand_dims(image, 0)\n"
LAYERS = """    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden_units, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
"""
COMPILE = """    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
"""
LOSS_INIT = "        super().__init__()\n        self.threshold = threshold\n"
LOSS_END = """    def on_epoch_end(self, epoch, logs=None):
        ### BEGIN SOLUTION
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and loss < self.threshold:
"""
ACCURACY_INIT = "        super().__init__()\n        self.target = target\n"
ACCURACY_END = """    def on_epoch_end(self, epoch, logs=None):
        ### BEGIN SOLUTION
        logs = logs or {}
        accuracy = logs.get("accuracy")
        if accuracy is not None and accuracy >= self.target:
"""
FIT = "    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n"
PREDICT = "    return np.argmax(model.predict(images, verbose=0), axis=1)\n"

# Rubric lines, as the report names them, by the grader that scores each (tests/rubric_lines.py).
CLASS_ORDER = rubric_line("fashion_mnist", "CLASS_NAMES", "test_class_names_in_order")
LOAD_SHAPES = rubric_line("fashion_mnist", "load_data", "test_load_shapes")
LOAD_VALUES = rubric_line("fashion_mnist", "load_data", "test_load_values")
SCALE_VALUES = rubric_line("fashion_mnist", "scale_images", "test_scale_values")
SCALE_RANGE = rubric_line("fashion_mnist", "scale_images", "test_scale_range")
SCALE_SHAPE = rubric_line("fashion_mnist", "scale_images", "test_scale_shape")
SCALE_INPUT = rubric_line("fashion_mnist", "scale_images", "test_scale_input_untouched")
BATCH_SHAPE = rubric_line("fashion_mnist", "add_batch_dimension", "test_batch_shape")
BATCH_VALUES = rubric_line("fashion_mnist", "add_batch_dimension", "test_batch_values")
LAYER_ORDER = rubric_line("fashion_mnist", "build_model", "test_layer_order")
ACTIVATIONS = rubric_line("fashion_mnist", "build_model", "test_activations")
PARAMS = rubric_line("fashion_mnist", "build_model", "test_parameter_counts")
SMALL_PARAMS = rubric_line("fashion_mnist", "build_model", "test_hidden_units_honoured")
INPUT_SHAPE = rubric_line("fashion_mnist", "build_model", "test_input_shape")
OPTIMIZER = rubric_line("fashion_mnist", "build_model", "test_optimizer")
LOSS = rubric_line("fashion_mnist", "build_model", "test_loss")
METRIC = rubric_line("fashion_mnist", "build_model", "test_metric")
LOSS_STOPS = rubric_line("fashion_mnist", "StopOnLoss", "test_loss_stops")
LOSS_KEEPS = rubric_line("fashion_mnist", "StopOnLoss", "test_loss_keeps_training")
LOSS_CUSTOM = rubric_line("fashion_mnist", "StopOnLoss", "test_loss_custom_threshold")
LOSS_FIT = rubric_line("fashion_mnist", "StopOnLoss", "test_loss_real_fit")
ACC_STOPS = rubric_line("fashion_mnist", "StopOnAccuracy", "test_accuracy_stops")
ACC_KEEPS = rubric_line("fashion_mnist", "StopOnAccuracy", "test_accuracy_keeps_training")
ACC_CUSTOM = rubric_line("fashion_mnist", "StopOnAccuracy", "test_accuracy_custom_target")
ACC_FIT = rubric_line("fashion_mnist", "StopOnAccuracy", "test_accuracy_real_fit")
EPOCHS = rubric_line("fashion_mnist", "train_model", "test_runs_epochs")
CALLBACKS = rubric_line("fashion_mnist", "train_model", "test_passes_callbacks")
HISTORY = rubric_line("fashion_mnist", "train_model", "test_returns_history")
TRAINS = rubric_line("fashion_mnist", "train_model", "test_weights_change")
PREDICT_SHAPE = rubric_line("fashion_mnist", "predict_classes", "test_predict_shape")
PREDICT_AGREES = rubric_line("fashion_mnist", "predict_classes", "test_predict_agrees")
PIPELINE = rubric_line("fashion_mnist", "pipeline", "test_pipeline_accuracy")

SCALE_LINES = (SCALE_VALUES, SCALE_RANGE, SCALE_SHAPE, SCALE_INPUT)
LOSS_LINES = (LOSS_STOPS, LOSS_KEEPS, LOSS_CUSTOM, LOSS_FIT)
ACC_LINES = (ACC_STOPS, ACC_KEEPS, ACC_CUSTOM, ACC_FIT)
TRAIN_LINES = (EPOCHS, CALLBACKS, HISTORY, TRAINS)
PREDICT_LINES = (PREDICT_SHAPE, PREDICT_AGREES)


def _s(
    name: str, slot: str, old: str, new: str, *lost: str, **words: str | tuple[str, ...]
) -> Style:
    """A row with one replacement."""
    return Style(name, slot, ((old, new),), tuple(lost), **words)


def _on_epoch_end(body: str, signature: str = "def on_epoch_end(self, epoch, logs=None):") -> str:
    """A callback's on_epoch_end rewritten up to its decision: `signature`, then `body`
    (8-space indented lines ending in the `if`); the reference's print and stop lines follow."""
    return f"    {signature}\n        ### BEGIN SOLUTION\n{body}"


STYLES: list[Style] = [
    # --- imports -------------------------------------------------------------------------
    _s(
        "from_tensorflow_import_keras",
        "imports",
        IMPORTS,
        "import numpy as np\nimport tensorflow as tf\nfrom tensorflow import keras\n",
    ),
    _s(
        "keras_is_tf_keras",
        "imports",
        IMPORTS,
        "import numpy as np\nimport tensorflow as tf\nkeras = tf.keras\n",
    ),
    _s(
        "import_tensorflow_keras_as_keras",
        "imports",
        IMPORTS,
        "import numpy as np\nimport tensorflow as tf\nimport tensorflow.keras as keras\n",
    ),
    # --- CLASS_NAMES -----------------------------------------------------------------------
    _s(
        "class_names_tuple_one_line",
        "CLASS_NAMES",
        CLASS_NAMES,
        "CLASS_NAMES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', "
        "'Shirt', 'Sneaker', 'Bag', 'Ankle boot')",
    ),
    _s(
        "class_names_split",
        "CLASS_NAMES",
        CLASS_NAMES,
        "CLASS_NAMES = 'T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,"
        "Ankle boot'.split(',')",
    ),
    _s(
        "class_names_capitalised",
        "CLASS_NAMES",
        '"Ankle boot"',
        '"Ankle Boot"',
        CLASS_ORDER,
        hint="capitalisation",
    ),
    _s(
        "class_names_short_t_shirt",
        "CLASS_NAMES",
        '"T-shirt/top"',
        '"T-shirt"',
        CLASS_ORDER,
        hint="'T-shirt' (expected 'T-shirt/top')",
    ),
    # --- load_data -------------------------------------------------------------------------
    _s(
        "load_data_returned_directly",
        "load_data",
        LOAD,
        "    return keras.datasets.fashion_mnist.load_data()",
    ),
    _s(
        "load_data_course_notebook",
        "load_data",
        LOAD,
        "    fashion_mnist = tf.keras.datasets.fashion_mnist\n"
        "    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()\n"
        "    return (x_train, y_train), (x_test, y_test)",
    ),
    _s(
        "load_data_scaled",
        "load_data",
        LOAD,
        "    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()\n"
        "    return (x_train / 255.0, y_train), (x_test / 255.0, y_test)",
        LOAD_SHAPES,
        LOAD_VALUES,
        hint="raw uint8 pixels",
    ),
    # --- scale_images ----------------------------------------------------------------------
    _s("scale_int_255", "scale_images", SCALE, "    return images / 255\n"),
    _s(
        "scale_astype_float32", "scale_images", SCALE, "    return images.astype('float32') / 255\n"
    ),
    _s("scale_np_divide", "scale_images", SCALE, "    return np.divide(images, 255.0)\n"),
    _s(
        "scale_tf_cast_tensor",
        "scale_images",
        SCALE,
        "    return tf.cast(images, tf.float32) / 255.0\n",
    ),
    _s(
        "scale_by_256",
        "scale_images",
        SCALE,
        "    return images / 256.0\n",
        SCALE_VALUES,
        hint="not 256",
    ),
    _s(
        "scale_no_return",
        "scale_images",
        SCALE,
        "    images = images / 255.0\n",
        SCALE_VALUES,
        SCALE_RANGE,
        SCALE_SHAPE,
        PIPELINE,
        hint="returns nothing",
    ),
    _s(
        "scale_integer_cast",
        "scale_images",
        SCALE,
        "    return (images / 255).astype('uint8')\n",
        SCALE_VALUES,
        SCALE_RANGE,
        PIPELINE,
        hint="cast to an integer type",
    ),
    # --- add_batch_dimension ---------------------------------------------------------------
    _s(
        "batch_expand_dims_axis",
        "add_batch_dimension",
        BATCH,
        "    return np.expand_dims(image, axis=0)\n",
    ),
    _s("batch_none_index", "add_batch_dimension", BATCH, "    return image[None]\n"),
    _s("batch_reshape", "add_batch_dimension", BATCH, "    return image.reshape(1, 28, 28)\n"),
    _s(
        "batch_tf_expand_dims",
        "add_batch_dimension",
        BATCH,
        "    return tf.expand_dims(image, 0)\n",
    ),
    _s(
        "batch_flattened",
        "add_batch_dimension",
        BATCH,
        "    return image.reshape(1, 784)\n",
        BATCH_SHAPE,
        hint="28 x 28 layout",
    ),
    _s(
        "batch_scaled_again",
        "add_batch_dimension",
        BATCH,
        "    return np.expand_dims(image, 0) / 255.0\n",
        BATCH_VALUES,
        hint="must not scale",
    ),
    # --- build_model: layers ---------------------------------------------------------------
    _s(
        "layers_tf_keras_no_input",
        "build_model.layers",
        LAYERS,
        "    model = tf.keras.models.Sequential([tf.keras.layers.Flatten(),\n"
        "                                        tf.keras.layers.Dense(hidden_units, activation=tf.nn.relu),\n"
        "                                        tf.keras.layers.Dense(10, activation=tf.nn.softmax)])\n",
    ),
    _s(
        "layers_added",
        "build_model.layers",
        LAYERS,
        "    model = keras.models.Sequential()\n"
        "    model.add(keras.layers.InputLayer(shape=(28, 28)))\n"
        "    model.add(keras.layers.Flatten())\n"
        "    model.add(keras.layers.Dense(units=hidden_units, activation=keras.activations.relu))\n"
        "    model.add(keras.layers.Dense(units=10, activation=keras.activations.softmax))\n",
    ),
    _s(
        "layers_functional",
        "build_model.layers",
        LAYERS,
        "    inputs = keras.layers.Input(shape=(28, 28))\n"
        "    x = keras.layers.Flatten()(inputs)\n"
        "    x = keras.layers.Dense(hidden_units, 'relu')(x)\n"
        "    outputs = keras.layers.Dense(10, 'softmax')(x)\n"
        "    model = keras.Model(inputs=inputs, outputs=outputs)\n",
    ),
    Style(
        "layers_imported_names",
        "build_model.layers",
        (
            (
                "def build_model(hidden_units=512):",
                "from tensorflow.keras.layers import Dense, Flatten\n"
                "from tensorflow.keras.models import Sequential\n\n\n"
                "def build_model(hidden_units=512):",
            ),
            (
                LAYERS,
                "    model = Sequential([\n"
                "        Flatten(input_shape=(28, 28), name='flatten'),\n"
                "        Dense(hidden_units, activation='relu', name='hidden'),\n"
                "        Dense(10, activation='softmax', name='output'),\n    ])\n",
            ),
        ),
    ),
    _s(
        "layers_dropout_added",
        "build_model.layers",
        '            keras.layers.Dense(hidden_units, activation="relu"),\n',
        '            keras.layers.Dense(hidden_units, activation="relu"),\n'
        "            keras.layers.Dropout(0.2),\n",
        LAYER_ORDER,
        hint="no Dropout layer",
    ),
    _s(
        "layers_logits_output",
        "build_model.layers",
        'keras.layers.Dense(10, activation="softmax")',
        "keras.layers.Dense(10)",
        ACTIVATIONS,
        hint="softmax",
    ),
    _s(
        "layers_separate_activation",
        "build_model.layers",
        'keras.layers.Dense(10, activation="softmax")',
        "keras.layers.Dense(10),\n            keras.layers.Activation('softmax')",
        LAYER_ORDER,
        ACTIVATIONS,
        hint="separate Activation layer",
    ),
    Style(
        "build_model_seeded",
        "build_model.seed",
        (
            (
                '        The compiled keras.Sequential model.\n    """\n',
                '        The compiled keras.Sequential model.\n    """\n    tf.random.set_seed(42)\n',
            ),
        ),
    ),
    # --- build_model: compile --------------------------------------------------------------
    _s(
        "compile_adam_object",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer=keras.optimizers.Adam(),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(),\n"
        "                  metrics=['accuracy'])\n",
    ),
    _s(
        "compile_tf_optimizers_learning_rate",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer=tf.optimizers.Adam(learning_rate=0.001),\n"
        "                  loss=tf.keras.losses.sparse_categorical_crossentropy,\n"
        "                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name='accuracy')])\n",
    ),
    _s(
        "compile_positional_metrics",
        "build_model.compile",
        COMPILE,
        "    model.compile('adam', 'sparse_categorical_crossentropy', ['accuracy'])\n",
        METRIC,
        PIPELINE,
        hint="loss_weights",
    ),
    _s(
        "compile_learning_rate_metric_object",
        "build_model.compile",
        COMPILE,
        "    model.compile(\n"
        "        optimizer=keras.optimizers.Adam(learning_rate=1e-3),\n"
        "        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),\n"
        "        metrics=[keras.metrics.SparseCategoricalAccuracy()],\n"
        "    )\n",
    ),
    _s(
        "compile_metric_acc",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['acc'])\n",
        METRIC,
        hint="name the metric 'accuracy'",
    ),
    _s(
        "compile_metric_accuracy_class",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',\n"
        "                  metrics=[keras.metrics.Accuracy()])\n",
        METRIC,
        PIPELINE,
        hint="SparseCategoricalAccuracy",
    ),
    _s(
        "compile_sgd",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n",
        OPTIMIZER,
        hint="optimizer='adam'",
    ),
    # --- StopOnLoss ------------------------------------------------------------------------
    _s(
        "loss_logs_dict_default_index",
        "StopOnLoss",
        LOSS_END,
        _on_epoch_end(
            "        loss = logs['loss']\n        if loss < self.threshold:\n",
            "def on_epoch_end(self, epoch, logs={}):",
        ),
    ),
    _s(
        "loss_get_inline",
        "StopOnLoss",
        LOSS_END,
        _on_epoch_end(
            "        loss = logs.get('loss')\n        if(logs.get('loss') < self.threshold):\n"
        ),
    ),
    _s(
        "loss_parameter_named_log",
        "StopOnLoss",
        LOSS_END,
        _on_epoch_end(
            "        loss = log.get('loss')\n        if loss < self.threshold:\n",
            "def on_epoch_end(self, epoch, log=None):",
        ),
    ),
    _s(
        "loss_super_old_style",
        "StopOnLoss",
        LOSS_INIT,
        "        super(StopOnLoss, self).__init__()\n        self.threshold = threshold\n",
    ),
    _s(
        "loss_at_or_below",
        "StopOnLoss",
        "loss < self.threshold",
        "loss <= self.threshold",
        LOSS_KEEPS,
        LOSS_CUSTOM,
        hint="(strict)",
    ),
    _s(
        "loss_batch_end",
        "StopOnLoss",
        "    def on_epoch_end(self, epoch, logs=None):\n        ### BEGIN SOLUTION\n        logs = logs or {}\n        loss",
        "    def on_batch_end(self, batch, logs=None):\n        ### BEGIN SOLUTION\n        logs = logs or {}\n        loss",
        *LOSS_LINES,
        hint="defines no on_epoch_end",
        not_hint="(strict)",
    ),
    _s(
        "loss_no_epoch_parameter",
        "StopOnLoss",
        LOSS_END,
        _on_epoch_end(
            "        logs = logs or {}\n        loss = logs.get('loss')\n"
            "        if loss is not None and loss < self.threshold:\n",
            "def on_epoch_end(self, logs=None):",
        ),
        *LOSS_LINES,
        hint="def on_epoch_end(self, epoch, logs=None)",
    ),
    _s(
        "loss_compares_stop_training",
        "StopOnLoss",
        "            self.model.stop_training = True\n",  # StopOnLoss's own, not StopOnAccuracy's
        "            self.model.stop_training == True\n",
        LOSS_STOPS,
        LOSS_CUSTOM,
        LOSS_FIT,
        LOSS_KEEPS,
        hint="compares and changes nothing",
    ),
    # --- StopOnAccuracy --------------------------------------------------------------------
    _s(
        "accuracy_index_logs_default",
        "StopOnAccuracy",
        ACCURACY_END,
        _on_epoch_end(
            "        accuracy = logs['accuracy']\n        if accuracy >= self.target:\n",
            "def on_epoch_end(self, epoch, logs={}):",
        ),
    ),
    _s(
        "accuracy_get_default",
        "StopOnAccuracy",
        ACCURACY_END,
        _on_epoch_end(
            "        accuracy = logs.get('accuracy', 0)\n"
            "        if logs is not None and accuracy >= self.target:\n"
        ),
    ),
    _s(
        "accuracy_init_keyword_super",
        "StopOnAccuracy",
        ACCURACY_INIT,
        "        keras.callbacks.Callback.__init__(self)\n        self.target = float(target)\n",
    ),
    _s(
        "accuracy_course_message",
        "StopOnAccuracy",
        ACCURACY_END,
        _on_epoch_end(
            "        if logs.get('accuracy') is not None and logs.get('accuracy') >= self.target:\n"
            "            print('\\nReached 90% accuracy so cancelling training!')\n"
            "            accuracy = logs.get('accuracy')\n"
        ),
    ),
    _s(
        "accuracy_get_acc",
        "StopOnAccuracy",
        'accuracy = logs.get("accuracy")',
        'accuracy = logs.get("acc")',
        *ACC_LINES,
        hint="not 'acc'",
    ),
    _s(
        "accuracy_validation_key",
        "StopOnAccuracy",
        'accuracy = logs.get("accuracy")',
        'accuracy = logs.get("val_accuracy")',
        *ACC_LINES,
        hint="validation data",
        not_hint="(inclusive)",
    ),
    _s(
        "accuracy_target_hard_coded",
        "StopOnAccuracy",
        "accuracy >= self.target",
        "accuracy >= 0.9",
        ACC_CUSTOM,
        # The real fit that must stop after one epoch stops right with 0.9 too whenever the
        # drawn fit's first epoch reaches 0.9 (it can on the easy synthetic images).
        may_lose=(ACC_FIT,),
        hint="target argument is ignored",
        not_hint="stop_training = True",
    ),
    # --- train_model -----------------------------------------------------------------------
    _s(
        "fit_history_variable",
        "train_model",
        FIT,
        "    history = model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n"
        "    return history\n",
    ),
    _s(
        "fit_validation_split_batch_size",
        "train_model",
        FIT,
        "    return model.fit(images, labels, batch_size=64, epochs=epochs, callbacks=callbacks,\n"
        "                     validation_split=0.1, verbose=2)\n",
    ),
    _s(
        "fit_keywords_verbose_0",
        "train_model",
        FIT,
        "    return model.fit(x=images, y=labels, epochs=epochs, callbacks=callbacks or [],\n"
        "                     shuffle=True, verbose=0)\n",
    ),
    # A smaller batch makes more steps an epoch than the default's 32 images.
    _s(
        "fit_batch_size_16",
        "train_model",
        FIT,
        "    return model.fit(images, labels, epochs=epochs, callbacks=callbacks, batch_size=16)\n",
    ),
    _s(
        "fit_epochs_hard_coded",
        "train_model",
        FIT,
        "    return model.fit(images, labels, epochs=5, callbacks=callbacks)\n",
        EPOCHS,
        hint="epochs argument is ignored",
    ),
    _s(
        "fit_own_callback",
        "train_model",
        FIT,
        "    return model.fit(images, labels, epochs=epochs, callbacks=[StopOnAccuracy()])\n",
        CALLBACKS,
        hint="callbacks are not passed",
    ),
    _s(
        "fit_epochs_positional",
        "train_model",
        FIT,
        "    return model.fit(images, labels, epochs, callbacks=callbacks)\n",
        EPOCHS,
        hint="epochs went in as batch_size",
    ),
    _s(
        "fit_no_return",
        "train_model",
        FIT,
        "    model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n",
        HISTORY,
        hint="return model.fit",
    ),
    # --- predict_classes -------------------------------------------------------------------
    _s(
        "predict_axis_minus_one",
        "predict_classes",
        PREDICT,
        "    return np.argmax(model.predict(images), axis=-1)\n",
    ),
    _s(
        "predict_method_argmax",
        "predict_classes",
        PREDICT,
        "    return model.predict(images).argmax(1)\n",
    ),
    _s(
        "predict_tf_argmax_numpy",
        "predict_classes",
        PREDICT,
        "    return tf.argmax(model.predict(images), axis=1).numpy()\n",
    ),
    _s(
        "predict_list_comprehension",
        "predict_classes",
        PREDICT,
        "    predictions = model.predict(images)\n"
        "    return np.array([np.argmax(p) for p in predictions])\n",
    ),
    _s(
        "predict_plain_list",
        "predict_classes",
        PREDICT,
        "    return [np.argmax(p) for p in model.predict(images)]\n",
        *PREDICT_LINES,
        hint="not a Python list",
    ),
    _s(
        "predict_argmax_no_axis",
        "predict_classes",
        PREDICT,
        "    return np.argmax(model.predict(images))\n",
        *PREDICT_LINES,
        hint="without axis",
    ),
    _s(
        "predict_classes_removed",
        "predict_classes",
        PREDICT,
        "    return model.predict_classes(images)\n",
        *PREDICT_LINES,
        hint="was removed from Keras",
    ),
]

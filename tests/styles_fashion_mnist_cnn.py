"""How real students write each part of fashion_mnist_cnn: correct styles earn full marks,
common mistakes lose exactly their lines with a hint naming the cause (see tests/style_table.py)."""

from __future__ import annotations

from rubric_lines import rubric_line
from style_table import Style

IMPORTS = "import numpy as np\nimport keras\nimport tensorflow as tf\n"
RESHAPE = '    return images.reshape(-1, 28, 28, 1).astype("float32") / 255.0\n'
LAYERS = """    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(filters, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Conv2D(filters, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
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
SHAPES = "    return [tuple(layer.output.shape[1:]) for layer in model.layers]\n"
ACCURACY_INIT = "        super().__init__()\n        self.target = target\n"
ACCURACY_END = """    def on_epoch_end(self, epoch, logs=None):
        ### BEGIN SOLUTION
        logs = logs or {}
        accuracy = logs.get("accuracy")
        if accuracy is not None and accuracy >= self.target:
"""
PREDICT = "    return np.argmax(model.predict(images, verbose=0), axis=1)\n"

RESHAPE_SHAPE = rubric_line("fashion_mnist_cnn", "reshape_images", "test_shape")
RESHAPE_VALUES = rubric_line("fashion_mnist_cnn", "reshape_images", "test_values")
RESHAPE_DTYPE = rubric_line("fashion_mnist_cnn", "reshape_images", "test_dtype")
RESHAPE_INPUT = rubric_line("fashion_mnist_cnn", "reshape_images", "test_input_untouched")
LAYER_ORDER = rubric_line("fashion_mnist_cnn", "build_model", "test_layer_order")
KERNELS = rubric_line("fashion_mnist_cnn", "build_model", "test_kernels_and_activations")
PARAMS = rubric_line("fashion_mnist_cnn", "build_model", "test_parameter_counts")
SMALL_PARAMS = rubric_line("fashion_mnist_cnn", "build_model", "test_filters_honoured")
INPUT_SHAPE = rubric_line("fashion_mnist_cnn", "build_model", "test_input_shape")
OPTIMIZER = rubric_line("fashion_mnist_cnn", "build_model", "test_optimizer")
LOSS = rubric_line("fashion_mnist_cnn", "build_model", "test_loss")
METRIC = rubric_line("fashion_mnist_cnn", "build_model", "test_metric")
EXERCISE_SHAPES = rubric_line(
    "fashion_mnist_cnn", "layer_output_shapes", "test_exercise_model_shapes"
)
OTHER_SHAPES = rubric_line("fashion_mnist_cnn", "layer_output_shapes", "test_other_model_shapes")
ACC_STOPS = rubric_line("fashion_mnist_cnn", "StopAtAccuracy", "test_stops")
ACC_KEEPS = rubric_line("fashion_mnist_cnn", "StopAtAccuracy", "test_keeps_training")
ACC_CUSTOM = rubric_line("fashion_mnist_cnn", "StopAtAccuracy", "test_custom_target")
ACC_FIT = rubric_line("fashion_mnist_cnn", "StopAtAccuracy", "test_real_fit")
PREDICT_SHAPE = rubric_line("fashion_mnist_cnn", "predict_classes", "test_predict_shape")
PREDICT_AGREES = rubric_line("fashion_mnist_cnn", "predict_classes", "test_predict_agrees")
PIPELINE = rubric_line("fashion_mnist_cnn", "pipeline", "test_pipeline_accuracy")

RESHAPE_LINES = (RESHAPE_SHAPE, RESHAPE_VALUES, RESHAPE_DTYPE, RESHAPE_INPUT)
SHAPE_LINES = (EXERCISE_SHAPES, OTHER_SHAPES)
ACC_LINES = (ACC_STOPS, ACC_KEEPS, ACC_CUSTOM, ACC_FIT)
PREDICT_LINES = (PREDICT_SHAPE, PREDICT_AGREES)


def _s(name: str, slot: str, old: str, new: str, *lost: str, **words: str) -> Style:
    """A row with one replacement."""
    return Style(name, slot, ((old, new),), tuple(lost), **words)


def _layers(*lines: str, head: str = "    model = keras.Sequential([\n") -> str:
    """A Sequential model of `lines` (one layer each, without the trailing comma)."""
    return head + "".join(f"        {line},\n" for line in lines) + "    ])\n"


def _on_epoch_end(body: str, signature: str = "def on_epoch_end(self, epoch, logs=None):") -> str:
    """StopAtAccuracy.on_epoch_end rewritten up to its decision: `signature`, then `body`
    (8-space indented lines ending in the `if`); the reference's print and stop lines follow."""
    return f"    {signature}\n        ### BEGIN SOLUTION\n{body}"


CONV = "keras.layers.Conv2D(filters, (3, 3), activation='relu')"
POOL = "keras.layers.MaxPooling2D(2, 2)"
HEAD = (
    "keras.layers.Flatten()",
    "keras.layers.Dense(128, activation='relu')",
    "keras.layers.Dense(10, activation='softmax')",
)

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
    # --- reshape_images --------------------------------------------------------------------
    _s(
        "reshape_expand_dims",
        "reshape_images",
        RESHAPE,
        "    return np.expand_dims(images, -1).astype('float32') / 255.0\n",
    ),
    _s(
        "reshape_ellipsis_none",
        "reshape_images",
        RESHAPE,
        "    return images[..., None].astype(np.float32) / 255\n",
    ),
    _s(
        "reshape_tf_expand_dims",
        "reshape_images",
        RESHAPE,
        "    return tf.cast(tf.expand_dims(images, -1), tf.float32) / 255.0\n",
    ),
    _s(
        "reshape_count_hard_coded",
        "reshape_images",
        RESHAPE,
        "    return images.reshape(60000, 28, 28, 1).astype('float32') / 255.0\n",
        *RESHAPE_LINES,
        PIPELINE,
        hint="hard-coded",
    ),
    _s(
        "reshape_channels_first",
        "reshape_images",
        RESHAPE,
        "    return images.reshape(-1, 1, 28, 28).astype('float32') / 255.0\n",
        RESHAPE_SHAPE,
        PIPELINE,
        hint="channel axis goes last",
    ),
    _s(
        "reshape_float64",
        "reshape_images",
        RESHAPE,
        "    return np.expand_dims(images, -1) / 255.0\n",
        RESHAPE_DTYPE,
        hint="float64",
    ),
    _s(
        "reshape_in_place_shape",
        "reshape_images",
        RESHAPE,
        "    images.shape = (-1, 28, 28, 1)\n    return images.astype('float32') / 255.0\n",
        RESHAPE_INPUT,
        hint="in place",
    ),
    # --- build_model: layers ---------------------------------------------------------------
    _s(
        "cnn_kernel_int_default_pool",
        "build_model.layers",
        LAYERS,
        _layers(
            "keras.Input((28, 28, 1))",
            "keras.layers.Conv2D(filters, 3, activation=tf.nn.relu)",
            "keras.layers.MaxPooling2D()",
            "keras.layers.Conv2D(filters, kernel_size=3, activation='relu')",
            "keras.layers.MaxPool2D(pool_size=2)",
            *HEAD,
        ),
    ),
    _s(
        "cnn_functional",
        "build_model.layers",
        LAYERS,
        "    inputs = keras.Input(shape=(28, 28, 1))\n"
        "    x = keras.layers.Conv2D(filters, (3, 3), activation='relu')(inputs)\n"
        "    x = keras.layers.MaxPooling2D((2, 2))(x)\n"
        "    x = keras.layers.Conv2D(filters, (3, 3), activation='relu')(x)\n"
        "    x = keras.layers.MaxPooling2D((2, 2))(x)\n"
        "    x = keras.layers.Flatten()(x)\n"
        "    x = keras.layers.Dense(128, activation='relu')(x)\n"
        "    outputs = keras.layers.Dense(10, activation='softmax')(x)\n"
        "    model = keras.Model(inputs, outputs)\n",
    ),
    Style(
        "cnn_imported_names_explicit_defaults",
        "build_model.layers",
        (
            (
                "def build_model(filters=64):",
                "from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D\n\n\n"
                "def build_model(filters=64):",
            ),
            (
                LAYERS,
                _layers(
                    "Conv2D(filters=filters, kernel_size=(3, 3), strides=(1, 1), padding='valid', "
                    "activation='relu', input_shape=(28, 28, 1))",
                    "MaxPooling2D(pool_size=(2, 2), strides=(2, 2))",
                    "Conv2D(filters, (3, 3), padding='valid', activation='relu')",
                    "MaxPooling2D(pool_size=(2, 2))",
                    "Flatten()",
                    "Dense(units=128, activation='relu')",
                    "Dense(units=10, activation='softmax')",
                    head="    model = keras.models.Sequential([\n",
                ),
            ),
        ),
    ),
    _s(
        "cnn_filters_hard_coded",
        "build_model.layers",
        LAYERS,
        _layers(
            "keras.Input((28, 28, 1))",
            "keras.layers.Conv2D(64, (3, 3), activation='relu')",
            POOL,
            "keras.layers.Conv2D(64, (3, 3), activation='relu')",
            POOL,
            *HEAD,
        ),
        SMALL_PARAMS,
        hint="filters",
    ),
    _s(
        "cnn_padding_same",
        "build_model.layers",
        LAYERS,
        _layers(
            "keras.Input((28, 28, 1))",
            "keras.layers.Conv2D(filters, (3, 3), padding='same', activation='relu')",
            POOL,
            "keras.layers.Conv2D(filters, (3, 3), padding='same', activation='relu')",
            POOL,
            *HEAD,
        ),
        PARAMS,
        SMALL_PARAMS,
        hint="padding='valid'",
        not_hint="check both MaxPooling2D",
    ),
    _s(
        "cnn_dropout_added",
        "build_model.layers",
        LAYERS,
        _layers(
            "keras.Input((28, 28, 1))",
            CONV,
            POOL,
            CONV,
            POOL,
            "keras.layers.Flatten()",
            "keras.layers.Dropout(0.5)",
            *HEAD[1:],
        ),
        LAYER_ORDER,
        hint="no Dropout layer",
    ),
    _s(
        "cnn_no_input_channel",
        "build_model.layers",
        LAYERS,
        _layers(
            "keras.layers.Conv2D(filters, (3, 3), activation='relu', input_shape=(28, 28))",
            POOL,
            CONV,
            POOL,
            *HEAD,
        ),
        LAYER_ORDER,
        KERNELS,
        PARAMS,
        SMALL_PARAMS,
        INPUT_SHAPE,
        OPTIMIZER,
        LOSS,
        METRIC,
        PIPELINE,
        hint="Conv2D needs a channel axis",
    ),
    # --- build_model: compile --------------------------------------------------------------
    _s(
        "compile_objects",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.001),\n"
        "                  loss=tf.keras.losses.SparseCategoricalCrossentropy(),\n"
        "                  metrics=[keras.metrics.SparseCategoricalAccuracy()])\n",
    ),
    _s(
        "compile_one_line_strings",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer='Adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n",
    ),
    _s(
        "compile_loss_function",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer=keras.optimizers.Adam(),\n"
        "                  loss=keras.losses.sparse_categorical_crossentropy, metrics=['accuracy'])\n",
    ),
    _s(
        "compile_rmsprop",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer='rmsprop', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n",
        OPTIMIZER,
        hint="optimizer='adam'",
    ),
    _s(
        "compile_metric_acc",
        "build_model.compile",
        COMPILE,
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['acc'])\n",
        METRIC,
        hint="'acc'",
    ),
    _s(
        "compile_from_logits_with_softmax",
        "build_model.compile",
        COMPILE,
        "    model.compile(\n"
        "        optimizer='adam',\n"
        "        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),\n"
        "        metrics=['accuracy'],\n"
        "    )\n",
        LOSS,
        hint="from_logits",
    ),
    # --- layer_output_shapes ---------------------------------------------------------------
    _s(
        "shapes_tensor_shape_slice",
        "layer_output_shapes",
        SHAPES,
        "    return [layer.output.shape[1:] for layer in model.layers]\n",
    ),
    _s(
        "shapes_loop_append",
        "layer_output_shapes",
        SHAPES,
        "    shapes = []\n    for layer in model.layers:\n"
        "        shapes.append(tuple(layer.output.shape)[1:])\n    return shapes\n",
    ),
    _s(
        "shapes_get_layer_index",
        "layer_output_shapes",
        SHAPES,
        "    return [tuple(model.get_layer(index=i).output.shape[1:])\n"
        "            for i in range(len(model.layers))]\n",
    ),
    _s(
        "shapes_keras2_as_list",
        "layer_output_shapes",
        SHAPES,
        "    return [tuple(layer.output.shape.as_list()[1:]) for layer in model.layers]\n",
        *SHAPE_LINES,
        hint="layer.output.shape is a plain tuple",
    ),
    _s(
        "shapes_skip_first_layer",
        "layer_output_shapes",
        SHAPES,
        "    return [tuple(layer.output.shape[1:]) for layer in model.layers[1:]]\n",
        *SHAPE_LINES,
        hint="one shape per layer",
    ),
    _s(
        "shapes_with_batch_axis",
        "layer_output_shapes",
        SHAPES,
        "    return [layer.output.shape for layer in model.layers]\n",
        *SHAPE_LINES,
        hint="batch dimension",
    ),
    _s(
        "shapes_model_summary",
        "layer_output_shapes",
        SHAPES,
        "    return model.summary()\n",
        *SHAPE_LINES,
        hint="one entry per layer of model.layers",
    ),
    # --- StopAtAccuracy --------------------------------------------------------------------
    _s(
        "accuracy_index_logs_default",
        "StopAtAccuracy",
        ACCURACY_END,
        _on_epoch_end(
            "        accuracy = logs['accuracy']\n        if accuracy >= self.target:\n",
            "def on_epoch_end(self, epoch, logs={}):",
        ),
    ),
    _s(
        "accuracy_parameter_named_log",
        "StopAtAccuracy",
        ACCURACY_END,
        _on_epoch_end(
            "        accuracy = log.get('accuracy')\n        if accuracy >= self.target:\n",
            "def on_epoch_end(self, epoch, log=None):",
        ),
    ),
    _s(
        "accuracy_keyword_super",
        "StopAtAccuracy",
        ACCURACY_INIT,
        "        super(StopAtAccuracy, self).__init__()\n        self.target = target\n",
    ),
    _s(
        "accuracy_index_acc",
        "StopAtAccuracy",
        'accuracy = logs.get("accuracy")',
        'accuracy = logs["acc"]',
        *ACC_LINES,
        hint="not 'acc'",
    ),
    _s(
        "accuracy_strict",
        "StopAtAccuracy",
        "accuracy >= self.target",
        "accuracy > self.target",
        ACC_STOPS,
        ACC_CUSTOM,
        hint="inclusive",
    ),
    _s(
        "accuracy_target_not_stored",
        "StopAtAccuracy",
        ACCURACY_INIT,
        "        super().__init__()\n        self.target = 0.9\n",
        ACC_CUSTOM,
        ACC_FIT,
        hint="target argument is ignored",
        not_hint="stop_training = True",
    ),
    _s(
        "accuracy_compares_stop_training",
        "StopAtAccuracy",
        "            self.model.stop_training = True\n",
        "            self.model.stop_training == True\n",
        ACC_STOPS,
        ACC_KEEPS,
        ACC_CUSTOM,
        ACC_FIT,
        hint="compares and changes nothing",
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
        "    return model.predict(images, verbose=0).argmax(axis=1)\n",
    ),
    _s(
        "predict_tf_argmax",
        "predict_classes",
        PREDICT,
        "    return tf.argmax(model.predict(images), axis=1).numpy()\n",
    ),
    _s(
        "predict_probabilities",
        "predict_classes",
        PREDICT,
        "    return model.predict(images)\n",
        *PREDICT_LINES,
        hint="probabilities",
    ),
    _s(
        "predict_rescaled",
        "predict_classes",
        PREDICT,
        "    return np.argmax(model.predict(images / 255.0), axis=1)\n",
        PREDICT_AGREES,
        hint="already scaled",
    ),
    _s(
        "predict_argmax_axis_0",
        "predict_classes",
        PREDICT,
        "    return np.argmax(model.predict(images), axis=0)\n",
        *PREDICT_LINES,
        hint="axis=1",
    ),
]

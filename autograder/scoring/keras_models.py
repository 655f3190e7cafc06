"""Grading a student's Keras model: built by the grader from its vetted model file, inspected
layer by layer, and its compile settings read from its plain-JSON `compile_config`.

Every correct form passes: Sequential or functional, `input_shape=` or `keras.Input`, string or
`tf.nn` activations, and loss or optimizer given as strings, functions or objects.

Example (an exercise's graders):
    @grader("build_model", "optimizer Adam", points=2)
    def test_optimizer(obs, ctx):
        check_optimizer(compiled(obs, "default", "build_model()"), "adam")
"""

from __future__ import annotations

import difflib
import math
from typing import Any

import numpy as np

from autograder.model_eval import accuracy_and_confusion
from autograder.observations import MODEL_SUFFIX, ObservationError, compile_config, load_model
from autograder.scoring.feedback import CheckFailed, raise_for_error

COMPILE_HINT = (
    "call model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
    "metrics=['accuracy'])"
)
ACCURACY_NAMES = {"accuracy", "sparsecategoricalaccuracy"}
# A training time beyond any part's time limit is not one the child measured.
MAX_REPORTED_SECONDS = 24 * 3600


def normalise(identifier: Any) -> str:
    """'sparse_categorical_crossentropy', a serialized function or class -> 'sparsecategoricalcrossentropy'."""
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name == "function" or not isinstance(name, str):
            name = identifier.get("config")
        identifier = name
    return str(identifier or "").lower().replace("_", "").replace(" ", "")


def load_saved(obs, key: str):
    """The model the child saved under `key`, loaded once per part's observations however many
    graders ask. It lives only as long as those observations (no cache outlives a grading: a
    model is up to the bounds' size), and a refusal is remembered, not retried."""
    cache = obs.measured.setdefault("models", {})
    if key not in cache:
        try:
            cache[key] = load_model(obs.path(f"{key}{MODEL_SUFFIX}"), obs.model_limits())
        except ObservationError as exc:
            cache[key] = ObservationError(str(exc))
    if isinstance(cache[key], ObservationError):
        raise ObservationError(str(cache[key]))
    return cache[key]


def model_for(obs, key: str, call: str):
    """The student's model returned by `call` (saved under `key`), loaded safely here."""
    raise_for_error(obs, key, call)
    if f"{key}_saved" not in obs.data:
        raise CheckFailed(message=f"{call} returned nothing the grader could inspect.")
    if not obs.get(f"{key}_saved"):
        kind = (obs.get(f"{key}_type") or {}).get("type", "?")
        raise CheckFailed(
            expected="a keras Model",
            received=f"{kind} ({obs.get(f'{key}_save_error') or 'it could not be saved'})",
            hint="return the model object itself (and only built-in Keras layers)",
        )
    try:
        return load_saved(obs, key)
    except ObservationError as exc:
        raise CheckFailed(
            message=f"The model returned by {call} cannot be graded: {exc}."
        ) from None


def graded_layers(model) -> list:
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def layer_names(model) -> list[str]:
    return [type(layer).__name__ for layer in graded_layers(model)]


def layers_of(model, kind: str) -> list:
    return [layer for layer in graded_layers(model) if type(layer).__name__ == kind]


def activation_name(layer) -> str:
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", str(function))
    return {"softmax_v2": "softmax"}.get(name, name)


def input_shape(model) -> tuple | None:
    try:
        return tuple(model.input_shape)
    except (AttributeError, ValueError):
        return None


def compiled(obs, key: str, call: str) -> dict:
    """The compile settings of the model saved under `key`; fails when it was not compiled."""
    model_for(obs, key, call)
    config = compile_config(obs.path(f"{key}{MODEL_SUFFIX}"), obs.model_limits())
    if not config:
        raise CheckFailed(
            expected="a compiled model",
            received="a model that was never compiled",
            hint=COMPILE_HINT,
        )
    return config


# How Keras' documentation writes its optimizers' names (normalised name -> shown name).
OPTIMIZER_NAMES = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop",
                   "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam"}  # fmt: skip


def check_optimizer(config: dict, expected: str = "adam") -> None:
    """The compile config's optimizer is `expected` (any spelling: 'sgd', 'SGD', keras.optimizers.SGD())."""
    got, expected = normalise(config.get("optimizer")), normalise(expected)
    if got != expected:
        raise CheckFailed(
            expected=f"the {OPTIMIZER_NAMES.get(expected, expected)} optimizer",
            received=f"optimizer {got or 'none'}",
            hint=f"optimizer='{expected}'",
        )


def check_sparse_loss(config: dict, classes: int) -> None:
    got = normalise(config.get("loss"))
    loss = config.get("loss")
    settings = loss.get("config") if isinstance(loss, dict) else None
    if isinstance(settings, dict) and settings.get("from_logits") is True:
        # The TensorFlow tutorial's loss, kept beside a softmax output layer: the probabilities
        # are taken for raw scores and squashed again.
        raise CheckFailed(
            expected="loss sparse_categorical_crossentropy on the softmax probabilities",
            received="SparseCategoricalCrossentropy(from_logits=True)",
            hint="from_logits=True treats the outputs as raw scores, but the output layer "
            "applies softmax: keep the default from_logits=False "
            "(loss='sparse_categorical_crossentropy')",
        )
    if got != "sparsecategoricalcrossentropy":
        hint = ""
        if got == "categoricalcrossentropy":
            hint = (
                "categorical cross-entropy expects one-hot labels; the labels are integers "
                f"0-{classes - 1}, so use sparse_categorical_crossentropy"
            )
        elif got in {"mse", "meansquarederror"}:
            hint = f"mean squared error is for regression; this is a {classes}-class classification"
        elif (
            got
            and difflib.SequenceMatcher(None, got, "sparsecategoricalcrossentropy").ratio() > 0.8
        ):
            hint = (
                "a misspelt loss name: loss='sparse_categorical_crossentropy' (Keras looks the "
                "name up only when training starts, so compile accepted it)"
            )
        raw = config.get("loss")
        shown = repr(raw) if isinstance(raw, str) else (got or "none")
        raise CheckFailed(
            expected="loss sparse_categorical_crossentropy",
            received=f"loss {shown}",
            hint=hint,
        )


def metric_names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in metric_names(item)]
    if isinstance(value, dict) and "class_name" not in value:
        return [name for item in value.values() for name in metric_names(item)]
    return [normalise(value)] if value else []


def metric_classes(value: Any) -> list[str]:
    """The class names of the metric objects in a compile config's `metrics`."""
    if isinstance(value, list):
        return [name for item in value for name in metric_classes(item)]
    if isinstance(value, dict) and "class_name" not in value:
        return [name for item in value.values() for name in metric_classes(item)]
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        return [value["class_name"]]
    return []


def check_accuracy_metric(config: dict) -> None:
    names = metric_names(config.get("metrics"))
    if "Accuracy" in metric_classes(config.get("metrics")):
        # keras.metrics.Accuracy() counts labels equal to the outputs: it cannot compare an
        # integer label with 10 probabilities (fit fails), though its name is "accuracy".
        raise CheckFailed(
            expected="metrics=['accuracy']",
            received="metrics [keras.metrics.Accuracy()]",
            hint="keras.metrics.Accuracy() compares the labels with the outputs element by "
            "element, not with the class they pick (fit fails on integer labels): use "
            "metrics=['accuracy'] or keras.metrics.SparseCategoricalAccuracy(name='accuracy')",
        )
    if not ACCURACY_NAMES & set(names):
        hint = "metrics=['accuracy'] (so the logs use the key 'accuracy')"
        if "acc" in names:
            hint = "name the metric 'accuracy': with 'acc' the logs key is 'acc' and callbacks reading 'accuracy' fail"
        elif not names and "accuracy" in metric_names(config.get("loss_weights")):
            hint = (
                "compile's third positional parameter is loss_weights, so "
                "compile('adam', 'sparse_categorical_crossentropy', ['accuracy']) gives no "
                "metric: name it, metrics=['accuracy']"
            )
        raise CheckFailed(
            expected="metrics=['accuracy']", received=f"metrics {names or 'none'}", hint=hint
        )


def check_test_accuracy(
    obs,
    *,
    key: str,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: list[str] | tuple[str, ...],
    threshold: float,
    record: dict,
    hint: str,
    curves_key: str = "history",
    seconds_key: str = "training_seconds",
) -> float:
    """Evaluate the trained model the child saved under `key` on the grader's own test set and
    fail below `threshold`. Records the accuracy, the threshold, the confusion matrix, the class
    names, the training curves (observation `curves_key`) and the fit's seconds (`seconds_key`;
    a declared training call records `<call>_curves` and `<call>_seconds`) for the reports."""
    if not obs.get(f"{key}_saved"):
        raise CheckFailed(
            message="the trained model could not be saved for evaluation: "
            + str(obs.get(f"{key}_save_error") or "no model came back")
        )
    try:
        model = load_saved(obs, key)
    except ObservationError as exc:
        raise CheckFailed(message=f"the trained model cannot be evaluated: {exc}") from None
    accuracy, confusion, outputs = accuracy_and_confusion(model, images, labels, len(class_names))
    if outputs.ndim != 2:
        raise CheckFailed(
            expected=f"one row of {len(class_names)} scores per image",
            received=f"output shape {outputs.shape}",
        )
    record["test_accuracy"] = round(accuracy, 4)
    record["pipeline_threshold"] = threshold
    record["confusion_matrix"] = confusion.tolist()
    record["class_names"] = list(class_names)
    if isinstance(obs.get(curves_key), dict):
        record["history"] = obs.get(curves_key)
    seconds = reported_seconds(obs.get(seconds_key))  # as the child timed its fit
    if seconds is not None:
        record["training_seconds"] = seconds
    if accuracy < threshold:
        raise CheckFailed(
            expected=f"test accuracy of at least {threshold:.3f} (measured by the grader on the real test set)",
            received=f"test accuracy {accuracy:.4f}",
            hint=hint,
        )
    return accuracy


def reported_seconds(value: Any) -> float | None:
    """A duration the child reported, fit to show in a report (no points depend on it): a
    finite number of seconds from 0 to a day, rounded to 0.01 s; None for anything else.

    >>> reported_seconds(18.694), reported_seconds(float("nan")), reported_seconds(-1)
    (18.69, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_REPORTED_SECONDS:
        return None
    return round(float(value), 2)


def predicted_classes(obs, call: str = "predict_classes(model, images)") -> np.ndarray:
    """The class indices the student's prediction function returned (saved as `result`)."""
    raise_for_error(obs, "result", call)  # a declared call records under its key
    info = obs.get("result") or {}
    if not info.get("saved"):
        kind = str(info.get("type", "nothing"))
        hint = "take the argmax over the classes of model.predict(images)"
        if kind in ("builtins.list", "builtins.tuple"):
            hint = (
                "return a numpy array, not a Python list: np.array(classes), or "
                "np.argmax(model.predict(images), axis=1), which is one already"
            )
        elif info.get("shape") == []:
            hint = (
                "a single number: np.argmax without axis= flattens all the predictions; "
                "use axis=1 (one class per image)"
            )
        raise CheckFailed(expected="a numpy array of class indices", received=kind, hint=hint)
    return obs.array("result")


def check_class_shape(result: np.ndarray, images: int, classes: int) -> None:
    """One integer class per image, with the likely cause of the usual wrong shapes."""
    if result.shape == (images,) and result.dtype.kind in "iu":
        return
    hint = ""
    if result.shape == (images, classes):
        hint = "these are probabilities: take np.argmax(..., axis=1) to get classes"
    elif result.shape == (classes,):
        hint = "argmax over the wrong axis: use axis=1 (one class per image), not axis=0"
    elif result.shape == ():
        hint = "argmax without axis flattens everything: use axis=1"
    elif result.shape == (images,):
        hint = "return integer class indices (np.argmax gives them)"
    raise CheckFailed(
        expected=f"integers of shape ({images},)",
        received=f"dtype {result.dtype}, shape {result.shape}",
        hint=hint,
    )


def check_agreement(
    result: np.ndarray,
    reference: np.ndarray,
    classes: int,
    scaled_again: np.ndarray | None = None,
) -> None:
    """Exactly the classes the given model predicts (`reference`, its own argmax, computed by
    the grader): looking the true labels up cannot agree with an untrained model.
    `scaled_again`, when given, is that model's argmax on the images divided by 255 once more:
    a result that matches it is named as that mistake."""
    if result.shape != reference.shape:
        hint = ""
        if result.shape == (len(reference), classes):
            hint = "these are probabilities: take np.argmax(..., axis=1)"
        raise CheckFailed(
            expected=f"{len(reference)} class indices", received=f"shape {result.shape}", hint=hint
        )
    agreement = float(np.mean(result == reference))
    if agreement < 1.0:
        hint = (
            "use the model passed in and np.argmax(model.predict(images), axis=1); "
            "do not look labels up"
        )
        if scaled_again is not None and np.mean(result == scaled_again) >= 0.95:
            hint = (
                "the images come already scaled to [0, 1]: predict on them as they are "
                "(scaling them again leaves the model almost nothing to tell them apart)"
            )
        raise CheckFailed(
            expected="exactly the classes the given model predicts (argmax of model.predict)",
            received=f"{agreement:.1%} agreement",
            hint=hint,
        )

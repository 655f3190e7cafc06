"""Checks for build_model: architecture, parameter counts, input shape and compile settings.

The model is rebuilt in the grader from the `.keras` file in safe mode; the compile settings come
from the archive's plain-JSON `compile_config`. Every correct form passes: Sequential or
functional, `input_shape=` or `keras.Input`, string or `tf.nn` activations, and loss or optimizer
given as strings, functions or objects.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from autograder.checks.base import CheckFailed, GradingContext, check, raise_for_error
from autograder.exercise import HIDDEN_UNITS, NUM_CLASSES, SMALL_HIDDEN_UNITS, dense_params
from autograder.observations import ObservationError, PartObservation, compile_config

FLAT = 28 * 28
EXPECTED_LAYERS = ["Flatten", "Dense", "Dense"]


def normalise(identifier: Any) -> str:
    """'sparse_categorical_crossentropy', a serialized function or class -> 'sparsecategoricalcrossentropy'."""
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name == "function" or not isinstance(name, str):
            name = identifier.get("config")
        identifier = name
    return str(identifier or "").lower().replace("_", "").replace(" ", "")


@lru_cache(maxsize=8)
def _load(path_text: str):
    from pathlib import Path

    from autograder.observations import load_model

    return load_model(Path(path_text))


def model_for(obs: PartObservation, key: str, call: str):
    """The student's model built by `call`, loaded safely in the grader."""
    raise_for_error(obs, key, call)
    if f"{key}_saved" not in obs.data:
        raise CheckFailed(message=f"{call} returned nothing the grader could inspect.")
    if not obs.data.get(f"{key}_saved"):
        kind = obs.data.get(f"{key}_type", {}).get("type", "?")
        raise CheckFailed(
            expected="a keras Model",
            received=f"{kind} ({obs.data.get(f'{key}_save_error', 'it could not be saved')})",
            hint="return the model object itself (and only built-in Keras layers)",
        )
    try:
        return _load(str(obs.path(f"{key}.keras")))
    except ObservationError as exc:
        raise CheckFailed(
            message=f"The model returned by {call} cannot be graded: {exc}."
        ) from None


def graded_layers(model) -> list:
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def layer_names(model) -> list[str]:
    return [type(layer).__name__ for layer in graded_layers(model)]


def dense_layers(model) -> list:
    return [layer for layer in graded_layers(model) if type(layer).__name__ == "Dense"]


def activation_name(layer) -> str:
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", str(function))
    return {"softmax_v2": "softmax"}.get(name, name)


def param_counts(model) -> list[int]:
    return [int(layer.count_params()) for layer in dense_layers(model)]


def _architecture_hint(model, hidden: int) -> str:
    names = layer_names(model)
    if "Flatten" not in names and "Reshape" not in names:
        return "missing Flatten: without it Dense acts on each of the 28 rows separately"
    dense = dense_layers(model)
    if dense and int(dense[-1].units) != NUM_CLASSES:
        return f"the output layer needs {NUM_CLASSES} units, one per class"
    if len(dense) == 2 and int(dense[0].units) == SMALL_HIDDEN_UNITS and hidden == HIDDEN_UNITS:
        return "128 hidden units instead of 512: use the hidden_units argument (default 512)"
    if len(dense) == 2 and int(dense[0].units) != hidden:
        return (
            f"the hidden layer must have hidden_units ({hidden}) units, got {int(dense[0].units)}"
        )
    return ""


@check("build_model", "layer types and order", points=5)
def layer_order(obs: PartObservation, ctx: GradingContext) -> None:
    model = model_for(obs, "default", "build_model()")
    names = layer_names(model)
    if names != EXPECTED_LAYERS:
        raise CheckFailed(
            expected=" -> ".join(EXPECTED_LAYERS),
            received=" -> ".join(names) or "no layers",
            hint=_architecture_hint(model, HIDDEN_UNITS)
            or "use exactly Flatten, Dense(hidden_units, relu), Dense(10, softmax)",
        )


@check("build_model", "activations relu then softmax", points=4)
def activations(obs: PartObservation, ctx: GradingContext) -> None:
    model = model_for(obs, "default", "build_model()")
    got = [activation_name(layer) for layer in dense_layers(model)]
    if got != ["relu", "softmax"]:
        hint = ""
        if got[-1:] != ["softmax"]:
            hint = "the output layer needs softmax so the 10 outputs are class probabilities"
        elif got[:1] != ["relu"]:
            hint = "the hidden layer uses relu"
        raise CheckFailed(
            expected="Dense activations: relu, softmax",
            received=f"Dense activations: {', '.join(got) or 'none'}",
            hint=hint,
        )


def _check_params(model, hidden: int, call: str) -> None:
    expected = [dense_params(FLAT, hidden), dense_params(hidden, NUM_CLASSES)]
    got = param_counts(model)
    if got != expected:
        raise CheckFailed(
            expected=f"{call}: Dense parameters {expected[0]:,} and {expected[1]:,} "
            f"((784 + 1) x {hidden} and ({hidden} + 1) x 10)",
            received=f"{call}: Dense parameters " + (", ".join(f"{n:,}" for n in got) or "none"),
            hint=_architecture_hint(model, hidden),
        )


@check("build_model", "parameter counts 401,920 and 5,130", points=5)
def parameter_counts(obs: PartObservation, ctx: GradingContext) -> None:
    _check_params(model_for(obs, "default", "build_model()"), HIDDEN_UNITS, "build_model()")


@check("build_model", "hidden_units=128 gives 100,480 and 1,290", points=4)
def hidden_units_honoured(obs: PartObservation, ctx: GradingContext) -> None:
    model = model_for(obs, "small", "build_model(hidden_units=128)")
    dense = dense_layers(model)
    if dense and int(dense[0].units) == HIDDEN_UNITS:
        raise CheckFailed(
            expected="a hidden layer of 128 units for build_model(hidden_units=128)",
            received="512 units",
            hint="hidden_units is ignored: pass it to the first Dense layer instead of a fixed 512",
        )
    _check_params(model, SMALL_HIDDEN_UNITS, "build_model(hidden_units=128)")


@check("build_model", "input shape (None, 28, 28)", points=2)
def input_shape(obs: PartObservation, ctx: GradingContext) -> None:
    model = model_for(obs, "default", "build_model()")
    try:
        shape = tuple(model.input_shape)
    except (AttributeError, ValueError):
        shape = None
    if shape != (None, 28, 28):
        hint = ""
        if shape == (None, 784):
            hint = "the model should take 28 x 28 images and flatten them itself"
        elif shape is None:
            hint = "give the model an input: keras.Input((28, 28)) or input_shape=(28, 28)"
        raise CheckFailed(
            expected="input shape (None, 28, 28)", received=f"input shape {shape}", hint=hint
        )


def _compiled(obs: PartObservation) -> dict:
    model_for(obs, "default", "build_model()")
    config = compile_config(obs.path("default.keras"))
    if not config:
        raise CheckFailed(
            expected="a compiled model",
            received="a model that was never compiled",
            hint="call model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
        )
    return config


@check("build_model", "optimizer Adam", points=2)
def optimizer(obs: PartObservation, ctx: GradingContext) -> None:
    got = normalise(_compiled(obs).get("optimizer"))
    if got != "adam":
        raise CheckFailed(
            expected="the Adam optimizer",
            received=f"optimizer {got or 'none'}",
            hint="optimizer='adam'",
        )


@check("build_model", "loss sparse categorical cross-entropy", points=3)
def loss(obs: PartObservation, ctx: GradingContext) -> None:
    got = normalise(_compiled(obs).get("loss"))
    if got != "sparsecategoricalcrossentropy":
        hint = ""
        if got == "categoricalcrossentropy":
            hint = "categorical cross-entropy expects one-hot labels; the labels are integers 0-9, so use sparse_categorical_crossentropy"
        elif got in {"mse", "meansquarederror"}:
            hint = "mean squared error is for regression; this is a 10-class classification"
        raise CheckFailed(
            expected="loss sparse_categorical_crossentropy",
            received=f"loss {got or 'none'}",
            hint=hint,
        )


ACCURACY_NAMES = {"accuracy", "sparsecategoricalaccuracy"}


def _metric_names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _metric_names(item)]
    if isinstance(value, dict) and "class_name" not in value:
        return [name for item in value.values() for name in _metric_names(item)]
    return [normalise(value)] if value else []


@check("build_model", "accuracy metric", points=2)
def metric(obs: PartObservation, ctx: GradingContext) -> None:
    names = _metric_names(_compiled(obs).get("metrics"))
    if not ACCURACY_NAMES & set(names):
        hint = "metrics=['accuracy'] (so the logs use the key 'accuracy')"
        if "acc" in names:
            hint = "name the metric 'accuracy': with 'acc' the logs key is 'acc' and callbacks reading 'accuracy' fail"
        raise CheckFailed(
            expected="metrics=['accuracy']", received=f"metrics {names or 'none'}", hint=hint
        )

"""Graders of build_model: architecture, parameter counts, input shape and compile settings
(the model is loaded and inspected with autograder.scoring.keras_models)."""

from __future__ import annotations

from autograder.exercises.fashion_mnist.constants import (
    HIDDEN_UNITS,
    NUM_CLASSES,
    SMALL_HIDDEN_UNITS,
    dense_params,
)
from autograder.exercises.fashion_mnist.reference import Context
from autograder.readers.observations import PartObservation
from autograder.scoring import CheckFailed, grader
from autograder.scoring.keras_models import (
    activation_name,
    check_accuracy_metric,
    check_optimizer,
    check_sparse_loss,
    compiled,
    input_shape,
    layer_names,
    layers_of,
    model_for,
)

FLAT = 28 * 28
EXPECTED_LAYERS = ["Flatten", "Dense", "Dense"]


def dense_layers(model) -> list:
    return layers_of(model, "Dense")


def param_counts(model) -> list[int]:
    return [int(layer.count_params()) for layer in dense_layers(model)]


def _architecture_hint(model, hidden: int) -> str:
    names = layer_names(model)
    if "Flatten" not in names and "Reshape" not in names:
        return "missing Flatten: without it Dense acts on each of the 28 rows separately"
    dense = dense_layers(model)
    extra = [n for n in names if n in ("Softmax", "Activation", "ReLU")]
    if extra and dense:
        if activation_name(dense[-1]) == "softmax" and "Softmax" in extra:
            return (
                "an extra Softmax layer after Dense(10, activation='softmax') applies softmax "
                "twice: remove the Softmax layer"
            )
        return (
            f"a separate {extra[0]} layer: give each Dense layer its activation instead "
            "(Dense(hidden_units, activation='relu'), Dense(10, activation='softmax'))"
        )
    others = [n for n in names if n not in (*EXPECTED_LAYERS, "Reshape")]
    if others:
        return (
            f"the exercise's model has no {others[0]} layer: remove it (exactly Flatten, "
            "Dense(hidden_units, relu), Dense(10, softmax))"
        )
    if dense and int(dense[-1].units) != NUM_CLASSES:
        return f"the output layer needs {NUM_CLASSES} units, one per class"
    if len(dense) == 2 and int(dense[0].units) == SMALL_HIDDEN_UNITS and hidden == HIDDEN_UNITS:
        return "128 hidden units instead of 512: use the hidden_units argument (default 512)"
    if len(dense) == 2 and int(dense[0].units) != hidden:
        return (
            f"the hidden layer must have hidden_units ({hidden}) units, got {int(dense[0].units)}"
        )
    return ""


@grader("build_model", "layer types and order", points=5)
def test_layer_order(obs: PartObservation, ctx: Context) -> None:
    model = model_for(obs, "default", "build_model()")
    names = layer_names(model)
    if names != EXPECTED_LAYERS:
        raise CheckFailed(
            expected=" -> ".join(EXPECTED_LAYERS),
            received=" -> ".join(names) or "no layers",
            hint=_architecture_hint(model, HIDDEN_UNITS)
            or "use exactly Flatten, Dense(hidden_units, relu), Dense(10, softmax)",
        )


@grader("build_model", "activations relu then softmax", points=4)
def test_activations(obs: PartObservation, ctx: Context) -> None:
    model = model_for(obs, "default", "build_model()")
    got = [activation_name(layer) for layer in dense_layers(model)]
    if got != ["relu", "softmax"]:
        hint = ""
        separate = [n for n in layer_names(model) if n in ("Softmax", "Activation", "ReLU")]
        if separate:
            hint = _architecture_hint(model, HIDDEN_UNITS)
        elif got[-1:] != ["softmax"]:
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


@grader("build_model", "parameter counts 401,920 and 5,130", points=5)
def test_parameter_counts(obs: PartObservation, ctx: Context) -> None:
    _check_params(model_for(obs, "default", "build_model()"), HIDDEN_UNITS, "build_model()")


@grader("build_model", "hidden_units=128 gives 100,480 and 1,290", points=4)
def test_hidden_units_honoured(obs: PartObservation, ctx: Context) -> None:
    model = model_for(obs, "small", "build_model(hidden_units=128)")
    dense = dense_layers(model)
    if dense and int(dense[0].units) == HIDDEN_UNITS:
        raise CheckFailed(
            expected="a hidden layer of 128 units for build_model(hidden_units=128)",
            received="512 units",
            hint="hidden_units is ignored: pass it to the first Dense layer instead of a fixed 512",
        )
    _check_params(model, SMALL_HIDDEN_UNITS, "build_model(hidden_units=128)")


@grader("build_model", "input shape (None, 28, 28)", points=2)
def test_input_shape(obs: PartObservation, ctx: Context) -> None:
    shape = input_shape(model_for(obs, "default", "build_model()"))
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
    return compiled(obs, "default", "build_model()")


@grader("build_model", "optimizer Adam", points=2)
def test_optimizer(obs: PartObservation, ctx: Context) -> None:
    check_optimizer(_compiled(obs), "adam")


@grader("build_model", "loss sparse categorical cross-entropy", points=3)
def test_loss(obs: PartObservation, ctx: Context) -> None:
    check_sparse_loss(_compiled(obs), NUM_CLASSES)


@grader("build_model", "accuracy metric", points=2)
def test_metric(obs: PartObservation, ctx: Context) -> None:
    check_accuracy_metric(_compiled(obs))

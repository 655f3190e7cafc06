"""Graders of build_model: architecture, parameter counts, input shape and compile settings
(the model is loaded and inspected with autograder.scoring.keras_models)."""

from autograder.exercises.fashion_mnist.constants import HIDDEN_UNITS, NUM_CLASSES
from autograder.exercises.fashion_mnist.constants import SMALL_HIDDEN_UNITS as SMALL
from autograder.scoring import CheckFailed, checks, grader
from autograder.scoring import keras_models as km

EXPECTED_LAYERS = ["Flatten", "Dense", "Dense"]
SEPARATE = ("Softmax", "Activation", "ReLU")


def _model(obs):
    return km.model_for(obs, "default", "build_model()")


def _architecture_hint(model, hidden: int) -> str:
    names, dense = km.layer_names(model), km.layers_of(model, "Dense")
    extra = [n for n in names if n in SEPARATE]
    others = [n for n in names if n not in (*EXPECTED_LAYERS, "Reshape")]
    if "Flatten" not in names and "Reshape" not in names:
        return "missing Flatten: without it Dense acts on each of the 28 rows separately"
    if extra and dense and km.activation_name(dense[-1]) == "softmax" and "Softmax" in extra:
        return ("an extra Softmax layer after Dense(10, activation='softmax') applies softmax "
                "twice: remove the Softmax layer")  # fmt: skip
    if extra and dense:
        return (f"a separate {extra[0]} layer: give each Dense layer its activation instead "
                "(Dense(hidden_units, activation='relu'), Dense(10, activation='softmax'))")  # fmt: skip
    if others:
        return (f"the exercise's model has no {others[0]} layer: remove it (exactly Flatten, "
                "Dense(hidden_units, relu), Dense(10, softmax))")  # fmt: skip
    if dense and int(dense[-1].units) != NUM_CLASSES:
        return f"the output layer needs {NUM_CLASSES} units, one per class"
    units = int(dense[0].units) if len(dense) == 2 else hidden
    if units == SMALL and hidden == HIDDEN_UNITS:
        return "128 hidden units instead of 512: use the hidden_units argument (default 512)"
    return f"the hidden layer must have hidden_units ({hidden}) units, got {units}" if units != hidden else ""  # fmt: skip


@grader("build_model", "layer types and order", points=5)
def test_layer_order(obs, ctx) -> None:
    model = _model(obs)
    if km.layer_names(model) != EXPECTED_LAYERS:
        hint = _architecture_hint(model, HIDDEN_UNITS) or "use exactly Flatten, Dense(hidden_units, relu), Dense(10, softmax)"  # fmt: skip
        raise CheckFailed(expected=" -> ".join(EXPECTED_LAYERS),
                          received=" -> ".join(km.layer_names(model)) or "no layers", hint=hint)  # fmt: skip


@grader("build_model", "activations relu then softmax", points=4)
def test_activations(obs, ctx) -> None:
    model = _model(obs)
    got = [km.activation_name(layer) for layer in km.layers_of(model, "Dense")]
    if got != ["relu", "softmax"]:
        hint = ""
        if any(n in SEPARATE for n in km.layer_names(model)):
            hint = _architecture_hint(model, HIDDEN_UNITS)
        elif got[-1:] != ["softmax"]:
            hint = "the output layer needs softmax so the 10 outputs are class probabilities"
        elif got[:1] != ["relu"]:
            hint = "the hidden layer uses relu"
        raise CheckFailed(expected="Dense activations: relu, softmax",
                          received=f"Dense activations: {', '.join(got) or 'none'}", hint=hint)  # fmt: skip


def _check_params(model, hidden: int, call: str) -> None:
    checks.check_dense_params(
        model, call, 28 * 28, [hidden, NUM_CLASSES], _architecture_hint(model, hidden)
    )


@grader("build_model", "parameter counts 401,920 and 5,130", points=5)
def test_parameter_counts(obs, ctx) -> None:
    _check_params(_model(obs), HIDDEN_UNITS, "build_model()")


@grader("build_model", "hidden_units=128 gives 100,480 and 1,290", points=4)
def test_hidden_units_honoured(obs, ctx) -> None:
    model = km.model_for(obs, "small", "build_model(hidden_units=128)")
    dense = km.layers_of(model, "Dense")
    if dense and int(dense[0].units) == HIDDEN_UNITS:
        raise CheckFailed(
            expected="a hidden layer of 128 units for build_model(hidden_units=128)",
            received="512 units",
            hint="hidden_units is ignored: pass it to the first Dense layer instead of a fixed 512",
        )
    _check_params(model, SMALL, "build_model(hidden_units=128)")


@grader("build_model", "input shape (None, 28, 28)", points=2)
def test_input_shape(obs, ctx) -> None:
    shape = km.input_shape(_model(obs))
    if shape != (None, 28, 28):
        hint = {(None, 784): "the model should take 28 x 28 images and flatten them itself",
                None: "give the model an input: keras.Input((28, 28)) or input_shape=(28, 28)"}.get(shape, "")  # fmt: skip
        raise CheckFailed(expected="input shape (None, 28, 28)", received=f"input shape {shape}", hint=hint)  # fmt: skip


@grader("build_model", "optimizer Adam", points=2)
def test_optimizer(obs, ctx) -> None:
    km.check_optimizer(km.compiled(obs, "default", "build_model()"), "adam")


@grader("build_model", "loss sparse categorical cross-entropy", points=3)
def test_loss(obs, ctx) -> None:
    km.check_sparse_loss(km.compiled(obs, "default", "build_model()"), NUM_CLASSES)


@grader("build_model", "accuracy metric", points=2)
def test_metric(obs, ctx) -> None:
    km.check_accuracy_metric(km.compiled(obs, "default", "build_model()"))

"""Graders of build_model (architecture, parameters, compile settings) and of
layer_output_shapes (asked about the exercise's CNN and about CNNs of drawn sizes)."""

from __future__ import annotations

from autograder.exercises.fashion_mnist_cnn.constants import (
    FILTERS,
    NUM_CLASSES,
    SMALL_FILTERS,
    expected_params,
)
from autograder.exercises.fashion_mnist_cnn.reference import Context
from autograder.scoring import CheckFailed, grader, raise_for_error
from autograder.scoring.keras_models import (
    activation_name,
    check_accuracy_metric,
    check_optimizer,
    check_sparse_loss,
    compiled,
    graded_layers,
    input_shape,
    layer_names,
    model_for,
)

EXPECTED_LAYERS = [
    "Conv2D",
    "MaxPooling2D",
    "Conv2D",
    "MaxPooling2D",
    "Flatten",
    "Dense",
    "Dense",
]
WEIGHTED = ("Conv2D", "Dense")


def _model(obs, key: str = "default"):
    call = "build_model()" if key == "default" else f"build_model(filters={SMALL_FILTERS})"
    return model_for(obs, key, call)


def _architecture_hint(names: list[str]) -> str:
    if "Flatten" not in names:
        return "missing Flatten between the last pooling layer and the Dense layers"
    if names.count("Conv2D") != 2:
        return (
            f"two Conv2D layers, each followed by MaxPooling2D(2, 2); found {names.count('Conv2D')}"
        )
    if names.count("MaxPooling2D") != 2:
        return "each Conv2D is followed by MaxPooling2D(2, 2), which halves the image"
    others = [n for n in names if n not in EXPECTED_LAYERS]
    if others:
        return f"the exercise's model has no {others[0]} layer: remove it"
    return ""


@grader("build_model", "layer types and order", points=6)
def test_layer_order(obs, ctx: Context) -> None:
    names = layer_names(_model(obs))
    if names != EXPECTED_LAYERS:
        raise CheckFailed(
            expected=" -> ".join(EXPECTED_LAYERS),
            received=" -> ".join(names) or "no layers",
            hint=_architecture_hint(names)
            or "use exactly the layers listed in the notebook, in that order",
        )


@grader("build_model", "3x3 kernels, 2x2 pools, relu and softmax", points=5)
def test_kernels_and_activations(obs, ctx: Context) -> None:
    model = _model(obs)
    layers = graded_layers(model)
    kernels = [tuple(layer.kernel_size) for layer in layers if type(layer).__name__ == "Conv2D"]
    pools = [tuple(layer.pool_size) for layer in layers if type(layer).__name__ == "MaxPooling2D"]
    activations = [activation_name(layer) for layer in layers if type(layer).__name__ in WEIGHTED]
    if kernels != [(3, 3), (3, 3)] or pools != [(2, 2), (2, 2)]:
        raise CheckFailed(
            expected="Conv2D kernels (3, 3), (3, 3) and MaxPooling2D pools (2, 2), (2, 2)",
            received=f"kernels {kernels}, pools {pools}",
            hint="Conv2D(filters, (3, 3), activation='relu') and MaxPooling2D(2, 2)",
        )
    if activations != ["relu", "relu", "relu", "softmax"]:
        hint = "the output layer needs softmax so the 10 outputs are class probabilities"
        if activations[-1:] == ["softmax"]:
            hint = "the convolutions and the hidden Dense layer use relu"
        raise CheckFailed(
            expected="activations relu, relu, relu, softmax (Conv2D, Conv2D, Dense, Dense)",
            received=f"activations {', '.join(activations) or 'none'}",
            hint=hint,
        )


def _check_params(model, filters: int, call: str) -> None:
    expected = expected_params(filters)
    got = [
        int(layer.count_params())
        for layer in graded_layers(model)
        if type(layer).__name__ in WEIGHTED
    ]
    if got != expected:
        hint = _architecture_hint(layer_names(model))
        convs = [layer for layer in graded_layers(model) if type(layer).__name__ == "Conv2D"]
        if not hint and any(getattr(layer, "padding", "") == "same" for layer in convs):
            hint = (
                "padding='same' keeps each convolution's width and height, so Flatten hands "
                "the Dense layer more values: leave the default padding='valid'"
            )
        elif not hint and got[:1] == [expected[0]] and len(got) == 4 and got[2] != expected[2]:
            hint = "the Dense layer's parameters depend on the pooled size: check both MaxPooling2D"
        raise CheckFailed(
            expected=f"{call}: parameters " + ", ".join(f"{n:,}" for n in expected),
            received=f"{call}: parameters " + (", ".join(f"{n:,}" for n in got) or "none"),
            hint=hint,
        )


@grader("build_model", "parameters 640, 36,928, 204,928 and 1,290", points=6)
def test_parameter_counts(obs, ctx: Context) -> None:
    _check_params(_model(obs), FILTERS, "build_model()")


@grader("build_model", "filters=32 gives 320, 9,248, 102,528 and 1,290", points=5)
def test_filters_honoured(obs, ctx: Context) -> None:
    model = _model(obs, "small")
    convs = [layer for layer in graded_layers(model) if type(layer).__name__ == "Conv2D"]
    if convs and all(int(layer.filters) == FILTERS for layer in convs):
        raise CheckFailed(
            expected=f"Conv2D layers of {SMALL_FILTERS} filters for build_model(filters={SMALL_FILTERS})",
            received=f"{FILTERS} filters",
            hint="filters is ignored: pass it to both Conv2D layers instead of a fixed 64",
        )
    _check_params(model, SMALL_FILTERS, f"build_model(filters={SMALL_FILTERS})")


@grader("build_model", "input shape (None, 28, 28, 1)", points=2)
def test_input_shape(obs, ctx: Context) -> None:
    shape = input_shape(_model(obs))
    if shape != (None, 28, 28, 1):
        hint = "keras.Input(shape=(28, 28, 1)): one grey channel"
        if shape == (None, 28, 28):
            hint = "Conv2D needs a channel axis: keras.Input(shape=(28, 28, 1))"
        raise CheckFailed(
            expected="input shape (None, 28, 28, 1)", received=f"input shape {shape}", hint=hint
        )


@grader("build_model", "optimizer Adam", points=2)
def test_optimizer(obs, ctx: Context) -> None:
    check_optimizer(compiled(obs, "default", "build_model()"), "adam")


@grader("build_model", "loss sparse categorical cross-entropy", points=2)
def test_loss(obs, ctx: Context) -> None:
    check_sparse_loss(compiled(obs, "default", "build_model()"), NUM_CLASSES)


@grader("build_model", "accuracy metric", points=2)
def test_metric(obs, ctx: Context) -> None:
    check_accuracy_metric(compiled(obs, "default", "build_model()"))


def _shapes(obs, ctx: Context, ids: list[str]) -> None:
    records = obs.get("results")
    if not isinstance(records, list):
        raise CheckFailed(message="layer_output_shapes could not be called on a model.")
    by_id = {r.get("id"): r for r in records if isinstance(r, dict)}
    for model in (m for m in ctx.shape_models if m.id in ids):
        call = f"layer_output_shapes(model) for {model.describe()}"
        error = obs.error(model.id) or {}
        message = str(error.get("message", ""))
        if "output_shape" in message or "attribute 'as_list'" in message:
            keras2 = "layer.output_shape" if "output_shape" in message else "shape.as_list()"
            raise CheckFailed(
                message=f"{call} raised {error.get('type')}: {message[:200]}",
                hint=f"{keras2} is Keras 2 (a TensorShape); in Keras 3 layer.output.shape is a "
                "plain tuple: tuple(layer.output.shape[1:])",
            )
        raise_for_error(obs, model.id, call)
        record = by_id.get(model.id) or {}
        shapes = record.get("shapes")
        if not isinstance(shapes, list):
            returned = (record.get("returned") or {}).get("repr", "nothing")
            raise CheckFailed(
                expected="a list with one shape tuple per layer",
                received=str(returned)[:200],
                hint="return a list with one entry per layer of model.layers: its output "
                "shape without the batch axis, as a tuple",
            )
        got = [tuple(s) if isinstance(s, list) else s for s in shapes]
        expected = model.expected
        if got == expected:
            continue
        hint = ""
        if got and all(isinstance(s, tuple) and s[:1] == (None,) for s in got):
            hint = "leave out the batch dimension: layer.output.shape[1:]"
        elif model.id != "exercise" and got == ctx.shape_models[0].expected:
            hint = (
                "these are the exercise model's shapes: compute them from the model you are given"
            )
        elif len(got) != len(expected):
            hint = f"one shape per layer of model.layers ({len(expected)} layers)"
        raise CheckFailed(expected=f"{call}: {expected}", received=str(got)[:400], hint=hint)


@grader("layer_output_shapes", "shapes of the exercise's CNN", points=6)
def test_exercise_model_shapes(obs, ctx: Context) -> None:
    _shapes(obs, ctx, ["exercise"])


@grader("layer_output_shapes", "shapes of CNNs of other sizes", points=6)
def test_other_model_shapes(obs, ctx: Context) -> None:
    _shapes(obs, ctx, [m.id for m in ctx.shape_models if m.id != "exercise"])

"""Graders of build_model (architecture, parameters, compile settings) and of
layer_output_shapes (asked about the exercise's CNN and about CNNs of drawn sizes)."""

from __future__ import annotations

from autograder.exercises.fashion_mnist_cnn.constants import FILTERS, SMALL_FILTERS, expected_params
from autograder.scoring import CheckFailed, checks, grader
from autograder.scoring import keras_models as km

EXPECTED_LAYERS = ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
SMALL = f"build_model(filters={SMALL_FILTERS})"


def _model(obs, key: str = "default"):
    return km.model_for(obs, key, "build_model()" if key == "default" else SMALL)


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
    return f"the exercise's model has no {others[0]} layer: remove it" if others else ""


@grader("build_model", "layer types and order", points=6)
def test_layer_order(obs, ctx) -> None:
    model = _model(obs)
    checks.check_layer_order(model, EXPECTED_LAYERS, _architecture_hint(km.layer_names(model)))


@grader("build_model", "3x3 kernels, 2x2 pools, relu and softmax", points=5)
def test_kernels_and_activations(obs, ctx) -> None:
    model = _model(obs)
    kernels = [tuple(layer.kernel_size) for layer in km.layers_of(model, "Conv2D")]
    pools = [tuple(layer.pool_size) for layer in km.layers_of(model, "MaxPooling2D")]
    if kernels != [(3, 3), (3, 3)] or pools != [(2, 2), (2, 2)]:
        raise CheckFailed(
            expected="Conv2D kernels (3, 3), (3, 3) and MaxPooling2D pools (2, 2), (2, 2)",
            received=f"kernels {kernels}, pools {pools}",
            hint="Conv2D(filters, (3, 3), activation='relu') and MaxPooling2D(2, 2)",
        )
    hint = "the output layer needs softmax so the 10 outputs are class probabilities"
    weighted = [layer for layer in model.layers if type(layer).__name__ in ("Conv2D", "Dense")]
    if [km.activation_name(layer) for layer in weighted[-1:]] == ["softmax"]:
        hint = "the convolutions and the hidden Dense layer use relu"
    checks.check_activations(model, ["relu", "relu", "relu", "softmax"], hint)


def _check_params(model, filters: int, call: str) -> None:
    got, expected = checks.weighted_params(model), expected_params(filters)
    hint = _architecture_hint(km.layer_names(model))
    if not hint and any(layer.padding == "same" for layer in km.layers_of(model, "Conv2D")):
        hint = ("padding='same' keeps each convolution's width and height, so Flatten hands "
                "the Dense layer more values: leave the default padding='valid'")  # fmt: skip
    elif not hint and got[:1] == expected[:1] and len(got) == 4 and got[2] != expected[2]:
        hint = "the Dense layer's parameters depend on the pooled size: check both MaxPooling2D"
    checks.check_params(got, expected, call, hint)


@grader("build_model", "parameters 640, 36,928, 204,928 and 1,290", points=6)
def test_parameter_counts(obs, ctx) -> None:
    _check_params(_model(obs), FILTERS, "build_model()")


@grader("build_model", "filters=32 gives 320, 9,248, 102,528 and 1,290", points=5)
def test_filters_honoured(obs, ctx) -> None:
    model = _model(obs, "small")
    convs = km.layers_of(model, "Conv2D")
    if convs and all(int(layer.filters) == FILTERS for layer in convs):
        raise CheckFailed(
            expected=f"Conv2D layers of {SMALL_FILTERS} filters for {SMALL}",
            received=f"{FILTERS} filters",
            hint="filters is ignored: pass it to both Conv2D layers instead of a fixed 64",
        )
    _check_params(model, SMALL_FILTERS, SMALL)


@grader("build_model", "input shape (None, 28, 28, 1)", points=2)
def test_input_shape(obs, ctx) -> None:
    model = _model(obs)
    hint = "keras.Input(shape=(28, 28, 1)): one grey channel"
    if km.input_shape(model) == (None, 28, 28):
        hint = "Conv2D needs a channel axis: keras.Input(shape=(28, 28, 1))"
    checks.check_input_shape(model, (None, 28, 28, 1), hint)


@grader("build_model", "optimizer Adam", points=2)
def test_optimizer(obs, ctx) -> None:
    km.check_optimizer(km.compiled(obs, "default", "build_model()"), "adam")


@grader("build_model", "loss sparse categorical cross-entropy", points=2)
def test_loss(obs, ctx) -> None:
    km.check_sparse_loss(km.compiled(obs, "default", "build_model()"), 10)


@grader("build_model", "accuracy metric", points=2)
def test_metric(obs, ctx) -> None:
    km.check_accuracy_metric(km.compiled(obs, "default", "build_model()"))


def _shapes(obs, ctx, ids: tuple[str, ...]) -> None:
    for model in (m for m in ctx.shape_models if m.id in ids):
        call = f"layer_output_shapes(model) for {model.describe()}"
        got = checks.returned_shapes(obs, model.id, call)
        hint = ""
        if model.id != "exercise" and got == ctx.shape_models[0].expected:
            hint = (
                "these are the exercise model's shapes: compute them from the model you are given"
            )
        checks.check_shapes(got, model.expected, call, hint=hint)


@grader("layer_output_shapes", "shapes of the exercise's CNN", points=6)
def test_exercise_model_shapes(obs, ctx) -> None:
    _shapes(obs, ctx, ("exercise",))


@grader("layer_output_shapes", "shapes of CNNs of other sizes", points=6)
def test_other_model_shapes(obs, ctx) -> None:
    _shapes(obs, ctx, ("m0", "m1"))

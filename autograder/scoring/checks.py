"""One-line checks for the graders of any Keras exercise, over what declared parts record
(autograder/declare.py). Each raises `CheckFailed` with what was expected, what came back and,
where a common mistake explains it, a hint; each says in its docstring what it checks.

Example (a regression exercise's graders):
    @grader("predict_price", "the model's price, as a float", points=10)
    def test_price(obs, ctx):
        check_close(returned_number(obs, "result", "predict_price(model, bedrooms)"),
                    ctx.price, "the start model's price", atol=1e-4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.model_eval import predict_probabilities
from autograder.readers.observations import MODEL_SUFFIX, trained_steps
from autograder.scoring.feedback import SHAPE_CHANGED_HINT, CheckFailed, raise_for_error
from autograder.scoring.keras_models import (
    activation_name,
    check_optimizer,
    compiled,
    input_shape,
    layer_names,
    model_for,
    normalise,
)

# Keras' short names of its losses, and what each is: the student may write either.
LOSS_ALIASES = {
    "mse": "meansquarederror",
    "mae": "meanabsoluteerror",
    "mape": "meanabsolutepercentageerror",
    "msle": "meansquaredlogarithmicerror",
}


def raise_for_call(obs, key: str, call: str) -> None:
    """Fail with the student's own error when the call `key` raised, or when an earlier call of
    the part did (then `key` never ran: a pipeline whose first function is still a stub)."""
    raise_for_error(obs, key, call)
    calls = obs.get("calls")
    for made in calls if isinstance(calls, list) else []:
        earlier = made.get("key") if isinstance(made, dict) else None
        if isinstance(earlier, str) and earlier != key and obs.error(earlier):
            raise_for_error(obs, earlier, f"{str(made.get('function', earlier))[:60]}()")


def _kind(info: dict) -> str:
    kind = str(info.get("type", "nothing")).rsplit(".", 1)[-1]
    return f"{kind} of shape {tuple(info['shape'])}" if "shape" in info else kind


def returned_array(obs, key: str, call: str, hint: str = "") -> np.ndarray:
    """What `call` returned, as an array (a numeric NumPy array or tensor); fails with the
    student's own error when the call raised, or when something else came back (with `hint`)."""
    raise_for_call(obs, key, call)
    info = obs.get(key) or {}
    _raise_over_bound(info)
    if not info.get("saved"):
        raise CheckFailed(expected="a numeric NumPy array", received=_kind(info), hint=hint)
    return obs.array(key)


# Keras 2's ways to read a shape, gone in Keras 3 (where shapes are plain tuples).
KERAS2_SHAPES = {"output_shape": "layer.output_shape", "attribute 'as_list'": "shape.as_list()"}


def returned_shapes(obs, key: str, call: str) -> list:
    """The list of shapes `call` returned (a declared call with returns="shapes"), each a tuple
    of ints or None; fails with the student's own error (and a hint when it is Keras 2's
    `output_shape` or `as_list()`), or when something other than a list of shapes came back."""
    error = obs.error(key) or {}
    message = str(error.get("message", ""))
    for marker, keras2 in KERAS2_SHAPES.items():
        if marker in message:
            raise CheckFailed(
                message=f"{call} raised {error.get('type')}: {message[:200]}",
                hint=f"{keras2} is Keras 2 (a TensorShape); in Keras 3 layer.output.shape is a "
                "plain tuple: tuple(layer.output.shape[1:])",
            )
    raise_for_call(obs, key, call)
    shapes = obs.get(f"{key}_shapes")
    if not isinstance(shapes, list):
        raise CheckFailed(
            expected="a list with one shape tuple per layer",
            received=str((obs.get(key) or {}).get("repr", "nothing"))[:200],
            hint="return a list with one entry per layer of model.layers: its output "
            "shape without the batch axis, as a tuple",
        )
    return [tuple(s) if isinstance(s, list) else s for s in shapes]


def check_shapes(got: list, expected: list, call: str, hint: str = "") -> None:
    """The shapes `call` returned (`returned_shapes`) are `expected`, one per layer without the
    batch axis; fails with a hint for a batch axis kept or a shape missing, else `hint`."""
    if got == expected:
        return
    if got and all(isinstance(s, tuple) and s[:1] == (None,) for s in got):
        hint = "leave out the batch dimension: layer.output.shape[1:]"
    elif not hint and len(got) != len(expected):
        hint = f"one shape per layer of model.layers ({len(expected)} layers)"
    raise CheckFailed(expected=f"{call}: {expected}", received=str(got)[:400], hint=hint)


def returned_items(obs, key: str, call: str, count: int) -> list[np.ndarray]:
    """The `count` arrays of the tuple `call` returned (`return xs, ys`)."""
    raise_for_call(obs, key, call)
    info = obs.get(key) or {}
    saved = [obs.get(f"{key}_item_{i}") or {} for i in range(count)]
    for item in saved:
        _raise_over_bound(item)
    if not all(item.get("saved") for item in saved):
        raise CheckFailed(
            expected=f"a tuple of {count} NumPy arrays",
            received=_kind(info) + ": " + str(info.get("repr", ""))[:80],
            hint=f"return them together: `return {', '.join(f'a{i}' for i in range(count))}`",
        )
    return [obs.array(f"{key}_item_{i}") for i in range(count)]


def _raise_over_bound(info: dict) -> None:
    """CheckFailed when the child left an array unsaved for holding more values than the
    grader reads (autograder/child/declared.py); the grader's reader bounds a saved one."""
    bound = info.get("over_bound")
    if type(bound) is int:
        raise CheckFailed(
            expected=f"an array of at most {bound:,} values", received=_kind(info)[:200]
        )


def returned_number(obs, key: str, call: str) -> float:
    """What `call` returned, as a float: a Python number or a NumPy scalar; an array (even of
    one element) fails with a hint to convert it, since a caller expects a number."""
    raise_for_call(obs, key, call)
    info = obs.get(key) or {}
    number = obs.get(f"{key}_number")
    if number is not None and info.get("shape") in (None, []):
        return float(number)
    hint = ""
    if number is not None:
        hint = "convert the single value to a float: `float(prediction[0][0])`"
    raise CheckFailed(expected="a float", received=_kind(info), hint=hint)


def check_close(got: Any, expected: Any, what: str, *, atol: float = 1e-6, hint: str = "") -> None:
    """`got` equals `expected` within `atol`: same shape first, then every value. Only a `got`
    of the expected size is converted (a student's array of another size is refused by its
    shape, never copied)."""
    got, expected = _unconverted(got), np.asarray(expected, dtype=float)
    if got.size != expected.size:
        raise CheckFailed(
            expected=f"{what}: shape {expected.shape}", received=f"shape {got.shape}", hint=hint
        )
    # The same values in another shape are judged as values.
    got = _as_floats(got).reshape(expected.shape)
    if not np.allclose(got, expected, atol=atol, rtol=0):
        raise CheckFailed(expected=f"{what}: {_values(expected)}", received=_values(got), hint=hint)


def _unconverted(value: Any) -> np.ndarray:
    """`value` as an array without a copy when it is one (an array the reader bounded); a
    Python number or list (from bounded JSON) as it is."""
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def _as_floats(array: np.ndarray) -> np.ndarray:
    """The values as float64, for comparing; CheckFailed when they are not numbers."""
    try:
        return np.asarray(array, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(expected="numbers", received=f"values of type {array.dtype}") from None


def _values(array: np.ndarray) -> str:
    flat = array.ravel()
    if flat.size == 1:
        return f"{flat[0]:.4g}"
    shown = ", ".join(f"{v:.4g}" for v in flat[:6])
    return f"[{shown}{', ...' if flat.size > 6 else ''}]" if array.ndim else shown


def check_channels_last(got: np.ndarray, images: np.ndarray) -> None:
    """`got` is the images (n, height, width) given with a channel axis last: (n, height,
    width, 1); the hint names the usual mistakes (no channel axis, channels first, a batch
    axis in front, the image count lost)."""
    expected = (*images.shape, 1)
    if got.shape == expected:
        return
    size = ", ".join(map(str, images.shape[1:]))
    reshape = f"reshape(-1, {size}, 1)"
    hint = ""
    if got.shape == images.shape:
        hint = f"add the channel axis: images.{reshape} or images[..., np.newaxis]"
    elif got.shape == (len(images), 1, *images.shape[1:]):
        hint = f"the channel axis goes last (channels_last): (N, {size}, 1), not (N, 1, {size})"
    elif got.shape == (1, *images.shape):
        hint = ("the new axis was added in front (a batch axis) instead of at the end (the "
                f"channel axis): images[..., np.newaxis] or {reshape}")  # fmt: skip
    elif got.shape[:1] != expected[:1]:
        hint = f"keep one entry per image: {reshape} or reshape(len(images), {size}, 1)"
    raise CheckFailed(expected=f"shape {expected}", received=f"shape {got.shape}", hint=hint)


def check_scaled(got: np.ndarray, raw: np.ndarray, what: str, *, scale: float = 255.0) -> None:
    """`got` holds the values of `raw` divided by `scale` (in any shape of the same size), with
    a hint for the usual mistakes: not divided, divided twice, integer division (`//`)."""
    expected = np.asarray(raw, dtype=np.float64).reshape(-1) / scale
    if got.size != expected.size:
        raise CheckFailed(expected=f"{expected.size} values", received=f"{got.size} values")
    values = _as_floats(got).reshape(-1)
    if not np.allclose(values, expected, atol=1e-6):
        hint = ""
        if np.allclose(values, expected * scale):
            hint = f"the pixels are not scaled: divide by {scale:g}"
        elif float(values.max()) <= 1 / scale + 1e-9:
            hint = f"divided by {scale:g} twice"
        elif np.array_equal(values, np.asarray(raw).reshape(-1) // scale):
            hint = (
                f"`// {scale:g}` is integer division (everything becomes 0 or 1): use `/ {scale:g}`"
            )
        raise CheckFailed(
            expected=what,
            received=f"values from {values.min():g} to {values.max():g}",
            hint=hint,
        )


def check_dtype(got: np.ndarray, dtype: str, hint: str = "") -> None:
    """`got` has the NumPy dtype `dtype` (e.g. "float32")."""
    if got.dtype != np.dtype(dtype):
        raise CheckFailed(expected=f"dtype {dtype}", received=f"dtype {got.dtype}", hint=hint)


def check_unchanged(obs, key: str, call: str, hint: str = "") -> None:
    """`call` left every input array it was given as it was; the hint says so for an array
    reshaped in place (`images.shape = ...`), else `hint` or a general one."""
    raise_for_call(obs, key, call)
    changed = obs.get(f"{key}_changed")
    if changed != []:  # missing means unknown, and unknown never earns the points
        if obs.get(f"{key}_reshaped"):
            hint = SHAPE_CHANGED_HINT
        raise CheckFailed(
            expected="the input arrays as they were given",
            received=f"{', '.join(map(str, changed or ['nothing to compare']))} modified in place",
            hint=hint
            or "compute a new array (`xs * 2`) instead of changing the argument (`xs *= 2`)",
        )


def check_layers(obs, key: str, call: str, layers: list[str], params: int, hint: str = ""):
    """The model `call` returned has exactly these layer classes and this many parameters; the
    model, for further checks."""
    raise_for_call(obs, key, call)
    model = model_for(obs, key, call)
    names, count = layer_names(model), int(model.count_params())
    if names != layers or count != params:
        raise CheckFailed(
            expected=f"layers {layers} with {params:,} parameters",
            received=f"layers {names} with {count:,} parameters",
            hint=hint,
        )
    return model


def check_layer_order(model, expected: list[str], hint: str = "") -> None:
    """The model's layers (its InputLayer aside) are exactly the classes `expected`, in order."""
    names = layer_names(model)
    if names != expected:
        raise CheckFailed(
            expected=" -> ".join(expected),
            received=" -> ".join(names) or "no layers",
            hint=hint or "use exactly the layers listed in the notebook, in that order",
        )


def check_activations(model, expected: list[str], hint: str, kinds=("Conv2D", "Dense")) -> None:
    """The activations of the model's layers of the classes `kinds` (its weighted layers), in
    order, are `expected` (Keras' names: "relu", "softmax", "linear" for none)."""
    layers = [layer for layer in model.layers if type(layer).__name__ in kinds]
    got = [activation_name(layer) for layer in layers]
    if got != expected:
        classes = ", ".join(type(layer).__name__ for layer in layers)
        raise CheckFailed(
            expected=f"activations {', '.join(expected)}",
            received=f"activations {', '.join(got) or 'none'} ({classes})",
            hint=hint,
        )


def weighted_params(model, kinds: tuple[str, ...] = ("Conv2D", "Dense")) -> list[int]:
    """The parameters (weights plus biases) of each of the model's layers of the classes
    `kinds`, in order."""
    return [int(layer.count_params()) for layer in model.layers if type(layer).__name__ in kinds]


def check_params(got: list[int], expected: list[int], call: str, hint: str = "") -> None:
    """The parameters per layer (`weighted_params`) of the model `call` returned are
    `expected`."""
    if got != expected:
        raise CheckFailed(
            expected=f"{call}: parameters " + ", ".join(f"{n:,}" for n in expected),
            received=f"{call}: parameters " + (", ".join(f"{n:,}" for n in got) or "none"),
            hint=hint,
        )


def check_input_shape(model, expected: tuple, hint: str = "") -> None:
    """The model's input shape (batch axis included, None) is `expected`."""
    shape = input_shape(model)
    if shape != expected:
        raise CheckFailed(
            expected=f"input shape {expected}", received=f"input shape {shape}", hint=hint
        )


def check_compiled(obs, key: str, call: str, *, optimizer: str, loss: str) -> None:
    """The model `call` returned was compiled with this optimizer and this loss (any of Keras'
    spellings: a string, its short name, a function or an object)."""
    raise_for_call(obs, key, call)
    config = compiled(obs, key, call)
    check_optimizer(config, optimizer)
    got_loss, wanted = normalise(config.get("loss")), normalise(loss)
    if LOSS_ALIASES.get(got_loss, got_loss) != LOSS_ALIASES.get(wanted, wanted):
        raise CheckFailed(
            expected=f"loss {loss}",
            received=f"loss {got_loss or 'none'}",
            hint=f"model.compile(..., loss='{loss}')",
        )


def trained_epochs(obs, key: str, call: str) -> list[int]:
    """The epochs of the History `call` returned (fails when it returned anything but Keras'
    own History, whatever its attributes say)."""
    raise_for_call(obs, key, call)
    epochs = obs.get(f"{key}_epochs")
    if epochs is None or not obs.get(f"{key}_is_history"):
        kind = str((obs.get(key) or {}).get("type", "nothing"))[:100]
        raise CheckFailed(
            expected="the keras.callbacks.History that model.fit returns",
            received=f"a {kind} object" if kind != "nothing" else "nothing",
            hint="return model.fit(...)",
        )
    return list(epochs)


def optimizer_steps(obs, model_key: str) -> int:
    """How many steps the optimizer of the saved model `model_key` took (the grader reads the
    step counter from the model file itself, never from what the child reports)."""
    # The manifest's step counter only: the model itself is not built for this.
    return int(trained_steps(obs.path(f"{model_key}{MODEL_SUFFIX}"), obs.model_limits()) or 0)


def outputs(obs, model_key: str, call: str, inputs: np.ndarray) -> np.ndarray:
    """The saved model `model_key`'s outputs on `inputs`, computed here by the grader."""
    raise_for_call(obs, model_key, call)
    model = model_for(obs, model_key, call)
    return predict_probabilities(model, np.asarray(inputs, dtype="float32"))


def check_epochs(
    obs, key: str, call: str, model_key: str, epochs: int, training: Training | None = None
) -> None:
    """The History `call` returned ran `epochs` epochs, and the model it trained (saved as
    `model_key`) took the same number of optimizer steps in each (any batch size). With the
    call's `training` (`declared_training`), the steps are proven by the grader's replay
    (`check_trained`), not taken from the step counter alone."""
    seen, steps = trained_epochs(obs, key, call), optimizer_steps(obs, model_key)
    if seen != list(range(epochs)) or not steps or steps % epochs:
        raise CheckFailed(
            expected=f"{epochs} epochs ({call} was given epochs={epochs})",
            received=f"{len(seen)} epochs in the History, {steps} optimizer steps",
            hint="pass the argument on: model.fit(..., epochs=epochs)",
        )
    if training is not None:
        check_trained(obs, model_key, call, training)


def check_loss_drops(obs, model_key: str, call: str, xs, ys, before: float) -> None:
    """The saved model `model_key`'s mean squared error on (`xs`, `ys`), computed here, is
    below `before` (the start weights' own)."""
    got = outputs(obs, model_key, call, np.asarray(xs).reshape(len(xs), -1))
    after = float(np.mean((got.reshape(len(ys), -1)[:, 0] - np.asarray(ys)) ** 2))
    if not after < before:
        raise CheckFailed(
            expected=f"a loss below {before:.4g} (the model's before training)",
            received=f"{after:.4g}",
            hint="train the model you are given, on the data you are given",
        )


def check_outputs(
    obs, model_key: str, call: str, inputs, expected, what: str, *, atol: float, hint: str = ""
) -> None:
    """The saved model `model_key`'s outputs on `inputs`, computed here, equal `expected`
    within `atol`."""
    check_close(outputs(obs, model_key, call, inputs), expected, what, atol=atol, hint=hint)


def epochs_trained(obs, key: str, call: str, model_key: str) -> int:
    """How many epochs the History `call` returned says it ran, checked against the model it
    trained (kept as `model_key`, `Call(keep_model=...)`): a Keras History whose model's
    optimizer took the same whole number of steps in each epoch (any batch size). Fails for a
    forged History (not Keras' own, without its model, or with an untrained one).

    Example:
        epochs = epochs_trained(obs, "result", "train_mnist(images, labels)", "trained")
    """
    epochs = trained_epochs(obs, key, call)
    if not obs.data.get(f"{model_key}_saved"):
        raise CheckFailed(
            expected=f"the History of the model {call} trained",
            received="a History without its model",
            hint="return what model.fit(...) returns",
        )
    steps = optimizer_steps(obs, model_key)
    if not epochs or epochs != list(range(len(epochs))) or not steps or steps % len(epochs):
        raise CheckFailed(
            expected="a History whose epochs each took the model's optimizer the same steps",
            received=f"{len(epochs)} epochs in the History, {steps} optimizer steps",
            hint="return what model.fit(...) returns",
        )
    return len(epochs)


def check_accuracy(obs, model_key: str, call: str, images, labels, at_least: float, hint=""):
    """The saved model `model_key`'s accuracy on (`images`, `labels`), computed here by the
    grader, is at least `at_least`; the accuracy, for further checks.

    Example:
        check_accuracy(obs, "trained", "train_mnist(images, labels)", ctx.images, ctx.labels, 0.99)
    """
    got = outputs(obs, model_key, call, images)
    if got.ndim != 2 or got.shape[0] != len(labels):
        raise CheckFailed(expected="one row of class scores per image", received=f"{got.shape}")
    accuracy = float(np.mean(got.argmax(axis=1) == np.asarray(labels)))
    if accuracy < at_least:
        raise CheckFailed(
            expected=f"an accuracy of at least {at_least:g} on the training images",
            received=f"{accuracy:.4f}",
            hint=hint,
        )
    return accuracy


# -- Training is proven by the grader's own evidence ---------------------------------------------
# The child controls everything it saves: the weights, the optimizer's step counter, the History.
# None of them alone proves a training. What does is a computation the grader makes itself: it
# replays the optimizer the model was compiled with, from the start weights it knows, on its own
# copy of the data, for the steps the model file claims, and the weights that came back must be
# the ones that replay reaches; and the loss on the grader's data must have dropped from the
# start's. Weights written by hand (the known answer), one epoch with forged counters, or a model
# trained from other weights reach none of them: passing means computing that training.

# With one batch per epoch the order of the examples does not matter and the replay is the same
# computation: the returned weights must be the replay's, within this fraction of how far the
# replay moved from the start (float32 rounding only).
REPLAY_TOLERANCE_ONE_BATCH = 0.02
# With several, `fit` shuffles them in an order the grader cannot know: two orders end about
# 0.65 of the move apart, so the position proves little. The length of the move does: from
# drawn Fashion-MNIST starts, N shuffled epochs moved 0.99-1.02 x the grader's ordered replay of
# N epochs, N - 1 epochs 0.84-0.93 x and one epoch of N = 3-7 0.43-0.62 x (of N = 2, 0.74 x);
# housing_prices' six examples in batches of 2 moved 1.14 x. The move must be within this
# factor of the replay's either way.
REPLAY_LENGTH_BAND = 1.5
REPLAY_ATOL = 1e-5
# The grader's replay costs steps x batch size example passes of a vetted model, each about its
# parameter count in multiply-adds: both bounded (a forged step counter asks for no more).
MAX_REPLAY_EXAMPLES = 1_000_000
MAX_REPLAY_WORK = 10**10  # example passes x parameters: Fashion-MNIST's 5 epochs are 2.6e8
# Keras' own optimizers and losses, the only ones the grader rebuilds from a compile config.
REPLAYED_OPTIMIZERS = frozenset(
    {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"}
)
REPLAYED_LOSSES = frozenset(
    {"MeanSquaredError", "MeanAbsoluteError", "SparseCategoricalCrossentropy",
     "CategoricalCrossentropy", "BinaryCrossentropy", "Huber"}
)  # fmt: skip


# A real fit stays near where it started: 1 to 20 epochs of Fashion-MNIST's subset from drawn
# Glorot weights keep the kernels' correlation with their start at 0.99 to 0.91; weights that
# started elsewhere (another part's fits, another initialisation) correlate about 0.0.
MIN_START_CORRELATION = 0.5
# Below this many kernel values a correlation says nothing (one neuron has one).
MIN_CORRELATED_VALUES = 100


def start_correlation(weights: list[np.ndarray], start: list[np.ndarray]) -> float:
    """The correlation of the kernels that came back with the kernels the call started from."""
    pairs = [(a, b) for a, b in zip(weights, start, strict=True) if np.ndim(b) > 1]
    if not pairs or any(np.shape(a) != np.shape(b) for a, b in pairs):
        return 0.0
    now = np.concatenate([np.ravel(a) for a, _ in pairs]).astype(np.float64)
    before = np.concatenate([np.ravel(b) for _, b in pairs]).astype(np.float64)
    if not np.all(np.isfinite(now)) or now.std() == 0 or before.std() == 0:
        return 0.0
    return float(np.corrcoef(now, before)[0, 1])


def check_started_from(weights: list[np.ndarray], start: list[np.ndarray]) -> None:
    """The weights that came back were trained from `start`, the weights the grader gave (their
    kernels still correlate with it, as a few epochs of training leave them), when the kernels
    are many enough for a correlation to say so."""
    kernels = sum(int(np.size(b)) for b in start if np.ndim(b) > 1)
    if len(weights) == len(start) and kernels < MIN_CORRELATED_VALUES:
        return
    if len(weights) != len(start) or start_correlation(weights, start) < MIN_START_CORRELATION:
        raise CheckFailed(
            expected="the model that was passed in, trained from its own weights by model.fit",
            received="weights that did not start from the ones it was given",
            hint="train the model that was passed in; do not copy, load or keep weights into it",
        )


@dataclass(frozen=True)
class Training:
    """One training call as the grader knows it, all its own copies: the weights the model
    started from, the examples it was given and the epochs it was asked for."""

    start: list[np.ndarray]
    xs: np.ndarray
    ys: np.ndarray
    epochs: int


@dataclass(frozen=True)
class TrainingEvidence:
    """What the grader measured of one training: the optimizer steps the model file states, the
    loss on the grader's data before and after, the batches per epoch those steps imply, and how
    far the returned weights are from the grader's replay (a fraction of the replay's move)."""

    steps: int
    start_loss: float
    loss: float
    batches: int
    replay_distance: float | None  # None: the replay could not be made (`replay_error` says why)
    replay_error: str = ""
    length_ratio: float = float("nan")  # the returned weights' move / the replay's move

    def replayed(self) -> bool:
        """The returned weights are where the grader's replay says the training ends: the
        replay's position (one batch an epoch), the length of its move (several)."""
        if self.replay_distance is None:
            return False
        if self.batches == 1:
            return self.replay_distance <= REPLAY_TOLERANCE_ONE_BATCH
        band = REPLAY_LENGTH_BAND
        return bool(1 / band <= self.length_ratio <= band)


def declared_training(obs, ctx, call) -> Training:
    """The `Training` of a declared training call (autograder/declare.py), resolved from the
    grader's own values: the model argument's start (`StartModel(weights=name)` is `ctx.<name>`,
    `Returned(key)` the model the child saved under `key` before the call), the examples (the
    next two arguments: `Input` is `ctx.<name>`, `Returned(key, i)` the array saved under
    `key_item_i`) and `epochs` (a `Setting`, or a plain number)."""
    from autograder.declare import Input, Returned, Setting, StartModel

    model, xs, ys = call.args[:3]
    if isinstance(model, StartModel) and model.weights:
        start = [np.asarray(w) for w in getattr(ctx, model.weights)]
    elif isinstance(model, Returned):
        built = model_for(obs, model.key, f"{model.key}()")
        start = [np.asarray(w) for w in built.get_weights()]
    else:
        raise ValueError(f"{call!r}: its model must be StartModel(weights=...) or Returned(...)")

    def value(argument):
        if isinstance(argument, (Input, Setting)):
            return getattr(ctx, argument.name)
        if isinstance(argument, Returned):
            return obs.array(f"{argument.key}_item_{argument.index}")
        return argument

    epochs = int(value(call.kwargs.get("epochs", 1)))
    return Training(start, np.asarray(value(xs)), np.asarray(value(ys)), epochs)


def _plain_config(config: Any) -> dict | None:
    """An optimizer's or loss's config with only plain values (numbers, booleans, short
    strings, None); None when anything else is in it (a schedule, a nested object)."""
    if not isinstance(config, dict) or len(config) > 40:
        return None
    plain = (bool, int, float, type(None))
    for value in config.values():
        if not isinstance(value, plain) and not (isinstance(value, str) and len(value) <= 100):
            return None
    return dict(config)


def _keras_object(spec: Any, module, allowed: frozenset[str], what: str):
    """One of Keras' own optimizers or losses from a compile config's entry: a name (`"sgd"`)
    or a serialized object of an allowed class with plain settings. ValueError otherwise."""
    if isinstance(spec, str) and len(spec) <= 100:
        return module.get(spec)
    if isinstance(spec, dict):
        name, config = spec.get("class_name"), _plain_config(spec.get("config"))
        module_name = spec.get("module")
        if name in allowed and config is not None and module_name in (None, module.__name__):
            return getattr(module, name).from_config(config)
    raise ValueError(f"a {what} the grader cannot replay (one of Keras' own, plain settings)")


def _batches(steps: int, epochs: int, examples: int) -> int | None:
    """The batches per epoch `steps` over `epochs` epochs imply, when a batch size of the
    `examples` gives exactly that many; None otherwise."""
    if epochs < 1 or steps % epochs:
        return None
    batches = steps // epochs
    if not 1 <= batches <= examples:
        return None
    size = -(-examples // batches)
    return batches if -(-examples // size) == batches else None


def _flat(weights: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(w) for w in weights]).astype(np.float64)


# The grader's replay runs as one fit over the batches laid end to end (the per-epoch start of
# Keras' fit costs 20-40 ms: 500 one-batch epochs took seconds) when they fit in this memory.
MAX_REPLAY_BYTES = 64 * 2**20
EAGER_REPLAY_STEPS = 50


def _compiled_copy(model, config: dict, steps_per_execution: int = 1, eager: bool = False):
    """A copy of `model`'s architecture compiled as the model file says, with a fresh optimizer
    (Keras' own optimizers and losses only: ValueError for anything else), and its loss."""
    import keras

    optimizer = _keras_object(
        config.get("optimizer"), keras.optimizers, REPLAYED_OPTIMIZERS, "optimizer"
    )
    loss = _keras_object(config.get("loss"), keras.losses, REPLAYED_LOSSES, "loss")
    replay = keras.models.clone_model(model)
    replay.compile(
        optimizer=optimizer,
        loss=loss,
        steps_per_execution=steps_per_execution,
        run_eagerly=eager,
    )
    return replay, loss


def _inputs(model, xs: np.ndarray) -> np.ndarray:
    """`xs` shaped as the model's input (one number per example: (n,) becomes (n, 1))."""
    shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else ()
    if None not in shape and int(np.prod(shape)) * len(xs) == xs.size:
        return xs.reshape((len(xs), *shape))
    return xs


def _loss(model, loss, weights: list[np.ndarray], training: Training) -> float:
    """The loss of `model` at `weights` on the grader's examples, computed here."""
    import keras

    model.set_weights(weights)
    outputs = model(_inputs(model, training.xs).astype("float32"), training=False)
    return float(np.mean(keras.ops.convert_to_numpy(loss(training.ys, outputs))))


def _replayed(model, config: dict, training: Training, epochs: int, batches: int) -> list:
    """The weights a copy of `model`, compiled as the model file says, reaches from the start
    weights in `epochs` x `batches` optimizer steps, the examples in their order."""
    xs, ys = _inputs(model, training.xs), training.ys
    size = -(-len(xs) // batches)
    steps = epochs * batches
    if (
        steps > EAGER_REPLAY_STEPS
        and len(xs) % size == 0
        and (xs.nbytes + ys.nbytes) * epochs <= MAX_REPLAY_BYTES
    ):
        # Every batch full: the epochs laid end to end are the same batches, in one fit.
        replay, _ = _compiled_copy(model, config, steps_per_execution=min(steps, 1000))
        replay.set_weights(training.start)
        tiled = (np.concatenate([xs] * epochs), np.concatenate([ys] * epochs))
        replay.fit(*tiled, batch_size=size, epochs=1, shuffle=False, verbose=0)
        return replay.get_weights()
    # Any other: batch by batch (eagerly when they are few: tracing a step costs about a second).
    replay, _ = _compiled_copy(model, config, eager=steps <= EAGER_REPLAY_STEPS)
    replay.set_weights(training.start)
    for _ in range(epochs):
        for first in range(0, len(xs), size):
            replay.train_on_batch(xs[first : first + size], ys[first : first + size])
    return replay.get_weights()


def _splits(steps: int, training: Training) -> list[tuple[int, int]]:
    """How the steps may have been taken, as (epochs, batches per epoch): the epochs asked for,
    in batches of one size, when the steps split so; and the steps as that many epochs of one
    batch (a fit given other epochs than asked, which the epochs line alone judges)."""
    batches = _batches(steps, training.epochs, len(training.xs))
    asked = [(training.epochs, batches)] if batches else []
    return [*asked, (steps, 1)] if (steps, 1) not in asked else asked


def training_evidence(obs, model_key: str, call: str, training: Training) -> TrainingEvidence:
    """What the grader measures of the model saved under `model_key` after `call` trained it
    (see the section's comment); measured once per part and shared by its graders."""
    cache = getattr(obs, "measured", None)
    cached = cache.get(("training", model_key)) if isinstance(cache, dict) else None
    if cached is not None:
        return cached
    model = model_for(obs, model_key, call)
    config = compiled(obs, model_key, call)
    steps = optimizer_steps(obs, model_key)
    if [np.shape(w) for w in model.get_weights()] != [np.shape(w) for w in training.start]:
        raise CheckFailed(
            expected="the model that was passed in, trained from its own weights",
            received="a model with other weights than the one it was given",
            hint="train the model that was passed in; do not build another one",
        )
    check_started_from([np.asarray(w) for w in model.get_weights()], training.start)
    if len(training.xs) != len(training.ys) or not len(training.xs):
        raise CheckFailed(message=f"{call}: no examples the grader can train on.")
    evidence = TrainingEvidence(steps, float("nan"), float("nan"), 1, None, "no step to replay")
    try:
        measure, loss = _compiled_copy(model, config)
        before = _loss(measure, loss, training.start, training)
        after = _loss(measure, loss, model.get_weights(), training)
        evidence = TrainingEvidence(steps, before, after, 1, None, "no step to replay")
        start, now = _flat(training.start), _flat(model.get_weights())
        for epochs, batches in _splits(steps, training) if steps else []:
            size = -(-len(training.xs) // batches)
            work = steps * size * max(1, int(model.count_params()))
            if steps * size > MAX_REPLAY_EXAMPLES or work > MAX_REPLAY_WORK:
                raise ValueError(f"{steps:,} steps are more than the grader replays")
            there = _flat(_replayed(model, config, training, epochs, batches))
            moved = max(float(np.linalg.norm(there - start)), REPLAY_ATOL)
            distance = float(np.linalg.norm(now - there)) / moved
            ratio = float(np.linalg.norm(now - start)) / moved
            if not (np.isfinite(distance) and np.isfinite(ratio)):
                evidence = TrainingEvidence(steps, before, after, batches, None, "weights that are not finite")  # fmt: skip
                break
            found = TrainingEvidence(steps, before, after, batches, distance, "", ratio)
            if evidence.replay_distance is None or found.replayed():
                evidence = found
            if found.replayed():
                break
    except Exception as exc:  # a replay the grader cannot make proves nothing: a failed check
        evidence = TrainingEvidence(steps, evidence.start_loss, evidence.loss, 1, None, str(exc)[:200])  # fmt: skip
    if isinstance(cache, dict):
        cache[("training", model_key)] = evidence
    return evidence


def check_trained(
    obs, model_key: str, call: str, training: Training, *, drop: float = 1.0
) -> TrainingEvidence:
    """The model saved under `model_key` was trained by `call`, on the grader's evidence alone:
    the optimizer stepped; the kernels still correlate with the start weights (when they are
    many); the weights are those the grader's own replay of the compiled optimizer reaches from
    the start weights in the steps the model file states (one batch an epoch), or as far from
    them (several); and the loss on the grader's data dropped below `drop` x the start's.
    Never the step counter or a History alone."""
    evidence = training_evidence(obs, model_key, call, training)
    if not evidence.steps:
        raise CheckFailed(
            expected="model.fit to train the model that was passed in",
            received="no training step ran (the optimizer never updated the weights)",
            hint="return model.fit(...); do not set weights or build a History yourself",
        )
    if evidence.replay_distance is None:
        raise CheckFailed(
            expected="a training the grader can replay",
            received=evidence.replay_error or "a model it cannot replay",
            hint="train the model that was passed in, with model.fit and its own optimizer",
        )
    if not evidence.replayed():
        received = f"weights {evidence.replay_distance:.2g} x the training's move away from them"
        if evidence.batches > 1:
            received = f"weights moved {evidence.length_ratio:.2g} x as far from the start"
        raise CheckFailed(
            expected=f"the weights {evidence.steps} optimizer step(s) from the start weights "
            "reach on the data given (the grader replays them)",
            received=received,
            hint="train the model that was passed in with model.fit; do not write weights, "
            "the step counter or a History yourself",
        )
    if not evidence.loss < drop * evidence.start_loss:
        raise CheckFailed(
            expected=f"a loss below {drop * evidence.start_loss:.4g} (the model's before "
            f"training{'' if drop == 1 else f', x {drop:g}'})",
            received=f"{evidence.loss:.4g}",
            hint="train the model you are given, on the data you are given",
        )
    return evidence


def check_model_accuracy(
    obs,
    model_key: str,
    test,
    threshold: float,
    record: dict,
    *,
    hint: str,
    unscaled: str = "",
    curves: str = "history",
    seconds: str = "training_seconds",
) -> float:
    """The model a pipeline trained and saved as `model_key` reaches `threshold` accuracy on
    the grader's own test set `test` (images scaled as the model expects, labels, class names),
    computed and recorded for the reports by keras_models.check_test_accuracy (`curves`,
    `seconds`: the observations of the fit's curves and seconds). Short of it, when the model
    does better on the test images unscaled (x 255: it was trained on pixels 0-255), the hint
    is `unscaled`, else `hint`."""
    from autograder.scoring.keras_models import check_test_accuracy, unscaled_training_cause

    images, labels, class_names = test
    try:
        return check_test_accuracy(obs, key=model_key, images=images, labels=labels,
                                   class_names=class_names, threshold=threshold, record=record,
                                   hint=hint, curves=curves, seconds=seconds)  # fmt: skip
    except CheckFailed as failed:
        accuracy = record.get("test_accuracy")
        cause = (
            isinstance(accuracy, float)
            and unscaled
            and unscaled_training_cause(obs, model_key, images * 255.0, labels, accuracy, unscaled)
        )
        if not cause:
            raise
        feedback = failed.feedback
        raise CheckFailed(
            expected=feedback.expected, received=feedback.received, hint=cause
        ) from None

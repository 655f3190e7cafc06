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

from autograder.model_eval import mean_loss, predict_probabilities
from autograder.readers.observations import (
    MODEL_SUFFIX,
    ObservationError,
    trained_model,
    trained_steps,
)
from autograder.scoring.feedback import SHAPE_CHANGED_HINT, CheckFailed, raise_for_error
from autograder.scoring.keras_models import (
    activation_name,
    check_optimizer,
    check_test_accuracy,
    compiled,
    input_shape,
    layer_names,
    layers_of,
    model_for,
    normalise,
    unscaled_training_cause,
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
    raw_images=None,
    scaled_info: dict | None = None,
) -> float:
    """The model a pipeline trained and saved as `model_key` reaches `threshold` accuracy on
    the grader's own test set `test` (images scaled as the model expects, labels, class names),
    computed and recorded for the reports by keras_models.check_test_accuracy (`curves`,
    `seconds`: the observations of the fit's curves and seconds). Short of it, when the model
    does better on the test images unscaled (`raw_images`, else the images x 255: it was
    trained on pixels 0-255; `scaled_info`, the recorded description of the images it was
    trained on, when known), the hint is `unscaled`, else `hint`."""

    images, labels, class_names = test
    raw = images * 255.0 if raw_images is None else raw_images
    try:
        return check_test_accuracy(obs, key=model_key, images=images, labels=labels,
                                   class_names=class_names, threshold=threshold, record=record,
                                   hint=hint, curves=curves, seconds=seconds)  # fmt: skip
    except CheckFailed as failed:
        accuracy = record.get("test_accuracy")
        cause = (
            isinstance(accuracy, float)
            and unscaled
            and unscaled_training_cause(
                obs, model_key, raw, labels, accuracy, unscaled, scaled_info
            )
        )
        if not cause:
            raise
        feedback = failed.feedback
        raise CheckFailed(
            expected=feedback.expected, received=feedback.received, hint=cause
        ) from None


# -- Data parts: a constant, a data set returned, images scaled ---------------------------------


def described(info: dict) -> str:
    """What came back, from its recorded description: "ndarray of shape (2, 3), dtype uint8"."""
    if "shape" in info:
        kind = str(info.get("type", "?")).rsplit(".", 1)[-1]
        return f"{kind} of shape {tuple(info['shape'])}, dtype {info.get('dtype', '?')}"
    return f"{info.get('type', '?')}: {str(info.get('repr', ''))[:80]}"


def check_names(obs, key: str, expected: tuple[str, ...], what: str = "classes") -> None:
    """The `Value` recorded under `key` is a list or tuple of exactly the strings `expected`,
    in order; the hint names a wrong count, an order, capitalisation or the first difference.

    Example:
        check_names(obs, "value", ("T-shirt/top", "Trouser", ...))
    """
    info, items = obs.get(key) or {}, obs.get(f"{key}_items")
    if items is None:
        raise CheckFailed(
            expected=f"a list or tuple of {len(expected)} strings", received=described(info)
        )
    if list(items) == list(expected):
        return
    hint = ""
    if len(items) != len(expected):
        hint = f"there are {len(expected)} {what}; you gave {len(items)} names"
    elif sorted(items) == sorted(expected):
        hint = "the names are right but out of order: index i must be the name of label i"
    elif [s.lower().strip() for s in items] == [s.lower() for s in expected]:
        hint = f"check capitalisation and spaces: names must match exactly, e.g. {expected[0]!r}"
    wrong = [f"{i}: {got!r} (expected {want!r})"
             for i, (got, want) in enumerate(zip(items, expected, strict=False)) if got != want]  # fmt: skip
    raise CheckFailed(
        expected=", ".join(expected),
        received=", ".join(map(repr, items)),
        hint=hint or "first difference at " + (wrong[0] if wrong else "the end of the list"),
    )


def returned_pairs(obs, key: str, call: str, names: tuple[str, ...], shape: str) -> dict[str, dict]:
    """The descriptions of what a call declared `returns="arrays"` returned as two pairs,
    `((a, b), (c, d))` (recorded as `key_item_0_0` ...), by `names` in that order; fails when it
    came back in another structure (`shape` says the right one)."""
    raise_for_error(obs, key, call)
    inner = {f"{i}_{j}": obs.get(f"{key}_item_{i}_{j}") for i in range(2) for j in range(3)}
    found = [[inner[f"{i}_{j}"] is not None for j in range(3)] for i in range(2)]
    if obs.get(f"{key}_item_2") is not None or found != [[True, True, False]] * 2:
        raise CheckFailed(expected=shape, received=described(obs.get(key) or {}),
                          hint=f"return exactly what {call} is documented to return")  # fmt: skip
    return dict(zip(names, (inner[i] for i in ("0_0", "0_1", "1_0", "1_1")), strict=True))


def pair_array(obs, key: str, names: tuple[str, ...], name: str) -> np.ndarray:
    """The array `name` of `returned_pairs`, read (bounded) from its file."""
    index = names.index(name)
    return obs.array(f"{key}_item_{index // 2}_{index % 2}")


def check_data_shape(name: str, got: np.ndarray, reference: np.ndarray) -> None:
    """`got` has the shape and dtype of the grader's own `reference`; the hint names scaled
    (float) or reshaped data."""
    if got.shape != reference.shape or got.dtype != reference.dtype:
        hint = ""
        if got.dtype.kind == "f":
            hint = "return the raw uint8 pixels; scaling them is a later step's job"
        elif got.shape[:1] == reference.shape[:1] and got.ndim != reference.ndim:
            hint = "do not reshape or flatten the images when loading them"
        raise CheckFailed(expected=f"{name}: shape {reference.shape}, dtype {reference.dtype}",
                          received=f"{name}: shape {got.shape}, dtype {got.dtype}", hint=hint)  # fmt: skip


def check_data_values(name: str, got: np.ndarray, reference: np.ndarray, source: str,
                      other_set: np.ndarray | None = None) -> None:  # fmt: skip
    """`got` equals the grader's own `reference` (what `source` returns); the hint names
    shuffled labels, or sets swapped (`got` shaped like `other_set`, the other set's images)."""
    if got.shape == reference.shape and np.array_equal(got, reference):
        return
    received = f"{name} differs from the dataset"
    if name.endswith("labels") and got.ndim == 1 and got.size >= 5:
        received += f" (first labels {got[:5].tolist()}, expected {reference[:5].tolist()})"
    hint = "return the arrays unchanged, in the order (train, test)"
    if (
        name.endswith("labels")
        and got.size == reference.size
        and np.array_equal(np.sort(got, axis=None), np.sort(reference, axis=None))
    ):
        hint = "the labels are shuffled or swapped between train and test"
    elif other_set is not None and got.shape == other_set.shape[: got.ndim]:
        hint = "train and test sets are swapped"
    raise CheckFailed(expected=f"{name} equal to {source}", received=received, hint=hint)


def returned_float_array(obs, key: str, call: str) -> np.ndarray:
    """What `call` returned, as an array; fails with the student's own error, or says the
    function returns nothing (a missing `return`)."""
    raise_for_error(obs, key, call)
    info = obs.get(key) or {}
    _raise_over_bound(info)
    if not info.get("saved"):
        hint = ""
        if info.get("type") == "builtins.NoneType":
            name = call.split("(")[0]
            hint = f"{name} returns nothing: end it with a `return` of the scaled array"
        raise CheckFailed(expected="a numpy float array", received=described(info), hint=hint)
    return obs.array(key)


def check_scaled_pixels(got: np.ndarray, raw: np.ndarray, divisor: float = 255.0) -> None:
    """`got` holds the pixels `raw` / `divisor` (in any shape of the same size: the shape has
    its own check); the hint names pixels not scaled, integer division, / 256, values over 1."""
    expected = raw.astype(np.float64) / divisor
    if got.shape != expected.shape:
        if got.size != expected.size:
            raise CheckFailed(
                expected=f"an array of shape {expected.shape} (the input's) holding pixels / {divisor:g}",
                received=f"shape {got.shape}: the values cannot be compared pixel by pixel",
                hint=f"return the scaled images in the input's shape: `images / {divisor}`",
            )
        got = got.reshape(expected.shape)
    if np.allclose(got, expected, atol=1e-6):
        return
    hint = ""
    if np.array_equal(got, raw):
        hint = f"the images were not scaled: divide by {divisor:g}"
    elif np.allclose(got, raw // divisor):
        hint = (f"integer division (`// {divisor:g}`) or a cast to an integer type makes almost "
                f"every pixel 0: use `images / {divisor}` and keep the floats")  # fmt: skip
    elif np.allclose(got, raw / (divisor + 1), atol=1e-6):
        hint = f"divide by {divisor:g} (the largest pixel value), not {divisor + 1:g}"
    elif got.max() > 1.0:
        hint = f"values above 1 remain: divide by {divisor:g}"
    raise CheckFailed(
        expected=f"values from {expected.min():.3f} to {expected.max():.3f} (pixels / {divisor:g})",
        received=f"values from {float(got.min()):.3f} to {float(got.max()):.3f}",
        hint=hint,
    )


def check_unit_floats(got: np.ndarray, raw: np.ndarray, divisor: float = 255.0) -> None:
    """`got` (the scaling of `raw`) has a float dtype and values within [0, 1]."""
    if got.dtype.kind != "f":
        hint = ""
        if got.dtype.kind in "iu":
            fix = f"`images / {divisor}`"
            if got.shape == raw.shape and np.array_equal(got, raw):
                hint = f"the images were not scaled: {fix} gives floats in [0, 1]"
            elif got.size and int(got.max()) <= 1:
                hint = f"integer division (`// {divisor:g}`) or an integer cast: use {fix}"
            else:
                hint = f"an integer dtype cannot hold values between 0 and 1: use {fix}"
        raise CheckFailed(expected="a float dtype (float32 or float64)",
                          received=f"dtype {got.dtype}", hint=hint)  # fmt: skip
    low, high = float(got.min()), float(got.max())
    if low < 0.0 or high > 1.0:
        raise CheckFailed(
            expected="all values within [0, 1]", received=f"values from {low:g} to {high:g}"
        )


def check_input_untouched(obs, key: str, call: str, name: str) -> None:
    """`call` left its input array `name` as it was: not modified, not reshaped in place, and
    not divided in place (an error the call raised for an in-place ufunc on integers)."""
    error = obs.error(key)
    if error and "Cannot cast ufunc" in str(error.get("message", "")):
        raise CheckFailed(
            expected="a new array, the input left as it was",
            received="an error from dividing the uint8 input in place",
            hint="in-place division of a uint8 array (`images /= 255`); use `images / 255.0`",
        )
    raise_for_error(obs, key, call)
    changed = obs.get(f"{key}_changed")
    modified = None if changed is None else name in changed
    if modified is not False:  # missing means unknown, and unknown never earns the points
        hint = ("in-place operations (`images /= ...`, `images[...] = ...`) change the caller's "
                "data; return a new array")  # fmt: skip
        if name in (obs.get(f"{key}_reshaped") or []):
            hint = SHAPE_CHANGED_HINT
        raise CheckFailed(
            expected="the input array unchanged",
            received="the input array was modified" if modified else "nothing to compare",
            hint=hint,
        )


# -- A training part judged on the model it trained from the grader's start ---------------------


def fit_from_start(
    obs, model_key: str, call: str, start: list[np.ndarray], images, labels, start_loss: float,
    drop: float = 0.8,
) -> tuple[int, bool]:  # fmt: skip
    """The model `call` trained from the grader's `start` weights, saved as `model_key`
    (`StartModel(..., save_as=model_key)`), measured here once per part: its optimizer steps and
    whether its weights changed. Fails when it did not come back, no step ran, its weights did
    not start from `start` (`check_started_from`), or its loss on (`images`, `labels`), computed
    here, is not below `drop` x `start_loss`: every check of a training rests on a real fit."""

    if model_key not in obs.measured:
        try:
            steps, model = trained_model(obs.path(f"{model_key}{MODEL_SUFFIX}"), obs.model_limits())
            weights = [np.asarray(w) for w in model.get_weights()]
            loss = mean_loss(model, images, labels) if steps else None
            obs.measured[model_key] = (steps, weights, loss)
        except ObservationError as exc:
            obs.measured[model_key] = exc
        except Exception as exc:  # a model that loads but cannot run on the images
            obs.measured[model_key] = ObservationError(f"it cannot be run ({type(exc).__name__})")
    if isinstance(obs.measured[model_key], ObservationError):
        raise CheckFailed(
            message=f"{call}: the trained model did not come back ({obs.measured[model_key]})."
        )
    steps, weights, loss = obs.measured[model_key]
    if not steps:
        raise CheckFailed(
            expected="model.fit to train the model that was passed in",
            received="no training step ran (the optimizer never updated the weights)",
            hint="return model.fit(...); do not build or fake a History yourself",
        )
    check_started_from(weights, start)
    if loss is None or not loss < drop * start_loss:
        raise CheckFailed(
            expected=f"training to lower the loss on the training images (from {start_loss:.3f})",
            received=f"a loss of {loss:.3f} after training"
            if loss is not None
            else "a model that was not trained",
            hint="train the model that was passed in with model.fit(images, labels, ...)",
        )
    changed = any(
        a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(weights, start, strict=True)
    )
    return steps, changed


def check_pipeline_accuracy(
    obs, model_key: str, scaled_key: str, images, labels, class_names, threshold: float,
    record: dict, fix: str, curves_key: str, seconds_key: str,
) -> None:  # fmt: skip
    """The model a pipeline part trained (saved as `model_key`) reaches `threshold` accuracy on
    the grader's own test `images` (raw pixels: the grader scales them / 255 itself) and
    `labels`; fails first with the error of any of the part's calls, or when the scaling call
    `scaled_key` returned None; a model that does better on raw pixels was trained unscaled
    (the hint says so, with `fix`). The accuracy and curves go into `record` for the reports."""

    calls = obs.get("calls") or []
    for made in calls if isinstance(calls, list) else []:
        key = made.get("key") if isinstance(made, dict) else None
        if isinstance(key, str):
            raise_for_error(
                obs, key, f"{str(made.get('function', key))[:60]} (used by the pipeline)"
            )
            if key == scaled_key and (obs.get(key) or {}).get("type") == "builtins.NoneType":
                # Otherwise the training is blamed for the None it was handed.
                raise CheckFailed(
                    message=f"{key} returned None, so the pipeline had no images to train on.",
                    hint=f"{key} returns nothing: end it with a `return` of the scaled array",
                )
    check_model_accuracy(
        obs, model_key, (images.astype(np.float32) / 255.0, labels, class_names), threshold,
        record, hint="check the parts above: scaling, architecture and training all feed this result",
        unscaled=fix, curves=curves_key, seconds=seconds_key, raw_images=images,
        scaled_info=obs.get(scaled_key),
    )  # fmt: skip


def check_epochs_ran(obs, key: str, steps: int, expected: int, images: int, steps_per_epoch: int,
                     explicit: bool) -> None:  # fmt: skip
    """The training call `key` ran `expected` epochs, as its `EpochLog` (else its History)
    counted them, agreeing with the optimizer `steps` the grader counted in the model it trained
    (`fit_from_start`); `explicit`: the call was given `epochs=`. The hint names epochs passed as
    batch_size (one epoch of batches of `expected` of the `images`), epochs not passed on (one
    epoch, `steps_per_epoch` steps), or ignored, or a wrong default."""
    ran = len(obs.get(f"{key}_callback_epochs") or obs.get(f"{key}_epochs") or [])
    if ran == expected and steps % expected == 0:
        return
    if ran == 1 and expected > 1 and steps == -(-images // expected):
        hint = ("epochs went in as batch_size: model.fit's third positional parameter is "
                "batch_size, so pass it by name: fit(images, labels, epochs=epochs, ...)")  # fmt: skip
    elif ran == 1 or steps == steps_per_epoch:
        hint = (
            "epochs is not passed to model.fit (Keras defaults to 1 epoch): fit(..., epochs=epochs)"
        )
    elif explicit:
        hint = (f"the epochs argument is ignored ({ran} epochs when {expected} were asked for): "
                "pass it on, fit(..., epochs=epochs)")  # fmt: skip
    else:
        hint = f"the default must be epochs={expected}"
    given = f"epochs={expected}" if explicit else "no epochs argument"
    raise CheckFailed(expected=f"{expected} epochs with {given}",
                      received=f"{ran} epochs ({steps} training steps)", hint=hint)  # fmt: skip


def check_callbacks_passed(obs, key: str, function: str) -> None:
    """The training call `key` passed the callbacks it was given (`EpochLog()`) on to
    `model.fit`: they saw an epoch, inside a fit."""
    if not obs.get(f"{key}_callback_epochs") or not obs.get(f"{key}_callback_inside_fit"):
        raise CheckFailed(
            expected=f"the callbacks given to {function} to be called by model.fit",
            received="they were never called",
            hint="callbacks are not passed to model.fit: fit(..., callbacks=callbacks)",
        )


def check_history_of_fit(obs, key: str, function: str, steps: int, images: int) -> None:
    """The training call `key` returned Keras' History of the fit it ran on its model argument
    (that model's own `model.history`), whose epochs split the `steps` the grader counted
    evenly, at most one step per image each (batch_size=1): judged against the fit that
    really ran, not the epochs requested, so ignoring `epochs` costs the epochs line only."""
    returned = obs.get(key) or {}
    if not obs.get(f"{key}_is_history"):
        kind = str(returned.get("type", "?"))
        raise CheckFailed(expected="the keras.callbacks.History returned by model.fit", received=kind,
                          hint="return model.fit(...)" if kind.endswith("NoneType") else "")  # fmt: skip
    recorded = len(obs.get(f"{key}_epochs") or [])
    consistent = recorded >= 1 and steps % recorded == 0 and steps // recorded <= max(1, images)
    if returned.get("of_model_argument") is not True or not consistent:
        raise CheckFailed(
            expected=f"the History of the fit that {function} ran",
            received="another History object",
            hint="return what model.fit returns; do not build a History yourself",
        )


def check_dense_params(model, call: str, inputs: int, units: list[int], hint: str = "") -> None:
    """The model's Dense layers, in order, have `units` units on `inputs` values: each
    (its inputs + 1) x its units parameters (weights plus biases)."""

    sizes = [inputs, *units[:-1]]
    expected = [(n + 1) * u for n, u in zip(sizes, units, strict=True)]
    got = [int(layer.count_params()) for layer in layers_of(model, "Dense")]
    if got != expected:
        formula = " and ".join(f"({n} + 1) x {u}" for n, u in zip(sizes, units, strict=True))
        raise CheckFailed(
            expected=f"{call}: Dense parameters {' and '.join(f'{n:,}' for n in expected)} ({formula})",
            received=f"{call}: Dense parameters " + (", ".join(f"{n:,}" for n in got) or "none"),
            hint=hint,
        )

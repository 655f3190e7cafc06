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

from typing import Any

import numpy as np

from autograder.model_eval import predict_probabilities
from autograder.observations import MODEL_SUFFIX, trained_steps
from autograder.scoring.feedback import CheckFailed, raise_for_error
from autograder.scoring.keras_models import (
    check_optimizer,
    compiled,
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


def returned_array(obs, key: str, call: str) -> np.ndarray:
    """What `call` returned, as an array (a numeric NumPy array or tensor); fails with the
    student's own error when the call raised, or when something else came back."""
    raise_for_call(obs, key, call)
    info = obs.get(key) or {}
    _raise_over_bound(info)
    if not info.get("saved"):
        raise CheckFailed(expected="a numeric NumPy array", received=_kind(info))
    return obs.array(key)


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
    grader reads (autograder/sandbox/declared.py); the grader's reader bounds a saved one."""
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


def check_unchanged(obs, key: str, call: str) -> None:
    """`call` left every input array it was given as it was."""
    raise_for_call(obs, key, call)
    changed = obs.get(f"{key}_changed") or []
    if changed:
        raise CheckFailed(
            expected="the input arrays as they were given",
            received=f"{', '.join(map(str, changed))} modified in place",
            hint="compute a new array (`xs * 2`) instead of changing the argument (`xs *= 2`)",
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


def check_epochs(obs, key: str, call: str, model_key: str, epochs: int) -> None:
    """The History `call` returned ran `epochs` epochs, and the model it trained (saved as
    `model_key`) took the same number of optimizer steps in each (any batch size)."""
    seen, steps = trained_epochs(obs, key, call), optimizer_steps(obs, model_key)
    if seen != list(range(epochs)) or not steps or steps % epochs:
        raise CheckFailed(
            expected=f"{epochs} epochs ({call} was given epochs={epochs})",
            received=f"{len(seen)} epochs in the History, {steps} optimizer steps",
            hint="pass the argument on: model.fit(..., epochs=epochs)",
        )


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

"""The inputs of one grading, drawn from a seed the child never sees, and the callback cases
exercises draw them with.

The child receives inputs only: images, callback arguments and logs, fit lengths. Every expected
outcome stays in the grader's process (`Expectations`), so a submission that patches the harness to
echo what it was sent has nothing to echo, and one that replays another grading's answers meets
other values. The seed is an HMAC of the submission's bytes under the grader's secret, so a given
submission gets the same inputs, and the same grade, on every run, and no student can predict them.

Example:
    >>> seed = grading_seed(b"grader secret", b"submission bytes")
    >>> rng = np.random.default_rng(seed)
    >>> cases = loss_cases(rng, case_ids(rng), default=0.4, argument="threshold")
    >>> cases[0].for_child()                                   # doctest: +SKIP
    {'id': 'c3', 'kwargs': {'threshold': 0.27}, 'logs': {'loss': 0.31, 'accuracy': 0.93}}
    >>> cases[0].stop                                          # doctest: +SKIP
    False
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SECRET_ENV = "AUTOGRADER_SECRET"
SECRET_FILE = "secret"
STEPS_BATCH = 32  # Keras' default batch size: a fit of N images takes ceil(N / 32) steps an epoch


def secret_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "autograder" / SECRET_FILE


def load_secret() -> bytes:
    """The grader's secret: `$AUTOGRADER_SECRET`, else a random key kept (mode 0600) in the
    grader user's state directory, made on first use; a fresh random key if neither works.

    The sandboxed child cannot read it: it sees neither the grader's environment nor its home.
    """
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV].encode()
    path = secret_path()
    try:
        return path.read_bytes()
    except OSError:
        pass
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
    except FileExistsError:  # another grader made it first
        return path.read_bytes()
    except OSError:
        pass
    return key


def grading_seed(secret: bytes, submission: bytes) -> int:
    """A 64-bit seed from the submission's bytes, keyed by the grader's secret."""
    digest = hmac.new(secret, submission, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class CallbackCase:
    """A callback made with `kwargs`, then called once with `logs`; `stop` is the right decision."""

    id: str
    kind: str  # "boundary", "custom_between", ...: which rule the case tests
    kwargs: dict
    logs: dict
    stop: bool

    def for_child(self) -> dict:
        return {"id": self.id, "kwargs": dict(self.kwargs), "logs": dict(self.logs)}


@dataclass(frozen=True)
class CallbackFit:
    """A real `model.fit(epochs=epochs)` with the callback; `expect` epochs must run."""

    id: str
    kwargs: dict
    epochs: int
    expect: int

    def for_child(self) -> dict:
        return {"id": self.id, "kwargs": dict(self.kwargs), "epochs": self.epochs}


@dataclass
class Expectations:
    """What decides the callback checks, per callback part; never sent to the child."""

    cases: dict[str, list[CallbackCase]] = field(default_factory=dict)
    fits: dict[str, list[CallbackFit]] = field(default_factory=dict)
    steps_per_epoch: int = 1  # of the short fits: the grader counts epochs from optimizer steps


@dataclass(frozen=True)
class DrawnFit(CallbackFit):
    """A real fit of a callback on drawn data (declared callback parts, autograder.declare
    .DriveCallback): `images`/`labels` name input arrays, `weights` the config list of the start
    model's weights (None: as saved); `steps_per_epoch` is the grader's, to count epochs."""

    images: str = "fit_images"
    labels: str = "fit_labels"
    weights: str | None = None
    steps_per_epoch: int = 1

    def for_child(self) -> dict:
        return {
            **super().for_child(),
            "images": self.images,
            "labels": self.labels,
            "weights": self.weights,
        }


COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda value, setting: value < setting,
    "<=": lambda value, setting: value <= setting,
    ">": lambda value, setting: value > setting,
    ">=": lambda value, setting: value >= setting,
}


def threshold_cases(
    rng: np.random.Generator, key: str, op: str, threshold: float, *, other: str = "loss"
) -> list[CallbackCase]:
    """Cases of a callback without arguments that stops when `logs[key] <op> threshold`: well
    on each side, just on each side (a wrong threshold decides one wrongly), exactly at it (a
    strict or inclusive comparison decides it differently); the `other` value is drawn
    independently. Shuffled, with opaque ids.

    Example:
        >>> cases = threshold_cases(np.random.default_rng(0), "accuracy", ">", 0.99)
        >>> sorted(c.kind for c in cases)[:2], cases[0].for_child()["id"]   # doctest: +SKIP
    """
    if op not in COMPARISONS:
        raise ValueError(f"op must be one of {sorted(COMPARISONS)}, received {op!r}")
    near = max(abs(threshold) * 0.004, 1e-3)
    span = max(abs(threshold) * 0.5, 0.1)
    values = {
        "far_below": threshold - _value(rng, span * 0.5, span),
        "below": threshold - _value(rng, near, near * 3),
        "boundary": threshold,
        "above": threshold + _value(rng, near * 0.2, near * 0.9),
        "far_above": threshold + _value(rng, span * 0.2, span * 0.5),
    }
    ids = case_ids(rng, len(values))
    cases = [
        CallbackCase(
            ids.pop(),
            kind,
            {},
            {key: round(value, 5), other: _value(rng, 0.05, 2.0)},
            COMPARISONS[op](round(value, 5), threshold),
        )
        for kind, value in values.items()
    ]
    rng.shuffle(cases)
    return cases


def _value(rng: np.random.Generator, low: float, high: float) -> float:
    return round(float(rng.uniform(low, high)), 4)


def case_ids(rng: np.random.Generator, count: int = 32) -> list[str]:
    """Opaque, shuffled case ids: an id says nothing about what its case tests."""
    ids = [f"c{i}" for i in range(count)]
    rng.shuffle(ids)
    return ids


def loss_cases(
    rng: np.random.Generator, ids: list[str], default: float, argument: str
) -> list[CallbackCase]:
    """A loss callback: stop when logs['loss'] < the argument (strict), `default` when not
    given. Each log pairs the loss with an accuracy pointing the other way, so reading the
    wrong key gives wrong decisions."""
    # A custom threshold far from the default, and one case between the two, so a hard-coded
    # default decides that case wrongly.
    custom = _value(rng, 0.1, 0.3) if rng.random() < 0.5 else _value(rng, 0.5, 0.9)
    between = _value(rng, min(custom, default) + 0.01, max(custom, default) - 0.01)
    raw = [
        ("above", {}, _value(rng, default + 0.05, default + 1.5), _value(rng, 0.9, 0.99)),
        ("far_above", {}, _value(rng, 2.0, 5.0), _value(rng, 0.9, 0.99)),
        ("boundary", {}, default, _value(rng, 0.9, 0.99)),
        ("below", {}, _value(rng, 0.01, default - 0.05), _value(rng, 0.2, 0.6)),
        ("far_below", {}, _value(rng, 0.001, 0.05), _value(rng, 0.2, 0.6)),
        ("custom_between", {argument: custom}, between, _value(rng, 0.2, 0.99)),
        ("custom_boundary", {argument: custom}, custom, _value(rng, 0.9, 0.99)),
        ("custom_below", {argument: custom}, round(custom * 0.5, 4), _value(rng, 0.2, 0.6)),
        ("custom_above", {argument: custom}, round(custom * 1.5 + 0.1, 4), _value(rng, 0.9, 1)),
    ]
    return _cases(ids, "loss", raw, lambda setting, value: value < setting, argument, default)


def accuracy_cases(
    rng: np.random.Generator, ids: list[str], default: float, argument: str
) -> list[CallbackCase]:
    """An accuracy callback: stop when logs['accuracy'] >= the argument (inclusive), `default`
    when not given; losses point the other way."""
    custom = _value(rng, 0.6, 0.85) if rng.random() < 0.5 else _value(rng, 0.92, 0.98)
    between = _value(rng, min(custom, default) + 0.005, max(custom, default) - 0.005)
    raw = [
        ("below", {}, _value(rng, 0.5, default - 0.02), _value(rng, 0.01, 0.2)),
        ("far_below", {}, _value(rng, 0.05, 0.3), _value(rng, 0.01, 0.2)),
        ("boundary", {}, default, _value(rng, 1.0, 3.0)),
        ("above", {}, _value(rng, default + 0.01, 0.999), _value(rng, 1.0, 3.0)),
        ("custom_between", {argument: custom}, between, _value(rng, 0.01, 3.0)),
        ("custom_boundary", {argument: custom}, custom, _value(rng, 1.0, 3.0)),
        ("custom_below", {argument: custom}, round(custom - 0.1, 4), _value(rng, 0.01, 0.2)),
    ]
    return _cases(ids, "accuracy", raw, lambda setting, value: value >= setting, argument, default)


def _cases(
    ids: list[str],
    watched: str,
    raw: list[tuple[str, dict, float, float]],
    stops: Callable[[float, float], bool],
    argument: str,
    default: float,
) -> list[CallbackCase]:
    """Cases from rows of (kind, kwargs, watched value, other value); the decision is what the
    rule `stops(setting, watched value)` gives."""
    other = "accuracy" if watched == "loss" else "loss"
    cases = []
    for kind, kwargs, value, unwatched in raw:
        logs = {watched: value, other: unwatched}
        cases.append(
            CallbackCase(
                ids.pop(),
                kind,
                kwargs,
                {"loss": logs["loss"], "accuracy": logs["accuracy"]},
                stops(kwargs.get(argument, default), value),
            )
        )
    return cases


def callback_fits(rng: np.random.Generator, watched: str, argument: str) -> list[CallbackFit]:
    """Real fits of a callback watching `watched` ('loss' or 'accuracy'): one it must stop
    after its first epoch, one it must never stop."""
    epochs = [int(rng.integers(2, 5)), int(rng.integers(2, 5))]
    # Settings a student could have written: an epoch's loss on these fits starts near 2.3
    # (ten classes) and only falls, an epoch's accuracy starts above chance (0.1). The fit that
    # must never stop needs a setting no fit reaches: a negative loss, an accuracy above 1.
    if watched == "loss":
        stop, never = {argument: _value(rng, 3.0, 6.0)}, {argument: _value(rng, -1.0, -0.1)}
    else:
        stop, never = {argument: _value(rng, 0.01, 0.05)}, {argument: _value(rng, 1.01, 1.5)}
    fits = [CallbackFit("f0", stop, epochs[0], 1), CallbackFit("f1", never, epochs[1], epochs[1])]
    rng.shuffle(fits)
    return [CallbackFit(f"f{i}", f.kwargs, f.epochs, f.expect) for i, f in enumerate(fits)]


def draw_images(
    rng: np.random.Generator,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    *,
    sample: int,
    subset: int,
    predict: int,
) -> dict[str, np.ndarray]:
    """The images one grading works on: `sample_images` (training images, in order), a training
    `subset_images`/`subset_labels` for short fits, and `predict_index`, a permutation of test
    images (the labels of the images a student's code sees are never sent)."""
    n_train = len(train_images)
    sampled = np.sort(rng.choice(n_train, min(sample, n_train), replace=False))
    chosen = np.sort(rng.choice(n_train, min(subset, n_train), replace=False))
    return {
        "sample_images": train_images[sampled],
        "subset_images": train_images[chosen],
        "subset_labels": train_labels[chosen],
        "predict_index": rng.permutation(len(test_images))[:predict],
    }


def fresh_weights(
    rng: np.random.Generator, like: list[np.ndarray], bias_limit: float = 0.0
) -> list[np.ndarray]:
    """New weights shaped like `like`, drawn from `rng`: Glorot-uniform kernels and biases
    uniform in +-`bias_limit` (zero, as Keras initialises them, by default). A part judged on a
    training gets weights no earlier part handed to the student's code, so a training cannot be
    replayed; a part judged on predictions gets non-zero biases, so that how its images are
    scaled changes the predicted classes (with zero biases and ReLU it never would)."""
    weights = []
    for array in like:
        if array.ndim < 2:
            bias = rng.uniform(-bias_limit, bias_limit, array.shape) if bias_limit else 0.0
            weights.append(np.zeros(array.shape, dtype=array.dtype) + bias)
            continue
        fan_in, fan_out = int(np.prod(array.shape[:-1])), int(array.shape[-1])
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, array.shape).astype(array.dtype))
    return weights


def weight_arrays(prefix: str, weights: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Weights as the child's named input arrays `<prefix>_w0`, `<prefix>_w1`, ... in order;
    the config lists the names (`list(...)`) for the child to load them back."""
    return {f"{prefix}_w{i}": weight for i, weight in enumerate(weights)}


def prediction_weights(
    rng: np.random.Generator,
    model,
    like: list[np.ndarray],
    images: np.ndarray,
    bias_limit: float,
    tries: int = 20,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights for the model handed to a `predict_classes`, set on `model` (the grader's copy
    of it), with its argmax on `images` and on `images / 255` (scaled once more).

    Drawn (`fresh_weights`) until the model tells images apart (3 classes or more) and scaling
    the images again changes at least a tenth of its answers, so that mistake cannot pass; an
    untrained model may otherwise give one class to every image. At most `tries` draws.
    """
    from autograder.model_eval import predict_probabilities

    for _ in range(tries):
        weights = fresh_weights(rng, like, bias_limit)
        model.set_weights(weights)
        own = predict_probabilities(model, images).argmax(axis=1)
        again = predict_probabilities(model, images / 255.0).argmax(axis=1)
        if len(np.unique(own)) >= 3 and np.mean(own == again) < 0.9:
            break
    return weights, own, again

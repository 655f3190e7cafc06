"""The inputs of one grading, drawn from a seed the child never sees.

The child receives inputs only: images, callback arguments and logs, fit lengths. Every expected
outcome stays in the grader's process (`Expectations`), so a submission that patches the probe to
echo what it was sent has nothing to echo, and one that replays another grading's answers meets
other values. The seed is an HMAC of the submission's bytes under the grader's secret, so a given
submission gets the same inputs, and the same grade, on every run, and no student can predict them.

Example:
    >>> seed = grading_seed(b"grader secret", b"submission bytes")
    >>> inputs = draw_inputs(dataset, seed)
    >>> inputs.child_config()["callback_cases"]["StopOnLoss"][0]    # doctest: +SKIP
    {'id': 'c3', 'kwargs': {'threshold': 0.27}, 'logs': {'loss': 0.31, 'accuracy': 0.93}}
    >>> inputs.expectations.callback_stops["StopOnLoss"]["c3"]        # doctest: +SKIP
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

from autograder import exercise

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
    """What decides the checks; never sent to the child."""

    cases: dict[str, list[CallbackCase]] = field(default_factory=dict)
    fits: dict[str, list[CallbackFit]] = field(default_factory=dict)
    train_epochs: int = 2  # the explicit `epochs=` given to train_model
    steps_per_epoch: int = 1

    @property
    def callback_stops(self) -> dict[str, dict[str, bool]]:
        return {part: {c.id: c.stop for c in cases} for part, cases in self.cases.items()}


@dataclass
class GradingInputs:
    """Arrays and arguments for the child, with the expectations kept apart."""

    seed: int
    arrays: dict[str, np.ndarray]
    expectations: Expectations

    def child_config(self) -> dict:
        e = self.expectations
        return {
            "callback_cases": {
                part: [c.for_child() for c in cases] for part, cases in e.cases.items()
            },
            "callback_fits": {part: [f.for_child() for f in fits] for part, fits in e.fits.items()},
            "train_epochs": e.train_epochs,
        }

    def write(self, directory: Path) -> None:
        for name, array in self.arrays.items():
            np.save(directory / f"{name}.npy", array, allow_pickle=False)


def _value(rng: np.random.Generator, low: float, high: float) -> float:
    return round(float(rng.uniform(low, high)), 4)


def _loss_cases(rng: np.random.Generator, ids: list[str]) -> list[CallbackCase]:
    """StopOnLoss: stop when logs['loss'] < threshold (strict). Each log pairs the loss with an
    accuracy pointing the other way, so reading the wrong key gives wrong decisions."""
    default = exercise.DEFAULT_LOSS_THRESHOLD
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
        ("custom_between", {"threshold": custom}, between, _value(rng, 0.2, 0.99)),
        ("custom_boundary", {"threshold": custom}, custom, _value(rng, 0.9, 0.99)),
        ("custom_below", {"threshold": custom}, round(custom * 0.5, 4), _value(rng, 0.2, 0.6)),
        ("custom_above", {"threshold": custom}, round(custom * 1.5 + 0.1, 4), _value(rng, 0.9, 1)),
    ]
    return _cases(ids, "loss", raw, lambda setting, value: value < setting, "threshold", default)


def _accuracy_cases(rng: np.random.Generator, ids: list[str]) -> list[CallbackCase]:
    """StopOnAccuracy: stop when logs['accuracy'] >= target (inclusive); losses point the other
    way."""
    default = exercise.DEFAULT_ACCURACY_TARGET
    custom = _value(rng, 0.6, 0.85) if rng.random() < 0.5 else _value(rng, 0.92, 0.98)
    between = _value(rng, min(custom, default) + 0.005, max(custom, default) - 0.005)
    raw = [
        ("below", {}, _value(rng, 0.5, default - 0.02), _value(rng, 0.01, 0.2)),
        ("far_below", {}, _value(rng, 0.05, 0.3), _value(rng, 0.01, 0.2)),
        ("boundary", {}, default, _value(rng, 1.0, 3.0)),
        ("above", {}, _value(rng, default + 0.01, 0.999), _value(rng, 1.0, 3.0)),
        ("custom_between", {"target": custom}, between, _value(rng, 0.01, 3.0)),
        ("custom_boundary", {"target": custom}, custom, _value(rng, 1.0, 3.0)),
        ("custom_below", {"target": custom}, round(custom - 0.1, 4), _value(rng, 0.01, 0.2)),
    ]
    return _cases(ids, "accuracy", raw, lambda setting, value: value >= setting, "target", default)


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


def _fits(rng: np.random.Generator, part: str) -> list[CallbackFit]:
    """Real fits: one the callback must stop after its first epoch, one it must never stop."""
    epochs = [int(rng.integers(2, 5)), int(rng.integers(2, 5))]
    if part == "StopOnLoss":  # losses on the subset stay between 0 and about 3
        stop, never = {"threshold": _value(rng, 50, 150)}, {"threshold": _value(rng, -2, -0.5)}
    else:  # accuracies stay within [0, 1]
        stop, never = {"target": _value(rng, -1, -0.1)}, {"target": _value(rng, 1.1, 2)}
    fits = [CallbackFit("f0", stop, epochs[0], 1), CallbackFit("f1", never, epochs[1], epochs[1])]
    rng.shuffle(fits)
    return [CallbackFit(f"f{i}", f.kwargs, f.epochs, f.expect) for i, f in enumerate(fits)]


def draw_inputs(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    seed: int,
) -> GradingInputs:
    """Everything the child is given for one grading, and what the answers must be."""
    rng = np.random.default_rng(seed)
    n_train = len(train_images)
    sample = train_images[np.sort(rng.choice(n_train, min(100, n_train), replace=False))]
    subset_size = min(exercise.SUBSET_SIZE, n_train)
    chosen = np.sort(rng.choice(n_train, subset_size, replace=False))
    order = rng.permutation(len(test_images))[: exercise.PREDICT_SIZE]
    ids = [f"c{i}" for i in range(32)]
    rng.shuffle(ids)
    expectations = Expectations(
        cases={"StopOnLoss": _loss_cases(rng, ids), "StopOnAccuracy": _accuracy_cases(rng, ids)},
        fits={
            "StopOnLoss": _fits(rng, "StopOnLoss"),
            "StopOnAccuracy": _fits(rng, "StopOnAccuracy"),
        },
        train_epochs=int(rng.choice([2, 3, 4])),
        steps_per_epoch=-(-subset_size // STEPS_BATCH),
    )
    arrays = {
        "sample_images": sample,
        "subset_images": train_images[chosen],
        "subset_labels": train_labels[chosen],
        "predict_images": test_images[order].astype(np.float32) / 255.0,
    }
    return GradingInputs(seed, arrays, expectations)

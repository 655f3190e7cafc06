"""The check registry: tiny decorators in the spirit of gradescope-utils.

A check is a function of (observation, context) that returns normally when the submission is
right and raises `CheckFailed(expected=..., received=..., hint=...)` when it is not. The decorator
gives it its part, title and points; the registry order is the rubric order.

Example:
    @check("add_batch_dimension", "shape (1, 28, 28)", points=2)
    def batch_shape(obs, ctx):
        shape = obs.array("result").shape
        if shape != (1, 28, 28):
            raise CheckFailed(expected="shape (1, 28, 28)", received=f"shape {shape}")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.inputs import Expectations
from autograder.observations import ObservationError, PartObservation
from autograder.results import Feedback, TestResult

CheckFunction = Callable[[PartObservation, "GradingContext"], None]


class CheckFailed(Exception):
    """Raised by a check: what was expected, what was received, and the likely cause."""

    def __init__(
        self, expected: str = "", received: str = "", hint: str = "", message: str = ""
    ) -> None:
        super().__init__(message or expected)
        self.feedback = Feedback(expected=expected, received=received, hint=hint)
        self.message = message


@dataclass(frozen=True)
class Check:
    part: str
    title: str
    points: float
    function: CheckFunction

    @property
    def name(self) -> str:
        return f"{self.part}: {self.title}"


REGISTRY: list[Check] = []


def check(part: str, title: str, points: float) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check for `part` worth `points`, shown as `"{part}: {title}"`."""

    def register(function: CheckFunction) -> CheckFunction:
        REGISTRY.append(Check(part, title, points, function))
        return function

    return register


@dataclass
class GradingContext:
    """The grader's own reference data, never produced by the submission."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    sample_images: np.ndarray  # given to scale_images / add_batch_dimension
    predict_images: np.ndarray  # permuted, scaled test images given to predict_classes
    reference_predictions: np.ndarray  # the reference model's own argmax on predict_images
    reference_weights: list[np.ndarray]  # the weights the probe's short fits start from
    expectations: Expectations  # this grading's expected outcomes (never sent to the child)
    pipeline_threshold: float
    artifacts: dict[str, Any] = field(default_factory=dict)


def format_error(error: dict[str, Any]) -> str:
    """An exception from student code, with its traceback trimmed to the student's lines."""
    lines = []
    for frame in error.get("frames", []):
        where = str(frame.get("file", "?")).strip("<>")
        lines.append(f"  {where}, line {frame.get('line')}, in {frame.get('function')}")
        if frame.get("code"):
            lines.append(f"    {frame['code']}")
    kind, message = error.get("type", "Exception"), error.get("message", "")
    lines.append(f"{kind}: {message}" if message else kind)
    return "\n".join(lines)


def raise_for_error(obs: PartObservation, key: str, what: str) -> None:
    """Fail the check when the student's call under `key` raised."""
    error = obs.error(key)
    if error is None:
        return
    if error.get("type") == "NotImplementedError":
        raise CheckFailed(
            message=f"{what} is not implemented yet (it raises NotImplementedError).",
            hint="replace `raise NotImplementedError()` with your code",
        )
    hint = diagnose_error(error)
    raise CheckFailed(
        message=f"{what} raised an error:\n{format_error(error)}",
        hint=hint,
    )


def diagnose_error(error: dict[str, Any]) -> str:
    """Likely causes of common exceptions in this exercise."""
    message = str(error.get("message", ""))
    kind = error.get("type", "")
    network = (
        "Network is unreachable",
        "Connection refused",
        "Name or service not known",
        "name resolution",
        "No address associated",
    )
    if (
        kind in ("ConnectionRefusedError", "gaierror")
        or any(m in message for m in network)
        or ("network" in message.lower() and kind.endswith("Error"))
    ):
        return "the code tried to open a network connection; the grader has no network"
    if "can't start new thread" in message or "Resource temporarily unavailable" in message:
        return "the code started too many processes or threads; the sandbox limits how many may run"
    if kind == "MemoryError":
        return "the code ran out of memory"
    if kind == "KeyError" and "'acc'" in message:
        return "Keras 3 logs the metric as 'accuracy', not 'acc'"
    if "Cannot cast ufunc" in message and "divide" in message:
        return "in-place division of a uint8 array (`images /= 255`); divide into a new float array"
    if kind == "SystemExit":
        return "do not call sys.exit() in graded code"
    return ""


def part_failure(obs: PartObservation) -> str | None:
    """Why a whole part could not be checked, or None when its probe ran."""
    if obs.run.status != "ok":
        return (
            f"{obs.part} {obs.run.message}."
            if obs.run.status != "not_loaded"
            else obs.run.message + "."
        )
    missing = obs.data.get("missing")
    if missing:
        text = f"`{missing}` is not defined."
        for error in obs.import_errors:
            if error.get("label") == missing or missing in "".join(
                str(f.get("code", "")) for f in error.get("frames", [])
            ):
                if error.get("type") == "NotImplementedError":
                    return f"{missing} is not implemented yet: its cell raises NotImplementedError."
                return f"{text} Its cell raised an error:\n{format_error(error)}"
        for error in obs.import_errors:
            if error.get("type") in {"SyntaxError", "IndentationError", "TabError"}:
                return f"{text} The code could not be parsed:\n{format_error(error)}"
        return text + f" Define `{missing}` in a graded cell (check the spelling)."
    probe_error = obs.error("probe")
    if probe_error is not None:
        if probe_error.get("type") == "NotImplementedError":
            return f"{obs.part} is not implemented yet (it raises NotImplementedError)."
        return f"{obs.part} could not be checked:\n{format_error(probe_error)}"
    return None


def run_check(
    item: Check, obs: PartObservation, ctx: GradingContext, reason: str | None
) -> TestResult:
    """Run one check, turning every outcome into a TestResult; never raises."""
    if reason is not None:
        return TestResult(item.name, item.part, item.points, 0.0, message=reason)
    try:
        item.function(obs, ctx)
    except CheckFailed as failed:
        return TestResult(item.name, item.part, item.points, 0.0, failed.feedback, failed.message)
    except ObservationError as exc:
        return TestResult(item.name, item.part, item.points, 0.0, message=f"Not gradable: {exc}.")
    except Exception as exc:  # a malformed observation must cost the check, not the grade
        return TestResult(
            item.name,
            item.part,
            item.points,
            0.0,
            message=f"Not gradable: the submission's output was malformed ({type(exc).__name__}).",
        )
    return TestResult(item.name, item.part, item.points, item.points)

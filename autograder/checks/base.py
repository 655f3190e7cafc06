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

import ast
import re
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
    subset_images: np.ndarray  # the short fits' training images (uint8) and labels
    subset_labels: np.ndarray
    start_loss: float  # the reference model's loss on them before any training
    expectations: Expectations  # this grading's expected outcomes (never sent to the child)
    pipeline_threshold: float
    artifacts: dict[str, Any] = field(default_factory=dict)
    # Names the submission binds only outside its graded cells (name -> cell), for feedback.
    ungraded: dict[str, str] = field(default_factory=dict)
    # The graded code, chunk by chunk: only to explain a failure, never to score one.
    code: list[str] = field(default_factory=list)


def definition_source(ctx: GradingContext, name: str) -> str:
    """The source of the top-level function or class `name` in the graded code, or ''."""
    for chunk in ctx.code:
        try:
            tree = ast.parse(chunk)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node.name == name
            ):
                return ast.get_source_segment(chunk, node) or ""
    return ""


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
    if "URL fetch failure" in message and ("datasets" in message or "fashion" in message.lower()):
        return (
            "the Fashion-MNIST files are not in Keras' cache and cannot be downloaded here: set "
            "FASHION_MNIST_DIR to a folder with the four .gz files (or install Debian's "
            "dataset-fashion-mnist), restart the kernel and run the cells again"
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
    code = " ".join(str(f.get("code", "")) for f in error.get("frames", []) or [])
    if (kind == "KeyError" and "'acc'" in message) or ACC_KEY.search(code):
        return ACC_HINT
    if "Cannot cast ufunc" in message and "divide" in message:
        return "in-place division of a uint8 array (`images /= 255`); divide into a new float array"
    if kind == "SystemExit":
        return "do not call sys.exit() in graded code"
    return ""


ACC_KEY = re.compile(r"""\[\s*['"]acc['"]\s*\]|\.get\(\s*['"]acc['"]""")
UNDEFINED_NAME = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def ungraded_hint(user: str, name: str, cell: str) -> str:
    """The one message for a graded function that needs something defined outside the graded
    cells: the self-check and the grader both say exactly this."""
    return (
        f"`{user}` uses `{name}`, which is defined in an ungraded cell ({cell}): grading runs "
        "only the graded cells (and the imports of every cell), so move it into a graded cell"
    )


def ungraded_cause(text: str, ungraded: dict[str, str], part: str) -> str:
    """The hint for a NameError on a name bound only in an ungraded cell, else ''."""
    match = UNDEFINED_NAME.search(text)
    if not match or match.group(1) not in ungraded:
        return ""
    in_function = re.findall(r", in ([A-Za-z_][A-Za-z0-9_]*)\n", text.split(match.group(0))[0])
    user = in_function[-1] if in_function and in_function[-1] != "<module>" else part
    return ungraded_hint(user, match.group(1), ungraded[match.group(1)])


ACC_HINT = "Keras 3 logs the metric as 'accuracy', not 'acc': use logs['accuracy']"


def source_cause(ctx: GradingContext, part: str, text: str) -> str:
    """A hint found in the part's own source when the error alone does not say (the line that
    read logs['acc'] may not be the line that raised)."""
    if ("NoneType" in text or "KeyError" in text) and ACC_KEY.search(definition_source(ctx, part)):
        return ACC_HINT
    return ""


def part_failure(obs: PartObservation, ungraded: dict[str, str] | None = None) -> str | None:
    """Why a whole part could not be checked, or None when its probe ran."""
    if obs.run.status != "ok":
        return (
            f"{obs.part} {obs.run.message}."
            if obs.run.status != "not_loaded"
            else obs.run.message + "."
        )
    missing = obs.data.get("missing")
    if missing and ungraded and missing in ungraded:
        return (
            f"`{missing}` is defined in an ungraded cell ({ungraded[missing]}): grading runs "
            f"only the graded cells, so define `{missing}` in its graded cell (tagged `graded`)."
        )
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
        feedback = failed.feedback
        text = failed.message + "\n" + feedback.received
        cause = ungraded_cause(text, ctx.ungraded, item.part) or source_cause(ctx, item.part, text)
        if cause and not feedback.hint:
            feedback = Feedback(feedback.expected, feedback.received, cause)
        return TestResult(item.name, item.part, item.points, 0.0, feedback, failed.message)
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

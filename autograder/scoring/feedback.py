"""Feedback that teaches: what was expected, what was received, and the likely cause.

A grader raises `CheckFailed(expected=..., received=..., hint=...)`; the helpers here turn the
child's error records and failed runs into the same kind of message, once for every exercise.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from autograder.results import Feedback
from autograder.student_text import continued


class CheckFailed(AssertionError):
    """Raised by a grader: what was expected, what was received, and the likely cause.

    An `AssertionError`, so pytest reports it as a failed test (not an error)."""

    def __init__(
        self, expected: str = "", received: str = "", hint: str = "", message: str = ""
    ) -> None:
        super().__init__(message or expected)
        self.feedback = Feedback(expected=expected, received=received, hint=hint)
        self.message = message


def not_implemented(what: str) -> str:
    """The one message for a stub that still raises NotImplementedError."""
    return f"{what} is not implemented yet (it raises NotImplementedError)."


STUB_HINT = "replace `raise NotImplementedError()` with your code"


def definition_source(code: list[str], name: str) -> str:
    """The source of the top-level function or class `name` in the graded code, or ''."""
    for chunk in code:
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
    # The message's own line breaks are indented: its lines never stand where the kit's do.
    lines.append(f"{kind}: {continued(message)}" if message else kind)
    return "\n".join(lines)


def raise_for_error(obs, key: str, what: str) -> None:
    """Fail the check when the student's call recorded under `key` raised."""
    error = obs.error(key)
    if error is None:
        return
    if error.get("type") == "NotImplementedError":
        raise CheckFailed(message=not_implemented(what), hint=STUB_HINT)
    raise CheckFailed(
        message=f"{what} raised an error:\n{format_error(error)}", hint=diagnose_error(error)
    )


ACC_KEY = re.compile(r"""\[\s*['"]acc['"]\s*\]|\.get\(\s*['"]acc['"]""")
ACC_HINT = "Keras 3 logs the metric as 'accuracy', not 'acc': use logs['accuracy']"
SHAPE_CHANGED_HINT = (
    "the caller's array now has another shape: `images.shape = ...` and `images.resize(...)` "
    "reshape it in place; `images.reshape(...)` returns a new array and leaves it alone"
)
UNEXPECTED_ARGUMENT = re.compile(
    r"(?:(\w+)\.)?__init__\(\) got an unexpected keyword argument '(\w+)'"
)
CALLBACK_SIGNATURE = re.compile(
    r"(on_(?:train_|test_|predict_)?(?:epoch|batch)_(?:begin|end))\(\) (?:takes .* positional "
    r"arguments? but \d+ (?:were|was) given|missing 1 required positional argument)"
)
UNDEFINED_NAME = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
NETWORK_MESSAGES = (
    "Network is unreachable",
    "Connection refused",
    "Name or service not known",
    "name resolution",
    "No address associated",
)


def diagnose_error(error: dict[str, Any]) -> str:
    """Likely causes of common exceptions in Keras exercises."""
    message = str(error.get("message", ""))
    kind = error.get("type", "")
    if "URL fetch failure" in message and "datasets" in message:
        return (
            "the data set's files are not in Keras' cache and cannot be downloaded here: set the "
            "data folder variable the notebook names (e.g. FASHION_MNIST_DIR) to a folder with "
            "the files, restart the kernel and run the cells again"
        )
    if (
        kind in ("ConnectionRefusedError", "gaierror")
        or any(m in message for m in NETWORK_MESSAGES)
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
    signature = CALLBACK_SIGNATURE.search(message)
    if kind == "TypeError" and signature:
        method = signature.group(1)
        step = "epoch" if "epoch" in method else "batch"
        return (
            f"Keras calls {method}({step}, logs) with two arguments: define it as "
            f"def {method}(self, {step}, logs=None)"
        )
    if "expected min_ndim=4, found ndim=3" in message and "conv2d" in message:
        return (
            "Conv2D needs a channel axis: give the model keras.Input(shape=(28, 28, 1)) (or "
            "input_shape=(28, 28, 1)), one grey channel"
        )
    if "Incompatible shapes" in message and "node Equal" in message:
        return (
            "a metric compared the labels with the outputs element by element: "
            "keras.metrics.Accuracy() does; use metrics=['accuracy']"
        )
    if kind == "AttributeError" and "attribute 'predict_classes'" in message:
        return (
            "model.predict_classes was removed from Keras (TensorFlow 2.6): take the argmax of "
            "the probabilities, np.argmax(model.predict(images), axis=1)"
        )
    unexpected = UNEXPECTED_ARGUMENT.search(message)
    if kind == "TypeError" and unexpected:
        owner, argument = unexpected.group(1), unexpected.group(2)
        cause = (
            f"the class has no __init__ of its own, so Keras' {owner}.__init__ receives "
            f"{argument}=... and refuses it"
            if owner in {"Callback", "Layer", "Model"}
            else f"the class's __init__ does not accept {argument}=..."
        )
        return (
            f"{cause}: define __init__(self, {argument}=...), call super().__init__() in it "
            f"and keep the value (self.{argument} = {argument}) for the other methods"
        )
    return ""


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


def source_cause(code: list[str], part: str, text: str) -> str:
    """A hint found in the part's own source when the error alone does not say (the line that
    read logs['acc'] may not be the line that raised)."""
    if ("NoneType" in text or "KeyError" in text) and ACC_KEY.search(definition_source(code, part)):
        return ACC_HINT
    return ""


def part_failure(obs, ungraded: dict[str, str] | None = None) -> str | None:
    """Why a whole part could not be checked, or None when its calls ran (the harness records
    an exception that escaped them under the error key `probe`)."""
    if obs.run.status != "ok":
        return (
            f"{obs.part} {obs.run.message}."
            if obs.run.status != "not_loaded"
            else obs.run.message + "."
        )
    missing = obs.get("missing")
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
                    return not_implemented(missing)
                return f"{text} Its cell raised an error:\n{format_error(error)}"
        for error in obs.import_errors:
            if error.get("type") in {"SyntaxError", "IndentationError", "TabError"}:
                return f"{text} The code could not be parsed:\n{format_error(error)}"
        return text + f" Define `{missing}` in a graded cell (check the spelling)."
    probe_error = obs.error("probe")
    if probe_error is not None:
        if probe_error.get("type") == "NotImplementedError":
            return not_implemented(obs.part)
        return f"{obs.part} could not be checked:\n{format_error(probe_error)}"
    return None

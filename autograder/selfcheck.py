"""Self-checks for students: `check("build_model")` in the notebook, right after the part.

It runs the grader's own probes and checks on the objects already defined in the student's
kernel and prints the same feedback `autograder grade` gives for that part. It is fast: the
callback and training checks train briefly on a small subset (as the grader does too), and the
pipeline part, which trains for 5 epochs on all 60,000 images, is skipped unless asked for with
`check("pipeline", slow=True)`.

A self-check is only a preview: the code runs in the student's own kernel, not in the sandbox,
and grades always come from `autograder grade` (or nbgrader, which runs the same grader).

Example (in a notebook cell):
    >>> from autograder.selfcheck import check
    >>> check("scale_images")
    scale_images  9/9
      [PASS] scale_images: ...
    All checks passed.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import warnings
from typing import Any

from autograder import exercise

# One grader per kernel: preparing it reads the data and builds the reference model.
_GRADER: Any = None

# The names each part looks up in the student's namespace.
PART_NAMES: dict[str, tuple[str, ...]] = {
    **{part: (part,) for part in exercise.PARTS},
    "pipeline": ("scale_images", "build_model", "train_model"),
}
QUICK_FITS = {"StopOnLoss", "StopOnAccuracy", "train_model"}


def _caller_namespace(depth: int) -> dict:
    """The IPython user namespace when running in a notebook, else the caller's globals."""
    try:
        from IPython import get_ipython
    except ImportError:
        shell = None
    else:
        shell = get_ipython()
    if shell is not None and getattr(shell, "user_ns", None) is not None:
        return shell.user_ns
    return sys._getframe(depth + 1).f_globals


def get_grader():
    """The kernel's grader, created on first use (GraderOptions read the data location from
    FASHION_MNIST_DIR, the keras cache or Debian's package, as `autograder grade` does)."""
    global _GRADER
    if _GRADER is None:
        from autograder.grader import Grader, GraderOptions

        with _quiet():
            _GRADER = Grader(GraderOptions())
    return _GRADER


def set_grader(grader) -> None:
    """Use this grader for the following checks (tests, or custom data and options)."""
    global _GRADER
    _GRADER = grader


@contextlib.contextmanager
def _quiet():
    """Hide the student's own prints, progress bars and warnings while the probes run."""
    sink = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        warnings.simplefilter("ignore")
        yield sink


def check(part: str, *, slow: bool = False, namespace: dict | None = None) -> None:
    """Check one part of the exercise and print the grader's feedback for it.

    Args:
        part: the part's name, as in the cell above (e.g. "build_model").
        slow: also run the slow `pipeline` check (5 epochs on all the training images).
        namespace: where the student's names live; default: the notebook's (or caller's) globals.
    """
    if part not in exercise.PARTS:
        print(f"Unknown part {part!r}. The parts are: {', '.join(exercise.PARTS)}.")
        return
    if os.environ.get("NBGRADER_EXECUTION"):
        # nbgrader is running the notebook (autograde/validate): the test cells do the grading.
        print(f"Self-check for {part} skipped while nbgrader runs the notebook.")
        return
    if part == "pipeline" and not slow:
        print(
            "The pipeline check trains your model for 5 epochs on all 60,000 training images and "
            "takes a minute or more, so it is skipped here.\n"
            'Run check("pipeline", slow=True) to run it now.'
        )
        return
    if namespace is None:
        namespace = _caller_namespace(1)
    print(report_part(part, namespace))


def report_part(part: str, namespace: dict) -> str:
    """The self-check text for one part (what `check` prints)."""
    started = time.monotonic()
    lines = []
    missing = [name for name in PART_NAMES[part] if name not in namespace]
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        lines.append(
            f"{names} not defined yet: run the cell above first. If it still raises "
            "NotImplementedError, this part is not implemented yet."
        )
    from autograder.data import DataError

    try:
        grader = get_grader()
    except DataError as exc:
        return "\n".join(
            [*lines, f"The self-check cannot run without the Fashion-MNIST files: {exc}"]
        )
    with _quiet():
        report = grader.check_namespace(namespace, [part])
    from autograder.exporters.text import render_part

    lines += render_part(report, part)
    score, maximum = report.part_score(part)
    accuracy = report.artifacts.get("test_accuracy")
    if accuracy is not None:
        lines.append(
            f"Pipeline test accuracy: {accuracy:.4f} (needs {grader.options.pipeline_threshold:g})"
        )
    if part in QUICK_FITS:
        lines.append(
            f"(These checks train briefly on {exercise.SUBSET_SIZE} of the training images, "
            "exactly as the grader does.)"
        )
    verdict = (
        "All checks passed." if score >= maximum else f"{score:g} of {maximum:g} points so far."
    )
    lines.append(f"{verdict}  (self-check in your kernel, {time.monotonic() - started:.1f} s)")
    return "\n".join(lines)

"""Hostile submissions: the reference solution of fashion_mnist with hostile code written into a
few of its definitions (tests/mutate.py), and grading them on a subset of the parts.

Shared by test_hostile, test_trust, test_student_experience and test_model_config_fuzz.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import mutate
from fashion import reference_source

from autograder.grader import Grader

QUICK = ("CLASS_NAMES", "scale_images", "add_batch_dimension", "build_model", "predict_classes")
HEADER = "import builtins, json, os, shutil, signal, socket, sys, threading, time\n\n"
STRONG = ("bubblewrap", "rlimits")  # modes with a private filesystem and PID namespace
ALL_MODES = (*STRONG, "plain")

SCALE = "    return images / 255.0\n"
BATCH = "    return np.expand_dims(image, 0)\n"
BUILD = "    model = keras.Sequential(\n"
PREDICT = "    return np.argmax(model.predict(images, verbose=0), axis=1)\n"
LOAD = "    return (train_images, train_labels), (test_images, test_labels)\n"
FIT = "    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n"


def hostile(
    *replacements: tuple[str, str] | mutate.Edit, prefix: str = "", suffix: str = ""
) -> str:
    """The reference solution with each `(old, new)` made in the one definition holding `old`
    (its first occurrence there) or each `Edit` in the definition it names, plus extra chunks."""
    source = mutate.apply(reference_source(), *mutate.edits(replacements), label="the reference")
    return HEADER + prefix + source + suffix


def body(text: str) -> str:
    """An indented function body from a dedented snippet."""
    return "".join(f"    {line}\n" if line else "\n" for line in text.strip("\n").splitlines())


def grade(grader: Grader, tmp_path: Path, source: str, *, parts=QUICK, limits=None, timeouts=None):
    """Grade `source` with this grader's data and sandbox, other parts, limits or time limits."""
    variant = copy.copy(grader)
    variant.options = dataclasses.replace(
        grader.options,
        parts=tuple(parts),
        limits=limits or grader.options.limits,
        timeouts={**grader.options.timeouts, **(timeouts or {})},
    )
    path = tmp_path / "submission.py"
    path.write_text(source)
    return variant.grade(path)

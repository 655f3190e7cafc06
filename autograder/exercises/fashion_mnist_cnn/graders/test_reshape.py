"""Graders of reshape_images: (n, 28, 28) uint8 -> a new (n, 28, 28, 1) float32 array / 255."""

from __future__ import annotations

import numpy as np

from autograder.exercises.fashion_mnist_cnn.reference import Context, scaled
from autograder.scoring import CheckFailed, grader, raise_for_error
from autograder.scoring.feedback import SHAPE_CHANGED_HINT


def _raise_for_call_error(obs) -> None:
    """Fail when reshape_images raised, naming a hard-coded image count."""
    error = obs.error("call") or {}
    if "cannot reshape array" in str(error.get("message", "")):
        raise CheckFailed(
            message="reshape_images(images) raised " + str(error.get("message", ""))[:200],
            hint="the number of images is probably hard-coded: reshape(-1, 28, 28, 1) works "
            "for any number of images",
        )
    raise_for_error(obs, "call", "reshape_images(images)")


def _reshaped(obs) -> np.ndarray:
    _raise_for_call_error(obs)
    info = obs.get("result") or {}
    if not info.get("saved"):
        raise CheckFailed(
            expected="a numpy array",
            received=str(info.get("type", "nothing")),
            hint="return images.reshape(-1, 28, 28, 1) / 255.0 as a float32 array",
        )
    return obs.array("result")


@grader("reshape_images", "shape (N, 28, 28, 1)", points=3)
def test_shape(obs, ctx: Context) -> None:
    result = _reshaped(obs)
    expected = (len(ctx.sample_images), 28, 28, 1)
    if result.shape != expected:
        hint = ""
        if result.shape == ctx.sample_images.shape:
            hint = "add the channel axis: images.reshape(-1, 28, 28, 1) or images[..., np.newaxis]"
        elif result.shape == (len(ctx.sample_images), 1, 28, 28):
            hint = "the channel axis goes last (channels_last): (N, 28, 28, 1), not (N, 1, 28, 28)"
        elif result.shape == (1, *ctx.sample_images.shape):
            hint = (
                "the new axis was added in front (a batch axis) instead of at the end (the "
                "channel axis): images[..., np.newaxis] or reshape(-1, 28, 28, 1)"
            )
        elif result.shape[:1] != expected[:1]:
            hint = "keep one entry per image: reshape(-1, 28, 28, 1) or reshape(len(images), 28, 28, 1)"
        raise CheckFailed(expected=f"shape {expected}", received=f"shape {result.shape}", hint=hint)


@grader("reshape_images", "values are pixels / 255", points=3)
def test_values(obs, ctx: Context) -> None:
    result = _reshaped(obs)
    expected = scaled(ctx.sample_images)
    if result.size != expected.size:
        raise CheckFailed(expected=f"{expected.size} values", received=f"{result.size} values")
    values = result.reshape(expected.shape).astype(np.float64)
    if not np.allclose(values, expected, atol=1e-6):
        hint = ""
        if np.allclose(values, ctx.sample_images.reshape(expected.shape)):
            hint = "the pixels are not scaled: divide by 255"
        elif float(values.max()) <= 1 / 255 + 1e-9:
            hint = "divided by 255 twice"
        elif np.array_equal(values, ctx.sample_images.reshape(expected.shape) // 255):
            hint = "`// 255` is integer division (everything becomes 0 or 1): use `/ 255.0`"
        raise CheckFailed(
            expected="each pixel divided by 255 (values in [0, 1])",
            received=f"values from {values.min():g} to {values.max():g}",
            hint=hint,
        )


@grader("reshape_images", "float32 dtype", points=2)
def test_dtype(obs, ctx: Context) -> None:
    result = _reshaped(obs)
    if result.dtype != np.float32:
        hint = "convert with .astype('float32'): Keras computes in float32"
        if result.dtype == np.float64:
            hint = "`images / 255.0` gives float64; use (images / 255.0).astype('float32') or images.astype('float32') / 255"
        raise CheckFailed(expected="dtype float32", received=f"dtype {result.dtype}", hint=hint)


@grader("reshape_images", "input array left unchanged", points=2)
def test_input_untouched(obs, ctx: Context) -> None:
    _raise_for_call_error(obs)
    modified = obs.get("input_modified")
    if modified is not False:  # missing means unknown, and unknown never earns the points
        hint = "reshape and divide into a new array; in-place operations change the caller's data"
        if obs.get("input_shape_changed"):
            hint = SHAPE_CHANGED_HINT
        raise CheckFailed(
            expected="the input array unchanged",
            received="the input array was modified" if modified else "nothing to compare",
            hint=hint,
        )

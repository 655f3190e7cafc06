"""Graders of reshape_images: (n, 28, 28) uint8 -> a new (n, 28, 28, 1) float32 array / 255."""

from __future__ import annotations

import numpy as np

from autograder.exercises.fashion_mnist_cnn.reference import scaled
from autograder.scoring import CheckFailed, checks, grader

CALL = "reshape_images(images)"


def _reshaped(obs) -> np.ndarray:
    """What reshape_images returned; a failure naming a hard-coded image count when it raised."""
    message = str((obs.error("result") or {}).get("message", ""))
    if "cannot reshape array" in message:
        raise CheckFailed(
            message=f"{CALL} raised {message[:200]}",
            hint="the number of images is probably hard-coded: reshape(-1, 28, 28, 1) works "
            "for any number of images",
        )
    hint = "return images.reshape(-1, 28, 28, 1) / 255.0 as a float32 array"
    return checks.returned_array(obs, "result", CALL, hint=hint)


@grader("reshape_images", "shape (N, 28, 28, 1)", points=3)
def test_shape(obs, ctx) -> None:
    result, images = _reshaped(obs), ctx.sample_images
    expected = (len(images), 28, 28, 1)
    if result.shape != expected:
        hint = ""
        if result.shape == images.shape:
            hint = "add the channel axis: images.reshape(-1, 28, 28, 1) or images[..., np.newaxis]"
        elif result.shape == (len(images), 1, 28, 28):
            hint = "the channel axis goes last (channels_last): (N, 28, 28, 1), not (N, 1, 28, 28)"
        elif result.shape == (1, *images.shape):
            hint = ("the new axis was added in front (a batch axis) instead of at the end (the "
                    "channel axis): images[..., np.newaxis] or reshape(-1, 28, 28, 1)")  # fmt: skip
        elif result.shape[:1] != expected[:1]:
            hint = "keep one entry per image: reshape(-1, 28, 28, 1) or reshape(len(images), 28, 28, 1)"
        raise CheckFailed(expected=f"shape {expected}", received=f"shape {result.shape}", hint=hint)


@grader("reshape_images", "values are pixels / 255", points=3)
def test_values(obs, ctx) -> None:
    result, expected = _reshaped(obs), scaled(ctx.sample_images)
    if result.size != expected.size:
        raise CheckFailed(expected=f"{expected.size} values", received=f"{result.size} values")
    values = result.reshape(expected.shape).astype(np.float64)
    if not np.allclose(values, expected, atol=1e-6):
        raw = ctx.sample_images.reshape(expected.shape)
        hint = ""
        if np.allclose(values, raw):
            hint = "the pixels are not scaled: divide by 255"
        elif float(values.max()) <= 1 / 255 + 1e-9:
            hint = "divided by 255 twice"
        elif np.array_equal(values, raw // 255):
            hint = "`// 255` is integer division (everything becomes 0 or 1): use `/ 255.0`"
        raise CheckFailed(expected="each pixel divided by 255 (values in [0, 1])",
                          received=f"values from {values.min():g} to {values.max():g}", hint=hint)  # fmt: skip


@grader("reshape_images", "float32 dtype", points=2)
def test_dtype(obs, ctx) -> None:
    result = _reshaped(obs)
    if result.dtype != np.float32:
        hint = "convert with .astype('float32'): Keras computes in float32"
        if result.dtype == np.float64:
            hint = "`images / 255.0` gives float64; use (images / 255.0).astype('float32') or images.astype('float32') / 255"
        raise CheckFailed(expected="dtype float32", received=f"dtype {result.dtype}", hint=hint)


@grader("reshape_images", "input array left unchanged", points=2)
def test_input_untouched(obs, ctx) -> None:
    hint = "reshape and divide into a new array; in-place operations change the caller's data"
    checks.check_unchanged(obs, "result", CALL, hint=hint)

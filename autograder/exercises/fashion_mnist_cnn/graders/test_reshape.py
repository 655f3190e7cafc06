"""Graders of reshape_images: (n, 28, 28) uint8 -> a new (n, 28, 28, 1) float32 array / 255."""

from __future__ import annotations

import numpy as np

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
    checks.check_channels_last(_reshaped(obs), ctx.sample_images)


@grader("reshape_images", "values are pixels / 255", points=3)
def test_values(obs, ctx) -> None:
    what = "each pixel divided by 255 (values in [0, 1])"
    checks.check_scaled(_reshaped(obs), ctx.sample_images, what)


@grader("reshape_images", "float32 dtype", points=2)
def test_dtype(obs, ctx) -> None:
    result = _reshaped(obs)
    hint = "convert with .astype('float32'): Keras computes in float32"
    if result.dtype == np.float64:
        hint = "`images / 255.0` gives float64; use (images / 255.0).astype('float32') or images.astype('float32') / 255"
    checks.check_dtype(result, "float32", hint)


@grader("reshape_images", "input array left unchanged", points=2)
def test_input_untouched(obs, ctx) -> None:
    hint = "reshape and divide into a new array; in-place operations change the caller's data"
    checks.check_unchanged(obs, "result", CALL, hint=hint)

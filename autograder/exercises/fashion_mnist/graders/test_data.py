"""Checks for the data parts: CLASS_NAMES, load_data, scale_images, add_batch_dimension."""

from __future__ import annotations

import numpy as np

from autograder.exercises.fashion_mnist.constants import CLASS_NAMES
from autograder.exercises.fashion_mnist.reference import Context
from autograder.observations import PartObservation
from autograder.scoring import CheckFailed, grader, raise_for_error
from autograder.scoring.feedback import SHAPE_CHANGED_HINT

LOAD_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
# Where load_data's declared call records each array: ((0_0, 0_1), (1_0, 1_1)).
LOAD_ITEMS = dict(zip(LOAD_KEYS, ("0_0", "0_1", "1_0", "1_1"), strict=True))


def shape_text(info: dict) -> str:
    if "shape" in info:
        return f"{info.get('type', '?').rsplit('.', 1)[-1]} of shape {tuple(info['shape'])}, dtype {info.get('dtype', '?')}"
    return f"{info.get('type', '?')}: {info.get('repr', '')[:80]}"


@grader("CLASS_NAMES", "ten class names in label order", points=3)
def test_class_names_in_order(obs: PartObservation, ctx: Context) -> None:
    info = obs.get("value") or {}
    items = obs.get("value_items")
    if items is None:
        raise CheckFailed(
            expected="a list or tuple of 10 strings",
            received=shape_text(info),
        )
    if list(items) == list(CLASS_NAMES):
        return
    hint = ""
    if len(items) != len(CLASS_NAMES):
        hint = f"there are 10 classes; you gave {len(items)} names"
    elif sorted(items) == sorted(CLASS_NAMES):
        hint = "the names are right but out of order: index i must be the name of label i"
    elif [s.lower().strip() for s in items] == [s.lower() for s in CLASS_NAMES]:
        hint = "check capitalisation and spaces: names must match exactly, e.g. 'T-shirt/top'"
    wrong = [
        f"{i}: {got!r} (expected {want!r})"
        for i, (got, want) in enumerate(zip(items, CLASS_NAMES, strict=False))
        if got != want
    ]
    raise CheckFailed(
        expected=", ".join(CLASS_NAMES),
        received=", ".join(map(repr, items)),
        hint=hint or "first difference at " + (wrong[0] if wrong else "the end of the list"),
    )


def _grader_copy(ctx: Context) -> list[tuple[str, np.ndarray]]:
    """The grader's own arrays, keyed like load_data's result."""
    return [(key, getattr(ctx, key)) for key in LOAD_KEYS]


def _loaded(obs: PartObservation) -> dict[str, dict]:
    raise_for_error(obs, "result", "load_data()")
    inner = {f"{i}_{j}": obs.get(f"result_item_{i}_{j}") for i in range(2) for j in range(3)}
    # Exactly two pairs: two items, each a tuple or list of two.
    found = [[inner[f"{i}_{j}"] is not None for j in range(3)] for i in range(2)]
    if obs.get("result_item_2") is not None or found != [[True, True, False]] * 2:
        raise CheckFailed(
            expected="((train_images, train_labels), (test_images, test_labels))",
            received=shape_text(obs.get("result") or {}),
            hint="return exactly what keras.datasets.fashion_mnist.load_data() returns",
        )
    return {key: inner[item] for key, item in LOAD_ITEMS.items()}


@grader("load_data", "shapes and dtypes", points=4)
def test_load_shapes(obs: PartObservation, ctx: Context) -> None:
    infos = _loaded(obs)
    for key, reference in _grader_copy(ctx):
        info = infos[key]
        if not info.get("saved"):
            raise CheckFailed(
                expected=f"{key} as a numpy array",
                received=shape_text(info),
            )
        array = obs.array(f"result_item_{LOAD_ITEMS[key]}")
        if array.shape != reference.shape or array.dtype != reference.dtype:
            hint = ""
            if array.dtype.kind == "f":
                hint = "load_data should return the raw uint8 pixels; scaling is scale_images' job"
            elif array.shape[:1] == reference.shape[:1] and array.ndim != reference.ndim:
                hint = "do not reshape or flatten the images in load_data"
            raise CheckFailed(
                expected=f"{key}: shape {reference.shape}, dtype {reference.dtype}",
                received=f"{key}: shape {array.shape}, dtype {array.dtype}",
                hint=hint,
            )


@grader("load_data", "values equal the real Fashion-MNIST", points=4)
def test_load_values(obs: PartObservation, ctx: Context) -> None:
    infos = _loaded(obs)
    for key, reference in _grader_copy(ctx):
        if not infos[key].get("saved"):
            raise CheckFailed(expected=f"{key} as a numpy array", received=shape_text(infos[key]))
        array = obs.array(f"result_item_{LOAD_ITEMS[key]}")
        if array.shape != reference.shape or not np.array_equal(array, reference):
            received = f"{key} differs from the dataset"
            if key == "train_labels" and array.ndim == 1 and array.size >= 5:
                received += (
                    f" (first labels {array[:5].tolist()}, expected {reference[:5].tolist()})"
                )
            hint = ""
            if (
                key.endswith("labels")
                and array.size == reference.size
                and np.array_equal(np.sort(array, axis=None), np.sort(reference, axis=None))
            ):
                hint = "the labels are shuffled or swapped between train and test"
            elif key.startswith("train") and array.shape == ctx.test_images.shape[: array.ndim]:
                hint = "train and test sets are swapped"
            raise CheckFailed(
                expected=f"{key} equal to keras.datasets.fashion_mnist.load_data()",
                received=received,
                hint=hint or "return the arrays unchanged, in the order (train, test)",
            )


def _scaled(obs: PartObservation) -> np.ndarray:
    raise_for_error(obs, "result", "scale_images(images)")
    info = obs.get("result") or {}
    if not info.get("saved"):
        hint = ""
        if info.get("type") == "builtins.NoneType":
            hint = "scale_images returns nothing: end it with a `return` of the scaled array"
        raise CheckFailed(expected="a numpy float array", received=shape_text(info), hint=hint)
    return obs.array("result")


@grader("scale_images", "values are pixels / 255", points=4)
def test_scale_values(obs: PartObservation, ctx: Context) -> None:
    result = _scaled(obs)
    expected = ctx.sample_images.astype(np.float64) / 255.0
    if result.shape != expected.shape:
        if result.size != expected.size:
            raise CheckFailed(
                expected=f"an array of shape {expected.shape} (the input's) holding pixels / 255",
                received=f"shape {result.shape}: the values cannot be compared pixel by pixel",
                hint="return the scaled images in the input's shape: `images / 255.0`",
            )
        # The same pixels in another shape: the values are judged here, the shape on its line.
        result = result.reshape(expected.shape)
    if np.allclose(result, expected, atol=1e-6):
        return
    hint = ""
    if np.array_equal(result, ctx.sample_images):
        hint = "the images were not scaled: divide by 255"
    elif np.allclose(result, ctx.sample_images // 255):
        hint = (
            "integer division (`// 255`) or a cast to an integer type makes almost every "
            "pixel 0: use `images / 255.0` and keep the floats"
        )
    elif np.allclose(result, ctx.sample_images / 256.0, atol=1e-6):
        hint = "divide by 255 (the largest pixel value), not 256"
    elif result.max() > 1.0:
        hint = "values above 1 remain: divide by 255"
    raise CheckFailed(
        expected=f"values from {expected.min():.3f} to {expected.max():.3f} (pixels / 255)",
        received=f"values from {float(result.min()):.3f} to {float(result.max()):.3f}",
        hint=hint,
    )


@grader("scale_images", "float dtype with values in [0, 1]", points=2)
def test_scale_range(obs: PartObservation, ctx: Context) -> None:
    result = _scaled(obs)
    if result.dtype.kind != "f":
        hint = ""
        if result.dtype.kind in "iu":
            same = result.shape == ctx.sample_images.shape
            if same and np.array_equal(result, ctx.sample_images):
                hint = "the images were not scaled: `images / 255.0` gives floats in [0, 1]"
            elif result.size and int(result.max()) <= 1:
                hint = "integer division (`// 255`) or an integer cast: use `images / 255.0`"
            else:
                hint = "an integer dtype cannot hold values between 0 and 1: use `images / 255.0`"
        raise CheckFailed(
            expected="a float dtype (float32 or float64)",
            received=f"dtype {result.dtype}",
            hint=hint,
        )
    low, high = float(result.min()), float(result.max())
    if low < 0.0 or high > 1.0:
        raise CheckFailed(
            expected="all values within [0, 1]", received=f"values from {low:g} to {high:g}"
        )


@grader("scale_images", "shape unchanged", points=1)
def test_scale_shape(obs: PartObservation, ctx: Context) -> None:
    result = _scaled(obs)
    if result.shape != ctx.sample_images.shape:
        raise CheckFailed(
            expected=f"shape {ctx.sample_images.shape} (same as the input)",
            received=f"shape {result.shape}",
            hint="scale_images should not reshape or flatten; the model's Flatten layer does that",
        )


@grader("scale_images", "input array left unchanged", points=2)
def test_scale_input_untouched(obs: PartObservation, ctx: Context) -> None:
    error = obs.error("result")
    if error and "Cannot cast ufunc" in str(error.get("message", "")):
        raise CheckFailed(
            expected="a new array, the input left as it was",
            received="an error from dividing the uint8 input in place",
            hint="in-place division of a uint8 array (`images /= 255`); use `images / 255.0`",
        )
    raise_for_error(obs, "result", "scale_images(images)")
    changed = obs.get("result_changed")
    modified = None if changed is None else "sample_images" in changed
    if modified is not False:  # missing means unknown, and unknown never earns the points
        hint = "in-place operations (`images /= ...`, `images[...] = ...`) change the caller's data; return a new array"
        if "sample_images" in (obs.get("result") or {}).get("inputs_reshaped", []):
            hint = SHAPE_CHANGED_HINT
        raise CheckFailed(
            expected="the input array unchanged",
            received="the input array was modified" if modified else "nothing to compare",
            hint=hint,
        )


def _batched(obs: PartObservation) -> np.ndarray:
    raise_for_error(obs, "result", "add_batch_dimension(image)")
    info = obs.data.get("result", {})
    if not info.get("saved"):
        raise CheckFailed(expected="a numpy array", received=shape_text(info))
    return obs.array("result")


@grader("add_batch_dimension", "shape (1, 28, 28)", points=2)
def test_batch_shape(obs: PartObservation, ctx: Context) -> None:
    result = _batched(obs)
    if result.shape != (1, 28, 28):
        hint = ""
        if result.shape == (28, 28, 1):
            hint = "the new axis goes first: np.expand_dims(image, 0)"
        elif result.shape == (28, 28):
            hint = "no axis was added"
        elif result.shape == (1, 784):
            hint = "keep the 28 x 28 layout; only add a leading axis"
        raise CheckFailed(expected="shape (1, 28, 28)", received=f"shape {result.shape}", hint=hint)


@grader("add_batch_dimension", "values unchanged", points=2)
def test_batch_values(obs: PartObservation, ctx: Context) -> None:
    result = _batched(obs)
    image = ctx.sample_images[0].astype(np.float32) / 255.0
    if result.size != image.size or not np.allclose(result.reshape(image.shape), image):
        raise CheckFailed(
            expected="the same pixel values as the input image",
            received="different values",
            hint="add_batch_dimension must not scale, transpose or reorder pixels",
        )

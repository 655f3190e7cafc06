"""Checks for the data parts: CLASS_NAMES, load_data, scale_images, add_batch_dimension."""

import numpy as np

from autograder.exercises.fashion_mnist.constants import CLASS_NAMES
from autograder.scoring import CheckFailed, checks, grader

LOAD_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
LOADED = "((train_images, train_labels), (test_images, test_labels))"
LOADER = "keras.datasets.fashion_mnist.load_data()"


@grader("CLASS_NAMES", "ten class names in label order", points=3)
def test_class_names_in_order(obs, ctx) -> None:
    checks.check_names(obs, "value", CLASS_NAMES)


def _loaded(obs, ctx):
    """(name, what came back, the grader's own array) for each of load_data's arrays."""
    infos = checks.returned_pairs(obs, "result", "load_data()", LOAD_KEYS, LOADED)
    for key in LOAD_KEYS:
        if not infos[key].get("saved"):
            raise CheckFailed(
                expected=f"{key} as a numpy array", received=checks.described(infos[key])
            )
        yield key, checks.pair_array(obs, "result", LOAD_KEYS, key), getattr(ctx, key)


@grader("load_data", "shapes and dtypes", points=4)
def test_load_shapes(obs, ctx) -> None:
    for key, got, reference in _loaded(obs, ctx):
        checks.check_data_shape(key, got, reference)


@grader("load_data", "values equal the real Fashion-MNIST", points=4)
def test_load_values(obs, ctx) -> None:
    for key, got, reference in _loaded(obs, ctx):
        other = ctx.test_images if key.startswith("train") else None
        checks.check_data_values(key, got, reference, LOADER, other)


def _scaled(obs) -> np.ndarray:
    return checks.returned_float_array(obs, "result", "scale_images(images)")


@grader("scale_images", "values are pixels / 255", points=4)
def test_scale_values(obs, ctx) -> None:
    checks.check_scaled_pixels(_scaled(obs), ctx.sample_images)


@grader("scale_images", "float dtype with values in [0, 1]", points=2)
def test_scale_range(obs, ctx) -> None:
    checks.check_unit_floats(_scaled(obs), ctx.sample_images)


@grader("scale_images", "shape unchanged", points=1)
def test_scale_shape(obs, ctx) -> None:
    result = _scaled(obs)
    if result.shape != ctx.sample_images.shape:
        hint = "scale_images should not reshape or flatten; the model's Flatten layer does that"
        raise CheckFailed(expected=f"shape {ctx.sample_images.shape} (same as the input)",
                          received=f"shape {result.shape}", hint=hint)  # fmt: skip


@grader("scale_images", "input array left unchanged", points=2)
def test_scale_input_untouched(obs, ctx) -> None:
    checks.check_input_untouched(obs, "result", "scale_images(images)", "sample_images")


@grader("add_batch_dimension", "shape (1, 28, 28)", points=2)
def test_batch_shape(obs, ctx) -> None:
    result = checks.returned_array(obs, "result", "add_batch_dimension(image)")
    if result.shape != (1, 28, 28):
        hint = {(28, 28, 1): "the new axis goes first: np.expand_dims(image, 0)",
                (28, 28): "no axis was added",
                (1, 784): "keep the 28 x 28 layout; only add a leading axis"}.get(result.shape, "")  # fmt: skip
        raise CheckFailed(expected="shape (1, 28, 28)", received=f"shape {result.shape}", hint=hint)


@grader("add_batch_dimension", "values unchanged", points=2)
def test_batch_values(obs, ctx) -> None:
    result = checks.returned_array(obs, "result", "add_batch_dimension(image)")
    image = ctx.sample_images[0].astype(np.float32) / 255.0
    if result.size != image.size or not np.allclose(result.reshape(image.shape), image):
        hint = "add_batch_dimension must not scale, transpose or reorder pixels"
        raise CheckFailed(expected="the same pixel values as the input image", received="different values", hint=hint)  # fmt: skip

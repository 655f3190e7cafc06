"""Vetting a Keras model's config before anything runs it: what the grader will build and run.

Plain JSON in, a verdict out: Keras' own classes only, no nested models, only the layer classes
the exercise allows, and a parameter count, layer width and multiply-adds per example that the
grader can afford, computed from the config before Keras allocates a single weight. Standard
library only: the grader vets every model the child saves (autograder.keras_archive), and the
child, which is copied this file, vets the student's model before training it, so that a model
the grader will refuse costs seconds instead of a training's time limit. Only the grader's
verdict counts.

Example:
    >>> vet_config(config, ModelLimits(frozenset({"InputLayer", "Flatten", "Dense"})))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ALLOWED_MODULES = ("keras", "builtins")
FORBIDDEN_CLASSES = {"Lambda", "TFSMLayer"}
MODEL_CLASSES = {"Sequential", "Functional", "Model"}


class ArchiveError(ValueError):
    """The archive is not one the grader accepts; the message says why, for the student."""


@dataclass(frozen=True)
class ModelLimits:
    """What an exercise lets the grader load and run: layer classes, size and width."""

    layers: frozenset[str]
    max_layers: int = 32
    max_params: int = 5_000_000
    max_width: int = 100_000  # values per example in any layer's input or output
    # Multiply-adds per example, summed over the layers (convolutions reuse their weights, so
    # a small model can still cost a lot to run): the grader evaluates 10,000 test images.
    max_macs: int = 100_000_000


def _nodes(root: Any):
    """Every dict in a JSON tree (iteratively: the depth was bounded, but stay safe)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def vet_config(config: dict[str, Any], limits: ModelLimits) -> None:
    """Refuse a model the grader must not load or run; ArchiveError says why."""
    for node in _nodes(config):
        module = node.get("module")
        if isinstance(module, str) and not module.startswith(ALLOWED_MODULES):
            raise ArchiveError(
                f"the model uses {str(node.get('class_name', '?'))[:100]} from module "
                f"{module[:100]!r}; only Keras' built-in layers can be graded"
            )
        if node.get("class_name") in FORBIDDEN_CLASSES:
            raise ArchiveError(
                f"the model contains a {node['class_name']} layer, which cannot be loaded safely"
            )
    if config.get("class_name") not in MODEL_CLASSES:
        raise ArchiveError(
            f"the saved object is a {str(config.get('class_name'))[:100]}, not a model"
        )
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        raise ArchiveError("the model's config lists no layers")
    if len(layers) > limits.max_layers:
        raise ArchiveError(f"the model has {len(layers)} layers (at most {limits.max_layers})")
    params = 0
    macs = 0
    chain = config.get("class_name") == "Sequential"
    shape: list[int] | None = _model_input_shape(inner)
    widest = math.prod(shape) if shape else 0
    for layer in layers:
        if not isinstance(layer, dict):
            raise ArchiveError("the model's config has a layer that is not an object")
        kind = layer.get("class_name")
        if kind in MODEL_CLASSES:
            raise ArchiveError("models nested inside the model cannot be graded")
        if kind not in limits.layers:
            allowed = ", ".join(sorted(limits.layers - {"InputLayer"}))
            raise ArchiveError(
                f"the model uses a {str(kind)[:100]} layer; this exercise grades models made of "
                f"{allowed}"
            )
        layer_config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        built = _built_shape(layer, limits)
        if built is not None:
            shape = built
        widest = max(widest, math.prod(shape) if shape else 0)
        before = shape
        # A layer's weights are what Keras builds them for: its saved build shape when it has
        # one (Keras builds the layer from it), else, in a Sequential model, the previous
        # layer's output. A functional layer without one may read any earlier tensor, so it is
        # bounded by the widest one. What the graph really computes is checked again once the
        # model is built (`model_cost`).
        exact = shape is not None and (chain or built is not None)
        shape, added = _through(kind, layer_config, shape, widest, limits, exact)
        widest = max(widest, math.prod(shape) if shape else 0)
        params += added
        macs += _macs(kind, added, before, shape, widest)
        if macs > limits.max_macs:
            raise ArchiveError(
                f"running the model takes more than {limits.max_macs:,} multiply-adds per image; "
                "the grader does not run models that large"
            )
        if params > limits.max_params:
            raise ArchiveError(
                f"the model has more than {limits.max_params:,} parameters; the exercise's "
                "model has about 400,000"
            )


def _dims(value: Any, limits: ModelLimits) -> list[int] | None:
    """A shape without its batch axis, or None when unknown; ArchiveError when too wide."""
    if not isinstance(value, list) or not value:
        return None
    dims = value[1:]
    if not all(_positive(d) for d in dims):
        return None
    _check_width(dims, limits)
    return dims


def _check_width(dims: list[int], limits: ModelLimits) -> None:
    if math.prod(dims) > limits.max_width:
        raise ArchiveError(
            f"a layer of the model holds {math.prod(dims):,} values per image (at most "
            f"{limits.max_width:,})"
        )


def _model_input_shape(config: dict) -> list[int] | None:
    build = config.get("build_input_shape")
    if isinstance(build, list) and build and all(_positive(d) for d in build[1:]):
        return list(build[1:])
    return None


def _built_shape(layer: dict, limits: ModelLimits) -> list[int] | None:
    build = layer.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    return _dims(shape, limits)


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _int(config: dict, key: str) -> int:
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ArchiveError(f"the model's config has {key}={str(value)[:50]}")
    return value


def _through(
    kind: str,
    config: dict,
    shape: list[int] | None,
    widest: int,
    limits: ModelLimits,
    exact: bool = False,
) -> tuple[list[int] | None, int]:
    """The per-example shape after a layer (when known), and at most the parameters it adds:
    its input is `shape` when `exact`, else at most `widest` values wide."""
    if shape is not None:
        _check_width(shape, limits)
    if kind == "InputLayer":
        return _dims(config.get("batch_shape") or config.get("batch_input_shape"), limits), 0
    if kind == "Dense":
        units = _int(config, "units")
        if units > limits.max_width:
            raise ArchiveError(f"a Dense layer has {units:,} units (at most {limits.max_width:,})")
        features = shape[-1] if exact and shape else widest
        weights = (features + 1) * units
        return ([*shape[:-1], units] if shape is not None else None), weights
    if kind == "Flatten":
        return ([math.prod(shape)] if shape is not None else None), 0
    if kind == "Reshape":
        target = config.get("target_shape")
        dims = [d for d in target if _positive(d)] if isinstance(target, list) else []
        if dims:
            _check_width(dims, limits)
        return (dims or None), 0
    if kind in {"BatchNormalization", "LayerNormalization"}:
        return shape, 4 * (shape[-1] if exact and shape else widest)
    if kind == "Conv2D":
        return _conv2d(config, shape, widest, limits, exact)
    if kind in {"MaxPooling2D", "AveragePooling2D"}:
        return _pooling2d(config, shape, limits), 0
    if kind in {"GlobalAveragePooling2D", "GlobalMaxPooling2D"}:
        return ([shape[-1]] if shape is not None and len(shape) == 3 else None), 0
    if kind in ELEMENTWISE:
        return shape, 0
    # A layer the exercise allows but the grader cannot bound: refuse rather than guess.
    raise ArchiveError(f"the grader cannot bound the size of a {str(kind)[:100]} layer")


ELEMENTWISE = frozenset({"Dropout", "Activation", "ReLU", "Softmax", "Rescaling", "LeakyReLU"})


def _pair(config: dict, key: str, default: list[int] | None = None) -> list[int]:
    """A 2-D size such as kernel_size or strides: an int or two positive ints."""
    value = config.get(key, default)
    if value is None and default is not None:
        value = default
    if _positive(value):
        return [value, value]
    if isinstance(value, list) and len(value) == 2 and all(_positive(v) for v in value):
        return list(value)
    raise ArchiveError(f"the model's config has {key}={str(value)[:50]}")


def _window(size: int, kernel: int, stride: int, padding: Any) -> int:
    if padding == "same":
        return -(-size // stride)
    return max(0, (size - kernel) // stride + 1)


def _conv2d(
    config: dict, shape: list[int] | None, widest: int, limits: ModelLimits, exact: bool
) -> tuple[list[int] | None, int]:
    """Conv2D: (kh x kw x channels + 1) x filters weights; the output is filters wide."""
    filters = _int(config, "filters")
    kernel = _pair(config, "kernel_size")
    strides = _pair(config, "strides", [1, 1])
    if filters > limits.max_width:
        raise ArchiveError(f"a Conv2D layer has {filters:,} filters (at most {limits.max_width:,})")
    known = shape is not None and len(shape) == 3
    channels = shape[-1] if known and exact else widest  # else bounded by the widest tensor
    weights = (kernel[0] * kernel[1] * channels + 1) * filters
    if not known:
        return None, weights
    padding = config.get("padding", "valid")
    out = [
        _window(shape[0], kernel[0], strides[0], padding),
        _window(shape[1], kernel[1], strides[1], padding),
        filters,
    ]
    _check_width(out, limits)
    return out, weights


def _pooling2d(config: dict, shape: list[int] | None, limits: ModelLimits) -> list[int] | None:
    pool = _pair(config, "pool_size", [2, 2])
    strides = _pair(config, "strides", pool)  # Keras' default strides are the pool size
    if shape is None or len(shape) != 3:
        return None
    padding = config.get("padding", "valid")
    return [
        _window(shape[0], pool[0], strides[0], padding),
        _window(shape[1], pool[1], strides[1], padding),
        shape[2],
    ]


def _macs(
    kind: str, weights: int, before: list[int] | None, after: list[int] | None, widest: int
) -> int:
    """At most the multiply-adds per example of one layer: a convolution applies its kernel
    once per output position, any other layer uses each weight about once."""
    if kind == "Conv2D":
        positions = math.prod(after[:2]) if after is not None else widest
        return weights * positions
    return weights + (math.prod(before) if before else widest)


def model_cost(layers: list[tuple[str, int, list[int] | None, list[int] | None]]) -> int:
    """Multiply-adds per example of a built model, from each layer's `(class name, weights,
    input shape, output shape)` as the built graph has them (per example, None when unknown)."""
    total = 0
    for kind, weights, before, after in layers:
        widest = max(math.prod(before) if before else 0, math.prod(after) if after else 0)
        total += _macs(kind, weights, before, after, widest)
    return total

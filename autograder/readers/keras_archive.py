"""Bounded reading and vetting of the model files the child writes.

A model file (autograder.child.model_file) is a zip of `config.json` (the model as Keras
serialises it), `weights.json` (a manifest: each layer's weights' shapes and dtypes, the
optimizer's step counter) and `weights.bin` (those arrays' raw bytes). The child controls every
byte, so the grader:

1. reads only those member names, each within its own size bound, counting the bytes actually
   inflated (a 1 MiB zip can declare or hold 1 GiB);
2. vets the config as plain JSON (autograder.child.model_vetting): every object in the whole
   tree from an allow-list (no nested models or layers, only the layer classes the exercise
   allows), and a parameter count, layer width and work per example it can afford, computed
   on the exercise's own input shape *before* Keras allocates a single weight (a
   `Dense(10**9)` would otherwise exhaust memory, and an `UpSampling2D` blow up evaluation);
3. builds the model from the vetted config itself, on the shape it sized (`build_model`),
   checks what Keras built against the same bounds, and takes the weights only as plain arrays
   whose layer, shape, dtype and byte size match that model (`layer_weights`). No HDF5 file the
   child wrote is ever opened: HDF5 can read other files of the machine (external storage) and
   allocate gigabytes for a declared, unwritten dataset.

Example:
    >>> archive = read_archive(open("out/build_model.default.model", "rb"))
    >>> vet_config(archive.config, ModelLimits(frozenset({"InputLayer", "Flatten", "Dense"})))
"""

from __future__ import annotations

import copy
import gc
import io
import json
import math
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.child.model_file import CONFIG, DTYPES, FORMAT, MANIFEST, WEIGHTS
from autograder.child.model_vetting import (
    ArchiveError,
    ModelLimits,
    Sized,
    model_cost,
    vet_config,
)

MEMBER_LIMITS = {
    CONFIG: 1 * 2**20,
    MANIFEST: 1 * 2**20,
    WEIGHTS: 128 * 2**20,
}
MAX_MANIFEST_DEPTH = 8
MAX_STEPS = 2**62
MAX_MEMBERS = 16
MAX_CONFIG_DEPTH = 64


@dataclass
class Archive:
    """The members of one model file, read within their bounds, and its parsed config."""

    members: dict[str, bytes]
    config: dict[str, Any]


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ArchiveError(f"{info.filename} declares {info.file_size} bytes (at most {limit})")
    with archive.open(info) as handle:
        data = handle.read(limit + 1)  # bounded whatever the header says
    if len(data) > limit:
        raise ArchiveError(f"{info.filename} inflates to more than {limit} bytes")
    return data


def read_archive(handle: io.BufferedIOBase, name: str = "model") -> Archive:
    """Read and parse the archive in `handle` within the bounds; ArchiveError otherwise."""
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ArchiveError(f"{name} has {len(infos)} members")
            members = {}
            for info in infos:
                if info.filename not in MEMBER_LIMITS or info.filename in members:
                    raise ArchiveError(
                        f"{name} holds {info.filename[:100]!r}; a saved model holds only "
                        + ", ".join(MEMBER_LIMITS)
                    )
                members[info.filename] = _read_member(archive, info, MEMBER_LIMITS[info.filename])
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{name} is not a valid saved model: {exc}") from None
    except (NotImplementedError, RuntimeError) as exc:  # unsupported compression, encryption
        raise ArchiveError(f"{name} is not a valid saved model: {exc}") from None
    if CONFIG not in members:
        raise ArchiveError(f"{name} has no {CONFIG}")
    config = parse_json(members[CONFIG], CONFIG)
    return Archive(members, config)


def parse_json(raw: bytes, name: str, max_depth: int = MAX_CONFIG_DEPTH) -> dict[str, Any]:
    """A JSON object, at most `max_depth` levels deep; ArchiveError for anything else."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ArchiveError(f"{name} is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ArchiveError(f"{name} is not a JSON object")
    _check_depth(data, name, max_depth)
    return data


def _check_depth(root: Any, name: str, max_depth: int) -> None:
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise ArchiveError(f"{name} is nested more than {max_depth} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def optimizer_iterations(archive: Archive) -> int | None:
    """The optimizer's step counter the manifest records, or None when it has none (or the
    manifest is not one the grader reads)."""
    try:
        manifest = _manifest(archive)
    except ArchiveError:
        return None
    steps = manifest.get("optimizer_iterations")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        return None
    return steps


def _manifest(archive: Archive) -> dict[str, Any]:
    raw = archive.members.get(MANIFEST)
    if raw is None:
        raise ArchiveError(f"the saved model has no {MANIFEST}")
    manifest = parse_json(raw, MANIFEST, MAX_MANIFEST_DEPTH)
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"{MANIFEST} is not format {FORMAT}")
    return manifest


LayerShapes = list[tuple[str, list[tuple[tuple[int, ...], str]]]]


def layer_weights(archive: Archive, expected: LayerShapes) -> list[list[np.ndarray]]:
    """Each layer's weights as arrays, for the model the grader built from the vetted config.

    `expected` is that model's layers in order: `(name, [(shape, dtype), ...])`. The manifest
    must describe exactly those layers and weights, and `weights.bin` must hold exactly their
    bytes, all checked before any array is made; ArchiveError says what differs.
    """
    manifest = _manifest(archive)
    layers = manifest.get("layers")
    if not isinstance(layers, list) or len(layers) != len(expected):
        count = len(layers) if isinstance(layers, list) else "no"
        raise ArchiveError(
            f"{MANIFEST} describes {count} layers; the model's config has {len(expected)}"
        )
    plan = []
    offset = 0
    for entry, (name, weights) in zip(layers, expected, strict=True):
        described = entry.get("weights") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry.get("name") != name:
            raise ArchiveError(f"{MANIFEST} does not describe the layer {name!r} in its place")
        if not isinstance(described, list) or len(described) != len(weights):
            raise ArchiveError(
                f"{MANIFEST} gives the layer {name!r} other weights than its config builds"
            )
        for found, (shape, dtype) in zip(described, weights, strict=True):
            if (
                not isinstance(found, dict)
                or found.get("shape") != list(shape)
                or found.get("dtype") != dtype
                or dtype not in DTYPES
            ):
                raise ArchiveError(
                    f"a weight of the layer {name!r} is stored as {_describe(found)}; the "
                    f"model's config builds {dtype} of shape {list(shape)}"
                )
            kind = np.dtype(dtype).newbyteorder("<")
            count = math.prod(shape)
            plan.append((kind, count, shape, offset))
            offset += count * kind.itemsize
    data = archive.members.get(WEIGHTS)
    if data is None or len(data) != offset:
        size = "no" if data is None else f"{len(data):,}"
        raise ArchiveError(f"{WEIGHTS} holds {size} bytes; the model's weights take {offset:,}")
    arrays = [
        np.frombuffer(data, dtype=kind, count=count, offset=start).reshape(shape)
        for kind, count, shape, start in plan
    ]
    result, position = [], 0
    for _, weights in expected:
        result.append(arrays[position : position + len(weights)])
        position += len(weights)
    return result


def _describe(found: Any) -> str:
    if not isinstance(found, dict):
        return "something that is not a weight"
    return f"{str(found.get('dtype'))[:20]} of shape {str(found.get('shape'))[:60]}"


def build_model(archive: Archive, limits: ModelLimits):
    """The Keras model of an archive: its config vetted with `limits` (again: it is cheap, and
    the shape it sized is the one built), built by the grader (safe mode, not compiled) on that
    shape, checked against the bounds as built, then given the archive's checked arrays.
    ArchiveError says why not; a model refused after Keras made it is freed before it is raised."""
    sized = vet_config(archive.config, limits)
    model, refusal = _deserialize(archive.config, sized)
    if model is not None:
        refusal = _fill(model, archive, limits)
    if refusal is not None:
        # Nothing refused stays alive: Keras' layers and models refer to each other, so only
        # the cycle collector frees their weights, and no traceback may still hold them.
        model = None
        gc.collect()
        raise ArchiveError(refusal)
    return model


def _deserialize(config: dict[str, Any], sized: Sized) -> tuple[Any, str | None]:
    """Keras' model of a vetted config, built on the vetted input shape when the config leaves
    it unbuilt (a Sequential without an input would otherwise be built by its first call, on
    whatever it is called with); or None and why not."""
    import keras

    # tf.nn.softmax is saved under its TensorFlow name; map it back to Keras' own function.
    aliases = {
        "softmax_v2": keras.activations.softmax,
        "log_softmax_v2": keras.activations.log_softmax,
    }
    try:
        # A copy: Keras takes the config apart as it reads it, and the vetted one stays whole.
        model = keras.saving.deserialize_keras_object(
            {**copy.deepcopy(config), "compile_config": None},
            custom_objects=aliases,
            safe_mode=True,
        )
        if not isinstance(model, keras.Model):
            raise TypeError(f"the config makes a {type(model).__name__}")
        if not model.built:
            model.build((None, *sized.input_shape))
    except Exception as exc:
        return None, f"the saved model could not be built: {type(exc).__name__}: {str(exc)[:300]}"
    return model, None


def _fill(model, archive: Archive, limits: ModelLimits) -> str | None:
    """Check the built model against the bounds and give it the archive's weights; None, or
    why the model is refused."""
    try:
        _check_built(model, limits)
    except ArchiveError as exc:
        return str(exc)
    expected = [
        (layer.name, [(tuple(int(d) for d in w.shape), str(w.dtype)) for w in layer.weights])
        for layer in model.layers
    ]
    try:
        arrays = layer_weights(archive, expected)
    except ArchiveError as exc:
        return f"the saved model's weights cannot be used: {exc}"
    try:
        for layer, weights in zip(model.layers, arrays, strict=True):
            if weights:
                layer.set_weights(weights)
    except Exception as exc:
        return f"the saved model's weights could not be set: {type(exc).__name__}: {str(exc)[:300]}"
    return None


def _check_built(model, limits: ModelLimits) -> None:
    """What Keras built agrees with the bounds: its parameters, every layer's width and the
    multiply-adds per example of the graph as built (the config vetting computed them first)."""
    try:
        params = int(model.count_params())
        layers = [
            (
                type(layer).__name__,
                int(layer.count_params()),
                _example_shape(layer.input),
                _example_shape(layer.output),
            )
            for layer in model.layers
        ]
    except Exception as exc:
        raise ArchiveError(
            f"the grader cannot measure the model it built ({type(exc).__name__})"
        ) from None
    widths = [math.prod(after) for _, _, _, after in layers if after]
    if params > limits.max_params or any(w > limits.max_width for w in widths):
        raise ArchiveError(
            f"the model has {params:,} parameters and layers up to {max(widths, default=0):,} "
            "values wide, more than the grader runs"
        )
    if model_cost(layers) > limits.max_macs:
        raise ArchiveError(
            f"running the model takes more than {limits.max_macs:,} multiply-adds per image; "
            "the grader does not run models that large"
        )


def _example_shape(tensor) -> list[int] | None:
    """A tensor's shape without its batch axis, or None (unknown, or several tensors)."""
    shape = getattr(tensor, "shape", None)
    if shape is None or any(d is None for d in shape[1:]):
        return None
    return [int(d) for d in shape[1:]]


__all__ = [
    "Archive",
    "ArchiveError",
    "Sized",
    "build_model",
    "layer_weights",
    "model_cost",
    "optimizer_iterations",
    "parse_json",
    "read_archive",
    "vet_config",
]

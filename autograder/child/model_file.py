"""The file a child saves a model in: its Keras config as JSON and its weights as plain arrays.

A zip of three members, written uncompressed:

- `config.json`: the model as Keras serialises it (what `model.save` puts in a `.keras` file);
- `weights.json`: the manifest: the format number, each layer's name with the shape and dtype of
  each of its weights (in `layer.get_weights()` order), and the optimizer's step counter;
- `weights.bin`: those arrays' bytes, little-endian, one after another, nothing else.

The grader never hands a file the child wrote to HDF5 or to Keras' loader: HDF5 can read other
files of the machine through external storage and allocate gigabytes for a declared, unwritten
dataset. It vets the config, builds the model from it, checks the manifest against the model it
built and only then copies in the bytes (autograder.readers.keras_archive, autograder.readers.observations).

Standard library and numpy only: copied into the child next to the harness, whose functions are
bound before the submission runs.

Example (in the child):
    >>> with open("out/build_model.default.model", "wb") as handle:
    ...     write_model_file(handle, config, [(layer.name, layer.get_weights()) for layer in
    ...                      model.layers], optimizer_iterations=None)
"""

from __future__ import annotations

import json
import zipfile

import numpy

FORMAT = 1
CONFIG = "config.json"
MANIFEST = "weights.json"
WEIGHTS = "weights.bin"
SUFFIX = ".model"
# What a weight of a built-in Keras layer may be stored as.
DTYPES = ("float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool")

_ZipFile = zipfile.ZipFile
_ZipInfo = zipfile.ZipInfo
_STORED = zipfile.ZIP_STORED
_dumps = json.dumps
_asarray = numpy.asarray
_ascontiguous = numpy.ascontiguousarray


def write_model_file(
    handle,
    config: dict,
    layers: list[tuple[str, list]],
    optimizer_iterations: int | None,
) -> None:
    """Write a model to the binary file object `handle`: its serialised `config`, each layer's
    `(name, weights)` and the optimizer's step counter (None when it has no optimizer)."""
    manifest_layers = []
    with _ZipFile(handle, "w", _STORED) as archive:
        archive.writestr(CONFIG, _dumps(config))
        with archive.open(_ZipInfo(WEIGHTS), "w", force_zip64=True) as weights:
            for name, arrays in layers:
                entries = []
                for array in arrays:
                    array = _asarray(array)
                    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
                    weights.write(_ascontiguous(little).tobytes())
                    entries.append({"shape": list(array.shape), "dtype": array.dtype.name})
                manifest_layers.append({"name": str(name), "weights": entries})
        manifest = {
            "format": FORMAT,
            "layers": manifest_layers,
            "optimizer_iterations": optimizer_iterations,
        }
        archive.writestr(MANIFEST, _dumps(manifest))

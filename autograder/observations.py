"""Validated reading of what the child wrote: the only way data crosses back into the grader.

JSON must be an object of bounded size, arrays are `.npy` read with `allow_pickle=False` and must
be numeric, and models are `.keras` archives whose config names only Keras' own classes, loaded
in safe mode. Anything else raises `ObservationError`, which checks turn into a failed check.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.sandbox.runner import PartRun

MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_ARRAY_BYTES = 400 * 1024 * 1024
ALLOWED_LAYER_MODULES = ("keras", "builtins")
FORBIDDEN_CLASSES = {"Lambda", "TFSMLayer"}


class ObservationError(ValueError):
    """What the child wrote is missing or not acceptable plain data."""


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ObservationError(f"{path.name} was not written")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ObservationError(f"{path.name} is larger than {MAX_JSON_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ObservationError(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ObservationError(f"{path.name} does not hold a JSON object")
    return data


def read_array(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ObservationError(f"{path.name} was not written")
    if path.stat().st_size > MAX_ARRAY_BYTES:
        raise ObservationError(f"{path.name} is larger than {MAX_ARRAY_BYTES} bytes")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ObservationError(f"{path.name} is not a plain .npy array: {exc}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ObservationError(f"{path.name} is not a numeric array")
    return array


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def vet_keras_archive(path: Path) -> None:
    """Refuse archives whose config refers to anything but Keras' own classes."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as exc:
        raise ObservationError(f"{path.name} is not a valid .keras archive: {exc}") from None
    for node in _walk(config):
        module = node.get("module")
        if isinstance(module, str) and not module.startswith(ALLOWED_LAYER_MODULES):
            raise ObservationError(
                f"the model uses {node.get('class_name', '?')} from module {module!r}; "
                "only Keras' built-in layers can be graded"
            )
        if node.get("class_name") in FORBIDDEN_CLASSES:
            raise ObservationError(
                f"the model contains a {node['class_name']} layer, which cannot be loaded safely"
            )


def load_model(path: Path):
    """Load a `.keras` file written by the child, in safe mode, after vetting its config."""
    if not path.is_file():
        raise ObservationError(f"{path.name} was not written")
    vet_keras_archive(path)
    import keras

    # tf.nn.softmax is saved under its TensorFlow name; map it back to Keras' own function.
    aliases = {"softmax_v2": keras.activations.softmax, "log_softmax_v2": keras.activations.log_softmax}
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False, custom_objects=aliases)
    except Exception as exc:
        raise ObservationError(f"the saved model could not be loaded: {type(exc).__name__}: {exc}") from None


def compile_config(path: Path) -> dict[str, Any]:
    """The `compile_config` stored in a vetted `.keras` archive (optimizer, loss, metrics)."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    compiled = config.get("compile_config")
    return compiled if isinstance(compiled, dict) else {}


@dataclass
class PartObservation:
    """What one part's probe produced, plus how its run ended."""

    part: str
    run: PartRun
    out_dir: Path
    data: dict[str, Any] = field(default_factory=dict)
    import_errors: list[dict[str, Any]] = field(default_factory=list)

    def path(self, name: str) -> Path:
        return self.out_dir / f"{self.part}.{name}"

    def array(self, key: str) -> np.ndarray:
        return read_array(self.path(f"{key}.npy"))

    def model(self, key: str):
        return load_model(self.path(f"{key}.keras"))

    def error(self, key: str) -> dict[str, Any] | None:
        errors = self.data.get("errors")
        if isinstance(errors, dict) and isinstance(errors.get(key), dict):
            return errors[key]
        return None


def read_observations(out_dir: Path, part: str, run: PartRun) -> PartObservation:
    """Read one part's observations; a missing or malformed file leaves `data` empty."""
    obs = PartObservation(part=part, run=run, out_dir=out_dir)
    try:
        obs.import_errors = list(read_json(out_dir / "import.json").get("errors", []))
    except ObservationError:
        pass
    if run.status == "ok":
        try:
            obs.data = read_json(out_dir / f"{part}.json")
        except ObservationError as exc:
            obs.run = PartRun("crashed", f"left no readable observations ({exc})")
    return obs

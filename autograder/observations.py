"""Validated reading of what the child wrote: the only way data crosses back into the grader.

JSON must be an object of bounded size, arrays are `.npy` read with `allow_pickle=False` and must
be numeric, and models are `.keras` archives whose config names only Keras' own classes, loaded
in safe mode. Anything else raises `ObservationError`, which checks turn into a failed check.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.sandbox.runner import PartRun, open_plain

MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_ARRAY_BYTES = 400 * 1024 * 1024
MAX_MODEL_BYTES = 200 * 1024 * 1024  # the 512-unit model is about 5 MB with its optimizer state
ALLOWED_LAYER_MODULES = ("keras", "builtins")
FORBIDDEN_CLASSES = {"Lambda", "TFSMLayer"}


class ObservationError(ValueError):
    """What the child wrote is missing or not acceptable plain data."""


def open_observation(path: Path, limit: int):
    """A binary file object on a regular file the child wrote (no symlink, FIFO or device: a
    child could otherwise point the grader at a host file or block it), at most `limit` bytes."""
    try:
        fd = open_plain(path)
    except FileNotFoundError:
        raise ObservationError(f"{path.name} was not written") from None
    except OSError:
        raise ObservationError(f"{path.name} is not a regular file") from None
    handle = os.fdopen(fd, "rb")
    if os.fstat(fd).st_size > limit:
        handle.close()
        raise ObservationError(f"{path.name} is larger than {limit} bytes")
    return handle


def read_json(path: Path) -> dict[str, Any]:
    with open_observation(path, MAX_JSON_BYTES) as handle:
        raw = handle.read(MAX_JSON_BYTES + 1)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ObservationError(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ObservationError(f"{path.name} does not hold a JSON object")
    return data


def read_array(path: Path) -> np.ndarray:
    try:
        with open_observation(path, MAX_ARRAY_BYTES) as handle:
            array = np.load(handle, allow_pickle=False)
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
        with open_observation(path, MAX_MODEL_BYTES) as handle, zipfile.ZipFile(handle) as archive:
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
    vet_keras_archive(path)  # also refuses symlinks, FIFOs and oversized files
    import keras

    # tf.nn.softmax is saved under its TensorFlow name; map it back to Keras' own function.
    aliases = {
        "softmax_v2": keras.activations.softmax,
        "log_softmax_v2": keras.activations.log_softmax,
    }
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False, custom_objects=aliases)
    except Exception as exc:
        raise ObservationError(
            f"the saved model could not be loaded: {type(exc).__name__}: {exc}"
        ) from None


def compile_config(path: Path) -> dict[str, Any]:
    """The `compile_config` stored in a vetted `.keras` archive (optimizer, loss, metrics)."""
    with open_observation(path, MAX_MODEL_BYTES) as handle, zipfile.ZipFile(handle) as archive:
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


def clean_error(value: Any) -> dict[str, Any] | None:
    """An error record as the probe writes it, rebuilt from plain strings and ints (a forged
    record of another shape must not make the grader's own feedback code raise)."""
    if not isinstance(value, dict):
        return None
    frames = []
    for frame in value.get("frames") if isinstance(value.get("frames"), list) else []:
        if isinstance(frame, dict):
            line = frame.get("line")
            frames.append(
                {
                    "file": str(frame.get("file", "?"))[:200],
                    "line": line if isinstance(line, int) else None,
                    "function": str(frame.get("function", "?"))[:200],
                    "code": str(frame.get("code", ""))[:200],
                }
            )
    record = {
        "type": str(value.get("type", "Exception"))[:100],
        "message": str(value.get("message", ""))[:1000],
        "frames": frames[:8],
    }
    if "label" in value:
        record["label"] = str(value["label"])[:200]
    return record


def clean_history(value: Any) -> dict[str, list[float]]:
    """Training curves as the probe writes them: metric name -> up to 100 finite numbers."""
    if not isinstance(value, dict):
        return {}
    curves = {}
    for key, values in list(value.items())[:20]:
        if isinstance(values, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
            for v in values
        ):
            curves[str(key)[:50]] = [float(v) for v in values[:100]]
    return curves


def read_observations(out_dir: Path, part: str, run: PartRun) -> PartObservation:
    """Read one part's observations; a missing or malformed file leaves `data` empty."""
    obs = PartObservation(part=part, run=run, out_dir=out_dir)
    with contextlib.suppress(ObservationError):
        errors = read_json(out_dir / "import.json").get("errors")
        if isinstance(errors, list):
            obs.import_errors = [e for e in map(clean_error, errors[:100]) if e is not None]
    if run.status == "ok":
        try:
            obs.data = read_json(out_dir / f"{part}.json")
        except ObservationError as exc:
            obs.run = PartRun("crashed", f"left no readable observations ({exc})")
        errors = obs.data.get("errors")
        if errors is not None:
            obs.data["errors"] = (
                {str(k): clean_error(v) for k, v in errors.items() if clean_error(v) is not None}
                if isinstance(errors, dict)
                else {}
            )
        history = obs.data.get("history")
        if history is not None:
            obs.data["history"] = clean_history(history)
        missing = obs.data.get("missing")
        if missing is not None and not isinstance(missing, str):
            obs.data["missing"] = str(missing)[:200]
    return obs

"""Validated reading of what the child wrote: the only way data crosses back into the grader.

JSON must be an object of bounded size, arrays are `.npy` read with `allow_pickle=False` and must
be numeric, and models are model files (autograder.child.model_file) whose config names only
Keras' own classes (the whole tree allow-listed, sized on the exercise's input): the grader builds the model from it in safe mode and copies in plain arrays
it checked against that model. Anything else raises `ObservationError`, which graders turn into a failed check. What each part
may contain is declared by the exercise's schema (autograder.child.schema): values of another
type are dropped as they are read, and looking up an undeclared key is a grader bug
(`SchemaError`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.child.model_file import SUFFIX as MODEL_SUFFIX
from autograder.child.model_vetting import ModelLimits
from autograder.child.schema import SchemaError, kind_of, valid
from autograder.readers.keras_archive import (
    Archive,
    ArchiveError,
    build_model,
    optimizer_iterations,
    parse_json,
    read_archive,
    vet_config,
)
from autograder.sandbox.files import open_plain
from autograder.sandbox.outcome import PartRun

MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 32  # the probe writes objects a few levels deep
# A part's observations are a few hundred values (a History's epochs, at most 10,000, the most).
MAX_JSON_VALUES = 200_000
MAX_ARRAY_BYTES = 400 * 1024 * 1024
MAX_MODEL_BYTES = 200 * 1024 * 1024  # the 512-unit model is about 5 MB with its optimizer state


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
    """A JSON object of bounded size and depth; ObservationError for anything else (huge
    integers, deep nesting and invalid text included)."""
    with open_observation(path, MAX_JSON_BYTES) as handle:
        raw = handle.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ObservationError(f"{path.name} is larger than {MAX_JSON_BYTES} bytes")
    # Counted before parsing: 4 MiB of `{},` would be 1.4 million objects (about 100 MB).
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{") + 1
    if values > MAX_JSON_VALUES:
        raise ObservationError(
            f"{path.name} holds up to {values:,} JSON values (at most {MAX_JSON_VALUES:,})"
        )
    try:
        return parse_json(raw, path.name, MAX_JSON_DEPTH)
    except ArchiveError as exc:
        raise ObservationError(str(exc)) from None


# What an array observation may hold: plain numbers of at most 8 bytes (no objects, strings,
# records or sub-arrays, whose element count the shape does not tell), in at most 32 axes.
ARRAY_KINDS = "biuf"
MAX_ARRAY_ITEMSIZE = 8
MAX_ARRAY_DIMS = 32


def read_array(path: Path, max_elements: int | None = None) -> np.ndarray:
    """A numeric `.npy` array the child wrote, bounded before its data is read: the header's
    dtype must be plain numbers, its shape at most `max_elements` values (the declared kind's
    bound, when the caller knows it) and MAX_ARRAY_BYTES; ObservationError otherwise."""
    with open_observation(path, MAX_ARRAY_BYTES) as handle:
        shape, fortran, dtype = _array_header(handle, path.name)
        count = math.prod(shape)
        if max_elements is not None and count > max_elements:
            raise ObservationError(
                f"{path.name} holds {count:,} values of shape {shape}, more than the "
                f"{max_elements:,} this result may have"
            )
        size = count * dtype.itemsize
        if size > MAX_ARRAY_BYTES:
            raise ObservationError(f"{path.name} holds more than {MAX_ARRAY_BYTES} bytes")
        data = bytearray(size)
        if handle.readinto(data) != size:
            raise ObservationError(f"{path.name} is shorter than its header says")
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


def _array_header(handle, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The shape, order and dtype a `.npy` header declares, when they are a plain numeric
    array's; nothing but the header is read."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise ValueError(f"format version {version} is not read")
    except (ValueError, OSError, EOFError, TypeError, SyntaxError, MemoryError) as exc:
        raise ObservationError(f"{name} is not a plain .npy array: {exc}") from None
    if dtype.hasobject:
        raise ObservationError(f"{name} is not a plain .npy array: it holds Python objects")
    if (
        dtype.kind not in ARRAY_KINDS
        or dtype.names is not None
        or dtype.subdtype is not None
        or dtype.itemsize > MAX_ARRAY_ITEMSIZE
    ):
        raise ObservationError(f"{name} is not a numeric array (dtype {str(dtype)[:40]})")
    if (
        not isinstance(shape, tuple)
        or len(shape) > MAX_ARRAY_DIMS
        or not all(type(d) is int and d >= 0 for d in shape)
    ):
        raise ObservationError(f"{name} has no plain shape ({str(shape)[:60]})")
    return shape, bool(fortran), dtype


def read_keras_archive(path: Path, limits: ModelLimits) -> Archive:
    """The vetted members of a model file the child wrote (see autograder.readers.keras_archive)."""
    with open_observation(path, MAX_MODEL_BYTES) as handle:
        try:
            archive = read_archive(handle, path.name)
            vet_config(archive.config, limits)
        except ArchiveError as exc:
            raise ObservationError(str(exc)) from None
    return archive


def load_model(path: Path, limits: ModelLimits):
    """The model of a file written by the child, built from its vetted config and weights."""
    # read_keras_archive also refuses symlinks, FIFOs and oversized files.
    return model_from_archive(read_keras_archive(path, limits), limits)


def model_from_archive(archive: Archive, limits: ModelLimits):
    """The Keras model of an archive already read and vetted with `limits`: built by the grader
    from the config on the shape the vetting sized (safe mode, not compiled), then given the
    archive's checked arrays (autograder.readers.keras_archive.build_model)."""
    try:
        return build_model(archive, limits)
    except ArchiveError as exc:
        raise ObservationError(str(exc)) from None


def compile_config(path: Path, limits: ModelLimits) -> dict[str, Any]:
    """The `compile_config` stored in a vetted model file (optimizer, loss, metrics)."""
    compiled = read_keras_archive(path, limits).config.get("compile_config")
    return compiled if isinstance(compiled, dict) else {}


def trained_steps(path: Path, limits: ModelLimits) -> int | None:
    """The optimizer steps recorded with a model the child saved after a fit (its optimizer's
    step counter, read from the manifest as a bounded integer)."""
    return optimizer_iterations(read_keras_archive(path, limits))


def trained_model(path: Path, limits: ModelLimits) -> tuple[int | None, Any]:
    """The optimizer steps and the model of a model file, read and vetted once."""
    archive = read_keras_archive(path, limits)
    return optimizer_iterations(archive), model_from_archive(archive, limits)


def read_import_errors(out_dir: Path) -> list[dict[str, Any]]:
    """The statements that failed while the child loaded the submission (cleaned)."""
    try:
        errors = read_json(out_dir / "import.json").get("errors")
    except ObservationError:
        return []
    if not isinstance(errors, list):
        return []
    return [e for e in map(clean_error, errors[:100]) if e is not None]


class ObservedData(dict):
    """A part's JSON observations; looking up a key its schema does not declare raises
    `SchemaError` (a grader bug that must fail loudly, never a silent 0)."""

    def __init__(self, values: dict[str, Any], schema: dict[str, dict[str, str]] | None, part: str):
        super().__init__(values)
        self.schema = schema
        self.part = part

    def _declared(self, key: str) -> None:
        if self.schema is not None:
            kind_of(self.schema, self.part, key)

    def get(self, key: str, default: Any = None) -> Any:
        self._declared(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._declared(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._declared(str(key))
        return super().__contains__(key)


@dataclass
class PartObservation:
    """What one part's probe produced, plus how its run ended."""

    part: str
    run: PartRun
    out_dir: Path
    data: dict[str, Any] = field(default_factory=dict)
    import_errors: list[dict[str, Any]] = field(default_factory=list)
    # What the grader may load of the child's models (the exercise's bounds).
    limits: ModelLimits | None = None
    # What the grader measured once in this part's files, shared by its graders.
    measured: dict[str, Any] = field(default_factory=dict)
    # Array key (or `prefix*` family) -> the most values it may hold, by its declaration
    # (autograder.declare.array_bounds); arrays of other keys are bounded by their bytes.
    array_bounds: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def path(self, name: str) -> Path:
        return self.out_dir / f"{self.part}.{name}"

    def array(self, key: str) -> np.ndarray:
        """The array `key`, refused before it is read when it is over its bound."""
        return read_array(self.path(f"{key}.npy"), self.array_bound(key))

    def array_bound(self, key: str) -> int | None:
        if key in self.array_bounds:
            return self.array_bounds[key]
        for pattern, bound in self.array_bounds.items():
            if pattern.endswith("*") and key.startswith(pattern[:-1]):
                return bound
        return None

    def model_limits(self) -> ModelLimits:
        if self.limits is None:
            raise ObservationError("no model limits were given for this part's models")
        return self.limits

    def model(self, key: str):
        return load_model(self.path(f"{key}{MODEL_SUFFIX}"), self.model_limits())

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


def _curves_kind(schema: dict[str, dict[str, str]] | None, part: str) -> bool:
    """Whether `history` holds training curves here: only when read without a schema (a
    declared call named `history` records what it returned under it, an info, and its curves
    under `history_curves`)."""
    if schema is None:
        return True
    try:
        return kind_of(schema, part, "history") == "dict"
    except SchemaError:
        return False


def typed_values(
    values: dict[str, Any], schema: dict[str, dict[str, str]], part: str
) -> dict[str, Any]:
    """The values whose key the schema declares and whose type its kind allows."""
    kept = {}
    for key, value in values.items():
        try:
            kind = kind_of(schema, part, key)
        except SchemaError:  # undeclared: the child wrote what no declared call records
            continue
        if valid(kind, value):
            kept[key] = value
    return kept


def read_observations(
    out_dir: Path,
    part: str,
    run: PartRun,
    schema: dict[str, dict[str, str]] | None = None,
    limits: ModelLimits | None = None,
    import_errors: list[dict[str, Any]] | None = None,
    array_bounds: dict[str, int] | None = None,
) -> PartObservation:
    """Read one part's observations; a missing or malformed file leaves `data` empty.

    With `schema`, only declared keys of the declared kinds are kept, and graders may look up
    declared keys only. `import_errors`: already read (`read_import_errors`), else read here.
    `array_bounds`: the most values each array may hold (`PartObservation.array_bounds`)."""
    obs = PartObservation(
        part=part, run=run, out_dir=out_dir, limits=limits, array_bounds=dict(array_bounds or {})
    )
    obs.import_errors = read_import_errors(out_dir) if import_errors is None else import_errors
    values: dict[str, Any] = {}
    if run.status == "ok":
        try:
            values = read_json(out_dir / f"{part}.json")
        except ObservationError as exc:
            obs.run = PartRun("crashed", f"left no readable observations ({exc})")
        if schema is not None:
            values = typed_values(values, schema, part)
    obs.data = values
    if run.status == "ok":
        errors = obs.data.get("errors")
        if errors is not None:
            obs.data["errors"] = (
                {str(k): clean_error(v) for k, v in errors.items() if clean_error(v) is not None}
                if isinstance(errors, dict)
                else {}
            )
        for key in list(obs.data):
            # Training curves (`<call>_curves`): plain numbers.
            if key.endswith("_curves") or (key == "history" and _curves_kind(schema, part)):
                obs.data[key] = clean_history(obs.data[key])
        missing = obs.data.get("missing")
        if missing is not None and not isinstance(missing, str):
            obs.data["missing"] = str(missing)[:200]
        elif missing is not None:
            obs.data["missing"] = missing[:200]
    if schema is not None:
        obs.data = ObservedData(obs.data, schema, part)
    return obs

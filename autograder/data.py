"""Find an exercise's data files, read the grader's own copy, and prepare a Keras cache.

Sources, in order: an explicit directory (`--data-dir` or the data set's variable, e.g.
`FASHION_MNIST_DIR`), an existing Keras cache, the data set's system folders (e.g. Debian's
`dataset-fashion-mnist`), and finally Keras' own download.

Example:
    >>> from autograder.exercise_spec import load_exercise
    >>> spec = load_exercise("fashion_mnist").dataset
    >>> data = read_dataset(locate_data(spec), spec)      # doctest: +SKIP
    >>> data.train_images.shape                          # doctest: +SKIP
    (60000, 28, 28)
"""

from __future__ import annotations

import gzip
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.exercise_spec import DatasetFiles
from autograder.sandbox.idx import IdxError, idx_bytes
from autograder.sandbox.idx import read_idx as _read_idx


class DataError(RuntimeError):
    """The dataset cannot be found or read; the message says how to provide it."""


@dataclass(frozen=True)
class Dataset:
    """The grader's own copy of a data set, read straight from its files."""

    arrays: dict[str, np.ndarray]
    directory: Path
    spec: DatasetFiles

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(f"the data set has no array {name!r}; it has {sorted(arrays)}")

    def files(self) -> dict[str, Path]:
        """Each file's path in the grader's copy, keyed by its path in a Keras cache
        (`datasets/<folder>/<file>`), which is where the child finds it."""
        return {
            self.spec.cache_path(name): (self.directory / name).resolve()
            for name in self.spec.files.values()
        }


def _complete(directory: Path, spec: DatasetFiles) -> bool:
    return all((directory / name).is_file() for name in spec.files.values())


def _keras_cache_dirs(spec: DatasetFiles) -> list[Path]:
    homes = []
    if os.environ.get("KERAS_HOME"):
        homes.append(Path(os.environ["KERAS_HOME"]))
    homes.append(Path.home() / ".keras")
    homes.append(Path("/tmp/.keras"))
    return [home / "datasets" / spec.cache_folder for home in homes]


def locate_data(
    spec: DatasetFiles,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    allow_download: bool = True,
) -> Path:
    """Return a directory holding every file of the data set `spec`.

    Args:
        spec: the exercise's data set (`Exercise.dataset`).
        data_dir: an explicit directory; defaults to the data set's variable (`spec.env`).
        allow_download: fall back to Keras' loader (needs network).

    Raises:
        DataError: naming every way to provide the data when none works.
    """
    explicit = data_dir or os.environ.get(spec.env)
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not _complete(path, spec):
            missing = [n for n in spec.files.values() if not (path / n).is_file()]
            raise DataError(
                f"data directory {str(path)!r} (from --data-dir or {spec.env}) lacks "
                f"{', '.join(missing)}"
            )
        return path
    for candidate in [*_keras_cache_dirs(spec), *spec.system_dirs]:
        if _complete(candidate, spec):
            return candidate.resolve()
    download_error = "download disabled"
    if allow_download and spec.keras_loader:
        try:
            module, _, function = spec.keras_loader.rpartition(".")
            getattr(importlib.import_module(module), function)()
        except Exception as exc:  # offline: any error from the download means "not available"
            download_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        else:
            for candidate in _keras_cache_dirs(spec):
                if _complete(candidate, spec):
                    return candidate.resolve()
            download_error = "download finished but the files were not found in the keras cache"
    system = "".join(f"; look in {d}" for d in spec.system_dirs)
    raise DataError(
        f"{spec.title} data not found. Provide it in one of these ways: "
        f"pass --data-dir DIR or set {spec.env} to a folder with the files "
        f"{', '.join(spec.files.values())}; "
        f"put them in ~/.keras/datasets/{spec.cache_folder}/{system}; "
        f"or allow keras to download them (tried: {download_error})."
    )


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file into a uint8 array; DataError when it is not one."""
    try:
        return _read_idx(path)
    except (IdxError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(str(exc)) from None


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (used by tests to make small datasets)."""
    with gzip.open(path, "wb") as handle:
        handle.write(idx_bytes(array))


def read_dataset(directory: Path, spec: DatasetFiles) -> Dataset:
    """The grader's own copy, independent of keras and of the submission."""
    arrays = {key: read_idx(directory / name) for key, name in spec.files.items()}
    return Dataset(arrays=arrays, directory=directory, spec=spec)


def prepare_keras_cache(source: Path, keras_home: Path, spec: DatasetFiles) -> Path:
    """Make `keras_home` a writable keras cache whose data set files link to `source`.

    Keras ignores a KERAS_HOME it cannot write to (and then tries to download), so the
    directory itself must be writable; the links may point at read-only files.
    """
    target = keras_home / "datasets" / spec.cache_folder
    target.mkdir(parents=True, exist_ok=True)
    for name in spec.files.values():
        link = target / name
        real = (source / name).resolve()  # before unlinking: source may be this very cache
        if link.resolve() == real and link.is_file():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(real)
    return keras_home

"""Find the Fashion-MNIST files, read the grader's own copy, and prepare a keras cache for the child.

Sources, in order: an explicit directory (`--data-dir` or `FASHION_MNIST_DIR`), an existing keras
cache, Debian's `dataset-fashion-mnist`, and finally keras's own download.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}


class DataError(RuntimeError):
    """The dataset cannot be found or read; the message says how to provide it."""


@dataclass(frozen=True)
class Dataset:
    """The grader's own copy of Fashion-MNIST, read straight from the IDX files."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    directory: Path


def _complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in FILES.values())


def _keras_cache_dirs() -> list[Path]:
    homes = []
    if os.environ.get("KERAS_HOME"):
        homes.append(Path(os.environ["KERAS_HOME"]))
    homes.append(Path.home() / ".keras")
    homes.append(Path("/tmp/.keras"))
    return [home / "datasets" / "fashion-mnist" for home in homes]


def locate_data(
    data_dir: str | os.PathLike[str] | None = None, *, allow_download: bool = True
) -> Path:
    """Return a directory holding the four official `.gz` files.

    Args:
        data_dir: an explicit directory; defaults to `$FASHION_MNIST_DIR`.
        allow_download: fall back to `keras.datasets.fashion_mnist.load_data()` (needs network).

    Raises:
        DataError: naming every way to provide the data when none works.
    """
    explicit = data_dir or os.environ.get("FASHION_MNIST_DIR")
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not _complete(path):
            missing = [n for n in FILES.values() if not (path / n).is_file()]
            raise DataError(
                f"data directory {str(path)!r} (from --data-dir or FASHION_MNIST_DIR) lacks "
                f"{', '.join(missing)}"
            )
        return path
    for candidate in [*_keras_cache_dirs(), DEBIAN_DIR]:
        if _complete(candidate):
            return candidate.resolve()
    if allow_download:
        try:
            import keras

            keras.datasets.fashion_mnist.load_data()
        except Exception as exc:  # offline: any error from the download means "not available"
            download_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        else:
            for candidate in _keras_cache_dirs():
                if _complete(candidate):
                    return candidate.resolve()
            download_error = "download finished but the files were not found in the keras cache"
    else:
        download_error = "download disabled"
    raise DataError(
        "Fashion-MNIST data not found. Provide it in one of these ways: "
        "pass --data-dir DIR or set FASHION_MNIST_DIR to a folder with the four official .gz files; "
        "put them in ~/.keras/datasets/fashion-mnist/; "
        "install Debian's package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist); "
        f"or allow keras to download them (tried: {download_error})."
    )


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (the format of the official files) into a uint8 array."""
    with gzip.open(path, "rb") as handle:
        payload = handle.read()
    if len(payload) < 8:
        raise DataError(f"{path} is too short to be an IDX file")
    magic, count = struct.unpack(">II", payload[:8])
    ndim = magic & 0xFF
    if ndim not in IDX_MAGIC or magic != IDX_MAGIC[ndim]:
        raise DataError(f"{path} has IDX magic {magic:#010x}, expected 0x801 or 0x803")
    dims = (count, *struct.unpack(f">{ndim - 1}I", payload[8 : 4 + 4 * ndim]))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(payload) - offset != expected:
        raise DataError(
            f"{path} holds {len(payload) - offset} bytes of data, header says {expected}"
        )
    return np.frombuffer(payload, dtype=np.uint8, offset=offset).reshape(dims)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (used by tests to make small datasets)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", IDX_MAGIC[array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.tobytes())


def read_dataset(directory: Path) -> Dataset:
    """The grader's own copy, independent of keras and of the submission."""
    arrays = {key: read_idx(directory / name) for key, name in FILES.items()}
    return Dataset(directory=directory, **arrays)


def prepare_keras_cache(source: Path, keras_home: Path) -> Path:
    """Make `keras_home` a writable keras cache whose fashion-mnist files link to `source`.

    Keras ignores a KERAS_HOME it cannot write to (and then tries to download), so the
    directory itself must be writable; the links may point at read-only files.
    """
    target = keras_home / "datasets" / "fashion-mnist"
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        link = target / name
        real = (source / name).resolve()  # before unlinking: source may be this very cache
        if link.resolve() == real and link.is_file():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(real)
    return keras_home

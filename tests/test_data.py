"""The dataset: IDX files read by the grader and by the real keras loader, source discovery."""

from __future__ import annotations

import dataclasses
import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import data
from autograder.data import (
    DataError,
    locate_data,
    prepare_keras_cache,
    read_dataset,
    read_idx,
    write_idx,
)
from autograder.exercises.datasets import FASHION_MNIST

FILES = FASHION_MNIST.files


def test_idx_round_trip(tmp_path: Path) -> None:
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "x.gz", array)
    assert np.array_equal(read_idx(tmp_path / "x.gz"), array)
    labels = np.array([9, 0, 0, 3, 0], dtype=np.uint8)
    write_idx(tmp_path / "y.gz", labels)
    assert np.array_equal(read_idx(tmp_path / "y.gz"), labels)


def test_corrupt_idx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(
            b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c" + b"\x00" * 10
        )
    with pytest.raises(DataError, match="header says"):
        read_idx(path)
    with gzip.open(path, "wb") as handle:
        handle.write(b"\x12\x34\x56\x78" + b"\x00" * 10)
    with pytest.raises(DataError, match="magic"):
        read_idx(path)


def test_synthetic_files_load_through_the_real_keras_loader(
    synthetic_dir: Path, tmp_path: Path
) -> None:
    """The child reads data with keras.datasets.fashion_mnist.load_data() from a prepared cache."""
    keras_home = prepare_keras_cache(synthetic_dir, tmp_path / "keras_home", FASHION_MNIST)
    code = (
        "import keras, json; (a, b), (c, d) = keras.datasets.fashion_mnist.load_data();"
        "print(json.dumps([a.shape, str(a.dtype), b[:5].tolist(), c.shape, d.shape]))"
    )
    env = {"KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1]
        == '[[600, 28, 28], "uint8", [9, 0, 0, 3, 0], [200, 28, 28], [200]]'
    )
    grader_copy = read_dataset(synthetic_dir, FASHION_MNIST)
    assert grader_copy.train_labels[:5].tolist() == [9, 0, 0, 3, 0]


def test_explicit_directory_must_be_complete(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="lacks"):
        locate_data(FASHION_MNIST, tmp_path)


def test_explicit_directory_from_environment(
    synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHION_MNIST_DIR", str(synthetic_dir))
    assert locate_data(FASHION_MNIST) == synthetic_dir.resolve()


def test_keras_cache_then_debian_then_error(
    tmp_path: Path, synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    spec = dataclasses.replace(FASHION_MNIST, system_dirs=(tmp_path / "debian",))
    monkeypatch.setattr(
        data, "_keras_cache_dirs", lambda _: [tmp_path / "keras" / "datasets" / "fashion-mnist"]
    )
    with pytest.raises(DataError) as error:
        locate_data(spec, allow_download=False)
    for way in ("--data-dir", "FASHION_MNIST_DIR", "~/.keras", "debian", "download"):
        assert way in str(error.value)
    (tmp_path / "debian").mkdir()
    for name in FILES.values():
        (tmp_path / "debian" / name).symlink_to(synthetic_dir / name)
    assert locate_data(spec, allow_download=False) == (tmp_path / "debian").resolve()
    prepare_keras_cache(synthetic_dir, tmp_path / "keras", FASHION_MNIST)
    assert (
        locate_data(spec, allow_download=False)
        == (tmp_path / "keras" / "datasets" / "fashion-mnist").resolve()
    )


def test_preparing_a_cache_from_itself_keeps_the_files(synthetic_dir: Path, tmp_path: Path) -> None:
    home = prepare_keras_cache(synthetic_dir, tmp_path / "keras", FASHION_MNIST)
    cache = home / "datasets" / "fashion-mnist"
    prepare_keras_cache(cache, home, FASHION_MNIST)
    assert read_dataset(cache, FASHION_MNIST).train_labels[:5].tolist() == [9, 0, 0, 3, 0]

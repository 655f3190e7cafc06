"""Shared fixtures: a small learnable Fashion-MNIST data set, graders on it and on the real files,
the reference solution as a file. What they are made from lives in tests/fashion.py. And the
order in which `make test`'s workers take the test files (tests/suite_order.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fashion import EXERCISE, fast_options, reference_source, write_synthetic_dataset
from suite_order import file_rank

from autograder.data import DataError, locate_data
from autograder.exercises.datasets import FASHION_MNIST
from autograder.grader import Grader, GraderOptions


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_dataset(tmp_path_factory.mktemp("fashion-mnist-synthetic"))


@pytest.fixture(scope="session")
def grader(synthetic_dir: Path):
    with Grader(fast_options(synthetic_dir)) as instance:
        yield instance


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real files; skipped only when nobody said where they are (CI always says)."""
    if os.environ.get("FASHION_MNIST_DIR"):
        # A wrong explicit path must fail, not skip.
        return locate_data(FASHION_MNIST, allow_download=False)
    try:
        return locate_data(FASHION_MNIST, allow_download=False)
    except DataError as exc:
        pytest.skip(f"real Fashion-MNIST not available: {exc}")


@pytest.fixture(scope="session")
def real_grader(real_data_dir: Path):
    with Grader(GraderOptions(exercise=EXERCISE, data_dir=str(real_data_dir))) as instance:
        yield instance


@pytest.fixture(scope="session")
def reference_py(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reference") / "reference.py"
    path.write_text(reference_source())
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the longest files are handed out first (tests/suite_order.py)."""
    if hasattr(config, "workerinput"):  # a run in one process keeps the files' usual order
        items.sort(key=file_rank)  # stable: a file's tests keep their order

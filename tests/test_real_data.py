"""Real Fashion-MNIST: the grader's own copy, the reference, and accuracy-only mistakes.

Selected with `-m real_data`; CI always runs them (`.ci/run` sets FASHION_MNIST_DIR).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from defects_fashion_mnist import DEFECTS
from fashion import SOLUTION, failed_parts

from autograder.data import read_dataset
from autograder.exercises.datasets import FASHION_MNIST
from autograder.exercises.fashion_mnist.constants import PIPELINE_THRESHOLD
from autograder.exercises.fashion_mnist_cnn import constants as cnn
from autograder.grader import Grader, GraderOptions

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


def test_grader_copy_matches_the_published_facts(real_data_dir: Path) -> None:
    ds = read_dataset(real_data_dir, FASHION_MNIST)
    assert ds.train_images.shape == (60000, 28, 28) and ds.train_images.dtype == np.uint8
    assert ds.train_labels.shape == (60000,) and ds.test_images.shape == (10000, 28, 28)
    assert ds.test_labels.shape == (10000,)
    assert ds.train_labels[:5].tolist() == [9, 0, 0, 3, 0]
    assert ds.test_labels[333] == 7  # the notebook's test image 333 is a Sneaker
    assert np.bincount(ds.train_labels).tolist() == [6000] * 10


def test_reference_scores_full_marks_on_real_data(real_grader) -> None:
    report = real_grader.grade(SOLUTION)
    assert [f"{t.name}: {t.output}" for t in report.tests if not t.passed] == []
    assert report.score == 100
    assert report.artifacts["test_accuracy"] >= PIPELINE_THRESHOLD
    print(
        f"reference on real data: {report.execution_time:.1f} s, accuracy {report.artifacts['test_accuracy']}"
    )


def test_unscaled_training_loses_the_pipeline_on_real_data(real_grader, tmp_path: Path) -> None:
    """Training on raw 0-255 pixels: the grader's accuracy measurement catches it.

    (One epoch instead of five still reaches the threshold under the grader's seed, so that
    mistake costs only train_model; see the README's calibration.)
    """
    defect = next(d for d in DEFECTS if d.id == "no_scaling")
    path = tmp_path / f"{defect.id}.py"
    path.write_text(defect.source())
    report = real_grader.grade(path)
    assert failed_parts(report) == defect.breaks | {"pipeline"}
    pipeline = next(t for t in report.tests if t.part == "pipeline")
    assert "test accuracy" in pipeline.output and "measured by the grader" in pipeline.output


def test_the_cnn_reference_scores_full_marks_on_real_data(real_data_dir: Path) -> None:
    """The convolutional exercise's pipeline on the real data: 3 epochs on the first 12,000
    images, above its calibrated threshold (0.82; the reference's worst of 11 seeds is 0.848)."""
    solution = SOLUTION.parents[1] / "fashion_mnist_cnn" / "fashion_mnist_cnn.ipynb"
    options = GraderOptions(exercise="fashion_mnist_cnn", data_dir=str(real_data_dir))
    with Grader(options) as grader:
        report = grader.grade(solution)
    assert [f"{t.name}: {t.output}" for t in report.tests if not t.passed] == []
    assert report.score == 100
    assert report.artifacts["test_accuracy"] >= cnn.PIPELINE_THRESHOLD + 0.02
    print(
        f"CNN reference on real data: {report.execution_time:.1f} s, accuracy "
        f"{report.artifacts['test_accuracy']}, parts {report.artifacts['part_seconds']}"
    )

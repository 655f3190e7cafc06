"""The Fashion-MNIST exercise as the tests use it: its files, a small learnable data set in the real
IDX format, grader options for that data, its reference solution as source, and its rubric.

The synthetic data goes through the real keras loader (the child reads it from a keras cache),
so the fast tests exercise the same code paths as real grading. The fixtures that serve these
(a session's data directory, graders) are in conftest.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from autograder.data import write_idx  # noqa: E402
from autograder.exercise_spec import load_exercise  # noqa: E402
from autograder.exercises.datasets import FASHION_MNIST  # noqa: E402
from autograder.grader import GraderOptions, default_timeouts  # noqa: E402
from autograder.scoring.run import rubric as exercise_rubric  # noqa: E402
from autograder.submission import load_chunks  # noqa: E402

FILES = dict(FASHION_MNIST.files)
EXERCISE = "fashion_mnist"
PARTS = load_exercise(EXERCISE).part_names


def rubric(exercise: str = EXERCISE):
    """The exercise's rubric lines, as pytest collects them from its graders."""
    return exercise_rubric(load_exercise(exercise))


ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "fashion_mnist" / "fashion_mnist.ipynb"
RELEASE = ROOT / "assignments" / "fashion_mnist" / "fashion_mnist.ipynb"
SUBMISSIONS = Path(__file__).with_name("submissions")
SYNTHETIC_THRESHOLD = 0.8
FIRST_TRAIN_LABELS = [9, 0, 0, 3, 0]


def make_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class k is a bright 6x6 block at its own place on noisy background: easy to learn."""
    images = rng.integers(0, 60, size=(len(labels), 28, 28), dtype=np.uint8)
    for index, label in enumerate(labels):
        row, col = 2 + (label // 5) * 14, 1 + (label % 5) * 5
        images[index, row : row + 6, col : col + 6] = rng.integers(200, 256, size=(6, 6))
    images[0, 0, 0], images[0, 27, 27] = 0, 255  # the full pixel range appears
    return images


def write_synthetic_dataset(directory: Path, n_train: int = 600, n_test: int = 200) -> Path:
    rng = np.random.default_rng(0)
    train_labels = rng.integers(0, 10, size=n_train, dtype=np.uint8)
    train_labels[:5] = FIRST_TRAIN_LABELS
    test_labels = rng.integers(0, 10, size=n_test, dtype=np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": make_images(train_labels, rng),
        "train_labels": train_labels,
        "test_images": make_images(test_labels, rng),
        "test_labels": test_labels,
    }
    for key, name in FILES.items():
        write_idx(directory / name, arrays[key])
    return directory


def fast_options(data_dir: Path, **overrides) -> GraderOptions:
    exercise = overrides.pop("exercise", EXERCISE)
    options = GraderOptions(
        exercise=exercise,
        data_dir=str(data_dir),
        settings={"pipeline_threshold": SYNTHETIC_THRESHOLD},
        timeouts=default_timeouts(load_exercise(exercise)),
    )
    for key, value in overrides.items():
        setattr(options, key, value)
    return options


def solution_notebook(exercise: str = EXERCISE) -> Path:
    """The reference solution notebook of `exercise` in this kit."""
    return ROOT / "solutions" / exercise / f"{exercise}.ipynb"


def reference_source(exercise: str = EXERCISE) -> str:
    """The reference solution's graded code as one module (fashion_mnist's unless named)."""
    return "\n\n".join(chunk.source for chunk in load_chunks(solution_notebook(exercise))) + "\n"


def stub_notebook_text() -> str:
    """The solution notebook with every solution region replaced as nbgrader does."""
    text = SOLUTION.read_text()
    pattern = re.compile(r'( *)### BEGIN SOLUTION\\n".*?"\1### END SOLUTION(\\n)?', re.S)
    return pattern.sub(lambda m: f"{m.group(1)}raise NotImplementedError()\\n", text)


def failed_parts(report) -> set[str]:
    return {t.part for t in report.tests if not t.passed}


def grade_together(
    sources: dict[str, str], data_dir: Path, out: Path, exercise: str = EXERCISE, jobs: int = 2
) -> dict[str, object]:
    """Each of `sources` (name -> a submission's Python source) graded once by the batch engine
    that grades a class, `jobs` at a time, with the fast options on the data in `data_dir`:
    name -> its GradingReport. A table of submissions graded this way takes about half the
    time of grading them one by one on two cores, with the same reports."""
    from autograder import batch
    from autograder.batch.worker import GraderFactory

    folder = out / "submissions"
    folder.mkdir(parents=True)
    for name, source in sources.items():
        (folder / f"{name}.py").write_text(source)
    factory = GraderFactory(fast_options(data_dir, exercise=exercise))
    result = batch.grade_folder(
        folder, factory=factory, out_dir=out / "batch", jobs=jobs, progress=False
    )
    reports = {Path(report.submission).stem: report for report in result}
    assert set(reports) == set(sources), (sorted(reports), sorted(sources))
    return reports

"""Benchmark: a class graded at the speed of its arithmetic? Batch seconds per submission against
the pure training time of the exercise's pipeline, both measured in this run, for each exercise.

    .venv/bin/python benchmarks/class_speed.py [--students 4] [--jobs 2] [--exercises ...]

For each exercise: (1) the bare training the pipeline part does, in this process with the
grader's thread layout (the reference model, the pipeline's images, epochs and seed, batch 32,
op determinism and the grader's steps_per_execution: the arithmetic, nothing else);
(2) `autograder batch` of `--students` copies of the solution notebook on the real data, wall
clock, divided by the number of submissions. Printed: both figures and their ratio (the target
in issue 20 is at most 1.5). Figures, not asserts; they depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from table import record  # noqa: E402

from autograder.child.keras_tools import PIPELINE_STEPS_PER_EXECUTION  # noqa: E402
from autograder.threads import fix_threads  # noqa: E402

fix_threads()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def bare_training(exercise: str, data_dir: Path) -> float:
    """Seconds of the pipeline's training alone: the reference model, the pipeline's data."""
    import numpy as np
    import tensorflow as tf

    from autograder.data import read_dataset
    from autograder.exercise_spec import load_exercise

    spec = load_exercise(exercise)
    data = read_dataset(data_dir, spec.dataset)
    if exercise == "fashion_mnist_cnn":
        from autograder.exercises.fashion_mnist_cnn import constants as c
        from autograder.exercises.fashion_mnist_cnn.reference import reference_model, scaled

        images = scaled(data.train_images[: c.PIPELINE_IMAGES])
        labels = data.train_labels[: c.PIPELINE_IMAGES]
    else:
        from autograder.exercises.fashion_mnist import constants as c
        from autograder.exercises.fashion_mnist.reference import reference_model

        images = data.train_images.astype(np.float32) / 255.0
        labels = data.train_labels
    model = reference_model()  # seeded with the pipeline's seed
    # The arithmetic alone: op determinism as in the child, and the grader's own
    # steps_per_execution (Python and callbacks dispatched once per 64 steps, same mathematics).
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=PIPELINE_STEPS_PER_EXECUTION,
    )
    tf.config.experimental.enable_op_determinism()
    started = time.perf_counter()
    model.fit(images, labels, epochs=c.PIPELINE_EPOCHS, batch_size=32, verbose=0)
    return time.perf_counter() - started


def batch_seconds(exercise: str, data_dir: Path, students: int, jobs: int) -> float:
    """Wall-clock seconds per submission of `autograder batch` over copies of the solution."""
    solution = ROOT / "solutions" / exercise / f"{exercise}.ipynb"
    with tempfile.TemporaryDirectory(prefix="class-speed-") as folder:
        class_dir = Path(folder) / "class"
        class_dir.mkdir()
        for index in range(students):
            shutil.copy(solution, class_dir / f"student{index + 1}_{exercise}.ipynb")
        command = [
            sys.executable, "-m", "autograder", "batch", str(class_dir), "--out",
            str(Path(folder) / "out"), "--jobs", str(jobs), "--layout", "files",
            "--exercise", exercise, "--data-dir", str(data_dir),
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
        return (time.perf_counter() - started) / students


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--exercises", nargs="+", default=["fashion_mnist", "fashion_mnist_cnn"])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(
            os.environ.get("FASHION_MNIST_DIR") or ROOT.parent / "shared/data/fashion-mnist"
        ),
    )
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs; {args.students} copies of each solution, --jobs {args.jobs}; "
        f"real data from {args.data_dir}",
        flush=True,
    )
    figures = []
    for exercise in args.exercises:
        training = bare_training(exercise, args.data_dir)
        per_submission = batch_seconds(exercise, args.data_dir, args.students, args.jobs)
        print(
            f"{exercise}: bare pipeline training {training:.1f} s; batch {per_submission:.1f} s "
            f"per submission; ratio {per_submission / training:.2f} (target <= 1.5)",
            flush=True,
        )
        figures.append(
            (
                f"`{exercise}`: batch per submission / bare pipeline training "
                f"({args.students} copies of the solution, --jobs {args.jobs}, real data; "
                "target <= 1.5)",
                f"{per_submission:.1f} / {training:.1f} s = {per_submission / training:.2f}",
            )
        )
    record("class_speed", figures)


if __name__ == "__main__":
    main()

"""Calibrate the pipeline's accuracy threshold: train the reference pipeline under several seeds.

Runs the reference solution's own functions (extracted from the solution notebook) exactly as the
grader's pipeline probe does: scale, build, train 5 epochs under `keras.utils.set_random_seed`
with op determinism and the probe's `fast_training` (bit-identical to a plain `fit`, only
faster), then measure test accuracy. Prints one line per seed and a summary.

    .venv/bin/python benchmarks/calibrate_threshold.py [--seeds 1234 1 2 3 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1234, 1, 2, 3, 4, 5, 6, 7])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from autograder.child.keras_tools import KerasTools
    from autograder.data import locate_data, read_dataset
    from autograder.exercises.datasets import FASHION_MNIST
    from autograder.exercises.fashion_mnist import constants as exercise

    fast_training = KerasTools().fast_training
    from autograder.submission import load_chunks

    folder = locate_data(FASHION_MNIST, args.data_dir, allow_download=False)
    dataset = read_dataset(folder, FASHION_MNIST)
    namespace: dict = {}
    for chunk in load_chunks(ROOT / "solutions" / "fashion_mnist" / "fashion_mnist.ipynb"):
        exec(compile(chunk.source, chunk.filename, "exec"), namespace)
    tf.config.experimental.enable_op_determinism()
    accuracies = []
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        started = time.perf_counter()
        images = namespace["scale_images"](dataset.train_images)
        model = namespace["build_model"]()
        with fast_training(model):
            namespace["train_model"](
                model, images, dataset.train_labels, epochs=exercise.PIPELINE_EPOCHS
            )
        seconds = time.perf_counter() - started
        predicted = model.predict(dataset.test_images / 255.0, verbose=0).argmax(axis=1)
        accuracy = float(np.mean(predicted == dataset.test_labels))
        accuracies.append(accuracy)
        print(
            f"seed {seed:>5}: test accuracy {accuracy:.4f}  ({seconds:.1f} s training)", flush=True
        )
    print(
        f"min {min(accuracies):.4f}  mean {statistics.mean(accuracies):.4f}  "
        f"max {max(accuracies):.4f}  stdev {statistics.pstdev(accuracies):.4f}  "
        f"threshold in use {exercise.PIPELINE_THRESHOLD}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: how close the grader's training of the student's model is to its arithmetic (issue 20).

    .venv/bin/python benchmarks/training_floor.py [--data-dir DIR]

Measures in one process, with the grader's thread layout, seed and op determinism, on the real
Fashion-MNIST training images and the reference model:

1. the train step alone: Keras' `train_step` in a `tf.function` loop over one fixed batch, 1,875
   steps (one epoch at batch 32), no data pipeline and no Python between steps;
2. Adam's update alone: `optimizer.apply` on the model's variables, 1,875 times;
3. the student's `fit` as the grader runs it (`KerasTools.fast_training`), per epoch;
4. the same fit with the whole train step compiled by XLA, which Keras refuses under op
   determinism and is forced here: its seconds, and whether its loss and weights are the
   student's (they are not on this wheel, which is why the grader does not use it).

Prints the figures and fit / step alone: what any bit-identical speed-up could still remove
from the grading's pipeline part. Figures, not asserts.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time

from table import record

STEPS = 1875  # one epoch of 60,000 images at batch 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    from autograder.threads import fix_threads

    fix_threads()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    import keras
    import tensorflow as tf

    from autograder.child.keras_tools import KerasTools
    from autograder.data import locate_data, read_dataset
    from autograder.exercises.datasets import FASHION_MNIST
    from autograder.exercises.fashion_mnist.reference import reference_model  # seeded

    tools = KerasTools()
    tf.config.experimental.enable_op_determinism()
    data = read_dataset(
        locate_data(FASHION_MNIST, args.data_dir, allow_download=False), FASHION_MNIST
    )
    images, labels = data.train_images / 255.0, data.train_labels

    def best_of_three(function) -> tuple[float, float]:
        """Fastest wall-clock seconds of three calls, and the cores busy in that call."""
        function(tf.constant(2))  # traced outside the timing
        runs = []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            function(tf.constant(STEPS))
            wall = time.perf_counter() - wall
            runs.append((wall, (time.process_time() - cpu) / wall))
        return min(runs)

    print(
        f"machine: {os.cpu_count()} CPUs, {os.uname().machine}, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}",
        flush=True,
    )
    model = reference_model()
    model.fit(images[:64], labels[:64], batch_size=32, epochs=1, verbose=0)  # builds everything
    batch = (tf.constant(images[:32], tf.float32), tf.constant(labels[:32]))
    ones = [tf.ones_like(v) * 1e-3 for v in model.trainable_variables]

    @tf.function
    def step_alone(n):
        for _ in tf.range(n):
            model.train_step(batch)

    @tf.function
    def update_alone(n):
        for _ in tf.range(n):
            model.optimizer.apply(ones, model.trainable_variables)

    step, step_cores = best_of_three(step_alone)
    update, update_cores = best_of_three(update_alone)

    def fit(xla: bool) -> tuple[list[float], list[float], str]:
        model = reference_model()
        if xla:
            model._jit_compile = True  # the public setter turns it off under op determinism
        seconds: list[float] = []

        class EpochClock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                seconds.append(time.perf_counter() - self.started)

        with tools.fast_training(model):
            history = model.fit(
                images, labels, epochs=args.epochs, batch_size=32, verbose=0,
                callbacks=[EpochClock()],
            )  # fmt: skip
        weights = hashlib.sha256(b"".join(w.numpy().tobytes() for w in model.weights))
        return seconds, history.history["loss"], weights.hexdigest()

    epochs, losses, weights = fit(xla=False)
    xla_epochs, xla_losses, xla_weights = fit(xla=True)
    later = statistics.median(epochs[1:] or epochs)
    xla_later = statistics.median(xla_epochs[1:] or xla_epochs)
    same = losses == xla_losses and weights == xla_weights

    print(f"\nper epoch of {STEPS} steps (reference model, grader's threads and seed):")
    print(f"  train step alone          {step:6.2f} s   ({step_cores:.2f} cores busy)")
    print(f"    of which Adam's update  {update:6.2f} s   ({update_cores:.2f} cores busy)")
    print(
        f"  the grader's fit          {later:6.2f} s   (median of epochs 2-{len(epochs)}; "
        f"the first, with tracing, {epochs[0]:.2f} s)"
    )
    print(f"  fit / step alone          {later / step:6.2f}")
    print(
        f"  the fit with XLA          {xla_later:6.2f} s   (first {xla_epochs[0]:.2f} s); "
        f"loss and weights the student's: {'yes' if same else 'no'}"
    )
    print(
        f"  losses: {', '.join(f'{x:.6f}' for x in losses)}"
        + ("" if same else f"; with XLA {', '.join(f'{x:.6f}' for x in xla_losses)}")
    )
    record(
        "training_floor",
        [
            (f"train step alone, per epoch of {STEPS} steps", f"{step:.2f} s"),
            ("of which Adam's update", f"{update:.2f} s"),
            ("the grader's fit of the student's model, per epoch", f"{later:.2f} s"),
            ("fit / step alone", f"{later / step:.2f}"),
            (
                "the same fit compiled by XLA" + ("" if same else " (other bits: not used)"),
                f"{xla_later:.2f} s",
            ),
        ],
    )


if __name__ == "__main__":
    main()

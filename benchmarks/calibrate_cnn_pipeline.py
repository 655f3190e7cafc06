"""Calibrate the fashion_mnist_cnn pipeline: training time and test accuracy of the reference CNN.

Trains the reference solution's CNN (the same layers and compile settings as `build_model()` in
solutions/fashion_mnist_cnn/fashion_mnist_cnn.ipynb) on the first N training images for up to
E epochs, batch 32, under `keras.utils.set_random_seed(seed)` with op determinism on, and
measures the accuracy on all 10,000 test images. Needs only numpy and keras (TensorFlow backend);
the IDX files are read directly from --data-dir.

One `fit` per (N, seed) runs max(E) epochs; a callback evaluates the test set after each epoch,
so the accuracy after epoch e is that of an e-epoch run (with a fixed seed the first e epochs of
a longer run are the same computation; `--check-prefix` verifies this once with a separate
e-epoch fit). Training seconds exclude the evaluations. The first epoch includes tracing.

    .venv/bin/python benchmarks/calibrate_cnn_pipeline.py                 # the full grid
    .venv/bin/python benchmarks/calibrate_cnn_pipeline.py --sizes 12000 --epochs 2 --seeds 0 1
    .venv/bin/python benchmarks/calibrate_cnn_pipeline.py --defects-only --defect-size 12000 \
        --defect-epochs 2

Also:
- `--spe-seeds`: seeds also run with `model.steps_per_execution = 64` set after compile (same
  mathematics, Python/callback dispatch once per 64 steps); reports the speed-up and whether the
  accuracy is the same.
- defective variants at --defect-size/--defect-epochs: (a) images not divided by 255,
  (b) 'relu' instead of 'softmax' on the output layer, (c) the model trained for 0 epochs.

Timings depend on the machine and on whatever else runs on it: treat them as indicative.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "fashion-mnist"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes: magic 0x0000 08 <ndim>, then big-endian dims."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    if data[0:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return array.reshape(shape)


def load(data_dir: Path) -> dict[str, np.ndarray]:
    arrays = {name: read_idx(data_dir / filename) for name, filename in FILES.items()}
    assert arrays["train_images"].shape == (60000, 28, 28), arrays["train_images"].shape
    assert arrays["test_images"].shape == (10000, 28, 28), arrays["test_images"].shape
    return arrays


def reshape_images(images: np.ndarray, scale: bool = True) -> np.ndarray:
    """The reference `reshape_images` (scale=False: defect (a), no division by 255)."""
    out = images.reshape(-1, 28, 28, 1).astype("float32")
    return out / 255.0 if scale else out


def build_model(filters: int = 64, output_activation: str = "softmax") -> keras.Model:
    """The reference `build_model` (output_activation='relu': defect (b))."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(filters, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Conv2D(filters, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation=output_activation),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    predicted = np.argmax(model.predict(images, batch_size=500, verbose=0), axis=1)
    return float(np.mean(predicted == labels))


class EpochProbe(keras.callbacks.Callback):
    """Records the training seconds up to each epoch's end (evaluation excluded) and the test
    accuracy after each epoch."""

    def __init__(self, test_images: np.ndarray, test_labels: np.ndarray):
        super().__init__()
        self.test_images, self.test_labels = test_images, test_labels
        self.seconds: list[float] = []
        self.accuracies: list[float] = []
        self._training = 0.0

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._training += time.perf_counter() - self._started
        self.seconds.append(self._training)
        self.accuracies.append(accuracy(self.model, self.test_images, self.test_labels))
        self._started = time.perf_counter()


def run(
    data: dict[str, np.ndarray],
    size: int,
    epochs: int,
    seed: int,
    *,
    spe: int = 1,
    scale: bool = True,
    output_activation: str = "softmax",
) -> tuple[list[float], list[float]]:
    """Train for `epochs` epochs; returns (cumulative training seconds, test accuracy) per epoch."""
    keras.utils.set_random_seed(seed)
    train = reshape_images(data["train_images"][:size], scale=scale)
    test = reshape_images(data["test_images"], scale=scale)
    model = build_model(output_activation=output_activation)
    if spe != 1:
        model.steps_per_execution = spe
    if epochs == 0:
        return [0.0], [accuracy(model, test, data["test_labels"])]
    probe = EpochProbe(test, data["test_labels"])
    model.fit(
        train,
        data["train_labels"][:size],
        batch_size=32,
        epochs=epochs,
        callbacks=[probe],
        verbose=0,
    )
    return probe.seconds, probe.accuracies


def summary(values: list[float]) -> str:
    return f"{min(values):.4f} {statistics.mean(values):.4f} {max(values):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--sizes", type=int, nargs="+", default=[6000, 12000, 20000])
    parser.add_argument("--epochs", type=int, default=3, help="max epochs (1..E are reported)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--spe-seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--defect-size", type=int, default=12000)
    parser.add_argument("--defect-epochs", type=int, default=2)
    parser.add_argument("--defect-seeds", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--defects-only", action="store_true")
    parser.add_argument("--no-defects", action="store_true")
    parser.add_argument(
        "--check-prefix",
        action="store_true",
        help="verify once that a separate 1-epoch fit equals epoch 1 of the longer run",
    )
    args = parser.parse_args()

    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    data = load(args.data_dir)
    print(f"data from {args.data_dir}; {os.cpu_count()} CPUs; timings are indicative", flush=True)

    # results[(size, spe)][seed] = (seconds per epoch, accuracy per epoch)
    results: dict[tuple[int, int], dict[int, tuple[list[float], list[float]]]] = {}
    if not args.defects_only:
        for size in args.sizes:
            for spe, seeds in ((1, args.seeds), (64, args.spe_seeds)):
                for seed in seeds:
                    seconds, accs = run(data, size, args.epochs, seed, spe=spe)
                    results.setdefault((size, spe), {})[seed] = (seconds, accs)
                    print(
                        f"N={size:>6} spe={spe:>2} seed={seed}: "
                        + "  ".join(
                            f"E{e + 1} {s:6.1f}s {a:.4f}"
                            for e, (s, a) in enumerate(zip(seconds, accs, strict=True))
                        ),
                        flush=True,
                    )
        if args.check_prefix:
            size, seed = args.sizes[0], args.seeds[0]
            _, accs = run(data, size, 1, seed)
            full = results[(size, 1)][seed][1][0]
            print(
                f"prefix check N={size} seed={seed}: separate 1-epoch fit {accs[0]:.4f} vs "
                f"epoch 1 of the {args.epochs}-epoch fit {full:.4f} "
                f"({'same' if accs[0] == full else 'DIFFERENT'})",
                flush=True,
            )

        print()
        print(
            "    N  E   train s (mean, spe=1)  acc min  mean   max    spe=64 s  speed-up  same acc"
        )
        for size in args.sizes:
            base = results[(size, 1)]
            fast = results.get((size, 64), {})
            for e in range(args.epochs):
                secs = [base[s][0][e] for s in base]
                accs = [base[s][1][e] for s in base]
                line = f"{size:>6} {e + 1:>2}   {statistics.mean(secs):8.1f}               {summary(accs)}"
                if fast:
                    fsecs = [fast[s][0][e] for s in fast]
                    common = [s for s in fast if s in base]
                    same = all(fast[s][1][e] == base[s][1][e] for s in common) if common else None
                    ref = statistics.mean(base[s][0][e] for s in common) if common else None
                    speedup = ref / statistics.mean(fsecs) if ref else float("nan")
                    line += f"   {statistics.mean(fsecs):8.1f}  {speedup:7.2f}x  {same}"
                print(line)

    if not args.no_defects:
        print()
        size, epochs = args.defect_size, args.defect_epochs
        print(f"defective variants at N={size}, E={epochs} (seeds {args.defect_seeds}):")
        variants = {
            "reference": {},
            "(a) not divided by 255": {"scale": False},
            "(b) relu output": {"output_activation": "relu"},
        }
        for name, kwargs in variants.items():
            accs = [run(data, size, epochs, s, **kwargs)[1][-1] for s in args.defect_seeds]
            print(f"  {name:<26} " + " ".join(f"{a:.4f}" for a in accs), flush=True)
        accs = [run(data, size, 0, s)[1][-1] for s in args.defect_seeds]
        print(f"  {'(c) trained 0 epochs':<26} " + " ".join(f"{a:.4f}" for a in accs), flush=True)


if __name__ == "__main__":
    main()

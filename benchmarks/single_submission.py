"""Benchmark: one submission graded versus simply running the student's code (issue 9, part 1).

    .venv/bin/python benchmarks/single_submission.py [--data-dir DIR] [--repeat N]

Measures, in one run on this machine (so the machine's speed cancels out in the ratios):

1. `autograder grade` of the reference solution on the real data (a fresh process, as a course
   would run it: sandbox, every check, the parent's own evaluation);
2. a bare script: import TensorFlow, load Fashion-MNIST through keras, build the reference model,
   train it 5 epochs at batch 32 with Keras' defaults and evaluate it (no sandbox, no checks);
3. `jupyter nbconvert --execute` of the original notebook (../shared/seed/), as a notebook
   grader would run it.

Each command's stdout goes to a pipe, as on a grading server. With `--repeat N` each is run N
times (interleaved) and the fastest run counts: other processes only ever make a run slower.
Prints the three times and the two ratios (targets: at most 0.6 and 0.45), then where the
grading's time goes: its pipeline part (the student's own 5-epoch training, which must stay
bit-identical to their fit) against everything else, and the ratio no grading can go under
without changing that training's arithmetic (pipeline / bare). Figures, not asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "fashion_mnist" / "fashion_mnist.ipynb"
ORIGINAL = ROOT.parent / "shared" / "seed" / "fashion_mnist_original.ipynb"
TARGET_BARE, TARGET_NBCONVERT = 0.6, 0.45

BARE = """
import time
started = time.perf_counter()
import keras
import tensorflow as tf

(train_images, train_labels), (test_images, test_labels) = (
    keras.datasets.fashion_mnist.load_data()
)
model = keras.Sequential(
    [
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
fit_started = time.perf_counter()
model.fit(train_images / 255.0, train_labels, epochs=5, batch_size=32)
fit_seconds = time.perf_counter() - fit_started
loss, accuracy = model.evaluate(test_images / 255.0, test_labels)
print(f"BARE accuracy {accuracy:.4f} in {time.perf_counter() - started:.1f} s (fit {fit_seconds:.1f} s)")
"""


def timed(command: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--notebook", default=str(ORIGINAL))
    args = parser.parse_args()

    from autograder.data import locate_data, prepare_keras_cache
    from autograder.exercises.datasets import FASHION_MNIST
    from autograder.threads import thread_environment

    data_dir = locate_data(FASHION_MNIST, args.data_dir, allow_download=False)
    bin_dir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="autograder-bench-"))
    keras_home = prepare_keras_cache(data_dir, work / "keras_home", FASHION_MNIST)
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "0"),
        # The grader's thread layout for the bare job and the notebook too: the same arithmetic.
        **thread_environment(),
        "FASHION_MNIST_DIR": str(data_dir),
        "KERAS_HOME": str(keras_home),
        "PYTHONPATH": os.pathsep.join(
            p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p
        ),
    }
    bare = work / "bare.py"
    bare.write_text(BARE)
    results = work / "report.json"
    commands = {
        "autograder grade": [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(SOLUTION),
            "--report",
            str(results),
        ],
        "bare script": [sys.executable, str(bare)],
        "nbconvert --execute": [
            str(bin_dir / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=-1",
            "--output-dir",
            str(work),
            "--output",
            "executed",
            args.notebook,
        ],
    }
    print(
        f"machine: {os.cpu_count()} CPUs, {os.uname().machine}, "
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    times: dict[str, list[float]] = {name: [] for name in commands}
    pipelines: list[float] = []  # the pipeline part's seconds in each grade run
    for run in range(1, args.repeat + 1):
        for name, command in commands.items():
            seconds, stdout = timed(command, env, work)
            times[name].append(seconds)
            extra = ""
            if name == "autograder grade":
                report = json.loads(results.read_text())
                pipelines.append(report["artifacts"]["part_seconds"].get("pipeline", 0.0))
                extra = f"  (score {report['score']:g}, execution_time {report['execution_time']:.1f} s)"
            elif name == "bare script":
                extra = (
                    "  ("
                    + next((ln for ln in stdout.splitlines() if ln.startswith("BARE")), "?")
                    + ")"
                )
            print(f"run {run}: {name:<20} {seconds:6.1f} s{extra}", flush=True)
    best = {name: min(values) for name, values in times.items()}
    grade, bare_s, nbconvert = (
        best["autograder grade"],
        best["bare script"],
        best["nbconvert --execute"],
    )
    label = "fastest of " + str(args.repeat) if args.repeat > 1 else "one run"
    print(f"\nsingle submission, real data ({label}):")
    print(f"  autograder grade      {grade:6.1f} s")
    print(f"  bare script           {bare_s:6.1f} s")
    print(f"  nbconvert --execute   {nbconvert:6.1f} s")
    print(
        f"  grade / bare          {grade / bare_s:6.2f}   (target <= {TARGET_BARE}: "
        f"{'met' if grade / bare_s <= TARGET_BARE else 'NOT met'})"
    )
    print(
        f"  grade / nbconvert     {grade / nbconvert:6.2f}   (target <= {TARGET_NBCONVERT}: "
        f"{'met' if grade / nbconvert <= TARGET_NBCONVERT else 'NOT met'})"
    )
    fastest = times["autograder grade"].index(grade)
    pipeline = pipelines[fastest]
    print("\nwhere that grading's time went:")
    print(f"  pipeline part         {pipeline:6.1f} s   (the student's own 5-epoch training)")
    print(
        f"  everything else       {grade - pipeline:6.1f} s   (process, sandbox, TensorFlow import, "
        "the other parts, scoring)"
    )
    print(
        f"  pipeline / bare       {pipeline / bare_s:6.2f}   (the floor of grade / bare while the "
        "training's arithmetic is the student's)"
    )


if __name__ == "__main__":
    main()

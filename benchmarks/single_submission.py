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
fastest grading's time went, phase by phase from its report (`grading_seconds`, `part_seconds`,
the student's fit's `training_seconds`), and the floor no grading can go under without changing
that training's arithmetic or the child's TensorFlow import: (ready + fit) / bare. Figures, not
asserts.
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

from table import record

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
            "--exercise",
            "fashion_mnist",
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
    reports: list[dict] = []  # each grade run's report artifacts, with its execution_time
    for run in range(1, args.repeat + 1):
        for name, command in commands.items():
            seconds, stdout = timed(command, env, work)
            times[name].append(seconds)
            extra = ""
            if name == "autograder grade":
                report = json.loads(results.read_text())
                reports.append({**report["artifacts"], "execution_time": report["execution_time"]})
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
    floors = where_the_time_went(grade, bare_s, reports[fastest])
    how = f"real data, {label}"
    record(
        "single_submission",
        [
            (f"`autograder grade` of the reference ({how})", f"{grade:.1f} s"),
            (f"bare 5-epoch training script ({how})", f"{bare_s:.1f} s"),
            (
                f"`jupyter nbconvert --execute` of the original notebook ({how})",
                f"{nbconvert:.1f} s",
            ),
            (f"grade / bare (target <= {TARGET_BARE})", f"{grade / bare_s:.2f}"),
            (f"grade / nbconvert (target <= {TARGET_NBCONVERT})", f"{grade / nbconvert:.2f}"),
            *floors,
        ],
    )


def where_the_time_went(grade: float, bare_s: float, report: dict) -> list[tuple[str, str]]:
    """The fastest grading's time, phase by phase (its report's `grading_seconds`, the grader's
    clock), and the floors it shows: what no change outside the student's training can remove."""
    parts = report["part_seconds"]
    phases = report["grading_seconds"]
    pipeline = parts.get("pipeline", 0.0)
    fit = report.get("training_seconds", pipeline)
    quick = sum(seconds for part, seconds in parts.items() if part != "pipeline")
    loading = phases["child_loading_after_go"]
    between = max(0.0, phases["running_parts"] - loading - quick - pipeline)
    ready = phases["preparing"] + loading
    rows = [
        ("process start and exit", grade - report["execution_time"],
         "interpreter, CLI, data set read, reports written"),
        ("preparing", phases["preparing"],
         "the grader's reference and inputs; the child imports TensorFlow beside it"),
        ("child still loading", loading, "after the grader's go line"),
        ("quick parts", quick, "every part but the pipeline"),
        ("pipeline part", pipeline, f"of which the student's 5-epoch fit {fit:.1f} s"),
        ("between parts", between, "loading the submission, progress polling"),
        ("scoring", phases["scoring"], "the graders in the grader's process"),
        ("the rest", max(0.0, report["execution_time"] - phases["preparing"]
         - phases["running_parts"] - phases["scoring"]), "reading the observations"),
    ]  # fmt: skip
    print("\nwhere that grading's time went (its report, on the grader's clock):")
    for name, seconds, why in rows:
        print(f"  {name:<22}{seconds:6.1f} s   ({why})")
    print(f"  pipeline / bare       {pipeline / bare_s:6.2f}")
    print(
        f"  (ready + fit) / bare  {(ready + fit) / bare_s:6.2f}   (ready: the child can run the "
        f"submission after {ready:.1f} s; the floor of grade / bare while the child imports "
        "TensorFlow and the training's arithmetic is the student's)"
    )
    return [
        ("pipeline part / bare", f"{pipeline / bare_s:.2f}"),
        ("(ready + fit) / bare: the floor of grade / bare", f"{(ready + fit) / bare_s:.2f}"),
    ]


if __name__ == "__main__":
    main()

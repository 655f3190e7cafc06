"""Benchmark: how long grading takes, part by part, and how much memory the grader uses.

    .venv/bin/python benchmarks/grading_time.py [SUBMISSION] [--data-dir DIR] [--repeat N]

Prints where the time of one grading goes: the grader's imports (TensorFlow), its set-up (reading
the data, building the reference inputs), then for each run the total, the sandboxed child's
start (sandbox, interpreter, TensorFlow import, the submission's cells), each part in the child,
the parent's scoring (checks and its own evaluation of the pipeline's model), and the grader's
peak memory. Figures, not asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "submission", nargs="?", default=str(ROOT / "solutions/fashion_mnist/fashion_mnist.ipynb")
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    import keras  # noqa: F401  (the grader needs it for its reference model and its evaluation)

    from autograder.grader import Grader, GraderOptions

    print(f"grader imports (TensorFlow, Keras): {time.perf_counter() - started:.1f} s")
    scoring: list[float] = []
    score = Grader._score

    def timed_score(self, *args, **kwargs):
        begun = time.perf_counter()
        try:
            return score(self, *args, **kwargs)
        finally:
            scoring.append(time.perf_counter() - begun)

    Grader._score = timed_score  # type: ignore[method-assign]
    started = time.perf_counter()
    with Grader(GraderOptions(data_dir=args.data_dir)) as grader:
        print(
            f"grader set-up: {time.perf_counter() - started:.1f} s  (isolation: {grader.sandbox.describe()})"
        )
        for run in range(1, args.repeat + 1):
            scoring.clear()
            report = grader.grade(args.submission)
            parts = report.artifacts.get("part_seconds", {})
            print(
                f"run {run}: {report.execution_time:.1f} s total, score {report.score:g}/{report.max_score:g}, "
                f"accuracy {report.artifacts.get('test_accuracy')}, children {report.artifacts.get('children_started')}"
            )
            in_parts, scored = sum(parts.values()), sum(scoring)
            print(
                f"  child start and the rest (inputs, sandbox, TensorFlow import, cells): "
                f"{report.execution_time - in_parts - scored:.1f} s"
            )
            print(
                "  parts in the child: "
                + ", ".join(f"{p} {s:.1f} s" for p, s in parts.items() if s >= 0.05)
            )
            print(f"  parent scoring (checks, its own evaluation): {scored:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"grader peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

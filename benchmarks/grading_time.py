"""Benchmark: how long grading takes, part by part, and how much memory the grader uses.

    .venv/bin/python benchmarks/grading_time.py [SUBMISSION] [--data-dir DIR] [--repeat N]

Prints the grader's set-up time (reading the data, building the reference inputs), then for each
run the total time, the child's time per part and the grader's peak memory. Figures, not asserts.
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

    from autograder.grader import Grader, GraderOptions

    started = time.perf_counter()
    with Grader(GraderOptions(data_dir=args.data_dir)) as grader:
        print(
            f"grader set-up: {time.perf_counter() - started:.1f} s  (isolation: {grader.sandbox.describe()})"
        )
        for run in range(1, args.repeat + 1):
            report = grader.grade(args.submission)
            parts = report.artifacts.get("part_seconds", {})
            slowest = ", ".join(
                f"{p} {s:.1f} s" for p, s in sorted(parts.items(), key=lambda kv: -kv[1])[:4]
            )
            print(
                f"run {run}: {report.execution_time:.1f} s total, score {report.score:g}/{report.max_score:g}, "
                f"accuracy {report.artifacts.get('test_accuracy')}, children {report.artifacts.get('children_started')}"
            )
            print(f"  slowest parts in the child: {slowest}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"grader peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

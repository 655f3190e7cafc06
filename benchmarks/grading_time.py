"""Benchmark: how long grading takes, part by part, and how much memory the grader uses.

    .venv/bin/python benchmarks/grading_time.py [SUBMISSION ...] [--data-dir DIR] [--repeat N]

By default it grades each exercise's reference solution (solutions/*/*.ipynb).

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

from table import record

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "submissions", nargs="*", default=[str(p) for p in sorted(ROOT.glob("solutions/*/*.ipynb"))]
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--exercise", help="the exercise of every SUBMISSION (default: its folder under solutions/)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    import keras  # noqa: F401  (the grader needs it for its reference model and its evaluation)

    from autograder import grader as grader_module
    from autograder.grader import Grader, GraderOptions

    print(f"grader imports (TensorFlow, Keras): {time.perf_counter() - started:.1f} s")
    scoring: list[float] = []
    score = grader_module.score

    def timed_score(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return score(*args, **kwargs)
        finally:
            scoring.append(time.perf_counter() - begun)

    grader_module.score = timed_score  # the graders' run through pytest, and the evaluation
    figures = []
    for submission in args.submissions:
        exercise = args.exercise or Path(submission).parent.name  # solutions/<exercise>/
        print(f"\n{exercise}: {submission}")
        seconds = grade(
            Grader,
            GraderOptions(exercise=exercise, data_dir=args.data_dir),
            submission,
            args.repeat,
            scoring,
        )
        figures.append((f"grading time, `{exercise}` reference", f"{seconds:.1f} s"))
    record("grading_time", figures)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"grader peak RSS: {peak:.0f} MiB")


def grade(Grader, options, submission: str, repeat: int, scoring: list[float]) -> float:
    """Grade `submission` `repeat` times with one grader; the fastest grading's seconds."""
    started = time.perf_counter()
    fastest = float("inf")
    with Grader(options) as grader:
        print(
            f"grader set-up: {time.perf_counter() - started:.1f} s  (isolation: {grader.sandbox.describe()})"
        )
        for run in range(1, repeat + 1):
            scoring.clear()
            report = grader.grade(submission)
            fastest = min(fastest, report.execution_time)
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
            print(f"  parent scoring (graders through pytest, its own evaluation): {scored:.1f} s")
    return fastest


if __name__ == "__main__":
    main()

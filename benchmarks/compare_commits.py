"""Benchmark: grading time of each exercise's reference, this checkout against another commit,
interleaved in one run so the machine's load falls on both alike.

    .venv/bin/python benchmarks/compare_commits.py BASE [--repeat N] [--exercise NAME ...]

BASE is a commit (e.g. the last release, or `main~5`). Its tree is checked out into a temporary
git worktree and imported through PYTHONPATH with this checkout's virtual environment (the
child's files are copied from the package that is imported). Each round grades every
reference once with BASE and once with this checkout, alternating which goes first, and reads
the grader's own "graded in" time. Prints the median of each and their ratio. Figures, not
asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADED_IN = re.compile(r"Score: ([\d.]+)/([\d.]+) .*graded in ([\d.]+) s")


def grade(code: Path, exercise: str) -> tuple[float, str]:
    """Grade `exercise`'s reference with the package in `code`: (seconds, score)."""
    env = {**os.environ, "PYTHONPATH": str(code), "TF_CPP_MIN_LOG_LEVEL": "2",
           "TF_ENABLE_ONEDNN_OPTS": "0"}  # fmt: skip
    notebook = code / "solutions" / exercise / f"{exercise}.ipynb"
    where = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"],
                           cwd=code, env=env, capture_output=True, text=True).stdout  # fmt: skip
    if not Path(where.strip()).resolve().is_relative_to(code.resolve()):
        raise SystemExit(f"PYTHONPATH={code} imports autograder from {where.strip()}, not from it")
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "autograder",
                "grade",
                str(notebook),
                "--exercise",
                exercise,
                "--results",
                str(Path(out) / "results.json"),
            ],  # fmt: skip
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    found = GRADED_IN.search(done.stdout)
    if not found:
        tail = (done.stdout + done.stderr)[-400:]
        raise SystemExit(f"{exercise} with {code}: no score line (exit {done.returncode}): {tail}")
    return float(found.group(3)), f"{found.group(1)}/{found.group(2)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the commit to compare with")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--exercise", action="append", help="default: every solutions/ folder")
    args = parser.parse_args()
    exercises = args.exercise or sorted(
        p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()
    )
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(base),
                        args.base], check=True)  # fmt: skip
        try:
            times: dict[tuple[str, str], list[float]] = {}
            scores: dict[tuple[str, str], str] = {}
            for round_ in range(args.repeat):
                for exercise in exercises:
                    order = [("base", base), ("head", ROOT)]
                    for label, code in order if round_ % 2 == 0 else order[::-1]:
                        seconds, score = grade(code, exercise)
                        times.setdefault((exercise, label), []).append(seconds)
                        scores[(exercise, label)] = score
                        print(f"  {exercise:<18} {label}: {seconds:6.1f} s  {score}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                           check=False)  # fmt: skip
    load = os.getloadavg()[0]
    print(f"\nmedian graded-in seconds, {args.repeat} interleaved rounds (load now {load:.1f})")
    print(f"{'exercise':<18} {args.base[:12]:>12} {'this checkout':>14} {'ratio':>7}")
    for exercise in exercises:
        old = statistics.median(times[(exercise, "base")])
        new = statistics.median(times[(exercise, "head")])
        print(f"{exercise:<18} {old:12.1f} {new:14.1f} {new / old:7.2f}"
              f"   scores {scores[(exercise, 'base')]} -> {scores[(exercise, 'head')]}")  # fmt: skip


if __name__ == "__main__":
    main()

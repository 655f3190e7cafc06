"""Benchmark: where a grading's CPU time goes, part by part, in the child and in the grader.

    .venv/bin/python benchmarks/grading_cpu.py SUBMISSION --exercise NAME [--repeat N]

Wall-clock times on a shared machine say more about the neighbours than about the grader; CPU
seconds do not. For each grading this prints the wall time and the load average, the grader's
own CPU (and its scoring's), the sandboxed child's CPU in all (a cpuacct cgroup joined by the
child, read before the engine removes its cgroups) and per part (that cgroup's usage read as
each progress line arrives, so to the grader's 0.1 s poll). Needs root and cgroup v1's cpuacct
controller; without them the child's figures are left out. Figures, not asserts; nothing is
written to the benchmark table.

To compare two commits, run the script of one checkout with the other on PYTHONPATH (the child's
files are copied from the `autograder` package that is imported), interleaved:

    git worktree add ../old OLD && cd ../old
    PYTHONPATH=$PWD ../kit/.venv/bin/python ../kit/benchmarks/grading_cpu.py ...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import uuid
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class ChildClock:
    """The child's CPU seconds, through a cpuacct cgroup added to the engine's cgroups."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.total = 0.0
        self.events: list[tuple[str, float | None]] = []

    def usage(self, path: Path | None = None) -> float | None:
        try:
            return int(((path or self.path) / "cpuacct.usage").read_text()) / 1e9
        except (OSError, TypeError, ValueError):
            return None

    def install(self) -> bool:
        """Wrap the engine's Cgroup and progress reader (this benchmark's process only)."""
        from autograder.sandbox import isolation, progress

        if not os.access(CPUACCT, os.W_OK):
            return False
        clock = self
        made, removed, read = (
            isolation.Cgroup.__init__,
            isolation.Cgroup.remove,
            progress.ProgressReader.new_lines,
        )

        def init(cgroup, limits) -> None:
            made(cgroup, limits)
            path = CPUACCT / f"autograder-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            path.mkdir()
            cgroup.paths.append(path)  # joined by the child, emptied and removed with the rest
            clock.path = path

        def remove(cgroup) -> None:
            for path in cgroup.paths:
                if path.parent == CPUACCT:
                    clock.total += clock.usage(path) or 0.0
            removed(cgroup)

        def new_lines(reader) -> list[str]:
            lines = read(reader)
            if lines:
                now = clock.usage()
                clock.events += [(line, now) for line in lines]
            return lines

        isolation.Cgroup.__init__ = init
        isolation.Cgroup.remove = remove
        progress.ProgressReader.new_lines = new_lines
        return True

    def parts(self) -> dict[str, float]:
        """CPU seconds between each part's begin and end lines."""
        begun: dict[str, float | None] = {}
        spent = {}
        for line, usage in self.events:
            verb, _, name = line.partition(" ")
            if verb == "begin":
                begun[name] = usage
            elif verb == "end" and begun.get(name) is not None and usage is not None:
                spent[name] = round(usage - begun[name], 2)
        return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission")
    parser.add_argument("--exercise", required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import autograder
    from autograder import grader as grader_module
    from autograder.grader import Grader, GraderOptions

    print(f"autograder from {Path(autograder.__file__).parent}")
    clock = ChildClock()
    if not clock.install():
        print("no writable cpuacct cgroup (root and cgroup v1 needed): the child's CPU is left out")
    scoring: list[float] = []
    score = grader_module.score

    def timed_score(*a, **k):
        begun = time.process_time()
        try:
            return score(*a, **k)
        finally:
            scoring.append(time.process_time() - begun)

    grader_module.score = timed_score
    options = GraderOptions(exercise=args.exercise, data_dir=args.data_dir)
    with Grader(options) as grader:
        for run in range(1, args.repeat + 1):
            scoring.clear()
            clock.events.clear()
            clock.total = 0.0
            load = os.getloadavg()[0]
            wall, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            report = grader.grade(args.submission)
            after = resource.getrusage(resource.RUSAGE_SELF)
            figures = {
                "run": run,
                "score": report.score,
                "wall_s": round(time.perf_counter() - wall, 1),
                "load_1min": round(load, 1),
                "grader_cpu_s": round(
                    after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 2
                ),
                "grader_scoring_cpu_s": round(sum(scoring), 2),
                "child_cpu_s": round(clock.total, 1),
                "child_part_cpu_s": clock.parts(),
                "child_part_wall_s": report.artifacts.get("part_seconds", {}),
            }
            print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()

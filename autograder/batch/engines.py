"""Who grades: this process, a local pool of processes, or a Dask cluster.

Each engine takes `(tag, file name, bytes)` jobs and yields `(tag, outcome)` as gradings finish,
in any order, where the outcome is `worker.grade_bytes`'s dict or the exception that stopped it.
Only a bounded window of jobs is in flight at a time, so a class of hundreds of notebooks is never
all in memory. The pools are existing engines (`concurrent.futures`, `distributed`); the batch
driver only decides what to submit and writes what comes back.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from autograder.batch import worker

Job = tuple[Any, str, bytes]
Outcome = dict[str, Any] | BaseException

# Memory for one grading in flight: the sandboxed child (about 1.3 GiB on the real data, its
# cgroup peak) plus the grader process holding TensorFlow, the data and the reference inputs.
GIB = 1024**3
MEMORY_PER_JOB = 2 * GIB


def _cgroup_cpus() -> float | None:
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 else None
    except (OSError, ValueError):
        return None


def _available_memory() -> int | None:
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            available = min(available or int(text), int(text))
    return available


def default_jobs() -> int:
    """Gradings at once: one per core, as many as the memory holds (about 2 GiB each), >= 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    quota = _cgroup_cpus()
    if quota:
        cores = min(cores, max(1, int(quota)))
    memory = _available_memory()
    by_memory = max(1, memory // MEMORY_PER_JOB) if memory else cores
    return max(1, min(cores, by_memory))


def _windowed(
    submit: Callable[[Job], Any],
    jobs: Iterable[Job],
    window: int,
    outcome: Callable[[Any], Outcome],
) -> Iterator[tuple[Any, Outcome]]:
    pending: dict[Any, Any] = {}
    remaining = iter(jobs)

    def fill() -> None:
        while len(pending) < window:
            job = next(remaining, None)
            if job is None:
                return
            pending[submit(job)] = job[0]

    fill()
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in done:
            yield pending.pop(future), outcome(future)
        fill()


def _future_outcome(future: Any) -> Outcome:
    try:
        error = future.exception()
        return error if error is not None else future.result()
    except BaseException as exc:  # cancelled, or the pool broke
        return exc


class InProcess:
    """Grade one at a time in this process, with a grader built once (the `--jobs 1` path)."""

    def __init__(self, grader: Any = None, factory: Callable[[], Any] | None = None) -> None:
        self.grader, self.factory = grader, factory
        self.description = "1 job in this process"
        self.version: str | None = None  # this process's grader version, set by the driver

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Any, Outcome]]:
        grader, own = self.grader, False
        try:
            for tag, name, data in jobs:
                if grader is None:
                    try:
                        grader, own = self.factory(), True
                    except Exception as exc:
                        raise worker.GraderUnavailable(f"{type(exc).__name__}: {exc}") from exc
                yield tag, worker.grade_with(grader, name, data, self.version)
        finally:
            if own and hasattr(grader, "close"):
                grader.close()


class LocalPool:
    """`concurrent.futures` processes, each with its own grader (spawned: no forked TensorFlow)."""

    def __init__(self, factory: Callable[[], Any], jobs: int) -> None:
        self.factory, self.jobs = factory, jobs
        self.description = f"{jobs} jobs in local processes"
        self.version: str | None = None  # same machine, same kit: the driver's version

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Any, Outcome]]:
        pool = ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.die_with_parent,
        )
        finished = False
        try:
            yield from _windowed(
                lambda job: pool.submit(
                    worker.grade_bytes, self.factory, job[1], job[2], self.version
                ),
                jobs,
                2 * self.jobs,
                _future_outcome,
            )
            finished = True
        finally:
            if not finished:  # interrupted or aborted: do not wait for gradings in flight
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.kill()
            pool.shutdown(wait=finished, cancel_futures=True)


class DaskCluster:
    """A Dask distributed scheduler: every worker grades with its own grader, data and sandbox.

    A worker that dies mid-grading loses nothing: the scheduler gives its tasks to another worker
    (`distributed.scheduler.allowed-failures` times, then the submission gets an error report).
    """

    def __init__(
        self, address: str, factory: Callable[[], Any], *, connect_timeout: float = 30
    ) -> None:
        self.address, self.factory, self.connect_timeout = address, factory, connect_timeout
        self.description = f"Dask scheduler {address}"

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Any, Outcome]]:
        from distributed import Client, as_completed

        try:
            # Not the process's default client: a caller's own client stays theirs.
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except OSError as exc:  # refused, unreachable, timed out (TimeoutError is an OSError)
            raise worker.GraderUnavailable(
                f"cannot reach the Dask scheduler at {self.address}: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            remaining = iter(jobs)
            pending: dict[str, Any] = {}
            # On this client's loop: without `loop`, as_completed runs on the default client's,
            # and a caller's client closed mid-batch would leave it waiting forever.
            finished = as_completed(loop=client.loop)

            def window() -> int:
                return max(2, 2 * sum(client.nthreads().values()))

            def fill() -> None:
                while len(pending) < window():
                    job = next(remaining, None)
                    if job is None:
                        return
                    future = client.submit(
                        worker.grade_bytes,
                        self.factory,
                        job[1],
                        job[2],
                        key=f"autograde-{os.getpid()}-{time.monotonic_ns()}",
                        pure=False,
                    )
                    pending[future.key] = job[0]
                    finished.add(future)

            fill()
            for future in finished:
                tag = pending.pop(future.key)
                outcome = _future_outcome(future)
                future.release()
                yield tag, outcome
                fill()
        finally:
            client.close()

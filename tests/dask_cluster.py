"""A real Dask cluster on this machine: `dask scheduler` and `dask worker` as separate processes.

Used by `test_cluster.py` and `benchmarks/batch_throughput.py`. Everything listens on 127.0.0.1
only; every process is started in its own session and killed (with its children) by `close()`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _dask_command() -> list[str]:
    beside = Path(sys.executable).with_name("dask")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dask")
    return [found] if found else [sys.executable, "-m", "dask"]


class LocalDaskCluster:
    def __init__(
        self,
        directory: Path,
        workers: int,
        *,
        cpus: list[list[int]] | None = None,
        timeout: float = 90,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.n_workers, self.cpus, self.timeout = workers, cpus, timeout
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.address = ""
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_ENABLE_ONEDNN_OPTS": "0",
        }

    def _start(self, args: list[str], log: str, cpus: list[int] | None = None) -> subprocess.Popen:
        prefix = ["taskset", "-c", ",".join(map(str, cpus))] if cpus else []
        with (self.directory / log).open("wb") as handle:
            return subprocess.Popen(
                prefix + _dask_command() + args,
                env=self.env,
                cwd=self.directory,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self) -> LocalDaskCluster:
        scheduler_file = self.directory / "scheduler.json"
        self.scheduler = self._start(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            "scheduler.log",
        )
        deadline = time.monotonic() + self.timeout
        while not scheduler_file.exists():
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start: {self.log('scheduler')}")
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go, but give it a moment
        self.address = json.loads(scheduler_file.read_text())["address"]
        for index in range(self.n_workers):
            self.add_worker(index)
        self.wait_for_workers(self.n_workers)
        return self

    def add_worker(self, index: int) -> subprocess.Popen:
        cpus = self.cpus[index] if self.cpus else None
        worker = self._start(
            [
                "worker",
                self.address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                f"worker{index}",
                "--local-directory",
                str(self.directory / f"worker{index}"),
                "--memory-limit",
                "0",
            ],
            f"worker{index}.log",
            cpus,
        )
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=self.timeout) as client:
            client.wait_for_workers(count, timeout=self.timeout)

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill_worker(self, index: int) -> None:
        """SIGKILL a worker and everything it started, like a machine that disappears."""
        process = self.workers[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def close(self) -> None:
        """Stop workers, then the scheduler: SIGTERM (a worker's graders clean up their inputs),
        SIGKILL whatever is left after 10 s."""
        processes = [p for p in (*self.workers, self.scheduler) if p is not None]
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group: leftovers too
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)

    def __enter__(self) -> LocalDaskCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

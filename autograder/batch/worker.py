"""What runs in a worker process (a local pool process or a Dask worker): grade bytes, return data.

A worker builds one grader per process (per thread on a multi-threaded Dask worker) the first
time it is asked, from a picklable factory, and keeps it: building one reads the data and
prepares the reference inputs, grading reuses them. The submission travels as bytes, so the
worker needs no shared filesystem; the report comes back as `GradingReport.to_dict()`.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing.util
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.results import GradingReport
from autograder.scratch import scratch_prefix

ERROR_NOTE = "grader"

_graders: dict[tuple[str, int], Any] = {}
_lock = threading.Lock()


class GraderUnavailable(RuntimeError):
    """The worker cannot build a grader (no data, bad options): no submission can be graded."""


@dataclass(frozen=True)
class GraderFactory:
    """Builds the kit's Grader from options; picklable, so it can travel to any worker."""

    options: Any

    def __call__(self):
        from autograder.grader import Grader

        return Grader(self.options)


def error_report(submission: str, exc: BaseException, seconds: float) -> GradingReport:
    """A zero-score report that records why grading itself failed."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    note = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    return GradingReport(str(submission), [], seconds, "", {ERROR_NOTE: note})


def die_with_parent() -> None:
    """Pool initializer: a worker is killed when the batch process dies (even by SIGKILL), so
    no orphan keeps grading after the batch is gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


def close_graders() -> None:
    """Close this process's graders (each removes its inputs folder)."""
    with _lock:
        graders = list(_graders.values())
        _graders.clear()
    for grader in graders:
        close = getattr(grader, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()


def grader_for(factory: Callable[[], Any]) -> Any:
    key = (repr(factory), threading.get_ident())
    with _lock:
        grader = _graders.get(key)
    if grader is None:
        try:
            grader = factory()
        except Exception as exc:
            raise GraderUnavailable(
                f"cannot build a grader on {socket.gethostname()}: {type(exc).__name__}: {exc}"
            ) from exc
        with _lock:
            if not _graders:
                # A pool process ends with os._exit, which skips atexit (and so the grader's own
                # clean-up): multiprocessing's exit finalizers still run. atexit covers the rest.
                multiprocessing.util.Finalize(None, close_graders, exitpriority=10)
                atexit.register(close_graders)
            _graders[key] = grader
    return grader


def grade_bytes(
    factory: Callable[[], Any], name: str, data: bytes, version: str | None = None
) -> dict[str, Any]:
    """Grade one submission's bytes with this process's grader; plain data back.

    A grader that raises on this submission gives an error report (the batch goes on); a grader
    that cannot be built raises `GraderUnavailable` (the batch stops).
    """
    return grade_with(grader_for(factory), name, data, version)


def grade_with(grader: Any, name: str, data: bytes, version: str | None = None) -> dict[str, Any]:
    """Grade `data` (the bytes of the file called `name`) with `grader`."""
    suffix = Path(name).suffix if Path(name).suffix in (".ipynb", ".py") else ".ipynb"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("batch")) as tmp:
        path = Path(tmp) / f"submission{suffix}"
        path.write_bytes(data)
        try:
            report = grader.grade(path)
        except Exception as exc:  # a grader bug on one file must not lose the other grades
            report = error_report(name, exc, time.monotonic() - started)
    report.submission = name
    if version is None:
        from autograder.batch.store import grader_version

        version = grader_version(getattr(grader, "options", None))
    return {
        "report": report.to_dict(),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "grader_version": version,
        "seconds": round(time.monotonic() - started, 3),
    }

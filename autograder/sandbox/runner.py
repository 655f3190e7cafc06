"""Supervise the sandboxed children of one grading, part by part, with a limit per part.

One child runs all remaining parts in order (TensorFlow is imported once). When a part hangs,
crashes the interpreter or exhausts memory, the child is killed, that part is recorded as failed
with its cause, and a fresh child continues with the parts after it: one bad function costs only
its own checks. The working directory is `workdir.py`'s, the child's pipes and process tree
`child_io.py`'s, the progress protocol `progress.py`'s.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox.child_io import CappedReader, describe_exit, process_tree, rss_bytes
from autograder.sandbox.isolation import (
    Cgroup,
    Limits,
    Sandbox,
    make_preexec,
)
from autograder.sandbox.outcome import PartRun
from autograder.sandbox.progress import (
    DONE,
    IMPORT_PHASE,
    ProgressProtocol,
    ProgressReader,
    ProtocolViolation,
)
from autograder.sandbox.workdir import Workdir, child_files  # noqa: F401  (child_files: API)

POLL_SECONDS = 0.1
# What the grader writes to a started child's stdin when its inputs and config are ready (the
# harness reads one line, then gives the submission an empty stdin).
GO = b"go\n"


@dataclass
class SessionResult:
    """Everything the child produced: per-part runs and the directory of observations."""

    runs: dict[str, PartRun]
    out_dir: Path
    stdout: str = ""
    stderr: str = ""
    output_truncated: bool = False
    output_bytes: int = 0  # everything the children printed, kept or not
    network_attempts: list[str] = field(default_factory=list)
    children_started: int = 0
    peak_memory_mib: int = 0  # the largest cgroup memory peak of any child (0 without cgroups)
    protocol_violation: str = ""  # why the grader stopped trusting the child's progress lines
    # Seconds from the go line to the first child's first progress line: how long the child was
    # still loading Python and TensorFlow after the grader's inputs were ready (0.1 s steps).
    child_loading_seconds: float = 0.0


@dataclass
class _Child:
    """A started child: its process, cgroup, output readers and progress file."""

    proc: subprocess.Popen
    cgroup: Cgroup
    readers: list[CappedReader]
    progress: ProgressReader


class Session:
    """One grading run of one submission in a fresh working directory.

    `start()` (optional) starts the first child before the grading's inputs exist: Python and
    TensorFlow load while the grader prepares them, and the child waits for `run` to tell it
    to go on. `run(parts, config)` then runs every part.
    """

    def __init__(
        self,
        *,
        sandbox: Sandbox,
        limits: Limits,
        timeouts: dict[str, float],
        chunks: list[dict],
        inputs_dir: Path,
        data_files: dict[str, Path],
        grader_files: dict[str, Path],
        depends: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.timeouts = timeouts
        self.depends = depends or {}
        self.protocol_violation = ""
        self.peak_memory_mib = 0
        self.work = Workdir(
            sandbox=sandbox,
            chunks=chunks,
            inputs_dir=inputs_dir,
            data_files=data_files,
            grader_files=grader_files,
        )
        self.out_dir = self.work.out_dir
        self.paths: dict | None = None  # where the child sees its folders, once laid out
        self.waiting: _Child | None = None  # started by `start`, waiting for `run`
        self.child_loading_seconds: float | None = None

    # -- running --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the first child now; it loads TensorFlow, then waits for `run`."""
        if self.waiting is None:
            self.waiting = self._spawn(self._layout())

    def _layout(self) -> dict:
        if self.paths is None:
            self.work.data_files = self.work.data_files_for_child()
            self.paths = self.work.prepare()
        return self.paths

    def run(self, parts: list[str], config: dict) -> SessionResult:
        """Run `parts` in order; `config` is what the probes are told (inputs written)."""
        work = self.work
        paths = self._layout()
        work.add_inputs()
        config = {**config, **paths}
        runs: dict[str, PartRun] = {}
        stdout_parts, stderr_parts = [], []
        truncated = False
        printed = 0
        remaining = list(parts)
        children = 0
        while remaining:
            children += 1
            config["parts"] = remaining
            (work.grader_dir / "config.json").write_text(json.dumps(config))
            if not work.out_dir_intact():
                work.renew_out_dir()
            work.clear_observations(remaining)
            child, self.waiting = self.waiting or self._spawn(paths), None
            outcome, out, err, cut = self._supervise(child, remaining)
            stdout_parts.append(out)
            stderr_parts.append(err)
            truncated |= cut > self.limits.output_bytes
            printed += cut
            if not outcome:
                # The child ended between parts without saying why (e.g. a thread called os._exit).
                outcome = {remaining[0]: PartRun("crashed", "the child process ended unexpectedly")}
            runs.update(outcome)
            remaining = [p for p in remaining if p not in runs]
            runs.update(self._skipped(remaining, runs))
            remaining = [p for p in remaining if p not in runs]
        if not work.out_dir_intact():
            work.renew_out_dir()  # the parts' observations are gone: they fail as unreadable
        return SessionResult(
            runs=runs,
            out_dir=self.out_dir,
            stdout="".join(stdout_parts)[-self.limits.output_bytes :],
            stderr="".join(stderr_parts)[-self.limits.output_bytes :],
            output_truncated=truncated,
            output_bytes=printed,
            network_attempts=work.network_attempts(),
            children_started=children,
            peak_memory_mib=self.peak_memory_mib,
            protocol_violation=self.protocol_violation,
            child_loading_seconds=self.child_loading_seconds or 0.0,
        )

    def _skipped(self, parts: list[str], runs: dict[str, PartRun]) -> dict[str, PartRun]:
        """Parts that call a function that already hung, crashed or ran out of memory: they
        fail at once with that cause instead of waiting out their own limits."""
        skipped = {}
        for part in parts:
            for dependency in self.depends.get(part, ()):
                run = runs.get(dependency)
                if run is not None and run.status in {"timeout", "memory", "crashed", "skipped"}:
                    skipped[part] = PartRun(
                        "skipped", f"was not run: it calls {dependency}, which {run.message}"
                    )
                    break
        return skipped

    def _spawn(self, paths: dict) -> _Child:
        """Start a child; it runs nothing of the submission's before `_supervise` lets it."""
        root = Path(paths["root"])
        cgroup = Cgroup(self.limits)
        try:
            proc = subprocess.Popen(
                self.work.command(root),
                cwd=self.work.workdir,
                env=self.work.environment(root),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=make_preexec(self.sandbox, self.limits, cgroup),
            )
        except BaseException:
            cgroup.remove()
            raise
        readers = [
            CappedReader(proc.stdout, self.limits.output_bytes),
            CappedReader(proc.stderr, self.limits.output_bytes),
        ]
        for reader in readers:
            reader.start()
        return _Child(proc, cgroup, readers, ProgressReader(self.work.out_dir / "progress"))

    def _supervise(
        self, child: _Child, parts: list[str]
    ) -> tuple[dict[str, PartRun], str, str, int]:
        """Let a started child run `parts`, and watch it: how each part ended, its output, and
        the size of its larger output stream."""
        proc, cgroup, readers, progress = child.proc, child.cgroup, child.readers, child.progress
        runs: dict[str, PartRun] = {}
        with contextlib.suppress(OSError):  # a child that already died fails below
            proc.stdin.write(GO)
        with contextlib.suppress(OSError):
            proc.stdin.close()
        started = time.monotonic()
        phase, phase_started = IMPORT_PHASE, started
        protocol = ProgressProtocol(parts)
        # A hard limit from the child's own start: whatever its progress lines say.
        budget = (
            self.timeouts.get(IMPORT_PHASE, 120.0)
            + self.timeouts.get("between", 30.0)
            + sum(self.timeouts.get(p, self.timeouts.get("between", 30.0)) for p in parts)
        )
        limit_bytes = self.limits.memory_mib * 1024 * 1024
        failure: PartRun | None = None
        violation = ""
        try:
            while True:
                try:
                    for line in progress.new_lines():
                        event = protocol.feed(line)
                        now = time.monotonic()
                        if self.child_loading_seconds is None:
                            self.child_loading_seconds = round(now - started, 2)
                        if event.verb == "begin":
                            phase, phase_started = event.name, now
                        elif event.verb == "end":
                            if event.name != IMPORT_PHASE:
                                runs[event.name] = PartRun(
                                    "ok", seconds=round(now - phase_started, 2)
                                )
                            phase, phase_started = "", now
                        elif event.verb == DONE:
                            phase = ""
                    if progress.overflowed:
                        raise ProtocolViolation("more progress output than the probe writes")
                except ProtocolViolation as exc:
                    violation = str(exc)
                    break
                if progress.tampered:
                    failure = PartRun("crashed", "replaced the grader's progress file")
                    break
                code = proc.poll()
                if code is not None:
                    break
                now = time.monotonic()
                elapsed = now - phase_started
                timeout = self.timeouts.get(phase or "between", self.timeouts.get("between", 30.0))
                if elapsed > timeout:
                    failure = PartRun(
                        "timeout", f"timed out after {timeout:g} s", round(elapsed, 2)
                    )
                    break
                if now - started > budget:
                    failure = PartRun(
                        "timeout",
                        f"timed out: the child ran past its total limit of {budget:g} s",
                        round(elapsed, 2),
                    )
                    break
                # With a memory cgroup the kernel enforces the limit exactly (and the RSS of forked
                # children would count shared pages many times); without one, watch RSS here.
                if cgroup.memory is None and rss_bytes(process_tree(proc.pid)) > limit_bytes:
                    failure = PartRun(
                        "memory",
                        f"exceeded the memory limit of {self.limits.memory_mib} MiB",
                        round(elapsed, 2),
                    )
                    break
                time.sleep(POLL_SECONDS)
        finally:
            self._kill(proc, cgroup)
            for reader in readers:
                reader.join(timeout=5)
            if failure is None and proc.returncode not in (0, None) and cgroup.oom_killed():
                failure = PartRun(
                    "memory", f"exceeded the memory limit of {self.limits.memory_mib} MiB"
                )
            self.peak_memory_mib = max(self.peak_memory_mib, cgroup.peak_memory_mib())
            cgroup.remove()
        code = proc.returncode
        if violation:
            # Lines the probe never writes: the submission wrote to the progress file. Nothing
            # this child reported is kept, and no new child is started for this submission.
            self.protocol_violation = (
                "the submission wrote to the grader's progress file (" + violation + "); "
                "nothing it reported was used"
            )
            cause = PartRun("crashed", "was not graded: the submission interfered with the grader")
            stdout, stderr = (r.text() for r in readers)
            return (
                dict.fromkeys(parts, cause),
                stdout,
                stderr,
                max(r.total for r in readers),
            )
        if failure is None and phase:
            wrapped = self.sandbox.private_root
            failure = PartRun(
                "crashed", describe_exit(code, wrapped) if code is not None else "stopped"
            )
        if failure is not None:
            if phase in ("", IMPORT_PHASE):
                # Nothing after the crash can run: every remaining part fails with the cause.
                cause = f"the submission {failure.message} while it was being loaded"
                if failure.status != "crashed":
                    cause = f"loading the submission {failure.message}"
                for part in parts:
                    runs.setdefault(part, PartRun("not_loaded", cause))
            else:
                runs[phase] = failure
        stdout, stderr = (r.text() for r in readers)
        return runs, stdout, stderr, max(r.total for r in readers)

    def _kill(self, proc: subprocess.Popen, cgroup: Cgroup) -> None:
        """Kill the child and everything it started, even processes that left its session.

        In the namespace modes killing the outer process is enough (PID 1 of the child's
        namespace dies with it, and the kernel kills the rest); the cgroup catches processes
        that left the tree in the other modes.
        """
        if proc.poll() is None:
            for pid in process_tree(proc.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        cgroup.kill_all()
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def cleanup(self) -> None:
        """Kill a child that was started but never run, and remove the working directory."""
        child, self.waiting = self.waiting, None
        if child is not None:
            with contextlib.suppress(OSError):
                child.proc.stdin.close()
            self._kill(child.proc, child.cgroup)
            for reader in child.readers:
                reader.join(timeout=5)
            child.cgroup.remove()
        self.work.cleanup()

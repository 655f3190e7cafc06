"""Run the probe in a child process, part by part, with a wall-clock limit per part.

One child runs all remaining parts in order (TensorFlow is imported once). When a part hangs,
crashes the interpreter or exhausts memory, the child is killed, that part is recorded as failed
with its cause, and a fresh child continues with the parts after it: one bad function costs only
its own checks.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox.isolation import NOBODY, Cgroup, Limits, Sandbox, bubblewrap_command, make_preexec

PROBE = Path(__file__).with_name("probe.py")
POLL_SECONDS = 0.1
IMPORT_PHASE = "import"


@dataclass
class PartRun:
    """How one part's probe ended, as seen from outside the child."""

    status: str  # "ok", "timeout", "memory", "crashed", "not_loaded"
    message: str = ""
    seconds: float = 0.0


@dataclass
class SessionResult:
    """Everything the child produced: per-part runs and the directory of observations."""

    runs: dict[str, PartRun]
    out_dir: Path
    stdout: str = ""
    stderr: str = ""
    output_truncated: bool = False
    network_attempts: list[str] = field(default_factory=list)
    children_started: int = 0


class CappedReader(threading.Thread):
    """Drains a pipe so a flooding child never blocks, keeping only the head and the tail."""

    def __init__(self, stream, limit: int) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def run(self) -> None:
        while True:
            chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            if not chunk:
                break
            self.total += len(chunk)
            room = self.limit - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail = (self.tail + chunk)[-self.limit // 4 :]

    def text(self) -> str:
        body = self.head.decode("utf-8", "replace")
        if self.total > len(self.head) + len(self.tail):
            skipped = self.total - len(self.head) - len(self.tail)
            body += f"\n[... {skipped} bytes of output discarded ...]\n"
        return body + self.tail.decode("utf-8", "replace")

    @property
    def truncated(self) -> bool:
        return self.total > self.limit


def _children(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(parents.get(pid, []))
    return found


def _rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"


class Session:
    """One grading run of one submission in a fresh working directory."""

    def __init__(
        self,
        *,
        sandbox: Sandbox,
        limits: Limits,
        timeouts: dict[str, float],
        chunks: list[dict],
        inputs_dir: Path,
        data_files: dict[str, Path],
        config: dict,
    ) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.timeouts = timeouts
        self.chunks = chunks
        self.inputs_dir = inputs_dir
        self.data_files = data_files
        self.config = config
        self.workdir = Path(tempfile.mkdtemp(prefix="autograder-child-"))
        self.out_dir = self.workdir / "out"

    # -- working directory --------------------------------------------------------------------
    def _prepare_workdir(self) -> dict:
        """Lay out only what the child needs; returns the probe config as the child sees paths."""
        bwrap = self.sandbox.mode == "bubblewrap"
        root = Path("/sandbox") if bwrap else self.workdir
        self.out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROBE, self.workdir / "probe.py")
        (self.workdir / "chunks.json").write_text(json.dumps(self.chunks))
        keras_cache = self.workdir / "keras_home" / "datasets" / "fashion-mnist"
        keras_cache.mkdir(parents=True, exist_ok=True)
        inputs = self.workdir / "inputs"
        if bwrap:
            inputs.mkdir(exist_ok=True)
            for name in self.data_files:
                (keras_cache / name).touch()  # mount points for the read-only binds
        else:
            shutil.copytree(self.inputs_dir, inputs, dirs_exist_ok=True)
            for name, source in self.data_files.items():
                link = keras_cache / name
                if not link.exists():
                    link.symlink_to(source)
        (self.workdir / "home").mkdir(exist_ok=True)
        if self.sandbox.child_user == NOBODY:
            user = pwd.getpwnam(NOBODY)
            for path in [self.workdir, *self.workdir.rglob("*")]:
                if not path.is_symlink():
                    os.chown(path, user.pw_uid, user.pw_gid)
        return {
            **self.config,
            "out_dir": str(root / "out"),
            "inputs_dir": str(root / "inputs"),
            "chunks": str(root / "chunks.json"),
            "root": str(root),
        }

    def _environment(self, root: Path) -> dict[str, str]:
        """A scrubbed environment: nothing of the grader's leaks into the child."""
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root / "home"),
            "KERAS_HOME": str(root / "keras_home"),
            "TMPDIR": "/tmp" if self.sandbox.mode == "bubblewrap" else str(root),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_ENABLE_ONEDNN_OPTS": "0",
            "MPLBACKEND": "Agg",
            "KERAS_BACKEND": "tensorflow",
        }

    # -- running --------------------------------------------------------------------------------
    def run(self, parts: list[str]) -> SessionResult:
        config = self._prepare_workdir()
        root = Path(config["root"])
        runs: dict[str, PartRun] = {}
        stdout_parts, stderr_parts = [], []
        truncated = False
        remaining = list(parts)
        children = 0
        while remaining:
            children += 1
            config["parts"] = remaining
            (self.workdir / "config.json").write_text(json.dumps(config))
            outcome, out, err, cut = self._run_child(root, remaining)
            stdout_parts.append(out)
            stderr_parts.append(err)
            truncated |= cut
            if not outcome:
                # The child ended between parts without saying why (e.g. a thread called os._exit).
                outcome = {remaining[0]: PartRun("crashed", "the child process ended unexpectedly")}
            runs.update(outcome)
            remaining = [p for p in remaining if p not in runs]
        network = []
        log = self.out_dir / "network.log"
        if log.is_file():
            network = log.read_text(errors="replace").splitlines()[:20]
        return SessionResult(
            runs=runs,
            out_dir=self.out_dir,
            stdout="".join(stdout_parts)[-self.limits.output_bytes :],
            stderr="".join(stderr_parts)[-self.limits.output_bytes :],
            output_truncated=truncated,
            network_attempts=network,
            children_started=children,
        )

    def _command(self, root: Path) -> list[str]:
        argv = [sys.executable, "-B", str(root / "probe.py"), str(root / "config.json")]
        if self.sandbox.mode == "bubblewrap":
            return bubblewrap_command(self.workdir, self.inputs_dir, self.data_files, argv)
        return argv

    def _run_child(self, root: Path, parts: list[str]) -> tuple[dict[str, PartRun], str, str, bool]:
        progress = self.out_dir / "progress"
        if progress.exists():
            progress.unlink()
        cgroup = Cgroup(self.limits)
        runs: dict[str, PartRun] = {}
        proc = subprocess.Popen(
            self._command(root),
            cwd=self.workdir,
            env=self._environment(root),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=make_preexec(self.sandbox, self.limits, cgroup),
        )
        readers = [CappedReader(proc.stdout, self.limits.output_bytes), CappedReader(proc.stderr, self.limits.output_bytes)]
        for reader in readers:
            reader.start()
        phase, phase_started, seen = IMPORT_PHASE, time.monotonic(), 0
        limit_bytes = self.limits.memory_mib * 1024 * 1024
        failure: PartRun | None = None
        try:
            while True:
                lines = progress.read_text(errors="replace").splitlines() if progress.exists() else []
                for line in lines[seen:]:
                    verb, _, name = line.partition(" ")
                    now = time.monotonic()
                    if verb == "begin" and (name in parts or name == IMPORT_PHASE):
                        phase, phase_started = name, now
                    elif verb == "end" and name == phase:
                        if name != IMPORT_PHASE:
                            runs[name] = PartRun("ok", seconds=round(now - phase_started, 2))
                        phase, phase_started = "", now
                seen = len(lines)
                code = proc.poll()
                if code is not None:
                    break
                elapsed = time.monotonic() - phase_started
                timeout = self.timeouts.get(phase or "between", self.timeouts.get("between", 30.0))
                if elapsed > timeout:
                    failure = PartRun("timeout", f"timed out after {timeout:g} s", round(elapsed, 2))
                    break
                if _rss_bytes(_children(proc.pid)) > limit_bytes:
                    failure = PartRun(
                        "memory", f"exceeded the memory limit of {self.limits.memory_mib} MiB", round(elapsed, 2)
                    )
                    break
                time.sleep(POLL_SECONDS)
        finally:
            self._kill(proc, cgroup)
            for reader in readers:
                reader.join(timeout=5)
            if failure is None and cgroup.hit_memory_limit() and proc.returncode not in (0, None):
                failure = PartRun("memory", f"exceeded the memory limit of {self.limits.memory_mib} MiB")
            cgroup.remove()
        code = proc.returncode
        if failure is None and phase:
            failure = PartRun("crashed", _describe_exit(code) if code is not None else "stopped")
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
        return runs, stdout, stderr, any(r.truncated for r in readers)

    def _kill(self, proc: subprocess.Popen, cgroup: Cgroup) -> None:
        """Kill the child and everything it started, even processes that left its session."""
        if proc.poll() is None:
            for pid in _children(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for pid in cgroup.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

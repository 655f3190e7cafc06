"""Run the probe in a child process, part by part, with a wall-clock limit per part.

One child runs all remaining parts in order (TensorFlow is imported once). When a part hangs,
crashes the interpreter or exhausts memory, the child is killed, that part is recorded as failed
with its cause, and a fresh child continues with the parts after it: one bad function costs only
its own checks.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox.files import read_plain
from autograder.sandbox.isolation import (
    NOBODY,
    SANDBOX_ROOT,
    SANDBOX_UID,
    Cgroup,
    Limits,
    Sandbox,
    bubblewrap_command,
    child_layout,
    jail_command,
    make_preexec,
)
from autograder.sandbox.progress import (
    DONE,
    IMPORT_PHASE,
    ProgressProtocol,
    ProgressReader,
    ProtocolViolation,
)

PROBE = Path(__file__).with_name("probe.py")
POLL_SECONDS = 0.1
MAX_NETWORK_LOG_BYTES = 64 * 1024


@dataclass
class PartRun:
    """How one part's probe ended, as seen from outside the child."""

    status: str  # "ok", "timeout", "memory", "crashed", "not_loaded", "skipped"
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
    output_bytes: int = 0  # everything the children printed, kept or not
    network_attempts: list[str] = field(default_factory=list)
    children_started: int = 0
    peak_memory_mib: int = 0  # the largest cgroup memory peak of any child (0 without cgroups)
    protocol_violation: str = ""  # why the grader stopped trusting the child's progress lines


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
            chunk = (
                self.stream.read1(65536)
                if hasattr(self.stream, "read1")
                else self.stream.read(65536)
            )
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


def _describe_exit(code: int, wrapped: bool = False) -> str:
    """`wrapped`: the child ran under bubblewrap or the jail, which report signal N as 128 + N."""
    if wrapped and code > 128:
        code = -(code - 128)
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@functools.cache
def remove_stale_workdirs() -> list[str]:
    """Remove the working directories of grader processes that died (once per process)."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob("autograder-child-*-*"):
        owner = path.name.split("-")[2]
        if owner.isdigit() and not _pid_alive(int(owner)) and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


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
        depends: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.timeouts = timeouts
        self.chunks = chunks
        self.inputs_dir = inputs_dir
        self.data_files = data_files
        self.config = config
        self.depends = depends or {}
        self.protocol_violation = ""
        remove_stale_workdirs()
        self.base = Path(tempfile.mkdtemp(prefix=f"autograder-child-{os.getpid()}-"))
        self.workdir = self.base / "sandbox"  # the child's working directory, /sandbox inside
        self.grader_dir = self.workdir / "grader"  # probe, config, chunks: read-only for the child
        self.out_dir = self.workdir / "out"
        self.peak_memory_mib = 0

    # -- working directory --------------------------------------------------------------------
    def _prepare_workdir(self) -> dict:
        """Lay out only what the child needs; returns the probe config as the child sees paths.

        Host layout: `base/sandbox` is the child's working directory (its `out/`, `home/` and
        keras cache are writable), `base/sandbox/grader` holds the probe, its config and the code
        chunks, `base/sandbox/inputs` the grader's inputs; the last two are read-only for the
        child (read-only binds in the namespace modes, root-owned as nobody).
        """
        private = self.sandbox.private_root
        root = Path(SANDBOX_ROOT) if private else self.workdir
        self.workdir.mkdir(mode=0o755)
        self._make_out_dir()
        (self.workdir / "home").mkdir()
        keras_cache = self.workdir / "keras_home" / "datasets" / "fashion-mnist"
        keras_cache.mkdir(parents=True)
        if private:
            # Mount points for the read-only binds; the host directory stays root's.
            self.grader_dir = self.base / "grader"
            (self.workdir / "grader").mkdir()
            (self.workdir / "inputs").mkdir()
            for name in self.data_files:
                (keras_cache / name).touch()
        else:
            shutil.copytree(self.inputs_dir, self.workdir / "inputs")
            for name, source in self.data_files.items():
                (keras_cache / name).symlink_to(source)
        self.grader_dir.mkdir(mode=0o755, exist_ok=True)
        shutil.copy(PROBE, self.grader_dir / "probe.py")
        (self.grader_dir / "chunks.json").write_text(json.dumps(self.chunks))
        owner = self._child_owner()
        if owner is not None:
            protected = {self.grader_dir, self.workdir / "inputs"}
            for path in [self.workdir, *self.workdir.rglob("*")]:
                if path.is_symlink() or any(p in protected for p in (path, *path.parents)):
                    continue
                os.chown(path, owner, owner)
        return {
            **self.config,
            "out_dir": str(root / "out"),
            "inputs_dir": str(root / "inputs"),
            "chunks": str(root / "grader" / "chunks.json"),
            "root": str(root),
        }

    def _make_out_dir(self) -> None:
        self.out_dir.mkdir()
        owner = self._child_owner()
        if owner is not None:
            os.chown(self.out_dir, owner, owner)
        info = os.lstat(self.out_dir)
        self.out_identity = (info.st_dev, info.st_ino)

    def _out_dir_intact(self) -> bool:
        """`out/` is still the directory the grader made (the child may replace it with a
        symlink to a host directory: the grader must then neither read nor delete there)."""
        try:
            info = os.lstat(self.out_dir)
        except OSError:
            return False
        return stat.S_ISDIR(info.st_mode) and (info.st_dev, info.st_ino) == self.out_identity

    def _renew_out_dir(self) -> None:
        """Replace a tampered `out/` with a fresh, empty one (never following a symlink)."""
        try:
            if stat.S_ISDIR(os.lstat(self.out_dir).st_mode):
                shutil.rmtree(self.out_dir)
            else:
                os.unlink(self.out_dir)
        except FileNotFoundError:
            pass
        self._make_out_dir()

    def _child_owner(self) -> int | None:
        """The uid that must own the child's writable files, when it is not the grader's."""
        if self.sandbox.mode == "namespaces":
            return SANDBOX_UID
        if self.sandbox.mode == "rlimits+nobody":
            return pwd.getpwnam(NOBODY).pw_uid
        return None

    def _data_files_for_child(self) -> dict[str, Path]:
        """Data files the child's user can read (copies of those it cannot, e.g. mode 0600)."""
        if self._child_owner() is None:
            return self.data_files
        files = {}
        for name, source in self.data_files.items():
            if os.stat(source).st_mode & 0o004:
                files[name] = source
            else:
                copy = self.base / "data" / name
                copy.parent.mkdir(exist_ok=True)
                shutil.copyfile(source, copy)
                copy.chmod(0o644)
                files[name] = copy
        return files

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
        self.data_files = self._data_files_for_child()
        config = self._prepare_workdir()
        root = Path(config["root"])
        runs: dict[str, PartRun] = {}
        stdout_parts, stderr_parts = [], []
        truncated = False
        printed = 0
        remaining = list(parts)
        children = 0
        while remaining:
            children += 1
            config["parts"] = remaining
            (self.grader_dir / "config.json").write_text(json.dumps(config))
            if not self._out_dir_intact():
                self._renew_out_dir()
            self._clear_observations(remaining)
            outcome, out, err, cut = self._run_child(root, remaining)
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
        if not self._out_dir_intact():
            self._renew_out_dir()  # the parts' observations are gone: they fail as unreadable
        return SessionResult(
            runs=runs,
            out_dir=self.out_dir,
            stdout="".join(stdout_parts)[-self.limits.output_bytes :],
            stderr="".join(stderr_parts)[-self.limits.output_bytes :],
            output_truncated=truncated,
            output_bytes=printed,
            network_attempts=self._network_attempts(),
            children_started=children,
            peak_memory_mib=self.peak_memory_mib,
            protocol_violation=self.protocol_violation,
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

    def _clear_observations(self, parts: list[str]) -> None:
        """Remove files a previous child left for parts still to run: only a probe that runs a
        part now can report on it."""
        for entry in self.out_dir.iterdir():  # out/ itself was checked: not a symlink
            if entry.name == "progress" or entry.name.split(".", 1)[0] in parts:
                try:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
                except OSError:
                    pass

    def _network_attempts(self) -> list[str]:
        try:
            raw = read_plain(self.out_dir / "network.log", MAX_NETWORK_LOG_BYTES)
        except OSError:
            return []
        text = raw.decode("utf-8", "replace")
        # One line per part (the part that tried first comes first), with its first attempts.
        by_part: dict[str, list[str]] = {}
        for line in text.splitlines():
            part, _, attempt = line.partition(": ")
            by_part.setdefault(part[:60], []).append(attempt[:200])
        summary = []
        for part, attempts in list(by_part.items())[:20]:
            more = f" (+{len(attempts) - 2} more)" if len(attempts) > 2 else ""
            summary.append(f"{part}: {', '.join(attempts[:2])}{more}")
        return summary

    def _command(self, root: Path) -> list[str]:
        grader = root / "grader"
        argv = [
            os.path.abspath(sys.executable),
            "-B",
            str(grader / "probe.py"),
            str(grader / "config.json"),
        ]
        if not self.sandbox.private_root:
            return argv
        ops = child_layout(self.workdir, self.grader_dir, self.inputs_dir, self.data_files)
        if self.sandbox.mode == "bubblewrap":
            return bubblewrap_command(ops, argv)
        new_root = self.base / "root"
        new_root.mkdir(exist_ok=True)
        return jail_command(ops, argv, new_root, self.base / "jail.json")

    def _run_child(self, root: Path, parts: list[str]) -> tuple[dict[str, PartRun], str, str, int]:
        """Run one child over `parts`: how each part ended, its output, and the size of its
        larger output stream."""
        progress = ProgressReader(self.out_dir / "progress")
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
        readers = [
            CappedReader(proc.stdout, self.limits.output_bytes),
            CappedReader(proc.stderr, self.limits.output_bytes),
        ]
        for reader in readers:
            reader.start()
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
                if cgroup.memory is None and _rss_bytes(_children(proc.pid)) > limit_bytes:
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
                "crashed", _describe_exit(code, wrapped) if code is not None else "stopped"
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
            for pid in _children(proc.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        cgroup.kill_all()
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

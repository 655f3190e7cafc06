"""How the child is confined: bubblewrap when it works, else the best the OS offers.

Modes, strongest first:
- `bubblewrap`: own network, PID, IPC and mount namespaces; only the interpreter, the child's
  fresh working directory and the data files are visible; runs as uid 65534.
- `rlimits+nobody` (root without bubblewrap): a fresh directory, resource limits, a private
  network namespace, and the unprivileged user `nobody`.
- `rlimits`: a fresh directory, resource limits, and a private network namespace if the kernel
  allows an unprivileged one.
In every mode a memory cgroup and a pids cgroup are added when the grader may create them, and the
parent also watches the child's memory itself.
"""

from __future__ import annotations

import ctypes
import functools
import os
import pwd
import resource
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = "nobody"
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CGROUP_V1 = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one child process."""

    memory_mib: int = 4096
    max_processes: int = 512  # threads count too: TensorFlow starts dozens
    file_size_mib: int = 512
    output_bytes: int = 64 * 1024  # of stdout/stderr kept for the report; the rest is discarded
    cpu_seconds: int = 1800


@dataclass
class Sandbox:
    """A recipe for starting the child; `describe()` is what the report says."""

    mode: str
    notes: list[str] = field(default_factory=list)
    child_user: str = ""

    def describe(self) -> str:
        text = self.mode
        if self.notes:
            text += " (" + "; ".join(self.notes) + ")"
        return text


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _can_unshare_network() -> bool:
    """Try a private network namespace in a throwaway child, as the real child would."""
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    code = f"import ctypes,sys; sys.exit(ctypes.CDLL(None).unshare({flags}) != 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    return result.returncode == 0


@functools.cache
def bubblewrap_works() -> bool:
    """True when `bwrap` exists and can create the namespaces we ask for."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    try:
        result = subprocess.run(
            [bwrap, "--unshare-all", "--die-with-parent", "--uid", "65534", "--gid", "65534",
             *_system_binds(), "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@functools.cache
def interpreter_usable_by_nobody() -> bool:
    """Whether `nobody` can run this interpreter (e.g. not when it lives under a private /root)."""
    if os.geteuid() != 0:
        return False
    try:
        user = pwd.getpwnam(NOBODY)
    except KeyError:
        return False

    def drop() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    try:
        result = subprocess.run(
            [sys.executable, "-c", "import numpy"], preexec_fn=drop, capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@functools.cache
def network_namespace_available() -> bool:
    return _can_unshare_network()


def choose_sandbox(prefer: str = "auto") -> Sandbox:
    """Pick the strongest isolation this machine allows.

    Args:
        prefer: "auto", "bubblewrap" (fail if unavailable) or "rlimits" (skip bubblewrap).
    """
    if prefer not in {"auto", "bubblewrap", "rlimits"}:
        raise ValueError(f"sandbox must be auto, bubblewrap or rlimits, got {prefer!r}")
    if prefer != "rlimits" and bubblewrap_works():
        return Sandbox("bubblewrap", ["no network", "uid 65534", "private filesystem view"], "65534")
    if prefer == "bubblewrap":
        raise RuntimeError("bubblewrap was requested but `bwrap` is missing or cannot run here")
    notes = []
    child_user = str(os.geteuid())
    if os.geteuid() == 0:
        if interpreter_usable_by_nobody():
            child_user = NOBODY
            notes.append("runs as nobody")
        else:
            notes.append("runs as root: the interpreter is not readable by nobody")
    notes.append("no network" if network_namespace_available() else "network NOT blocked")
    notes.append("fresh working directory")
    mode = "rlimits+nobody" if child_user == NOBODY else "rlimits"
    return Sandbox(mode, notes, child_user)


def _system_binds() -> list[str]:
    """Read-only views of the system files an interpreter needs, and nothing private."""
    args: list[str] = []
    for path in ("/usr", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                 "/etc/alternatives", "/etc/localtime", "/etc/nsswitch.conf"):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), f"/{link}"]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    return args


def _interpreter_binds() -> list[str]:
    """The interpreter and its packages (venv and base installation), read-only."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    # A venv's python is a symlink into the base installation; bind what it resolves to as well.
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    args: list[str] = []
    for root in sorted(roots):
        if not str(root).startswith("/usr/"):
            args += ["--ro-bind", str(root), str(root)]
    if Path(sys.prefix) != Path(sys.prefix).resolve():
        args += ["--symlink", str(Path(sys.prefix).resolve()), str(Path(sys.prefix))]
    return args


def bubblewrap_command(
    workdir: Path, inputs: Path, data_files: dict[str, Path], argv: list[str]
) -> list[str]:
    """The full bwrap command line running `argv` inside the sandbox at `/sandbox`."""
    cmd = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--uid", "65534",
        "--gid", "65534",
        *_system_binds(),
        *_interpreter_binds(),
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
        "--bind", str(workdir), "/sandbox",
        "--ro-bind", str(inputs), "/sandbox/inputs",
    ]
    for name, source in data_files.items():
        cmd += ["--ro-bind", str(source), f"/sandbox/keras_home/datasets/fashion-mnist/{name}"]
    cmd += ["--chdir", "/sandbox", "--", *argv]
    return cmd


class Cgroup:
    """A v1 memory+pids cgroup for one child, when the grader is allowed to make one."""

    def __init__(self, limits: Limits) -> None:
        self.paths: list[Path] = []
        self.memory: Path | None = None
        name = f"autograder-{uuid.uuid4().hex[:12]}"
        wanted = {
            "memory": {"memory.limit_in_bytes": str(limits.memory_mib * 1024 * 1024)},
            "pids": {"pids.max": str(limits.max_processes)},
        }
        for controller, settings in wanted.items():
            path = CGROUP_V1 / controller / name
            try:
                path.mkdir()
                for key, value in settings.items():
                    (path / key).write_text(value)
                if controller == "memory":
                    # No swap beyond the limit, where the kernel supports the setting.
                    swap = path / "memory.memsw.limit_in_bytes"
                    if swap.exists():
                        try:
                            swap.write_text(settings["memory.limit_in_bytes"])
                        except OSError:
                            pass
                    self.memory = path
                self.paths.append(path)
            except OSError:
                if path.exists():
                    try:
                        path.rmdir()
                    except OSError:
                        pass

    @property
    def active(self) -> list[str]:
        return [p.parent.name for p in self.paths]

    def join(self) -> None:
        """Called in the child before exec: move this process into the cgroups."""
        for path in self.paths:
            try:
                (path / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths:
            try:
                found |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return sorted(found)

    def hit_memory_limit(self) -> bool:
        if self.memory is None:
            return False
        try:
            return int((self.memory / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    import time

                    time.sleep(0.05)


def make_preexec(sandbox: Sandbox, limits: Limits, cgroup: Cgroup | None):
    """The function run in the forked child before exec: limits, namespaces, user."""
    user = pwd.getpwnam(NOBODY) if sandbox.child_user == NOBODY else None
    unshare_net = sandbox.mode != "bubblewrap" and "no network" in sandbox.notes

    def preexec() -> None:
        os.setsid()
        if cgroup is not None:
            cgroup.join()
        mib = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mib * mib,) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        # Address space: a backstop well above the real limit (TensorFlow reserves a lot of
        # virtual memory it never touches); the cgroup and the parent's watch enforce the real one.
        address_space = (limits.memory_mib + 8192) * mib
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        if unshare_net:
            flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
            _libc().unshare(flags)
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        # Counted per user, so it only binds once we are not root.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes,) * 2)

    return preexec

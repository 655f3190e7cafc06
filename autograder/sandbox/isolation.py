"""How the child is confined: bubblewrap when it works, else the best the OS offers.

Modes, strongest first (the README's Security section says what each one defends):
- `bubblewrap`: own mount, PID, network and IPC namespaces; only the interpreter, the child's
  fresh working directory, the grader's inputs and the data files are visible; uid 65534.
- `namespaces` (root without bubblewrap): the same layout built by the grader's own small jail
  (`jail.py`): private root on a tmpfs, own PID/network/IPC namespaces, runs as `nobody`.
- `rlimits+nobody` (root, namespaces unavailable, interpreter readable by `nobody`): a fresh
  directory, resource limits, a private network namespace, the unprivileged user `nobody`.
- `rlimits`: a fresh directory, resource limits, and a private network namespace if the kernel
  allows one. The child runs as the grader's own user (root when the grader is root).
In every mode a memory cgroup and a pids cgroup are added when the grader may create them, and
the parent also watches the child's memory and wall-clock time itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

try:
    import pwd
    import resource
except ImportError:  # Windows: a student's self-check runs in her kernel, no sandbox (README)
    pwd = resource = None

NOBODY = "nobody"
SANDBOX_UID = 65534
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
CGROUP_V1 = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "autograder-"
JAIL = Path(__file__).with_name("jail.py")
SANDBOX_ROOT = "/sandbox"  # the child's working directory in the namespace modes
PREFERENCES = ("auto", "bubblewrap", "namespaces", "rlimits", "plain")
NAMESPACE_MODES = ("bubblewrap", "namespaces")


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

    @property
    def private_root(self) -> bool:
        """The child sees only its own directory, the inputs and read-only system files."""
        return self.mode in NAMESPACE_MODES

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
    try:
        result = subprocess.run(
            [os.path.abspath(sys.executable), "-c", code], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


# -- the child's filesystem in the namespace modes ------------------------------------------------
def system_layout() -> list[list[str]]:
    """Read-only views of the system files an interpreter needs, and nothing private."""
    ops: list[list[str]] = []
    for path in (
        "/usr",
        "/etc/ld.so.cache",
        "/etc/ld.so.conf",
        "/etc/ld.so.conf.d",
        "/etc/alternatives",
        "/etc/localtime",
        "/etc/nsswitch.conf",
    ):
        if os.path.exists(path):
            ops.append(["ro-bind", path, path])
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            ops.append(["symlink", os.readlink(target), f"/{link}"])
        elif target.is_dir():
            ops.append(["ro-bind", str(target), str(target)])
    return ops


def interpreter_layout() -> list[list[str]]:
    """The interpreter and its packages (venv and base installation), read-only."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    # A venv's python is a symlink into the base installation; bind what it resolves to as well.
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    ops: list[list[str]] = []
    for root in sorted(roots):
        if not str(root).startswith("/usr/"):
            ops.append(["ro-bind", str(root), str(root)])
    if Path(sys.prefix) != Path(sys.prefix).resolve():
        ops.append(["symlink", str(Path(sys.prefix).resolve()), str(Path(sys.prefix))])
    return ops


def child_layout(
    workdir: Path, grader_dir: Path, inputs: Path, data_files: dict[str, Path]
) -> list[list[str]]:
    """Everything the child sees, as mount operations; the rest of the host is invisible.

    `workdir` (writable) appears at /sandbox; the grader's files (probe, config, code chunks)
    and inputs are read-only inside it, so a crashed child cannot plant code for the next one.
    """
    ops = [
        *system_layout(),
        ["proc", "/proc"],
        ["dev", "/dev"],
        # Before the interpreter: a checkout (and its .venv) may live under /tmp.
        ["tmpfs", "/tmp"],
        *interpreter_layout(),
        ["bind", str(workdir), SANDBOX_ROOT],
        ["ro-bind", str(grader_dir), f"{SANDBOX_ROOT}/grader"],
        ["ro-bind", str(inputs), f"{SANDBOX_ROOT}/inputs"],
    ]
    for name, source in data_files.items():  # keyed by their path in the Keras cache
        ops.append(["ro-bind", str(source), f"{SANDBOX_ROOT}/keras_home/{name}"])
    return ops


def bubblewrap_command(ops: list[list[str]], argv: list[str]) -> list[str]:
    """The full bwrap command line running `argv` with the given layout."""
    cmd = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "sandbox",
    ]
    for kind, *args in ops:
        cmd += [f"--{kind}", *args]
    return [*cmd, "--chdir", SANDBOX_ROOT, "--", *argv]


def jail_command(
    ops: list[list[str]], argv: list[str], new_root: Path, spec_path: Path
) -> list[str]:
    """The command running `argv` in the grader's own namespace jail (root only)."""
    spec = {
        "root": str(new_root),
        "ops": ops,
        "argv": argv,
        "cwd": SANDBOX_ROOT,
        "uid": SANDBOX_UID,
        "gid": SANDBOX_UID,
    }
    spec_path.write_text(json.dumps(spec))
    return [os.path.abspath(sys.executable), "-I", "-S", "-B", str(JAIL), str(spec_path)]


# -- detection ----------------------------------------------------------------------------------
def _trial_layout(base: Path) -> tuple[list[list[str]], Path]:
    for name in ("sandbox", "grader", "inputs", "root"):
        (base / name).mkdir()
    (base / "sandbox").chmod(0o777)
    return child_layout(base / "sandbox", base / "grader", base / "inputs", {}), base / "root"


@functools.cache
def bubblewrap_works() -> bool:
    """True when `bwrap` exists and can run this interpreter with the child's layout."""
    if not shutil.which("bwrap"):
        return False
    return _trial_run(lambda ops, root, base, argv: bubblewrap_command(ops, argv))


@functools.cache
def namespaces_work() -> bool:
    """True when the grader is root and its own jail can run this interpreter as nobody."""
    if os.geteuid() != 0:
        return False
    return _trial_run(
        lambda ops, root, base, argv: jail_command(ops, argv, root, base / "jail.json"),
        env={"PATH": "/usr/bin:/bin"},
    )


def _trial_run(build_command, env: dict[str, str] | None = None) -> bool:
    """Run `import numpy` in a throwaway child laid out as a real one; True if it worked."""
    base = Path(tempfile.mkdtemp(prefix="autograder-probe-"))
    try:
        ops, root = _trial_layout(base)
        argv = [os.path.abspath(sys.executable), "-c", "import numpy"]
        result = subprocess.run(
            build_command(ops, root, base, argv), capture_output=True, timeout=60, env=env
        )
        return result.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        shutil.rmtree(base, ignore_errors=True)


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
            [os.path.abspath(sys.executable), "-c", "import numpy"],
            preexec_fn=drop,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@functools.cache
def network_namespace_available() -> bool:
    return _can_unshare_network()


@functools.cache
def cgroups_available() -> bool:
    """Whether the grader may create v1 memory and pids cgroups."""
    name = f"{CGROUP_PREFIX}probe-{uuid.uuid4().hex[:8]}"
    for controller in ("memory", "pids"):
        path = CGROUP_V1 / controller / name
        try:
            path.mkdir()
            path.rmdir()
        except OSError:
            return False
    return True


def _limits_note() -> str:
    if cgroups_available():
        return "memory and process count limited by cgroups"
    return "memory limited by rlimits and the grader's watch; NO process-count cgroup"


def choose_sandbox(prefer: str = "auto") -> Sandbox:
    """Pick the strongest isolation this machine allows.

    Args:
        prefer: "auto" (strongest available); "bubblewrap" or "namespaces" (that mode or an
            error); "rlimits" (the best without bubblewrap: namespaces when root, else resource
            limits); "plain" (resource limits only, for comparison and debugging).
    """
    if prefer not in PREFERENCES:
        raise ValueError(f"sandbox must be one of {', '.join(PREFERENCES)}, got {prefer!r}")
    private = [
        "private filesystem view",
        "own PID namespace: cannot see or signal the grader",
        "no network",
        "uid 65534",
        _limits_note(),
    ]
    if prefer in ("auto", "bubblewrap") and bubblewrap_works():
        return Sandbox("bubblewrap", private, str(SANDBOX_UID))
    if prefer == "bubblewrap":
        raise RuntimeError("bubblewrap was requested but `bwrap` is missing or cannot run here")
    if prefer in ("auto", "namespaces", "rlimits") and namespaces_work():
        return Sandbox(
            "namespaces", ["bubblewrap unavailable: the grader's own jail", *private], NOBODY
        )
    if prefer == "namespaces":
        raise RuntimeError("namespaces were requested but the grader is not root or unshare fails")
    notes = []
    child_user = str(os.geteuid())
    if os.geteuid() == 0:
        if interpreter_usable_by_nobody():
            child_user = NOBODY
            notes.append(
                "runs as nobody: cannot change the grader's files or signal it, "
                "but CAN read world-readable files"
            )
        else:
            notes.append(
                "runs as ROOT (the interpreter is not readable by nobody): NOT isolated, "
                "can read and change any file and signal any process"
            )
    else:
        notes.append(
            "runs as the grader's own user: can read and change that user's files "
            "and signal the grader"
        )
    notes.append("no network" if network_namespace_available() else "network NOT blocked")
    notes.append("fresh working directory")
    notes.append(_limits_note())
    mode = "rlimits+nobody" if child_user == NOBODY else "rlimits"
    return Sandbox(mode, notes, child_user)


# -- cgroups ------------------------------------------------------------------------------------
class Cgroup:
    """A v1 memory+pids cgroup for one child, when the grader is allowed to make one."""

    def __init__(self, limits: Limits) -> None:
        self.paths: list[Path] = []
        self.memory: Path | None = None
        self.pids_path: Path | None = None
        _sweep_once()
        name = f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        memory = str(limits.memory_mib * 1024 * 1024)
        wanted = {
            "memory": {"memory.limit_in_bytes": memory},
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
                        with contextlib.suppress(OSError):
                            swap.write_text(memory)
                    self.memory = path
                else:
                    self.pids_path = path
                self.paths.append(path)
            except OSError:
                if path.exists():
                    with contextlib.suppress(OSError):
                        path.rmdir()

    @property
    def active(self) -> list[str]:
        return [p.parent.name for p in self.paths]

    def join(self) -> None:
        """Called in the child before exec: move this process into the cgroups."""
        for path in self.paths:
            with contextlib.suppress(OSError):
                (path / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(OSError, ValueError):
                found |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
        return sorted(found)

    def oom_killed(self) -> bool:
        """The kernel killed a process of this cgroup for exceeding the memory limit."""
        if self.memory is None:
            return False
        try:
            for line in (self.memory / "memory.oom_control").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value) > 0
            # Older kernels have no oom_kill counter: fall back to "the limit was hit".
            return int((self.memory / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def peak_memory_mib(self) -> int:
        if self.memory is None:
            return 0
        try:
            return int((self.memory / "memory.max_usage_in_bytes").read_text()) >> 20
        except (OSError, ValueError):
            return 0

    def kill_all(self, rounds: int = 100) -> None:
        """SIGKILL every process in the cgroups until none is left (a fork bomb keeps forking)."""
        for _ in range(rounds):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for path in self.paths:
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


@functools.cache
def _sweep_once() -> None:
    remove_stale_cgroups()


def remove_stale_cgroups() -> list[str]:
    """Remove empty cgroups left by grader processes that no longer exist (after a crash)."""
    removed = []
    for controller in ("memory", "pids"):
        directory = CGROUP_V1 / controller
        try:
            entries = list(directory.glob(f"{CGROUP_PREFIX}*"))
        except OSError:
            continue
        for path in entries:
            owner = path.name[len(CGROUP_PREFIX) :].split("-", 1)[0]
            if owner.isdigit() and Path(f"/proc/{owner}").exists():
                continue
            try:
                if not (path / "cgroup.procs").read_text().split():
                    path.rmdir()
                    removed.append(str(path))
            except OSError:
                pass
    return removed


# -- the forked child before exec -----------------------------------------------------------------
def make_preexec(sandbox: Sandbox, limits: Limits, cgroup: Cgroup | None):
    """The function run in the forked child before exec: limits, namespaces, user.

    Everything that could take a lock (dlopen, user database) is resolved here, before the fork:
    the grader is multi-threaded (TensorFlow) and the forked child must not wait on a lock.
    """
    user = pwd.getpwnam(NOBODY) if sandbox.mode == "rlimits+nobody" else None
    unshare_net = sandbox.mode.startswith("rlimits") and "no network" in sandbox.notes
    net_flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    libc = _libc()
    unshare = libc.unshare if unshare_net else None
    prctl = libc.prctl
    mib = 1024 * 1024
    # Address space: a backstop well above the real limit (TensorFlow reserves a lot of virtual
    # memory it never touches); the cgroup and the parent's watch enforce the real one.
    address_space = (limits.memory_mib + 8192) * mib
    settings = [
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_FSIZE, (limits.file_size_mib * mib,) * 2),
        (resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5)),
        (resource.RLIMIT_AS, (address_space, address_space)),
    ]

    def preexec() -> None:
        os.setsid()
        if cgroup is not None:
            cgroup.join()
        for kind, value in settings:
            resource.setrlimit(kind, value)
        if unshare is not None:
            unshare(net_flags)
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        # Counted per real user: it binds for nobody, not for root (also not for bubblewrap's
        # uid 65534, which is root outside its user namespace): the pids cgroup is the real bound.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes,) * 2)
        # Die with the grader (set last: changing the user clears it).
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return preexec

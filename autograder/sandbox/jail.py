"""A minimal bubblewrap for root: the child's private root filesystem and namespaces.

Used when the grader runs as root and `bwrap` is missing or broken. Started by the runner as
`python -I -S jail.py SPEC_JSON` (standard library only, as root, outside any namespace); it

1. unshares mount, PID, network, IPC and UTS namespaces,
2. builds a fresh root on a tmpfs holding only the bind mounts listed in the spec (read-only
   system and interpreter files, the child's working directory, the grader's inputs),
3. forks PID 1 of the new PID namespace, which mounts a /proc of that namespace, chroots, and
   forks the real child: a new session, uid/gid 65534 (so it can neither read root's files nor
   signal the grader), no new privileges, then exec of the probe.

PID 1 reaps every process and exits with the child's status (128 + N when killed by signal N, as
bubblewrap does); the outer process relays it. PID 1 dies with the outer process, and the kernel
kills everything in the namespace when PID 1 dies, so killing the outer process ends the sandbox.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
SETUP_FAILED = 125  # the sandbox could not be built; the runner reports it as such

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]


def fail(what: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    def enc(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        fail(f"mount {source} on {target}")


def inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def make_target(target: str, is_dir: bool) -> None:
    os.makedirs(target if is_dir else os.path.dirname(target), mode=0o755, exist_ok=True)
    if not is_dir and not os.path.exists(target):
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))


def bind(source: str, target: str, read_only: bool) -> None:
    make_target(target, os.path.isdir(source))
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def build_root(spec: dict) -> None:
    """Mount a tmpfs at spec["root"] and lay out the child's filesystem in it."""
    root = spec["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m")
    for op in spec["ops"]:
        kind, args = op[0], op[1:]
        if kind in ("ro-bind", "bind"):
            bind(args[0], inside(root, args[1]), kind == "ro-bind")
        elif kind == "symlink":
            link = inside(root, args[1])
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(args[0], link)
        elif kind == "tmpfs":
            target = inside(root, args[0])
            os.makedirs(target, exist_ok=True)
            mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=512m")
        elif kind == "dev":
            dev = inside(root, args[0])
            os.makedirs(dev, exist_ok=True)
            mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m")
            for name in DEVICES:
                if os.path.exists(f"/dev/{name}"):
                    make_target(os.path.join(dev, name), False)
                    mount(f"/dev/{name}", os.path.join(dev, name), None, MS_BIND)
            for name, target in (
                ("fd", "/proc/self/fd"),
                ("stdin", "/proc/self/fd/0"),
                ("stdout", "/proc/self/fd/1"),
                ("stderr", "/proc/self/fd/2"),
            ):
                os.symlink(target, os.path.join(dev, name))
            os.makedirs(os.path.join(dev, "shm"))
            mount(
                "tmpfs",
                os.path.join(dev, "shm"),
                "tmpfs",
                MS_NOSUID | MS_NODEV,
                "mode=1777,size=256m",
            )
        elif kind == "proc":
            os.makedirs(inside(root, args[0]), exist_ok=True)  # mounted by PID 1
        else:
            raise ValueError(f"unknown layout operation {kind!r}")


def wait_for(child: int) -> int:
    """Reap every process until `child` ends; its status as an exit code (128 + N for signal N)."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return SETUP_FAILED
        except InterruptedError:
            continue
        if pid == child:
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status)
            return os.WEXITSTATUS(status)


def exec_child(spec: dict) -> None:
    """PID 2: a new session as the unprivileged user, then the probe."""
    os.setsid()
    os.chdir(spec["cwd"])
    os.setgroups([])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])
    # Set after setuid, which clears it: the child dies with PID 1.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execve(spec["argv"][0], spec["argv"], dict(os.environ))


def pid_one(spec: dict) -> None:
    # Dies with the outer process (the runner kills that one). The outer process cannot be seen
    # from here (getppid() is 0 across PID namespaces); the runner's cgroup covers the instant
    # between fork and this call.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    root = spec["root"]
    proc = inside(root, "/proc")
    mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    sysctl = os.path.join(proc, "sys")
    mount(sysctl, sysctl, None, MS_BIND | MS_REC)
    mount(None, sysctl, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chroot(root)
    os.chdir("/")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    child = os.fork()
    if child == 0:
        try:
            exec_child(spec)
        except BaseException as exc:  # noqa: BLE001 - report and exit, never return
            os.write(2, f"sandbox: could not start the child: {exc}\n".encode())
        os._exit(SETUP_FAILED)
    os._exit(wait_for(child))


def main() -> None:
    # Like bubblewrap's --die-with-parent: the sandbox ends when the grader does.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    try:
        flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
        if libc.unshare(flags) != 0:
            fail("unshare")
        build_root(spec)
    except OSError as exc:
        os.write(2, f"sandbox: {exc}\n".encode())
        os._exit(SETUP_FAILED)
    child = os.fork()
    if child == 0:
        try:
            pid_one(spec)
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"sandbox: {exc}\n".encode())
        os._exit(SETUP_FAILED)
    # The outer process: close everything but stdout/stderr, relay the exit status.
    os.closerange(3, 65536)
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(SETUP_FAILED)
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    try:
        main()
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"sandbox: {exc}\n".encode())
        os._exit(SETUP_FAILED)

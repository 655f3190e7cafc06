"""The child's working directory and environment: what it sees, and nothing else.

Host layout: `base/sandbox` is the child's working directory (`/sandbox` inside the private
root); its `out/`, `home/` and Keras cache are writable by the child. `grader/` holds the
harness (the package `child`), the config and the code chunks, and `inputs/` the
grader's inputs: both read-only for the child (read-only binds in the namespace modes,
root-owned as nobody).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

from autograder import child
from autograder.sandbox.files import read_plain
from autograder.sandbox.isolation import (
    NOBODY,
    SANDBOX_ROOT,
    SANDBOX_UID,
    Sandbox,
    bubblewrap_command,
    child_layout,
    jail_command,
)
from autograder.scratch import scratch_dir
from autograder.threads import thread_environment

# The child-side code of the engine (autograder/child/), copied into the grader folder as the
# package `child` and started as `child.harness`.
CHILD_PACKAGE = Path(child.__file__).parent
CHILD_PACKAGE_NAME = "child"
# The child's `sys.path[0]` is the read-only grader folder, as for a script there (`python -m`
# would put its writable working directory first); then `child.harness` runs as `python -m`
# runs a module, with the config's path as sys.argv[1].
LAUNCH = (
    "import runpy, sys; sys.path[0] = sys.argv.pop(1); "
    f"runpy.run_module('{CHILD_PACKAGE_NAME}.harness', run_name='__main__', alter_sys=True)"
)
MAX_NETWORK_LOG_BYTES = 64 * 1024


def child_files(exercise) -> dict[str, Path]:
    """What the child's read-only grader folder holds: the child package. The same for every
    `exercise`: its parts' declared calls and schema reach the child in the config."""
    return {
        f"{CHILD_PACKAGE_NAME}/{path.name}": path for path in sorted(CHILD_PACKAGE.glob("*.py"))
    }


class Workdir:
    """One grading's working directory for its children, and how a child is started in it."""

    def __init__(
        self,
        *,
        sandbox: Sandbox,
        chunks: list[dict],
        inputs_dir: Path,
        data_files: dict[str, Path],
        grader_files: dict[str, Path],
    ) -> None:
        self.sandbox = sandbox
        self.chunks = chunks
        self.inputs_dir = inputs_dir
        self.data_files = data_files
        self.grader_files = grader_files
        self.base = scratch_dir("child")
        self.workdir = self.base / "sandbox"  # the child's working directory, /sandbox inside
        self.grader_dir = self.workdir / "grader"  # harness, config, chunks: read-only for it
        self.out_dir = self.workdir / "out"

    # -- working directory --------------------------------------------------------------------
    def prepare(self) -> dict:
        """Lay out only what the child needs; returns where the child sees it (the config's
        paths). The grader's inputs may still be written after this (see `add_inputs`).

        Host layout: `base/sandbox` is the child's working directory (its `out/`, `home/` and
        keras cache are writable), `base/sandbox/grader` holds the harness, its config and the code
        chunks, `base/sandbox/inputs` the grader's inputs; the last two are read-only for the
        child (read-only binds in the namespace modes, root-owned as nobody).
        """
        private = self.sandbox.private_root
        root = Path(SANDBOX_ROOT) if private else self.workdir
        self.workdir.mkdir(mode=0o755)
        self.make_out_dir()
        (self.workdir / "home").mkdir()
        keras_home = self.workdir / "keras_home"
        keras_home.mkdir()
        for name in self.data_files:
            (keras_home / name).parent.mkdir(parents=True, exist_ok=True)
        if private:
            # Mount points for the read-only binds; the host directory stays root's.
            self.grader_dir = self.base / "grader"
            (self.workdir / "grader").mkdir()
            (self.workdir / "inputs").mkdir()
            for name in self.data_files:
                (keras_home / name).touch()
        else:
            for name, source in self.data_files.items():
                (keras_home / name).symlink_to(source)
        self.grader_dir.mkdir(mode=0o755, exist_ok=True)
        for name, source in self.grader_files.items():
            (self.grader_dir / name).parent.mkdir(mode=0o755, exist_ok=True)
            shutil.copy(source, self.grader_dir / name)
        (self.grader_dir / "chunks.json").write_text(json.dumps(self.chunks))
        owner = self.child_owner()
        if owner is not None:
            protected = {self.grader_dir, self.workdir / "inputs"}
            for path in [self.workdir, *self.workdir.rglob("*")]:
                if path.is_symlink() or any(p in protected for p in (path, *path.parents)):
                    continue
                os.chown(path, owner, owner)
        return {
            "out_dir": str(root / "out"),
            "inputs_dir": str(root / "inputs"),
            "chunks": str(root / "grader" / "chunks.json"),
            "root": str(root),
        }

    def add_inputs(self) -> None:
        """Make the grader's inputs, written since `prepare`, visible to the child: the
        namespace modes bind the folder itself; the others get a copy."""
        if not self.sandbox.private_root:
            shutil.copytree(self.inputs_dir, self.workdir / "inputs")

    def make_out_dir(self) -> None:
        self.out_dir.mkdir()
        owner = self.child_owner()
        if owner is not None:
            os.chown(self.out_dir, owner, owner)
        info = os.lstat(self.out_dir)
        self.out_identity = (info.st_dev, info.st_ino)

    def out_dir_intact(self) -> bool:
        """`out/` is still the directory the grader made (the child may replace it with a
        symlink to a host directory: the grader must then neither read nor delete there)."""
        try:
            info = os.lstat(self.out_dir)
        except OSError:
            return False
        return stat.S_ISDIR(info.st_mode) and (info.st_dev, info.st_ino) == self.out_identity

    def renew_out_dir(self) -> None:
        """Replace a tampered `out/` with a fresh, empty one (never following a symlink)."""
        try:
            if stat.S_ISDIR(os.lstat(self.out_dir).st_mode):
                shutil.rmtree(self.out_dir)
            else:
                os.unlink(self.out_dir)
        except FileNotFoundError:
            pass
        self.make_out_dir()

    def child_owner(self) -> int | None:
        """The uid that must own the child's writable files, when it is not the grader's."""
        if self.sandbox.mode == "namespaces":
            return SANDBOX_UID
        if self.sandbox.mode == "rlimits+nobody":
            import pwd  # POSIX only: the sandbox modes exist only there

            return pwd.getpwnam(NOBODY).pw_uid
        return None

    def data_files_for_child(self) -> dict[str, Path]:
        """Data files the child's user can read (copies of those it cannot, e.g. mode 0600)."""
        if self.child_owner() is None:
            return self.data_files
        files = {}
        for name, source in self.data_files.items():
            if os.stat(source).st_mode & 0o004:
                files[name] = source
            else:
                copy = self.base / "data" / name
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)
                copy.chmod(0o644)
                files[name] = copy
        return files

    def environment(self, root: Path) -> dict[str, str]:
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
            **thread_environment(),  # the same weights on any core count (autograder.threads)
            "MPLBACKEND": "Agg",
            "KERAS_BACKEND": "tensorflow",
            # NumPy asks for transparent huge pages for large arrays; on virtual machines whose
            # guest memory is backed lazily the first use of them costs about 0.6 s for each
            # 400 MB (the pipeline's scaled images, Keras' float32 copy). Memory layout only.
            "NUMPY_MADVISE_HUGEPAGE": "0",
        }

    def clear_observations(self, parts: list[str]) -> None:
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

    def network_attempts(self) -> list[str]:
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

    def command(self, root: Path) -> list[str]:
        grader = root / "grader"
        argv = [
            os.path.abspath(sys.executable),
            "-B",
            "-c",
            LAUNCH,
            str(grader),
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

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

"""The grader's temporary folders: each named after the process that owns it, so that the
folders of a grader killed outright (SIGKILL, the OOM killer) are removed by the next one.

    >>> folder = scratch_dir("inputs")   # /tmp/autograder-inputs-<pid>-<random>
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

# What the grader makes in the temporary folder: per grading, the child's working directory, the
# grading's inputs and (in batches) the submission's copy; per grader, its reference.
KINDS = ("child", "inputs", "batch")


def scratch_prefix(kind: str) -> str:
    """`autograder-<kind>-<pid>-`: the prefix of this process's folders of that kind."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return f"autograder-{kind}-{os.getpid()}-"


def scratch_dir(kind: str) -> Path:
    """A new private folder of this process's (mode 0700); removing it is the caller's job."""
    remove_stale_scratch()
    return Path(tempfile.mkdtemp(prefix=scratch_prefix(kind)))


@functools.cache
def remove_stale_scratch() -> list[str]:
    """Remove the folders of grader processes that no longer run (once per process)."""
    removed = []
    for kind in KINDS:
        for path in Path(tempfile.gettempdir()).glob(f"autograder-{kind}-*-*"):
            owner = path.name.split("-")[2]
            if owner.isdigit() and not _alive(int(owner)) and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(str(path))
    return removed


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()

"""Reading files the child wrote without trusting what it put in their place."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def open_plain(path: Path) -> int:
    """Open a file the child wrote, for reading: a regular file, never through a symlink and
    never a FIFO or device (which could block the grader or expose a host file). Returns a fd."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_plain(path: Path, limit: int, offset: int = 0) -> bytes:
    """At most `limit` bytes of a regular file the child wrote, from `offset`."""
    fd = open_plain(path)
    try:
        return os.pread(fd, limit, offset)
    finally:
        os.close(fd)

"""The child's I/O as the supervisor sees it: its output pipes, its process tree, its exit."""

from __future__ import annotations

import os
import signal
import threading


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


def process_tree(root: int) -> list[int]:
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


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def describe_exit(code: int, wrapped: bool = False) -> str:
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

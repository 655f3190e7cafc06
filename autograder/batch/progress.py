"""One progress bar for a batch: count, failures so far, ETA."""

from __future__ import annotations

import shutil
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    """Short human duration.

    >>> format_duration(130), format_duration(7), format_duration(3725)
    ('2m10s', '7s', '1h02m')
    """
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Progress on a stream: one redrawn bar line on a terminal, one line per submission otherwise.

    On a terminal: `[###-------] 3/10 alice 87/100 (1 failed, eta 2m10s)`; in a log the same
    line without the bar. "Failed" counts submissions that could not be graded. The ETA comes from
    the gradings finished in this run (submissions skipped as already graded do not count), so
    with N gradings at once it reflects N at once.
    """

    WIDTH = 10

    def __init__(self, total: int, stream: TextIO, *, enabled: bool = True) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.done = 0
        self.graded = 0
        self.failed = 0
        self.started = time.monotonic()
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._drawn = False

    def skip(self, count: int) -> None:
        """`count` submissions were graded by an earlier run."""
        self.done += count
        self.started = time.monotonic()

    def start(self, name: str) -> None:
        """Show which submission is being graded (terminal only: a plain log gets finished lines)."""
        if self.enabled and self.tty:
            self._draw(f"{self._bar()} {self.done}/{self.total} grading {name}{self._status()}")

    def finish(self, name: str, result: str, *, failed: bool = False) -> None:
        self.done += 1
        self.graded += 1
        self.failed += failed
        if not self.enabled:
            return
        line = f"{self.done}/{self.total} {name} {result}{self._status()}"
        if self.tty:
            self._draw(f"{self._bar()} {line}")
        else:
            print(line, file=self.stream, flush=True)

    def message(self, text: str) -> None:
        """A line that stays, printed above the bar. Shown even with progress off: errors matter."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _bar(self) -> str:
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        return "[" + "#" * filled + "-" * (self.WIDTH - filled) + "]"

    def _status(self) -> str:
        items = [f"{self.failed} failed"] if self.failed else []
        if self.graded and self.done < self.total:
            per_item = (time.monotonic() - self.started) / self.graded
            items.append(f"eta {format_duration(per_item * (self.total - self.done))}")
        return f" ({', '.join(items)})" if items else ""

    def _draw(self, line: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns - 1
        if len(line) > width:
            line = line[: max(0, width - 1)] + "…"
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self._drawn = True

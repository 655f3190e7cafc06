"""The child's progress lines: read with a bound, accepted only in the probe's exact order.

Student code shares the probe's process, so it can write to the progress file too. What it
writes can never earn a point (observations are verified by the grader, and expected values never
reach the child), but it must not move the time limits either: a part begins once, in the order
the grader asked for, and ends once; anything else is a protocol violation that ends the child.

The only sequence a probe writes:

    begin import / end import / begin P1 / end P1 / ... / begin Pn / end Pn / done

(`done` may follow any `end`: a probe stops early when the submission left processes running.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.files import read_plain

IMPORT_PHASE = "import"
DONE = "done"
MAX_PROGRESS_BYTES = 64 * 1024  # a real probe writes a few hundred bytes
MAX_LINE = 200


class ProtocolViolation(Exception):
    """The progress lines are not the ones the probe writes: the submission wrote its own."""


@dataclass(frozen=True)
class Event:
    verb: str  # "begin", "end" or "done"
    name: str = ""


class ProgressProtocol:
    """Accepts the probe's sequence of lines for `parts`, one line at a time."""

    def __init__(self, parts: list[str]) -> None:
        self.expected = [
            f"{verb} {name}" for name in [IMPORT_PHASE, *parts] for verb in ("begin", "end")
        ]
        self.position = 0
        self.finished = False

    def feed(self, line: str) -> Event:
        if self.finished:
            raise ProtocolViolation(f"a line after {DONE!r}: {line[:60]!r}")
        if line == DONE and self.position % 2 == 0 and self.position >= 2:
            self.finished = True
            return Event(DONE)
        if self.position >= len(self.expected) or line != self.expected[self.position]:
            wanted = self.expected[self.position] if self.position < len(self.expected) else DONE
            raise ProtocolViolation(f"expected {wanted!r}, got {line[:60]!r}")
        self.position += 1
        verb, _, name = line.partition(" ")
        return Event(verb, name)


class ProgressReader:
    """Reads the child's progress lines incrementally, bounded: a child cannot make the grader
    read a huge file, nor block it (a FIFO in its place is refused)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.pending = b""
        self.tampered = False  # something other than a regular file is in its place
        self.overflowed = False  # more bytes than any probe writes

    def new_lines(self) -> list[str]:
        if self.offset >= MAX_PROGRESS_BYTES:
            self.overflowed = True
            return []
        try:
            data = read_plain(self.path, MAX_PROGRESS_BYTES - self.offset, self.offset)
        except FileNotFoundError:
            return []
        except OSError:
            self.tampered = True
            return []
        self.offset += len(data)
        *lines, self.pending = (self.pending + data).split(b"\n")
        if len(self.pending) > MAX_LINE:
            self.overflowed = True
        return [line.decode("utf-8", "replace")[:MAX_LINE] for line in lines]

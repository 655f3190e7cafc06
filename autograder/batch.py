"""Grade a whole folder of submissions, with a progress bar and a gradebook.

Example:
    >>> with Grader(GraderOptions()) as grader:
    ...     reports = grade_folder("submissions/", grader, "results/batch")
    >>> sorted(p.name for p in Path("results/batch").iterdir())  # doctest: +SKIP
    ['alice', 'bob', 'grades.csv', 'junit.xml']
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Protocol, TextIO

from autograder.exporters import csv_export, gradescope, html, junit
from autograder.results import GradingReport

SUFFIXES = (".ipynb", ".py")
ERROR_NOTE = "grader"


class SupportsGrade(Protocol):
    def grade(self, submission: str | os.PathLike[str]) -> GradingReport: ...


def find_submissions(folder: str | Path) -> list[Path]:
    """The `.ipynb` and `.py` files directly in `folder`, sorted by name, hidden ones skipped."""
    return sorted(
        p
        for p in Path(folder).iterdir()
        if p.is_file() and p.suffix in SUFFIXES and not p.name.startswith(".")
    )


def output_dirs(submissions: list[Path], out_dir: Path) -> dict[Path, Path]:
    """out_dir/<stem> for each submission; the full name when two share a stem (a.py, a.ipynb)."""
    stems = Counter(p.stem for p in submissions)
    return {p: out_dir / (p.stem if stems[p.stem] == 1 else p.name) for p in submissions}


def error_report(submission: Path, exc: BaseException, seconds: float) -> GradingReport:
    """A zero-score report that records why grading itself failed."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    note = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    return GradingReport(str(submission), [], seconds, "", {ERROR_NOTE: note})


def is_error(report: GradingReport) -> bool:
    return not report.tests and ERROR_NOTE in report.part_notes


def grade_folder(
    folder: str | Path,
    grader: SupportsGrade,
    out_dir: str | Path,
    *,
    progress: bool = True,
) -> list[GradingReport]:
    """Grade every submission in `folder`; write per-submission and combined results to `out_dir`.

    One submission whose grading raises does not stop the batch: it gets a zero-score report
    with a `grader` note. The gradebook and combined JUnit file are rewritten after each
    submission, so an interrupted batch still leaves the results so far.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(folder)
    targets = output_dirs(submissions, out_dir)
    bar = Progress(len(submissions), sys.stderr, enabled=progress)
    reports: list[GradingReport] = []
    for submission in submissions:
        bar.start(submission.name)
        started = time.monotonic()
        try:
            report = grader.grade(submission)
        except Exception as exc:  # a grader bug on one file must not lose the other grades
            report = error_report(submission, exc, time.monotonic() - started)
            bar.message(
                f"autograder: error grading {submission.name}: {report.part_notes[ERROR_NOTE]}"
            )
        reports.append(report)
        _write_one(report, targets[submission], bar)
        csv_export.write(reports, out_dir / "grades.csv")
        junit.write(reports, out_dir / "junit.xml")
        bar.finish(
            submission.name,
            "ERROR" if is_error(report) else f"{report.score:g}/{report.max_score:g}",
        )
    if not submissions:
        csv_export.write([], out_dir / "grades.csv")
        junit.write([], out_dir / "junit.xml")
    bar.close()
    return reports


def _write_one(report: GradingReport, target: Path, bar: Progress) -> None:
    for name, exporter in (
        ("results.json", gradescope),
        ("junit.xml", junit),
        ("report.html", html),
    ):
        try:
            exporter.write(report, target / name)
        except Exception as exc:  # e.g. a plot of odd artifacts: keep the grade and the other files
            bar.message(f"autograder: could not write {target / name}: {type(exc).__name__}: {exc}")


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

    On a terminal: `[###-------] 3/10 alice.ipynb 87/100 (eta 2m10s)`; in a log: `3/10 alice.ipynb
    87/100 (eta 2m10s)`.
    """

    WIDTH = 10

    def __init__(self, total: int, stream: TextIO, *, enabled: bool = True) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.done = 0
        self.started = time.monotonic()
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._drawn = False

    def start(self, name: str) -> None:
        """Show which submission is being graded (terminal only: a plain log gets finished lines)."""
        if self.enabled and self.tty:
            self._draw(f"{self._bar()} {self.done}/{self.total} grading {name}{self._eta()}")

    def finish(self, name: str, result: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        line = f"{self.done}/{self.total} {name} {result}{self._eta()}"
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

    def _eta(self) -> str:
        if not self.done or self.done >= self.total:
            return ""
        per_item = (time.monotonic() - self.started) / self.done
        return f" (eta {format_duration(per_item * (self.total - self.done))})"

    def _draw(self, line: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns - 1
        if len(line) > width:
            line = line[: max(0, width - 1)] + "…"
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self._drawn = True

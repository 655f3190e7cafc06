"""A gradebook CSV: one row per submission, one column per part.

Example:
    >>> write(reports, "results/batch/grades.csv").read_text().splitlines()[0]
    'submission,score,max_score,CLASS_NAMES,load_data,...,pipeline,execution_time,isolation,notes'
"""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

from autograder.exporters.sanitize import spreadsheet_cell
from autograder.results import GradingReport

LEADING: tuple[str, ...] = ("submission", "score", "max_score")
TRAILING: tuple[str, ...] = ("execution_time", "isolation", "notes")


def columns(reports: list[GradingReport]) -> tuple[str, ...]:
    """The header: a column per part of the reports' exercises (a part a report did not grade
    is left empty), then any other part a report graded, in rubric order."""
    from autograder.exercise_spec import ExerciseError, load_exercise

    parts: dict[str, None] = {}
    for report in reports:
        # An old record, or an exercise this kit does not have: its own parts only.
        with contextlib.suppress(ExerciseError):
            parts.update(dict.fromkeys(load_exercise(report.exercise).part_names))
        parts.update(dict.fromkeys(report.parts()))
    return (*LEADING, *parts, *TRAILING)


def _text(value: str) -> str:
    """One line of text that a spreadsheet shows as text, never runs as a formula (notes and
    file names come from students)."""
    return spreadsheet_cell(value)


def row(report: GradingReport) -> dict[str, str]:
    """The CSV row of one report; a part that was not graded is left empty."""
    graded = set(report.parts())
    values = {
        "submission": _text(report.submission),
        "score": f"{report.score:g}",
        "max_score": f"{report.max_score:g}",
        "execution_time": f"{report.execution_time:.2f}",
        "isolation": _text(report.isolation),
        "notes": _text("; ".join(f"{part}: {note}" for part, note in report.part_notes.items())),
    }
    for part in graded:
        values[part] = f"{report.part_score(part)[0]:g}"
    return values


def write(reports: list[GradingReport], path: str | Path) -> Path:
    """Write the gradebook of `reports` to `path`, header first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns(reports), restval="")
        writer.writeheader()
        writer.writerows(row(report) for report in reports)
    return path

"""A class's gradebooks: `grades.csv` in nbgrader's export format, `parts.csv` per part.

`grades.csv` has exactly the columns of `nbgrader export` (nbgrader 0.9's `CsvExportPlugin`), in
its order and number format, one row per student, so whatever imports nbgrader's `grades.csv`
(an LMS upload script, a spreadsheet) imports this one. `parts.csv` is the kit's own gradebook
(`exporters.csv_export`: a column per part, time, isolation, notes) with the student id first.
A submission here is the batch's (`autograder.batch.layouts.Submission`): its student id, names,
assignment and timestamp.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.exporters import csv_export
from autograder.results import GradingReport

NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)


def _text(value: str) -> str:
    """One line that a spreadsheet shows as text, never runs as a formula (ids come from names)."""
    value = re.sub(r"\s*\n\s*", " | ", value.strip())
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _number(value: float) -> str:
    return str(float(value))  # nbgrader writes floats: 87.0


def nbgrader_row(submission: Any, report: GradingReport, max_score: float) -> dict[str, str]:
    score = report.score
    return {
        # nbgrader's assignment name is the exercise's (nbgrader_config.py, assignments/).
        "assignment": _text(submission.assignment or report.exercise),
        "duedate": "",
        "timestamp": _text(submission.timestamp),
        "student_id": _text(submission.student_id),
        "last_name": _text(submission.last_name),
        "first_name": _text(submission.first_name),
        "email": "",
        "raw_score": _number(score),
        "late_submission_penalty": _number(0.0),
        "score": _number(max(0.0, score)),
        "max_score": _number(report.max_score or max_score),
    }


def _csv_bytes(columns: Sequence[str], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_nbgrader_grades(
    graded: Sequence[tuple[Any, GradingReport]], path: Path, max_score: float
) -> Path:
    """`grades.csv`: one row per (submission, report), in nbgrader's export format."""
    rows = [nbgrader_row(s, r, max_score) for s, r in graded]
    Path(path).write_bytes(_csv_bytes(NBGRADER_COLUMNS, rows))
    return Path(path)


def write_parts(graded: Sequence[tuple[Any, GradingReport]], path: Path, _max: float) -> Path:
    """`parts.csv`: the student id, then the kit's gradebook columns (a column per part)."""
    rows = [{"student_id": _text(s.student_id), **csv_export.row(r)} for s, r in graded]
    columns = ("student_id", *csv_export.columns([r for _, r in graded]))
    Path(path).write_bytes(_csv_bytes(columns, rows))
    return Path(path)

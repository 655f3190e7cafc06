"""A batch's gradebooks: `grades.csv` in nbgrader's export format, `parts.csv` per part.

`grades.csv` has exactly the columns of `nbgrader export` (nbgrader 0.9's `CsvExportPlugin`), in
its order and number format, one row per student, so whatever imports nbgrader's `grades.csv`
(an LMS upload script, a spreadsheet) imports this one. `parts.csv` is the kit's own gradebook
(`exporters.csv_export`: a column per part, time, isolation, notes) with the student id first.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from autograder.batch.layouts import Submission
from autograder.batch.store import atomic_write_bytes
from autograder.exporters import csv_export, junit
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


def nbgrader_row(submission: Submission, report: GradingReport, max_score: float) -> dict[str, str]:
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


def write_all(
    out_dir: Path, graded: list[tuple[Submission, GradingReport]], max_score: float
) -> None:
    """Rewrite `grades.csv`, `parts.csv` and the combined `junit.xml`, each atomically."""
    graded = sorted(graded, key=lambda item: item[0].key)
    nbgrader_rows = [nbgrader_row(s, r, max_score) for s, r in graded]
    atomic_write_bytes(out_dir / "grades.csv", _csv_bytes(NBGRADER_COLUMNS, nbgrader_rows))
    part_rows = [{"student_id": _text(s.student_id), **csv_export.row(r)} for s, r in graded]
    columns = ("student_id", *csv_export.columns([r for _, r in graded]))
    atomic_write_bytes(out_dir / "parts.csv", _csv_bytes(columns, part_rows))
    tmp = out_dir / ".junit.xml.tmp"
    junit.write([r for _, r in graded], tmp)
    tmp.replace(out_dir / "junit.xml")

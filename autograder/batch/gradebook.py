"""A batch's class files: each class exporter's file (autograder.exporters.registry: the
nbgrader `grades.csv`, `parts.csv`, the combined `junit.xml`), rewritten atomically."""

from __future__ import annotations

from pathlib import Path

from autograder.batch.layouts import Submission
from autograder.batch.store import atomic_write_with
from autograder.exporters.gradebooks import NBGRADER_COLUMNS, nbgrader_row
from autograder.exporters.registry import class_exporters
from autograder.results import GradingReport

__all__ = ["NBGRADER_COLUMNS", "nbgrader_row", "write_all"]


def write_all(
    out_dir: Path, graded: list[tuple[Submission, GradingReport]], max_score: float
) -> None:
    """Rewrite every class exporter's file, each atomically, in student order."""
    graded = sorted(graded, key=lambda item: item[0].key)
    for exporter in class_exporters():
        write = exporter.write_class
        atomic_write_with(
            out_dir / exporter.file_name, lambda tmp, w=write: w(graded, tmp, max_score)
        )

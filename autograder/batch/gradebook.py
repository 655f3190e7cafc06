"""A batch's class files: each class exporter's file (autograder.exporters.registry: the
nbgrader `grades.csv`, `parts.csv`, the combined `junit.xml`), rewritten atomically."""

from __future__ import annotations

from pathlib import Path

from autograder.batch.layouts import Submission
from autograder.batch.store import atomic_write_with
from autograder.exporters.gradebooks import NBGRADER_COLUMNS, nbgrader_row
from autograder.exporters.registry import class_exporters, export_failure
from autograder.results import GradingReport

__all__ = ["NBGRADER_COLUMNS", "nbgrader_row", "write_all"]


def write_all(
    out_dir: Path, graded: list[tuple[Submission, GradingReport]], max_score: float
) -> dict[Path, str]:
    """Rewrite every class exporter's file, each atomically, in student order.

    An exporter that fails never stops the others nor the batch: its file is removed (an older
    run's file must not pass for this one's) and the failure returned, `{path: "OSError: ..."}`
    (empty when every file was written). The grades themselves are in the batch's records."""
    graded = sorted(graded, key=lambda item: item[0].key)
    failed: dict[Path, str] = {}
    for exporter in class_exporters():
        write, path = exporter.write_class, out_dir / exporter.file_name
        try:
            atomic_write_with(path, lambda tmp, w=write: w(graded, tmp, max_score))
        except Exception as exc:  # a noted failure, never a stopped batch
            failed[path] = export_failure(exc)
            path.unlink(missing_ok=True)
    return failed

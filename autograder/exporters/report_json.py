"""The whole grading report as JSON: what `autograder grade --report` writes.

The same record a batch stores (`GradingReport.to_dict()`): every check with its feedback, the
part notes, and the artifacts (each part's seconds in the sandbox, the test accuracy, ...).
`GradingReport.from_dict` reads it back.

Example:
    >>> from autograder.exporters import report_json
    >>> report_json.write(report, "report.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.results import GradingReport


def write(report: GradingReport, path: str | Path) -> Path:
    """Write `report` as JSON to `path`; values JSON has no type for are written as text."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=1, default=str), encoding="utf-8")
    return path

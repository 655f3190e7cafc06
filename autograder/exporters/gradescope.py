"""Gradescope's `results.json` schema: score, execution_time, tests[] with name/score/max_score/status/output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.exporters.sanitize import printable
from autograder.results import GradingReport
from autograder.student_text import continued


def to_gradescope(report: GradingReport) -> dict[str, Any]:
    output = f"Isolation: {report.isolation}"
    if report.artifacts.get("test_accuracy") is not None:
        output += f"\nPipeline test accuracy: {report.artifacts['test_accuracy']:.4f}"
    notes = [f"{k}: {continued(v)}" for k, v in report.part_notes.items()]
    if notes:
        output += "\n" + "\n".join(notes)
    return {
        "score": report.score,
        "execution_time": round(report.execution_time, 2),
        "output": printable(output),
        # Plain text: Gradescope's default format renders HTML, and this text is the student's.
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "tests": [
            {
                "name": printable(t.name),
                "score": t.score,
                "max_score": t.max_score,
                "status": t.status,
                "output": printable(t.output),
            }
            for t in report.tests
        ],
    }


def write(report: GradingReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_gradescope(report), indent=2))
    return path

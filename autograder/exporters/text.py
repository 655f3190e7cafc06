"""A readable terminal summary: one line per check, feedback under each failure."""

from __future__ import annotations

import textwrap
from pathlib import Path

from autograder.exporters.sanitize import printable
from autograder.results import GradingReport
from autograder.student_text import continued

PASS, FAIL = "PASS", "FAIL"


def render(report: GradingReport, *, verbose: bool = False) -> str:
    """The summary printed by `autograder grade`: printable text only (student output can carry
    escape sequences that would repaint the terminal)."""
    lines = [
        f"Score: {report.score:g}/{report.max_score:g} for {Path(report.submission).name}"
        f"   (graded in {report.execution_time:.1f} s)",
        to_fix(report),
        "",
    ]
    for part in report.parts():
        lines += render_part(report, part, verbose=verbose)
        lines.append("")
    for key, note in report.part_notes.items():
        if key not in report.parts():
            lines.append(f"Note ({key}): {continued(note)}")
    accuracy = report.artifacts.get("test_accuracy")
    if accuracy is not None:
        lines.append(f"Pipeline test accuracy measured by the grader: {accuracy:.4f}")
    lines.append(f"Isolation: {report.isolation}")
    return printable("\n".join(lines))


def to_fix(report: GradingReport) -> str:
    """One line: the parts that lost points, or that there is nothing to fix."""
    lost = [
        f"{part} {score:g}/{maximum:g}"
        for part in report.parts()
        for score, maximum in [report.part_score(part)]
        if score < maximum
    ]
    if not report.tests:
        return "Not graded."
    return "To fix: " + ", ".join(lost) if lost else "All checks passed."


def render_part(report: GradingReport, part: str, *, verbose: bool = False) -> list[str]:
    """The lines for one part: its score, one line per check, feedback under each failure."""
    score, maximum = report.part_score(part)
    lines = [printable(f"{part}  {score:g}/{maximum:g}")]
    previous = ""
    for test in (t for t in report.tests if t.part == part):
        mark = PASS if test.passed else FAIL
        lines.append(printable(f"  [{mark}] {test.name}  ({test.score:g}/{test.max_score:g})"))
        # A part-level reason (crash, timeout, stub) is the same for all its checks: say it
        # once, and point back to it from every later check it explains.
        if test.output and (verbose or not test.passed):
            if test.output == previous:
                lines.append("         (the same as above)")
            else:
                lines.append(textwrap.indent(printable(test.output), "         "))
            previous = test.output
    return lines

"""JUnit XML, the format CI servers and LMS plugins read: one <testsuite> per submission.

Example:
    >>> xml = to_junit([report])
    >>> xml.startswith('<?xml version="1.0" encoding="utf-8"?>')
    True
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.exporters.sanitize import printable
from autograder.results import GradingReport
from autograder.student_text import continued

# Characters XML 1.0 forbids even when escaped (C0 controls but tab/newline/return, lone
# surrogates, U+FFFE/U+FFFF). Student output can contain any of them.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def xml_text(value: object) -> str:
    """`value` as printable text that is legal in XML 1.0 and HTML: escape sequences and control
    characters are dropped, other illegal characters become U+FFFD.

    >>> xml_text("ok\\x00\\x1b[31m!\\ud800") == "ok!\\ufffd"
    True
    """
    return _ILLEGAL_XML.sub(REPLACEMENT, printable(value))


def _number(value: float) -> str:
    return f"{value:g}"


def _suite(report: GradingReport) -> ET.Element:
    failed = [t for t in report.tests if not t.passed]
    suite = ET.Element(
        "testsuite",
        name=xml_text(report.submission),
        tests=str(len(report.tests)),
        failures=str(len(failed)),
        errors="0",
        skipped="0",
        time=f"{report.execution_time:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("score", _number(report.score)),
        ("max_score", _number(report.max_score)),
        ("isolation", report.isolation),
    ):
        ET.SubElement(properties, "property", name=key, value=xml_text(value))
    for test in report.tests:
        case = ET.SubElement(
            suite, "testcase", classname=xml_text(test.part), name=xml_text(test.name)
        )
        if not test.passed:
            output = (
                xml_text(test.output) or f"scored {_number(test.score)}/{_number(test.max_score)}"
            )
            first_line = next((line for line in output.splitlines() if line.strip()), "")
            failure = ET.SubElement(case, "failure", message=first_line.strip())
            failure.text = output
    if report.part_notes:
        notes = "\n".join(f"{part}: {continued(note)}" for part, note in report.part_notes.items())
        ET.SubElement(suite, "system-out").text = xml_text(notes)
    return suite


def to_junit(reports: list[GradingReport]) -> str:
    """A <testsuites> document with one <testsuite> per report."""
    root = ET.Element(
        "testsuites",
        name="autograder",
        tests=str(sum(len(r.tests) for r in reports)),
        failures=str(sum(not t.passed for r in reports for t in r.tests)),
        errors="0",
        time=f"{sum(r.execution_time for r in reports):.3f}",
    )
    root.extend(_suite(report) for report in reports)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(report_or_reports: GradingReport | list[GradingReport], path: str | Path) -> Path:
    """Write one report, or several, as JUnit XML to `path`."""
    reports = (
        [report_or_reports] if isinstance(report_or_reports, GradingReport) else report_or_reports
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_junit(list(reports)), encoding="utf-8")
    return path


def write_class(graded: Sequence[tuple[Any, GradingReport]], path: str | Path, _max: float) -> Path:
    """A class's combined JUnit XML: one suite per (submission, report), in the order given."""
    return write([report for _, report in graded], path)

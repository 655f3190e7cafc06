"""The exporter registry: every output format, by name, with its writer and default file name.

`autograder grade` offers one option per exporter that writes a grading (`--results PATH`,
`--junit PATH`, ...) and `autograder batch` writes, for each student, the file of each such
exporter that is `per_student`, and for the class the file of each exporter that writes a
class. Adding an exporter is its own module plus one `Exporter` in `EXPORTERS` (or a call to
`register` for one defined elsewhere).

Example:
    >>> [e.name for e in grading_exporters()]
    ['results', 'junit', 'html', 'report']
    >>> [e.file_name for e in class_exporters()]
    ['junit.xml', 'grades.csv', 'parts.csv']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.results import GradingReport

# One grading's report -> the file at the path given.
GradingWriter = Callable[[GradingReport, Path], object]
# A class's (submission, report) pairs, in student order, and the assignment's maximum -> the
# file at the path given (the submission has the batch's student id, names and assignment).
ClassWriter = Callable[[Sequence[tuple[Any, GradingReport]], Path, float], object]


@dataclass(frozen=True)
class Exporter:
    """One output format. `name` is its `autograder grade` option (`--<name> PATH`)."""

    name: str
    file_name: str  # the batch's name for its file (per student, and for the class)
    help: str = ""  # the option's help
    label: str = ""  # what `grade` prints: "<label> written to PATH"
    write: GradingWriter | None = None  # one grading; None: a class's only
    write_class: ClassWriter | None = None  # a whole class (batch); None: per grading only
    per_student: bool = True  # batch writes `write`'s file in each student's folder


def export_failure(exc: BaseException) -> str:
    """How a writer's failure is reported, by `grade` and `batch` alike: its type and message.

    Example:
        >>> export_failure(OSError("disk quota exceeded"))
        'OSError: disk quota exceeded'
    """
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def lazy(reference: str) -> Callable[..., object]:
    """The function `"module:name"`, imported when first called: the CLI builds its options
    from this registry, and `autograder --help` need not import NumPy for the HTML report."""
    module, _, name = reference.partition(":")

    def call(*args: Any) -> object:
        return getattr(importlib.import_module(module), name)(*args)

    call.__qualname__ = call.__name__ = reference
    return call


EXPORTERS: list[Exporter] = [
    Exporter(
        "results",
        "results.json",
        help="write Gradescope results.json here",
        label="Results",
        write=lazy("autograder.exporters.gradescope:write"),
    ),
    Exporter(
        "junit",
        "junit.xml",
        help="write a JUnit XML report here",
        label="JUNIT report",
        write=lazy("autograder.exporters.junit:write"),
        write_class=lazy("autograder.exporters.junit:write_class"),
    ),
    Exporter(
        "html",
        "report.html",
        help="write an HTML feedback report here",
        label="HTML report",
        write=lazy("autograder.exporters.html:write"),
    ),
    Exporter(
        "report",
        "report.json",
        help="write the whole grading report here as JSON (every check, the notes, and "
        "artifacts such as each part's seconds in the sandbox)",
        label="REPORT report",
        write=lazy("autograder.exporters.report_json:write"),
        per_student=False,  # a batch keeps the same report in each student's record.json
    ),
    Exporter(
        "grades",
        "grades.csv",
        write_class=lazy("autograder.exporters.gradebooks:write_nbgrader_grades"),
    ),
    Exporter("parts", "parts.csv", write_class=lazy("autograder.exporters.gradebooks:write_parts")),
]


def register(exporter: Exporter) -> Exporter:
    """Add `exporter` (after the built-in ones); its name and file names must be new."""
    for known in EXPORTERS:
        if known.name == exporter.name:
            raise ValueError(f"exporter name {exporter.name!r} is already registered")
        if known.file_name == exporter.file_name and (
            (known.write_class and exporter.write_class)
            or (known.write and known.per_student and exporter.write and exporter.per_student)
        ):
            raise ValueError(f"exporter file name {exporter.file_name!r} is already written")
    if exporter.write is None and exporter.write_class is None:
        raise ValueError(f"exporter {exporter.name!r} has no writer")
    EXPORTERS.append(exporter)
    return exporter


def grading_exporters() -> list[Exporter]:
    """The exporters of one grading, in option order: `grade`'s options."""
    return [e for e in EXPORTERS if e.write is not None]


def student_exporters() -> list[Exporter]:
    """The files a batch writes in each student's folder."""
    return [e for e in grading_exporters() if e.per_student]


def class_exporters() -> list[Exporter]:
    """The files a batch writes for the class."""
    return [e for e in EXPORTERS if e.write_class is not None]

"""The autograded test cells' side of nbgrader: `grade_part("build_model")` in a hidden test.

On the first call in a kernel it grades the notebook file being autograded with the full
sandboxed grader (the same `Grader.grade` as `autograder grade`, so the totals agree), caches the
report, and returns for each part an object whose only output is an `execute_result`:

* `text/plain` is the part's score, which nbgrader takes as the cell's (partial) grade
  (`nbgrader.utils.determine_grade`: a lone execute_result whose text parses as a float between 0
  and the cell's points);
* `text/html` is the grader's feedback for the part, shown in nbgrader's feedback.

Nothing is printed: nbgrader scores a cell 0 when it writes to stderr.

nbgrader executes the notebook with the working directory set to its folder (`autograded/
<student>/<assignment>/`, holding the submission with the locked cells already restored), so the
notebook is found there; `AUTOGRADER_NOTEBOOK` or Jupyter's `JPY_SESSION_NAME` pick one when the
folder has several.
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import exercise

_GRADER: Any = None
_CACHE: dict[tuple, tuple[Any, list[str]]] = {}  # (path, mtime, size) -> (report, tampered cells)


class GradingUnavailable(RuntimeError):
    """The grader cannot run here (no notebook found, no data). Shown as one line in the cell."""

    def _render_traceback_(self) -> list[str]:  # IPython: no traceback, no test source
        return [f"{type(self).__name__}: {self}"]


@dataclass
class PartResult:
    """What a test cell shows: the part's score as text, the feedback as HTML."""

    part: str
    score: float
    max_score: float
    html: str

    def __repr__(self) -> str:
        return f"{self.score:g}"

    def _repr_html_(self) -> str:
        return self.html


@contextlib.contextmanager
def _silenced():
    """No output at all while grading: Python streams, warnings, logging and the OS-level file
    descriptors 1 and 2 (TensorFlow's C++ logs bypass Python)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved: list[tuple[int, int]] = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
            except OSError:
                pass
        previous_disable = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        sink = io.StringIO()
        try:
            with (
                warnings.catch_warnings(),
                contextlib.redirect_stdout(sink),
                contextlib.redirect_stderr(sink),
            ):
                warnings.simplefilter("ignore")
                yield
        finally:
            logging.disable(previous_disable)
    finally:
        for fd, copy in saved:
            with contextlib.suppress(OSError):
                os.dup2(copy, fd)
                os.close(copy)
        os.close(devnull)


def find_notebook(directory: Path | None = None) -> Path:
    """The notebook being graded: in the working directory (where nbgrader runs it)."""
    directory = (directory or Path.cwd()).resolve()
    explicit = os.environ.get("AUTOGRADER_NOTEBOOK")
    if explicit:
        path = Path(explicit)
        path = path if path.is_absolute() else directory / path
        if not path.is_file():
            raise GradingUnavailable(f"AUTOGRADER_NOTEBOOK={explicit!r} is not a file")
        return path
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        path = Path(session)
        path = path if path.is_absolute() else directory / path
        # Only when it is in this folder: a JPY_SESSION_NAME inherited from another kernel
        # (nbgrader started from a notebook cell) names some other notebook.
        if path.suffix == ".ipynb" and path.is_file() and path.resolve().parent == directory:
            return path.resolve()
    candidates = sorted(p for p in directory.glob("*.ipynb") if p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    preferred = directory / "fashion_mnist.ipynb"
    if preferred in candidates:
        return preferred
    if not candidates:
        raise GradingUnavailable(f"no notebook to grade in {directory}")
    raise GradingUnavailable(
        f"several notebooks in {directory} ({', '.join(p.name for p in candidates)}); "
        "set AUTOGRADER_NOTEBOOK to the one to grade"
    )


def _grader():
    global _GRADER
    if _GRADER is None:
        from autograder.data import DataError
        from autograder.grader import Grader, GraderOptions

        try:
            # The defaults of `autograder grade`: same data, sandbox, limits and time limits.
            _GRADER = Grader(GraderOptions())
        except DataError as exc:
            raise GradingUnavailable(str(exc)) from None
    return _GRADER


def set_grader(grader) -> None:
    """Grade with this grader from now on (tests); forgets cached reports."""
    global _GRADER
    _GRADER = grader
    _CACHE.clear()


def original_submission(notebook: Path) -> Path | None:
    """The student's file as submitted, before nbgrader restored its locked cells.

    nbgrader autogrades `<root>/autograded/<student>/<assignment>/<nb>.ipynb`, written from
    `<root>/submitted/<student>/<assignment>/<nb>.ipynb`.
    """
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return None
    folder = notebook.resolve().parent
    if len(folder.parents) < 3:
        return None
    candidate = folder.parents[2] / "submitted" / folder.parent.name / folder.name / notebook.name
    return candidate if candidate.is_file() else None


def _tampered(notebook: Path) -> list[str]:
    from autograder.tamper import find_release, tampered_cells

    submitted = original_submission(notebook)
    if submitted is None:
        return []
    release = find_release(submitted)
    if release is None:
        return []
    try:
        return tampered_cells(submitted, release)
    except Exception:  # an unreadable notebook is for nbgrader to report, not the test cells
        return []


def grade_notebook(notebook: Path):
    """The report for `notebook` (graded once per saved version) and its tampered cells."""
    stat = notebook.stat()
    key = (str(notebook.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        with _silenced():
            report = _grader().grade(notebook)
            tampered = _tampered(notebook)
        _CACHE[key] = (report, tampered)
    return _CACHE[key]


def grade_part(part: str) -> PartResult:
    """Grade `part` of the notebook in the working directory; the cell's output is the score."""
    if part not in exercise.PARTS:
        raise GradingUnavailable(f"unknown part {part!r}; parts are {', '.join(exercise.PARTS)}")
    notebook = find_notebook()
    report, tampered = grade_notebook(notebook)
    score, maximum = report.part_score(part)
    first = part == report.parts()[0] if report.parts() else False
    return PartResult(part, score, maximum, render_html(report, part, tampered, first=first))


def render_html(report, part: str, tampered: list[str], *, first: bool = False) -> str:
    """The feedback for one part: each check, and what was expected and received when it failed."""
    score, maximum = report.part_score(part)
    ok = score >= maximum
    colour = "#2e7d32" if ok else "#c62828"
    rows = []
    previous = ""
    for test in (t for t in report.tests if t.part == part):
        mark = "PASS" if test.passed else "FAIL"
        detail = ""
        if not test.passed and test.output and test.output != previous:
            detail = f"<pre style='margin:2px 0 6px 2em;white-space:pre-wrap'>{html.escape(test.output)}</pre>"
            previous = test.output
        rows.append(
            f"<li><b style='color:{'#2e7d32' if test.passed else '#c62828'}'>[{mark}]</b> "
            f"{html.escape(test.name)} ({test.score:g}/{test.max_score:g}){detail}</li>"
        )
    notes = []
    if f"test_{part}" in tampered:
        notes.append(
            f"This locked test cell (test_{part}) was changed in the submission; it was restored "
            "and graded as released."
        )
    if first and tampered:
        notes.append("Locked cells changed in the submission: " + ", ".join(tampered) + ".")
    if part == "pipeline":
        accuracy = report.artifacts.get("test_accuracy")
        if accuracy is not None:
            notes.append(f"Pipeline test accuracy measured by the grader: {accuracy:.4f}")
    note_html = "".join(f"<p style='color:#8d6e00'>{html.escape(n)}</p>" for n in notes)
    return (
        f"<div class='autograder-feedback'><p><b>{html.escape(part)}</b>: "
        f"<b style='color:{colour}'>{score:g}/{maximum:g}</b> points</p>"
        f"<ul style='list-style:none;padding-left:0'>{''.join(rows)}</ul>{note_html}</div>"
    )

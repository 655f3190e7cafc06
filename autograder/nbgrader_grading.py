"""nbgrader's autograde step, done by the kit's sandboxed grader in nbgrader's own process.

nbgrader normally executes the student's notebook in a kernel and takes each test cell's output
as its score; anything the student's cells define can change that output, so no point computed
in a kernel can be trusted. The course configuration (`nbgrader_config.py`) replaces nbgrader's
`Execute` step with `GradeInSandbox`, which:

1. grades the notebook nbgrader is autograding (its locked cells already restored) with the same
   `Grader.grade` as `autograder grade`, locked cells graded as released, so the routes agree;
2. writes every autograded test cell's output itself: one `execute_result` whose `text/plain` is
   the part's score (nbgrader's partial credit, `nbgrader.utils.determine_grade`) and whose
   `text/html` is the grader's feedback for the part (the pipeline's with the training curves and
   confusion matrix of the kit's HTML report), and the part's title for the feedback's table of
   contents in the cell's metadata (`autograder.title`, see autograder/nbgrader_feedback.py).

Student code therefore runs only in the grader's sandbox, never as the instructor. The hidden test
in each test cell, `scored_outside_the_kernel(part)`, fails the cell if a kernel ever runs it
during autograding (a configuration without `GradeInSandbox`): 0 points, never free points.

Example (nbgrader_config.py):
    c.Autograde.autograde_preprocessors = [
        "autograder.nbgrader_grading.GradeInSandbox",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        ...
    ]
"""

from __future__ import annotations

import html
import os
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells, SaveAutoGrades

from autograder.exporters.html import plots
from autograder.exporters.sanitize import printable
from autograder.results import GradingReport, TestResult
from autograder.student_text import one_line

TEST_PREFIX = "test_"
# Cell metadata the kit writes in autograded test cells (read by the feedback template).
CELL_METADATA_KEY = "autograder"
# A figure's PNG is bounded by its fixed size; one over this is left out, never the feedback.
MAX_PLOT_BYTES = 400_000
MAX_TITLE_CHECK = 80  # characters of a failed check's name in a table of contents entry
MAX_LOGGED_NAME = 80  # characters of a student's id or name in the autograde log


class GradingUnavailable(RuntimeError):
    """The grader cannot run here (no data): nbgrader reports the notebook as failed."""


class ScoredOutsideTheKernel(RuntimeError):
    """A test cell ran in a kernel during autograding: only the kit's preprocessor scores it."""

    def _render_traceback_(self) -> list[str]:  # IPython: no traceback, no test source
        return [f"{type(self).__name__}: {self}"]


def scored_outside_the_kernel(part: str) -> None:
    """The hidden test of a test cell. Under `nbgrader validate` it runs the kit's checks for the
    part in the student's kernel and fails the cell when the part would lose points (so Validate
    tells the truth; the grade itself still comes from the sandbox); in a plain run it does
    nothing; under `nbgrader autograde` it fails the cell, because there the kit's preprocessor
    must score it and a kernel never runs it."""
    execution = os.environ.get("NBGRADER_EXECUTION")
    if execution == "validate":
        from autograder.selfcheck import _caller_namespace, validate_part

        validate_part(part, _caller_namespace(1))
    elif execution == "autograde":
        raise ScoredOutsideTheKernel(
            f"test_{part} is scored by autograder.nbgrader_grading.GradeInSandbox, which this "
            "course's nbgrader_config.py must list instead of nbgrader's Execute"
        )


def _grader(assignment: str, notebook: Path):
    """The process's grader for the exercise this assignment is (the instructor's assignment
    name; never the notebook's metadata)."""
    from autograder.data import DataError
    from autograder.exercise_spec import ExerciseError, available_exercises, instructor_exercise
    from autograder.shared_graders import shared_grader

    try:
        if assignment not in available_exercises() and len(available_exercises()) > 1:
            raise ExerciseError(
                f"nbgrader assignment {assignment!r} is not an exercise of the kit (one of "
                f"{', '.join(available_exercises())}): name the assignment after its exercise"
            )
        exercise = instructor_exercise(assignment if assignment in available_exercises() else None)
        # The defaults of `autograder grade`: same data, sandbox, limits and time limits.
        return shared_grader(exercise.name)
    except (DataError, ExerciseError) as exc:
        raise GradingUnavailable(str(exc)) from None


def _current_release(release: Path | None) -> Path | None:
    """`release`, unless it is older than its source in the course: then no notebook is graded
    (GradingUnavailable naming it, as `autograder grade` refuses), never restored from it."""
    from autograder.authoring.rebuild import check_release_current
    from autograder.exercise_spec import ExerciseError

    if release is not None:
        try:
            check_release_current(release)
        except ExerciseError as exc:
            raise GradingUnavailable(str(exc)) from None
    return release


def set_grader(grader) -> None:
    """Grade this grader's exercise with it from now on (tests)."""
    from autograder.shared_graders import share_grader

    share_grader(grader)


def original_submission(notebook: Path) -> Path | None:
    """The student's file as submitted, before nbgrader restored its locked cells.

    nbgrader autogrades `<root>/autograded/<student>/<assignment>/<nb>.ipynb`, written from
    `<root>/submitted/<student>/<assignment>/<nb>.ipynb`.
    """
    folder = notebook.resolve().parent
    if len(folder.parents) < 3:
        return None
    candidate = folder.parents[2] / "submitted" / folder.parent.name / folder.name / notebook.name
    return candidate if candidate.is_file() else None


def _tampered(notebook: Path, release: Path | None) -> list[str]:
    from autograder.submission import MAX_SUBMISSION_BYTES
    from autograder.tamper import tampered_cells

    submitted = original_submission(notebook)
    if submitted is None or release is None:
        return []
    if submitted.stat().st_size > MAX_SUBMISSION_BYTES:  # graded "Not graded" for its size
        return []
    try:
        return tampered_cells(submitted, release)
    except Exception:  # an unreadable notebook is for nbgrader to report
        return []


def autograded_cells(nb) -> list:
    """The autograded test cells: nbgrader grade cells that are code and not solutions."""
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (
            isinstance(meta, dict)
            and meta.get("grade")
            and not meta.get("solution")
            and cell.get("cell_type") == "code"
        ):
            cells.append(cell)
    return cells


class GradeInSandbox(SaveAutoGrades):
    """Score every autograded test cell from the sandboxed grading of the notebook, then save the
    grades to the gradebook (it is nbgrader's `SaveAutoGrades`, preceded by the grading): a
    course that lists it cannot save a grade that did not come from the grader, and one that
    leaves it out saves none."""

    last_report: GradingReport | None = None  # the notebook score_cells graded last (the log)

    def preprocess(self, nb, resources):
        started, self.last_report = time.monotonic(), None
        student = student_label(resources)
        notebook = resources.get("nbgrader", {}).get("notebook") or "the notebook"
        # The formgrader shows only a spinner until autograding ends; the server's log says this.
        self.log.info("Grading %s's %s in the sandbox", student, notebook)
        nb, resources = self.score_cells(nb, resources)
        nb, resources = super().preprocess(nb, resources)
        if self.last_report is not None:
            self.log.info(
                score_line(self.last_report, student, notebook, time.monotonic() - started)
            )
        return nb, resources

    def score_cells(self, nb, resources):
        """Grade the notebook in the sandbox and write each test cell's single output."""
        from autograder.tamper import find_release

        folder = Path(resources.get("metadata", {}).get("path") or ".")
        name = resources.get("nbgrader", {}).get("notebook") or resources.get("unique_key")
        notebook_path = folder / f"{name}.ipynb"
        assignment = str(resources.get("nbgrader", {}).get("assignment") or "")
        with tempfile.TemporaryDirectory(prefix="autograder-nbgrader-") as scratch:
            copy = Path(scratch) / f"{name}.ipynb"
            nbformat.write(nb, str(copy))
            grader = _grader(assignment, copy)
            release = _current_release(find_release(notebook_path, grader.exercise))
            report = grader.grade(copy, release=release)
        report.submission = str(notebook_path)
        tampered = _tampered(notebook_path, release)
        parts = report.parts()
        for index, cell in enumerate(autograded_cells(nb)):
            grade_id = str(cell.metadata["nbgrader"].get("grade_id", ""))
            part = grade_id[len(TEST_PREFIX) :] if grade_id.startswith(TEST_PREFIX) else ""
            cell.execution_count = None
            cell.metadata[CELL_METADATA_KEY] = {"title": part_title(report, part, grade_id)}
            if part in parts:
                score, _ = report.part_score(part)
                body = render_html(report, part, tampered, first=index == 0)
                cell.outputs = [
                    nbformat.v4.new_output(
                        "execute_result",
                        data={"text/plain": f"{score:g}", "text/html": body},
                        execution_count=None,
                    )
                ]
            else:  # a test cell the kit does not grade scores nothing, whatever it printed
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename="NotGraded",
                        evalue=f"{grade_id} is not a part of {', '.join(grader.exercise.part_names)}",
                        traceback=[],
                    )
                ]
        self.last_report = report
        return nb, resources


def student_label(resources: dict) -> str:
    """The student being autograded, for the log: the id, then the gradebook's names when it
    has any (`alice (Ada Lovelace)`), never `None, None`; `the student` when nbgrader says none."""
    info = resources.get("nbgrader", {}) if isinstance(resources, dict) else {}
    student = info.get("student")
    if not student:
        return "the student"
    label = _bounded(str(student))
    names = _gradebook_names(info.get("db_url"), str(student))
    return f"{label} ({_bounded(names)})" if names else label


def _gradebook_names(db_url, student: str) -> str:
    """`First Last` from the gradebook, either one alone, or '' (no gradebook, no names)."""
    if not db_url:
        return ""
    try:
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gradebook:
            record = gradebook.find_student(student)
            names = [record.first_name, record.last_name]
    except Exception:  # a log line never fails the grading
        return ""
    return " ".join(str(n).strip() for n in names if n is not None and str(n).strip())


def _bounded(text: str) -> str:
    text = printable(one_line(text))
    return text if len(text) <= MAX_LOGGED_NAME else text[: MAX_LOGGED_NAME - 1] + "…"


def score_line(report: GradingReport, student: str, notebook: str, seconds: float) -> str:
    """The autograde log's one line for a student: who, the score, and where points were lost,
    e.g. `alice (Ada Lovelace): fashion_mnist scored 94/100 (lost points: predict_classes
    0/6), graded in the sandbox in 41.2 s`."""
    lost = []
    for part in report.parts():
        score, maximum = report.part_score(part)
        if score < maximum:
            lost.append(f"{part} {score:g}/{maximum:g}")
    where = f" (lost points: {', '.join(lost)})" if lost else ""
    return (
        f"{student}: {notebook} scored {report.score:g}/{report.max_score:g}{where}, "
        f"graded in the sandbox in {seconds:.1f} s"
    )


class RestoreLockedCells(OverwriteCells):
    """nbgrader's `OverwriteCells` (the sanitizing step that restores locked cells from the
    gradebook), which warns only about a locked cell the student really changed.

    nbgrader saves each locked cell in its gradebook before removing the hidden tests from the
    release, so the stock step found every test cell's checksum changed in every submission and
    said so (jupyter/nbgrader#1961): ten false alarms per student, around the real ones. A cell
    whose source is exactly its released source (the saved one without its hidden tests) gets
    the hidden tests back silently; any other change is reported and restored by nbgrader.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict, cell_index: int
    ) -> tuple[NotebookNode, dict]:
        saved = self._saved_locked_source(cell)
        if saved is not None and cell.source != saved and cell.source == self._released(saved):
            cell.source = saved
        return super().preprocess_cell(cell, resources, cell_index)

    def _saved_locked_source(self, cell: NotebookNode) -> str | None:
        """The gradebook's source of a locked cell (with its hidden tests); None otherwise."""
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            return None
        try:
            saved = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return None  # nbgrader reports the unknown cell itself
        return saved.source if saved.locked else None

    def _released(self, source: str) -> str:
        """`source` as `nbgrader generate_assignment` released it: without its hidden tests
        (nbgrader's own `ClearHiddenTests`, with the course's delimiters)."""
        cell = nbformat.v4.new_code_cell(source)
        try:
            ClearHiddenTests(parent=self)._remove_hidden_test_region(cell)
        except RuntimeError:  # unbalanced delimiters: nbgrader's own checks report the cell
            return source
        return cell.source


def quiet_gradebook_warnings() -> None:
    """Ignore SQLAlchemy's warning about the objects nbgrader's `Gradebook.add_submission`
    builds before adding them: it reads `submission.assignment.notebooks`, which autoflushes
    while the new submission is not yet in the session (SQLAlchemy >= 2.0.19 warns three times
    per student), and then adds the submission, which saves them all. Only those three messages
    from `nbgrader.api` are ignored."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings(
        "ignore",
        message=r"Object of type <Submitted(Assignment|Notebook)> not in session, add operation "
        r"along '(Assignment|Student|Notebook)\.submissions' will not proceed",
        category=SAWarning,
        module=r"nbgrader\.api$",
    )


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
        if not test.passed and test.output:
            shown = "(the same as above)" if test.output == previous else printable(test.output)
            detail = (
                f"<pre style='margin:2px 0 6px 2em;white-space:pre-wrap'>{html.escape(shown)}</pre>"
            )
            previous = test.output
        rows.append(
            f"<li><b style='color:{'#2e7d32' if test.passed else '#c62828'}'>[{mark}]</b> "
            f"{html.escape(printable(test.name))} ({test.score:g}/{test.max_score:g}){detail}</li>"
        )
    notes = []
    if f"test_{part}" in tampered:
        notes.append(
            f"This locked test cell (test_{part}) was changed in the submission; it was restored "
            "and graded as released."
        )
    if first and tampered:
        notes.append("Locked cells changed in the submission: " + ", ".join(tampered) + ".")
    if first and report.part_notes.get("loading"):
        notes.append("While loading your notebook, " + report.part_notes["loading"] + ".")
    if part == "pipeline":
        accuracy = report.artifacts.get("test_accuracy")
        if accuracy is not None:
            notes.append(f"Pipeline test accuracy measured by the grader: {accuracy:.4f}")
    note_html = "".join(f"<p style='color:#8d6e00'>{html.escape(printable(n))}</p>" for n in notes)
    figures = ""
    if part == "pipeline":
        try:  # a figure that cannot be drawn never costs the cell its feedback
            figures = plots_html(report)
        except Exception as exc:
            figures = (
                f"<p style='color:#8d6e00'>The plots could not be drawn "
                f"({html.escape(printable(type(exc).__name__))}).</p>"
            )
    return (
        f"<div class='autograder-feedback'><p><b>{html.escape(part)}</b>: "
        f"<b style='color:{colour}'>{score:g}/{maximum:g}</b> points</p>"
        f"<ul style='list-style:none;padding-left:0'>{''.join(rows)}</ul>{note_html}{figures}</div>"
    )


def plots_html(report: GradingReport) -> str:
    """The kit's HTML report's figures (training curves, confusion matrix), inline, each at most
    MAX_PLOT_BYTES; empty when the grading recorded none (a pipeline that did not train)."""
    images = []
    for figure in plots(report):
        if len(figure.png) > MAX_PLOT_BYTES:
            images.append(
                f"<p style='color:#8d6e00'>{html.escape(figure.alt)}: left out, "
                f"{len(figure.png):,} bytes.</p>"
            )
        else:
            images.append(figure.img("style='max-width:100%;height:auto;display:block'"))
    return "".join(images)


def part_title(report: GradingReport, part: str, grade_id: str = "") -> str:
    """The table of contents entry of a part's test cell: the part and what its checks found,
    e.g. `build_model: 1 of 8 checks failed (parameter counts 401,920 and 5,130)`."""
    tests = [t for t in report.tests if t.part == part]
    if not tests:
        return f"{grade_id or part}: not a part of this exercise, 0 points"
    failed = [t for t in tests if not t.passed]
    if len(failed) in (0, len(tests)):
        verdict = "failed" if failed else "passed"
        found = {1: f"the check {verdict}", 2: f"both checks {verdict}"}.get(
            len(tests), f"all {len(tests)} checks {verdict}"
        )
    else:
        found = f"{len(failed)} of {len(tests)} checks failed"
    if failed:
        more = f", and {len(failed) - 1} more" if len(failed) > 1 else ""
        found = f"{found} ({_check_description(failed[0])}{more})"
    accuracy = report.artifacts.get("test_accuracy") if part == "pipeline" else None
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool):
        found = f"test accuracy {accuracy:.4f}, {found}"
    return f"{part}: {found}"


def _check_description(test: TestResult) -> str:
    """A check's name without its part, on one bounded line."""
    name = printable(one_line(test.name)).removeprefix(f"{test.part}:").strip()
    return name if len(name) <= MAX_TITLE_CHECK else name[: MAX_TITLE_CHECK - 1] + "…"

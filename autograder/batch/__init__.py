"""Grade a whole class: any folder layout, N at once or on a Dask cluster, resumable.

Example:
    >>> from autograder.batch.worker import GraderFactory
    >>> reports = grade_folder("submitted/", out_dir="results/batch", jobs=2,
    ...                        factory=GraderFactory(GraderOptions()))  # doctest: +SKIP
    >>> sorted(p.name for p in Path("results/batch").iterdir())  # doctest: +SKIP
    ['alice', 'bob', 'grades.csv', 'grading-log.jsonl', 'junit.xml', 'parts.csv']

Per student (`out/<student id>/`): each per-student exporter's file (autograder.exporters.registry:
`results.json` (Gradescope), `junit.xml`, `report.html`) and `record.json` (the report with the hash of the graded bytes and the grader version, written last
and atomically: see `store`). For the class: each class exporter's file
(`grades.csv` in nbgrader's export format, `parts.csv` with points per part, a combined
`junit.xml`) and `grading-log.jsonl`. The gradebooks are rewritten
after each submission, so a batch stopped at any point leaves the grades so far, and the next run
grades only what is missing or changed.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from autograder.batch import gradebook
from autograder.batch.course import course_folders, course_release
from autograder.batch.engines import DaskCluster, InProcess, LocalPool, default_jobs
from autograder.batch.layouts import LAYOUTS, SUFFIXES, Submission, discover
from autograder.batch.progress import Progress, format_duration
from autograder.batch.store import ERROR_NOTE, Store, content_hash, grader_version
from autograder.batch.worker import GraderFactory, GraderUnavailable, error_report
from autograder.exporters.registry import export_failure, student_exporters
from autograder.results import GradingReport

__all__ = [
    "LAYOUTS",
    "SUFFIXES",
    "BatchResult",
    "GraderFactory",
    "GraderUnavailable",
    "Progress",
    "Submission",
    "course_folders",
    "course_release",
    "default_jobs",
    "discover",
    "error_report",
    "find_submissions",
    "format_duration",
    "grade_folder",
    "grade_submissions",
    "is_error",
]


class SupportsGrade(Protocol):
    def grade(self, submission: str | os.PathLike[str]) -> GradingReport: ...


def find_submissions(folder: str | Path, layout: str = "auto", assignment: str | None = None):
    """The submissions `grade_folder` would grade, as `Submission`s sorted by student id."""
    return discover(folder, layout, assignment)[0]


def is_error(report: GradingReport) -> bool:
    """The grader could not grade this submission (not a student's mistake)."""
    return not report.tests and ERROR_NOTE in report.part_notes


class BatchResult(list):
    """The reports of a batch in student order (a list), with what happened in this run."""

    def __init__(self, reports=(), *, graded=0, skipped=0, notes=(), engine="") -> None:
        super().__init__(reports)
        self.graded, self.skipped, self.notes, self.engine = graded, skipped, list(notes), engine
        # {path: why} for each file an exporter could not write (the grades are in the records).
        self.unwritten: dict[Path, str] = {}


def _exports(report: GradingReport, target: Path, bar: Progress, unwritten: dict) -> None:
    """The per-student files (autograder.exporters.registry), each replaced in one step; a file
    that cannot be written is printed, added to `unwritten` and removed (an earlier grading's
    file must not pass for this one's; the next run writes it from the record)."""
    for exporter in student_exporters():
        name = exporter.file_name
        tmp = target / f".{name}.tmp"
        try:
            exporter.write(report, tmp)
            tmp.replace(target / name)
        except Exception as exc:  # e.g. a plot of odd artifacts: keep the grade and the other files
            tmp.unlink(missing_ok=True)
            (target / name).unlink(missing_ok=True)
            unwritten[target / name] = export_failure(exc)
            bar.message(f"autograder: could not write {target / name}: {unwritten[target / name]}")


def _class_files(
    out_dir: Path, done: dict, max_score: float, bar: Progress, before: dict[Path, str]
) -> dict[Path, str]:
    """Rewrite the class files; the files this rewrite could not write, each printed unless
    the rewrite `before` it failed the same way (they are rewritten after every grading)."""
    failed = gradebook.write_all(out_dir, list(done.values()), max_score)
    for path, why in failed.items():
        if before.get(path) != why:
            bar.message(f"autograder: could not write {path}: {why}")
    return failed


def _label(submission: Submission) -> str:
    """How the progress bar names a submission: its file, or its student when the file's name
    is the same for everyone (nbgrader) or carries the student (LMS downloads)."""
    if submission.layout == "files":
        return submission.path.name
    return f"{submission.student_id} ({submission.path.name})"


def _result_text(report: GradingReport) -> str:
    return "ERROR" if is_error(report) else f"{report.score:g}/{report.max_score:g}"


def grade_submissions(
    submissions: list[Submission],
    out_dir: str | Path,
    engine: Any,
    *,
    version: str,
    force: bool = False,
    progress: bool = True,
    stream=None,
) -> BatchResult:
    """Grade `submissions` with `engine` into `out_dir`, skipping those already graded."""
    stream = stream or sys.stderr
    store = Store(out_dir)
    bar = Progress(len(submissions), stream, enabled=progress)
    unwritten: dict[Path, str] = {}  # per-student files; the class files' in class_unwritten
    class_unwritten: dict[Path, str] = {}
    done: dict[str, tuple[Submission, GradingReport]] = {}
    todo: list[Submission] = []
    for submission in submissions:
        record = store.load(submission.key)
        if not force and Store.is_current(
            record, content_hash(submission.path.read_bytes()), version
        ):
            report = GradingReport.from_dict(record["report"])
            done[submission.key] = (submission, report)
            folder = store.folder(submission.key)
            if not all((folder / e.file_name).is_file() for e in student_exporters()):
                _exports(report, folder, bar, unwritten)
        else:
            todo.append(submission)
    bar.skip(len(done))
    max_score = 0.0

    hashes: dict[str, str] = {}  # of the bytes actually sent: the file may change meanwhile

    def jobs() -> Iterator[tuple[Submission, str, bytes]]:
        for submission in todo:
            bar.start(_label(submission))
            data = submission.path.read_bytes()
            hashes[submission.key] = content_hash(data)
            yield submission, submission.path.name, data

    warned: set[str] = set()
    started = time.monotonic()
    try:
        for submission, outcome in engine.run(jobs()):
            if isinstance(outcome, GraderUnavailable):
                raise outcome
            if isinstance(outcome, BaseException):  # the worker died, the pool broke
                report = error_report(str(submission.path), outcome, 0.0)
                outcome = {"report": report.to_dict(), "worker": "", "grader_version": version}
            report = GradingReport.from_dict(outcome["report"])
            report.submission = str(submission.path)
            if outcome["grader_version"] != version and outcome["worker"] not in warned:
                warned.add(outcome["worker"])
                bar.message(
                    f"autograder: worker {outcome['worker']} runs grader {outcome['grader_version']}, "
                    f"this machine {version}: install the same kit everywhere (its results will be "
                    "regraded next time)"
                )
            if is_error(report):
                bar.message(
                    f"autograder: error grading {_label(submission)}: {report.part_notes[ERROR_NOTE]}"
                )
            folder = store.folder(submission.key)
            _exports(report, folder, bar, unwritten)
            store.save(
                submission.key,
                {
                    "key": submission.key,
                    "student_id": submission.student_id,
                    "assignment": submission.assignment,
                    "source": str(submission.path),
                    "sha256": hashes[submission.key],
                    "grader_version": outcome["grader_version"],
                    "grading_id": uuid.uuid4().hex,
                    "graded_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    "worker": outcome["worker"],
                    "report": report.to_dict(),
                },
            )
            done[submission.key] = (submission, report)
            max_score = max(max_score, report.max_score)
            class_unwritten = _class_files(store.out_dir, done, max_score, bar, class_unwritten)
            bar.finish(_label(submission), _result_text(report), failed=is_error(report))
    finally:
        bar.close()
    max_score = max([max_score, *(r.max_score for _, r in done.values())])
    class_unwritten = _class_files(store.out_dir, done, max_score, bar, class_unwritten)
    reports = [done[s.key][1] for s in submissions if s.key in done]
    result = BatchResult(
        reports,
        graded=len(todo),
        skipped=len(submissions) - len(todo),
        engine=getattr(engine, "description", ""),
    )
    result.seconds = time.monotonic() - started
    result.unwritten = {**unwritten, **class_unwritten}
    return result


def grade_folder(
    folder: str | Path,
    grader: SupportsGrade | None = None,
    out_dir: str | Path = "results/batch",
    *,
    factory: Callable[[], Any] | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    layout: str = "auto",
    assignment: str | None = None,
    progress: bool = True,
    version: str | None = None,
) -> BatchResult:
    """Grade every submission in `folder` (any layout `discover` knows) into `out_dir`.

    Give either a `grader` (graded here, one at a time) or a picklable `factory` that builds one:
    then `jobs` processes grade at once, each with its own grader, or the Dask scheduler at
    `scheduler` hands the submissions to its workers. One submission whose grading raises does not
    stop the batch: it gets a zero-score report with a `grader` note (and is retried next run).
    """
    submissions, notes = discover(folder, layout, assignment)
    if grader is None and factory is None:
        raise ValueError("grade_folder needs a grader or a factory")
    options = getattr(grader, "options", None) or getattr(factory, "options", None)
    version = version or grader_version(options)
    if scheduler:
        if factory is None:
            raise ValueError(
                "a Dask scheduler needs a grader factory: graders are built on workers"
            )
        engine: Any = DaskCluster(scheduler, factory)
    elif grader is not None or jobs <= 1:
        engine = InProcess(grader=grader, factory=factory)
    else:
        engine = LocalPool(factory, jobs)
    if not scheduler:  # here the grading code is this machine's: a Dask worker reports its own
        engine.version = version
    for note in notes:
        print(f"autograder: {note}", file=sys.stderr)
    result = grade_submissions(
        submissions, out_dir, engine, version=version, force=force, progress=progress
    )
    result.notes = notes
    return result

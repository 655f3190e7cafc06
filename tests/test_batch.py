"""Batch grading with fake graders: layouts, gradebooks, progress, resuming, a pool, SIGKILL.

No TensorFlow and no sandbox here (`batch_fakes`); real graders on a Dask cluster are in
`test_cluster.py`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import psutil
import pytest
from batch_fakes import FakeFactory, FakeGrader, FakeGraderContext, NoGrader, read_log

from autograder import batch
from autograder.batch import gradebook, layouts
from autograder.batch.store import LOG, RECORD, Store, atomic_write_bytes

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("bob.py", "alice.ipynb", "broken.ipynb", ".hidden.py", "notes.txt"):
        (folder / name).write_text(Path(name).stem.lstrip("."))
    (folder / "sub.py").mkdir()  # a directory without submissions
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def records(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(out.glob(f"*/{RECORD}"))}


def log_keys(out: Path) -> list[str]:
    return [json.loads(line)["key"] for line in (out / LOG).read_text().splitlines()]


# -- one batch, everything written ----------------------------------------------------------------
def test_grade_folder_writes_everything_and_survives_a_crash(tmp_path, capsys):
    folder, out = make_folder(tmp_path), tmp_path / "out"
    grader = FakeGrader()
    reports = batch.grade_folder(folder, grader, out)

    assert grader.graded == ["alice", "bob", "broken"]
    assert [r.score for r in reports] == [15, 4, 0]
    assert [Path(r.submission).name for r in reports] == ["alice.ipynb", "bob.py", "broken.ipynb"]
    broken = reports[2]
    assert broken.tests == []
    assert broken.part_notes == {"grader": "RuntimeError: sandbox exploded"}

    rows = read_csv(out / "parts.csv")
    assert [r["student_id"] for r in rows] == ["alice", "bob", "broken"]
    assert [r["score"] for r in rows] == ["15", "4", "0"]
    assert rows[1]["pipeline"] == "0" and rows[2]["pipeline"] == ""
    assert rows[2]["notes"] == "grader: RuntimeError: sandbox exploded"
    grades = read_csv(out / "grades.csv")
    assert [(g["student_id"], g["score"], g["max_score"]) for g in grades] == [
        ("alice", "15.0", "15.0"),
        ("bob", "4.0", "15.0"),
        ("broken", "0.0", "15.0"),
    ]

    for stem in ("alice", "bob", "broken"):
        for name in ("results.json", "junit.xml", "report.html", RECORD):
            assert (out / stem / name).is_file(), f"{stem}/{name}"
    assert not list(out.glob("**/*.tmp"))
    assert json.loads((out / "alice" / "results.json").read_text())["score"] == 15
    assert json.loads((out / "broken" / "results.json").read_text())["tests"] == []
    assert "RuntimeError: sandbox exploded" in (out / "broken" / "report.html").read_text()
    assert sorted(log_keys(out)) == ["alice", "bob", "broken"]

    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert [s.get("failures") for s in suites] == ["0", "1", "0"]

    err = capsys.readouterr().err.splitlines()
    assert "autograder: error grading broken.ipynb: RuntimeError: sandbox exploded" in err
    finished = [line for line in err if line.startswith(("1/3", "2/3", "3/3"))]
    assert finished[0].startswith("1/3 alice.ipynb 15/15 (eta ")
    assert finished[1].startswith("2/3 bob.py 4/15 (eta ")
    assert finished[2] == "3/3 broken.ipynb ERROR (1 failed)"
    assert "\r" not in "".join(err)  # not a terminal: plain lines only


def test_grade_folder_without_progress_still_reports_errors(tmp_path, capsys):
    batch.grade_folder(make_folder(tmp_path), FakeGrader(), tmp_path / "out", progress=False)
    err = capsys.readouterr().err.splitlines()
    assert err == ["autograder: error grading broken.ipynb: RuntimeError: sandbox exploded"]


def test_empty_folder_writes_empty_gradebooks(tmp_path):
    (tmp_path / "empty").mkdir()
    assert batch.grade_folder(tmp_path / "empty", FakeGrader(), tmp_path / "out") == []
    header = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert header == [",".join(gradebook.NBGRADER_COLUMNS)]
    parts = (tmp_path / "out" / "parts.csv").read_text().splitlines()
    assert parts[0].startswith("student_id,submission,score,max_score,") and len(parts) == 1


# -- layouts -------------------------------------------------------------------------------------
def write(path: Path, text: str = "bob") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def found(folder: Path, **kwargs) -> list[tuple[str, str, str]]:
    submissions, _ = layouts.discover(folder, **kwargs)
    return [(s.student_id, s.path.relative_to(folder).as_posix(), s.layout) for s in submissions]


def test_plain_files_keep_same_stem_submissions_apart(tmp_path):
    for name in ("a.ipynb", "a.py", "b.py"):
        write(tmp_path / name)
    subs, notes = layouts.discover(tmp_path)
    assert [(s.student_id, s.key) for s in subs] == [("a.ipynb",) * 2, ("a.py",) * 2, ("b", "b")]
    assert notes == []


def test_nbgrader_layout_from_the_course_root_or_submitted(tmp_path, capsys):
    course = tmp_path / "course"
    write(course / "submitted/alice/fashion_mnist/fashion_mnist.ipynb")
    write(course / "submitted/alice/fashion_mnist/timestamp.txt", "2026-11-28 17:05:01.123 UTC")
    write(course / "submitted/bob/fashion_mnist/fashion_mnist.ipynb")
    write(course / "submitted/bob/fashion_mnist/scratch.ipynb")  # the named notebook wins
    write(course / "submitted/bob/fashion_mnist/data.csv")
    expected = [
        ("alice", "alice/fashion_mnist/fashion_mnist.ipynb", "nbgrader"),
        ("bob", "bob/fashion_mnist/fashion_mnist.ipynb", "nbgrader"),
    ]
    assert found(course / "submitted") == expected
    subs, notes = layouts.discover(course)
    assert [(s.student_id, s.assignment, s.timestamp) for s in subs] == [
        ("alice", "fashion_mnist", "2026-11-28 17:05:01.123 UTC"),
        ("bob", "fashion_mnist", ""),
    ]
    assert notes == ["bob: 2 files, grading fashion_mnist.ipynb (not scratch.ipynb)"]
    grader = FakeGrader()
    batch.grade_folder(course, grader, tmp_path / "out")
    lines = capsys.readouterr().err.splitlines()
    assert lines[-2].startswith("1/2 alice (fashion_mnist.ipynb) 4/15 (eta ")
    assert lines[-1] == "2/2 bob (fashion_mnist.ipynb) 4/15"
    assert (tmp_path / "out" / "bob" / RECORD).is_file()

    write(course / "submitted/alice/other/other.ipynb")
    with pytest.raises(
        ValueError, match="several assignments .*fashion_mnist, other.*--assignment"
    ):
        layouts.discover(course)
    assert [s.student_id for s in layouts.discover(course, assignment="other")[0]] == ["alice"]
    with pytest.raises(ValueError, match="not an nbgrader course"):
        layouts.discover(tmp_path / "course" / "submitted" / "bob", layout="nbgrader")


def test_lms_downloads_name_the_student(tmp_path):
    """One platform per folder, detected once from all the names; plain files kept apart."""
    downloads = {
        "canvas": [
            "doejane_12345_67890_fashion_mnist.ipynb",
            "doejane_12345_67999_fashion_mnist-1.ipynb",  # the resubmission wins
            "smithjohn_LATE_222_333_fashion_mnist.ipynb",  # late
            "carol.py",  # a plain file
        ],
        "moodle": ["Ana María López_4321_assignsubmission_file_fashion_mnist.ipynb"],
        "blackboard": [
            "HW1_jdoe_attempt_2026-03-01-17-05-59_fashion_mnist.ipynb",
            "HW1_jdoe_attempt_2026-03-02-09-00-00_fashion_mnist.ipynb",  # a later attempt wins
            "HW1_jdoe_attempt_2026-03-02-09-00-00.txt",  # the comment file: not a submission
        ],
    }
    for platform, names in downloads.items():
        for name in names:
            write(tmp_path / platform / name)
    canvas = downloads["canvas"]
    subs, notes = layouts.discover(tmp_path / "canvas")
    assert [(s.student_id, s.path.name, s.layout) for s in subs] == [
        ("12345", canvas[1], "lms"),
        ("222", canvas[2], "lms"),
        ("carol", "carol.py", "files"),
    ]
    assert notes == [f"12345: 2 files, grading {canvas[1]} (not {canvas[0]})"]
    assert [s.student_id for s in layouts.discover(tmp_path / "canvas", layout="lms")[0]] == [
        "12345",
        "222",
    ]
    (moodle,), _ = layouts.discover(tmp_path / "moodle")
    assert (moodle.student_id, moodle.first_name, moodle.last_name) == (
        "4321",
        "Ana María",
        "López",
    )
    (board,), notes = layouts.discover(tmp_path / "blackboard")
    assert (board.student_id, board.timestamp) == ("jdoe", "2026-03-02 09:00:00")
    assert notes == [
        f"jdoe: 2 files, grading {downloads['blackboard'][1]} (not {downloads['blackboard'][0]})"
    ]


def test_a_file_name_a_student_chose_never_moves_her_grade_onto_another(tmp_path):
    """The attack of the security review: a Canvas upload named like the victim's Moodle file."""
    victim = "victimv_4321_1111_fashion_mnist.py"
    forged = "attackera_5555_2222_x_4321_assignsubmission_file_fashion_mnist-9.py"
    write(tmp_path / victim)
    write(tmp_path / forged)
    subs, notes = layouts.discover(tmp_path)
    assert {s.student_id: s.path.name for s in subs} == {"4321": victim, "5555": forged}
    assert notes == []
    # Names of two platforms in one folder are refused, with the way out.
    write(tmp_path / "Bob Stone_77_assignsubmission_file_fashion_mnist.ipynb")
    with pytest.raises(ValueError, match="several LMS platforms.*--layout canvas"):
        layouts.discover(tmp_path)
    # Named explicitly, each file is read only as that platform writes it.
    assert {s.student_id for s in layouts.discover(tmp_path, layout="canvas")[0]} == {
        "4321",
        "5555",
    }


def test_a_plain_file_cannot_take_a_student_id_the_platform_uses(tmp_path):
    write(tmp_path / "doejane_12345_67890_fashion_mnist.ipynb")
    write(tmp_path / "12345.py")
    with pytest.raises(ValueError, match="12345.py: named like a student id"):
        layouts.discover(tmp_path)


def test_a_folder_per_student_and_moodle_folders(tmp_path):
    write(tmp_path / "alice/fashion_mnist.ipynb")
    write(tmp_path / "alice/helper.py")  # a notebook is preferred to a module
    write(tmp_path / "Bob Stone_77_assignsubmission_file_/fashion_mnist.ipynb")
    write(tmp_path / "__MACOSX/._fashion_mnist.ipynb")
    subs, notes = layouts.discover(tmp_path)
    assert [(s.student_id, s.key, s.layout, s.last_name) for s in subs] == [
        ("77", "77", "folders", "Stone"),
        ("alice", "alice", "folders", ""),
    ]
    assert notes == ["alice: 2 files, grading fashion_mnist.ipynb (not helper.py)"]


def test_student_ids_become_safe_unique_folder_names(tmp_path):
    write(tmp_path / "x y/a.ipynb")
    write(tmp_path / "x_y/a.ipynb")
    write(tmp_path / "=eq/a.ipynb")
    keys = [s.key for s in layouts.discover(tmp_path)[0]]
    assert keys == ["_eq", "x_y", "x_y-2"]


# -- gradebook: nbgrader's export format ---------------------------------------------------------
class _Gradebook:
    """Just what nbgrader's CsvExportPlugin reads from its database."""

    def __init__(self, assignment, students, submissions):
        self.assignments, self.students, self._submissions = [assignment], students, submissions

    def find_submission(self, assignment, student):
        from nbgrader.api import MissingEntry

        if student not in self._submissions:
            raise MissingEntry()
        return self._submissions[student]


def test_grades_csv_has_nbgrader_export_columns_and_number_format(tmp_path):
    pytest.importorskip("nbgrader")
    from types import SimpleNamespace as NS

    from nbgrader.plugins.export import CsvExportPlugin

    nb_csv = tmp_path / "nbgrader.csv"
    assignment = NS(name="fashion_mnist", duedate=None, max_score=15.0)
    students = [NS(id="alice", last_name=None, first_name=None, email=None)]
    graded = {"alice": NS(timestamp="", score=15.0, late_submission_penalty=0.0)}
    CsvExportPlugin(to=str(nb_csv)).export(_Gradebook(assignment, students, graded))

    out = tmp_path / "out"
    folder = make_folder(tmp_path)
    (folder / "broken.ipynb").unlink()
    batch.grade_folder(folder, FakeGrader(), out, progress=False)
    ours = (out / "grades.csv").read_text().splitlines()
    theirs = nb_csv.read_text().splitlines()
    assert ours[0] == theirs[0]  # the same columns, in the same order
    assert ours[1] == theirs[1]  # and the same row for the same grade


# -- resuming ------------------------------------------------------------------------------------
def test_a_second_run_grades_only_what_is_new_or_changed(tmp_path, capsys):
    folder, out = make_folder(tmp_path), tmp_path / "out"
    first = batch.grade_folder(folder, FakeGrader(), out, progress=False)
    assert (first.graded, first.skipped) == (3, 0)
    before = records(out)

    grader = FakeGrader()
    again = batch.grade_folder(folder, grader, out, progress=False)
    # broken.ipynb could not be graded: a grader error is tried again, real grades are kept
    assert grader.graded == ["broken"] and (again.graded, again.skipped) == (1, 2)
    assert [r.score for r in again] == [15, 4, 0]
    after = records(out)
    assert after["alice"] == before["alice"] and after["bob"] == before["bob"]

    (folder / "bob.py").write_text("alice")  # bob changed his file: regraded
    (folder / "broken.ipynb").unlink()
    (out / "alice" / "report.html").unlink()  # an export deleted by hand is written again
    grader = FakeGrader()
    third = batch.grade_folder(folder, grader, out, progress=False)
    assert grader.graded == ["alice"] and [r.score for r in third] == [15, 15]
    assert (out / "alice" / "report.html").is_file()
    assert [g["student_id"] for g in read_csv(out / "grades.csv")] == ["alice", "bob"]

    grader = FakeGrader()
    batch.grade_folder(folder, grader, out, progress=False, force=True)
    assert grader.graded == ["alice", "alice"]

    grader = FakeGrader()
    batch.grade_folder(folder, grader, out, progress=False, version="another grader")
    assert grader.graded == ["alice", "alice"]  # a new grader version regrades everything
    assert Counter(log_keys(out)) == {"alice": 3, "bob": 4, "broken": 2}


def test_store_ignores_partial_or_foreign_records(tmp_path):
    store = Store(tmp_path)
    assert store.load("nobody") is None
    atomic_write_bytes(tmp_path / "x" / RECORD, b'{"sha256": "ab", "report"')  # never by us
    assert store.load("x") is None
    atomic_write_bytes(tmp_path / "y" / RECORD, b"[1, 2]")
    assert store.load("y") is None
    good = {"sha256": "ab", "grader_version": "v", "report": {"tests": [{}], "part_notes": {}}}
    assert Store.is_current(good, "ab", "v")
    assert not Store.is_current(good, "ac", "v") and not Store.is_current(good, "ab", "w")


# -- parallel ------------------------------------------------------------------------------------
def test_a_pool_of_processes_gives_the_same_results(tmp_path):
    folder = make_folder(tmp_path)
    for name in ("carol", "dave", "erin"):
        (folder / f"{name}.ipynb").write_text(name)
    local = batch.grade_folder(folder, FakeGrader(), tmp_path / "one", progress=False)
    log = tmp_path / "fake.log"
    pooled = batch.grade_folder(
        folder, out_dir=tmp_path / "two", factory=FakeFactory(str(log), 0.3), jobs=2, progress=False
    )

    def same(report):
        return {k: v for k, v in report.to_dict().items() if k != "execution_time"}

    assert [same(r) for r in pooled] == [same(r) for r in local]
    assert sorted(read_log(log)) == ["alice", "bob", "broken", "carol", "dave", "erin"]
    workers = {r["worker"] for r in records(tmp_path / "two").values()}
    pids = {w.split(":")[1] for w in workers}
    assert len(workers) == 2 and str(os.getpid()) not in pids
    assert set(read_log(log, closed=True)) == pids  # each process closed its grader at the end
    assert (tmp_path / "one" / "grades.csv").read_text() == (
        tmp_path / "two" / "grades.csv"
    ).read_text()


def test_a_worker_without_a_grader_stops_the_batch_without_recording(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(batch.GraderUnavailable, match="no Fashion-MNIST here"):
        batch.grade_folder(make_folder(tmp_path), out_dir=out, factory=NoGrader(), jobs=2)
    assert records(out) == {}


def test_an_unreachable_scheduler_stops_the_batch_with_one_line(tmp_path):
    pytest.importorskip("distributed")
    from autograder.batch.engines import DaskCluster

    subs, _ = layouts.discover(make_folder(tmp_path))
    engine = DaskCluster("tcp://127.0.0.1:9", FakeFactory(), connect_timeout=1)
    with pytest.raises(batch.GraderUnavailable, match="cannot reach the Dask scheduler at tcp://"):
        batch.grade_submissions(subs, tmp_path / "out", engine, version="v", progress=False)
    assert records(tmp_path / "out") == {}


def test_default_jobs_fits_cores_and_memory(monkeypatch):
    from autograder.batch import engines

    cores = len(os.sched_getaffinity(0))
    assert 1 <= engines.default_jobs() <= cores
    monkeypatch.setattr(engines, "_available_memory", lambda: 5 * engines.GIB)
    assert engines.default_jobs() == min(cores, 2)
    monkeypatch.setattr(engines, "_available_memory", lambda: engines.GIB // 2)
    assert engines.default_jobs() == 1


KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from batch_fakes import FakeFactory
from autograder.batch import grade_folder
grade_folder(sys.argv[1], out_dir=sys.argv[2], factory=FakeFactory(sys.argv[3], 0.6), jobs=2,
             progress=False)
"""


def test_sigkill_halfway_then_resume_grades_each_submission_exactly_once(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    names = [f"student{i:02d}" for i in range(10)]
    for name in names:
        write(folder / f"{name}.ipynb", name)
    run1_log, run2_log = tmp_path / "run1.log", tmp_path / "run2.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT.format(tests=str(TESTS)), folder, out, run1_log],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(records(out)) < 4:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the batch did not grade 4 submissions in 60 s"
            time.sleep(0.05)
        workers = psutil.Process(process.pid).children(recursive=True)
        assert len(workers) >= 2
        process.send_signal(signal.SIGKILL)  # the batch process only, mid-way
        process.wait(timeout=10)
        # its pool workers die with it (PR_SET_PDEATHSIG): nobody keeps grading
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert alive == []
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        process.stderr.close()

    after_kill = records(out)
    assert 4 <= len(after_kill) < len(names), "killed too late to test resuming"
    assert not [p for p in out.glob("*/*") if p.name.startswith(".")], "a partial file was left"

    resumed = batch.grade_folder(
        folder, out_dir=out, factory=FakeFactory(str(run2_log)), jobs=2, progress=False
    )
    final = records(out)
    assert sorted(final) == names  # none lost
    assert [r.score for r in resumed] == [4] * len(names)
    # none graded twice: what run 1 committed is untouched, run 2 graded exactly the rest, once
    assert {k: final[k] for k in after_kill} == after_kill
    assert sorted(read_log(run2_log)) == sorted(set(names) - set(after_kill))
    assert (resumed.graded, resumed.skipped) == (len(names) - len(after_kill), len(after_kill))
    lines = [json.loads(line) for line in (out / LOG).read_text().splitlines()]
    assert Counter(line["key"] for line in lines).most_common(1)[0][1] == 1
    assert all(line["grading_id"] == final[line["key"]]["grading_id"] for line in lines)
    assert len(read_csv(out / "grades.csv")) == len(names)


# -- progress ------------------------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_redraws_one_line():
    stream = FakeTerminal()
    bar = batch.Progress(4, stream)
    bar.start("alice.ipynb")
    bar.finish("alice.ipynb", "87/100")
    bar.message("autograder: error grading bob.py: boom")
    bar.finish("bob.py", "ERROR", failed=True)
    bar.close()
    text = stream.getvalue()
    frames = text.split("\r\x1b[K")
    assert frames[1] == "[----------] 0/4 grading alice.ipynb"
    assert frames[2].startswith("[##--------] 1/4 alice.ipynb 87/100 (eta ")
    assert frames[3] == "autograder: error grading bob.py: boom\n"  # the bar was cleared first
    assert frames[4] == "[#####-----] 2/4 bob.py ERROR (1 failed, eta 0s)\n"


def test_progress_eta_counts_only_this_runs_gradings(monkeypatch):
    from autograder.batch import progress

    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    stream = io.StringIO()
    bar = batch.Progress(10, stream)
    bar.skip(6)  # graded by an earlier run: instant, not a rate
    now[0] += 30
    bar.finish("a", "1/1")
    now[0] += 30
    bar.finish("b", "ERROR", failed=True)
    assert stream.getvalue().splitlines() == [
        "7/10 a 1/1 (eta 1m30s)",
        "8/10 b ERROR (1 failed, eta 1m00s)",
    ]


def test_format_duration():
    assert [batch.format_duration(s) for s in (0, 59.6, 130, 3725)] == [
        "0s",
        "1m00s",
        "2m10s",
        "1h02m",
    ]


# -- command line --------------------------------------------------------------------------------


def test_cli_batch_grades_the_folder_and_prints_a_summary(tmp_path, capsys, monkeypatch):
    import autograder.grader
    from autograder import cli

    monkeypatch.setattr(autograder.grader, "Grader", FakeGraderContext)
    out = tmp_path / "out"
    folder = make_folder(tmp_path)
    args = ["batch", str(folder), "--out", str(out), "--jobs", "1", "--exercise", "fashion_mnist"]
    assert cli.main(args) == 0
    summary = capsys.readouterr().out.strip()
    assert summary == (
        f"Graded 3 submissions: mean score 6.33/15, 1 could not be graded. Results in {out}"
    )
    assert len(read_csv(out / "grades.csv")) == 3
    assert cli.main(args) == 0
    assert capsys.readouterr().out.strip() == (
        "Graded 3 submissions: mean score 6.33/15, 1 could not be graded "
        f"(2 already graded earlier, not regraded). Results in {out}"
    )


def test_cli_batch_refuses_a_missing_or_empty_folder_and_bad_jobs(tmp_path, capsys):
    from autograder import cli

    (tmp_path / "empty").mkdir()
    assert cli.main(["batch", str(tmp_path / "missing")]) == 2
    assert cli.main(["batch", str(tmp_path / "empty")]) == 2
    assert cli.main(["batch", str(make_folder(tmp_path)), "--jobs", "0"]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "no .ipynb or .py submissions" in err
    assert "--jobs must be at least 1" in err


def test_a_student_named_submitted_is_one_student_not_the_class(tmp_path):
    """nbgrader's submitted/ given as the folder stays the root when a student is called
    `submitted` (her folder would otherwise have become the whole class)."""
    course = tmp_path / "course"
    for student in ("alice", "submitted"):
        folder = course / "submitted" / student / "fashion_mnist"
        folder.mkdir(parents=True)
        (folder / "fashion_mnist.ipynb").write_text("{}")
    for given in (course, course / "submitted"):
        found = batch.find_submissions(given)
        assert [s.student_id for s in found] == ["alice", "submitted"], given


def test_the_course_release_is_never_one_inside_the_submissions(tmp_path, monkeypatch):
    """A student id is a name the student chose: `submitted/assignments/<exercise>/` is a
    student's notebook, never the release (nor is one in the current directory inside it)."""
    from autograder.exercise_spec import load_exercise

    exercise = load_exercise("fashion_mnist")
    course = tmp_path / "course"
    for student in ("alice", "assignments"):
        folder = course / "submitted" / student / "fashion_mnist"
        folder.mkdir(parents=True)
        (folder / "fashion_mnist.ipynb").write_text("{}")
    monkeypatch.chdir(course / "submitted")
    assert batch.course_release(course / "submitted", exercise) is None
    assert batch.course_release(course, exercise) is None
    assert course.resolve() in batch.course_folders(course / "submitted")
    assert (course / "submitted").resolve() not in batch.course_folders(course / "submitted")
    released = course / "assignments" / "fashion_mnist" / "fashion_mnist.ipynb"
    released.parent.mkdir(parents=True)
    released.write_text("{}")
    for given in (course, course / "submitted"):
        assert batch.course_release(given, exercise) == released.resolve(), given

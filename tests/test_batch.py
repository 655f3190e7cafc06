"""Batch grading with a fake grader: no TensorFlow, no sandbox."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from autograder import batch
from autograder.results import Feedback, GradingReport
from autograder.results import TestResult as Result  # pytest would try to collect "Test*"


class FakeGrader:
    """Scores by file name; raises for any file named `broken.*`."""

    def __init__(self) -> None:
        self.graded: list[str] = []

    def grade(self, submission) -> GradingReport:
        path = Path(submission)
        self.graded.append(path.name)
        if path.stem == "broken":
            raise RuntimeError("sandbox exploded\nlong traceback")
        good = path.stem == "alice"
        tests = [
            Result("build_model: layers", "build_model", 4, 4),
            Result(
                "pipeline: accuracy",
                "pipeline",
                11,
                11 if good else 0,
                Feedback(expected="0.85", received="<0.5>"),
            ),
        ]
        return GradingReport(str(path), tests, 1.5, "rlimits", artifacts={"test_accuracy": 0.9})


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("bob.py", "alice.ipynb", "broken.ipynb", ".hidden.py", "notes.txt"):
        (folder / name).write_text("{}")
    (folder / "sub.py").mkdir()  # a directory, not a submission
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_grade_folder_writes_everything_and_survives_a_crash(tmp_path, capsys):
    folder, out = make_folder(tmp_path), tmp_path / "out"
    grader = FakeGrader()
    reports = batch.grade_folder(folder, grader, out)

    assert grader.graded == ["alice.ipynb", "bob.py", "broken.ipynb"]
    assert [r.score for r in reports] == [15, 4, 0]
    broken = reports[2]
    assert broken.tests == []
    assert broken.part_notes == {"grader": "RuntimeError: sandbox exploded"}

    rows = read_csv(out / "grades.csv")
    assert [Path(r["submission"]).name for r in rows] == ["alice.ipynb", "bob.py", "broken.ipynb"]
    assert [r["score"] for r in rows] == ["15", "4", "0"]
    assert rows[1]["pipeline"] == "0" and rows[2]["pipeline"] == ""
    assert rows[2]["notes"] == "grader: RuntimeError: sandbox exploded"

    for stem in ("alice", "bob", "broken"):
        for name in ("results.json", "junit.xml", "report.html"):
            assert (out / stem / name).is_file(), f"{stem}/{name}"
    assert json.loads((out / "alice" / "results.json").read_text())["score"] == 15
    assert json.loads((out / "broken" / "results.json").read_text())["tests"] == []
    assert "RuntimeError: sandbox exploded" in (out / "broken" / "report.html").read_text()

    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert [s.get("failures") for s in suites] == ["0", "1", "0"]

    err = capsys.readouterr().err.splitlines()
    assert "autograder: error grading broken.ipynb: RuntimeError: sandbox exploded" in err
    finished = [line for line in err if line.startswith(("1/3", "2/3", "3/3"))]
    assert finished[0].startswith("1/3 alice.ipynb 15/15")
    assert finished[1].startswith("2/3 bob.py 4/15")
    assert finished[2] == "3/3 broken.ipynb ERROR"
    assert "\r" not in "".join(err)  # not a terminal: plain lines only


def test_grade_folder_without_progress_still_reports_errors(tmp_path, capsys):
    batch.grade_folder(make_folder(tmp_path), FakeGrader(), tmp_path / "out", progress=False)
    err = capsys.readouterr().err.splitlines()
    assert err == ["autograder: error grading broken.ipynb: RuntimeError: sandbox exploded"]


def test_empty_folder_writes_an_empty_gradebook(tmp_path):
    (tmp_path / "empty").mkdir()
    assert batch.grade_folder(tmp_path / "empty", FakeGrader(), tmp_path / "out") == []
    header = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert header[0].startswith("submission,score,max_score,") and len(header) == 1


def test_same_stem_submissions_get_separate_folders(tmp_path):
    paths = [tmp_path / "a.ipynb", tmp_path / "a.py", tmp_path / "b.py"]
    dirs = batch.output_dirs(paths, tmp_path / "out")
    assert [d.name for d in dirs.values()] == ["a.ipynb", "a.py", "b"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_redraws_one_line():
    stream = FakeTerminal()
    bar = batch.Progress(4, stream)
    bar.start("alice.ipynb")
    bar.finish("alice.ipynb", "87/100")
    bar.message("autograder: error grading bob.py: boom")
    bar.finish("bob.py", "ERROR")
    bar.close()
    text = stream.getvalue()
    frames = text.split("\r\x1b[K")
    assert frames[1] == "[----------] 0/4 grading alice.ipynb"
    assert frames[2].startswith("[##--------] 1/4 alice.ipynb 87/100 (eta ")
    assert frames[3] == "autograder: error grading bob.py: boom\n"  # the bar was cleared first
    assert frames[4] == "[#####-----] 2/4 bob.py ERROR (eta 0s)\n"


def test_format_duration():
    assert [batch.format_duration(s) for s in (0, 59.6, 130, 3725)] == [
        "0s",
        "1m00s",
        "2m10s",
        "1h02m",
    ]


class FakeGraderContext(FakeGrader):
    def __init__(self, options) -> None:
        super().__init__()
        self.options = options

    def __enter__(self) -> FakeGraderContext:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_cli_batch_grades_the_folder_and_prints_a_summary(tmp_path, capsys, monkeypatch):
    import autograder.grader
    from autograder import cli

    monkeypatch.setattr(autograder.grader, "Grader", FakeGraderContext)
    out = tmp_path / "out"
    assert cli.main(["batch", str(make_folder(tmp_path)), "--out", str(out)]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary == (
        f"Graded 3 submissions: mean score 6.33/15, 1 could not be graded. Results in {out}"
    )
    assert len(read_csv(out / "grades.csv")) == 3


def test_cli_batch_refuses_a_missing_or_empty_folder(tmp_path, capsys):
    from autograder import cli

    (tmp_path / "empty").mkdir()
    assert cli.main(["batch", str(tmp_path / "missing")]) == 2
    assert cli.main(["batch", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "no .ipynb or .py submissions" in err

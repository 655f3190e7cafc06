"""An exporter is added in one place: registered once, `autograder grade` offers its option and
`autograder batch` writes its file per student and for the class (fake gradings, no Keras)."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_fakes import FakeGrader, FakeGraderContext

from autograder import batch, cli
from autograder.exporters import registry
from autograder.exporters.registry import Exporter


def write_toy(report, path) -> Path:
    Path(path).write_text(f"toy {report.score:g}/{report.max_score:g}\n", encoding="utf-8")
    return Path(path)


def write_toy_class(graded, path, max_score) -> Path:
    lines = [
        f"{submission.student_id} {report.score:g}/{max_score:g}" for submission, report in graded
    ]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


TOY = Exporter(
    "toy", "toy.txt", help="write the toy score here", label="Toy score", write=write_toy,
    write_class=write_toy_class,
)  # fmt: skip


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Exporter:
    """The toy exporter registered for one test (the registry is restored after it)."""
    monkeypatch.setattr(registry, "EXPORTERS", list(registry.EXPORTERS))
    return registry.register(TOY)


def test_grade_offers_and_writes_a_registered_exporter(toy, tmp_path, capsys, monkeypatch):
    import autograder.grader

    monkeypatch.setattr(autograder.grader, "Grader", FakeGraderContext)
    submission = tmp_path / "alice.py"
    submission.write_text("alice\n")
    out = tmp_path / "alice.txt"
    argv = ["grade", str(submission), "--exercise", "fashion_mnist", "--toy", str(out)]
    assert cli.main([*argv, "--junit", str(tmp_path / "junit.xml")]) == 0
    assert out.read_text() == "toy 15/15\n"
    printed = capsys.readouterr().out
    assert f"Toy score written to {out}" in printed
    assert f"JUNIT report written to {tmp_path / 'junit.xml'}" in printed  # the built-ins stay


def test_batch_writes_a_registered_exporter_per_student_and_for_the_class(toy, tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "alice.py").write_text("alice\n")
    (folder / "bob.py").write_text("bob\n")
    out = tmp_path / "out"
    reports = batch.grade_folder(folder, FakeGrader(), out, progress=False, version="1")
    assert [r.score for r in reports] == [15, 4]
    assert (out / "alice" / "toy.txt").read_text() == "toy 15/15\n"
    assert (out / "bob" / "toy.txt").read_text() == "toy 4/15\n"
    assert (out / "toy.txt").read_text() == "alice 15/15\nbob 4/15\n"
    # The built-in files are still written beside it, under their usual names.
    for name in ("results.json", "junit.xml", "report.html"):
        assert (out / "alice" / name).is_file()
    for name in ("grades.csv", "parts.csv", "junit.xml"):
        assert (out / name).is_file()


def test_the_builtin_exporters_keep_their_options_and_file_names() -> None:
    assert [(e.name, e.file_name) for e in registry.grading_exporters()] == [
        ("results", "results.json"),
        ("junit", "junit.xml"),
        ("html", "report.html"),
        ("report", "report.json"),
    ]
    assert [e.file_name for e in registry.student_exporters()] == [
        "results.json",
        "junit.xml",
        "report.html",
    ]
    assert [e.file_name for e in registry.class_exporters()] == [
        "junit.xml",
        "grades.csv",
        "parts.csv",
    ]


def test_an_exporter_that_clashes_or_writes_nothing_is_refused(toy) -> None:
    with pytest.raises(ValueError, match="'toy' is already registered"):
        registry.register(Exporter("toy", "other.txt", write=write_toy))
    with pytest.raises(ValueError, match="'results.json' is already written"):
        registry.register(Exporter("gradescope2", "results.json", write=write_toy))
    with pytest.raises(ValueError, match="has no writer"):
        registry.register(Exporter("nothing", "nothing.txt"))


def write_class_broken(graded, path, max_score) -> Path:
    raise OSError("disk quota exceeded")


BROKEN = Exporter("broken", "broken.csv", help="a class file that cannot be written",
                  write_class=write_class_broken)  # fmt: skip


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> Exporter:
    """A class exporter that always fails, registered for one test."""
    monkeypatch.setattr(registry, "EXPORTERS", list(registry.EXPORTERS))
    return registry.register(BROKEN)


def test_a_failing_class_exporter_is_noted_and_stops_nothing(broken, tmp_path, capsys):
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "alice.py").write_text("alice\n")
    (folder / "bob.py").write_text("bob\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "broken.csv").write_text("an earlier run's gradebook\n")
    reports = batch.grade_folder(folder, FakeGrader(), out, progress=False, version="1")
    assert [r.score for r in reports] == [15, 4]  # every submission graded and recorded
    assert reports.unwritten == {out / "broken.csv": "OSError: disk quota exceeded"}
    assert not (out / "broken.csv").exists()  # not left to pass for this run's
    for name in ("grades.csv", "parts.csv", "junit.xml"):  # the other class files are written
        assert (out / name).is_file()
    assert (out / "grades.csv").read_text().count("\n") == 3  # header, alice, bob
    printed = capsys.readouterr().err
    # Printed once, not once per submission whose grading rewrote the class files.
    assert printed.count(f"could not write {out / 'broken.csv'}: OSError") == 1


def test_batch_exits_1_and_names_a_class_file_it_could_not_write(broken, tmp_path, capsys,
                                                                 monkeypatch):  # fmt: skip
    import autograder.grader

    monkeypatch.setattr(autograder.grader, "Grader", FakeGraderContext)
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "alice.py").write_text("alice\n")
    out = tmp_path / "out"
    argv = ["batch", str(folder), "--exercise", "fashion_mnist", "--jobs", "1", "--out", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "1 file(s) could not be written (the grades are recorded" in err
    assert f"{out / 'broken.csv'} (OSError: disk quota exceeded)" in err
    # Once the exporter works, a second run writes the file without grading anyone again.
    mended = Exporter("broken", "broken.csv", write_class=write_toy_class)
    monkeypatch.setattr(
        registry, "EXPORTERS", [mended if e is broken else e for e in registry.EXPORTERS]
    )
    assert cli.main(argv) == 0
    assert "1 already graded earlier, not regraded" in capsys.readouterr().out
    assert (out / "broken.csv").read_text() == "alice 15/15\n"


def write_student_broken(report, path) -> Path:
    raise ValueError("cannot draw these artifacts")


def test_a_per_student_file_that_cannot_be_written_is_removed_then_written_next_run(
    tmp_path, monkeypatch
):
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "alice.py").write_text("alice\n")
    out = tmp_path / "out"
    batch.grade_folder(folder, FakeGrader(), out, progress=False, version="1")
    assert (out / "alice" / "report.html").is_file()
    (folder / "alice.py").write_text("alice\n# changed: graded again\n")
    html = next(e for e in registry.EXPORTERS if e.file_name == "report.html")
    failing = Exporter(html.name, html.file_name, write=write_student_broken)
    monkeypatch.setattr(
        registry, "EXPORTERS", [failing if e is html else e for e in registry.EXPORTERS]
    )
    reports = batch.grade_folder(folder, FakeGrader(), out, progress=False, version="1")
    assert reports.graded == 1 and reports[0].score == 15
    assert reports.unwritten == {
        out / "alice" / "report.html": "ValueError: cannot draw these artifacts"
    }
    assert not (out / "alice" / "report.html").exists()  # the first grading's page is gone
    assert (out / "alice" / "results.json").is_file()
    monkeypatch.setattr(
        registry, "EXPORTERS", [html if e is failing else e for e in registry.EXPORTERS]
    )
    again = batch.grade_folder(folder, FakeGrader(), out, progress=False, version="1")
    assert again.graded == 0 and again.unwritten == {}
    assert (out / "alice" / "report.html").is_file()  # written from the record, no regrading

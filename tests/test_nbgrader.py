"""The course works with real nbgrader, and nbgrader gives the same points as `autograder grade`.

The end-to-end tests run the real commands in a temporary copy of the course:
`generate_assignment`, `autograde` on four submissions (correct, stubs, defective, tampered),
`generate_feedback` and `export`, then read the gradebook and the CSV. The submissions' own
exploratory training cell is made cheaper (1 epoch on 1,000 images) in these copies only; the
grading itself, including the 5-epoch pipeline training, is the real one.
"""

from __future__ import annotations

import copy
import csv
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import mutate
import pytest
from fashion import PARTS, RELEASE, ROOT, SOLUTION
from nbgrader_course import (
    ASSIGNMENT,
    HIDDEN_UNITS_LINE,
    NOTEBOOK,
    answered,
    cheapen_exploration,
    comparable,
    edit_cell,
    forged,
    make_course,
    nbgrader,
    nbgrader_env,
    read,
    submit,
)

from autograder.tamper import tampered_cells

pytest.importorskip("nbgrader")

STUDENTS = ("correct", "stubs", "defective", "tampered", "forger")
TAMPERED = ["test_CLASS_NAMES", "test_build_model"]


@pytest.mark.parametrize("assignment", ["fashion_mnist", "fashion_mnist_cnn"])
def test_committed_release_is_up_to_date(tmp_path: Path, assignment: str) -> None:
    """`make release` was run after the last change to each instructor's notebook."""
    notebook = f"{assignment}.ipynb"
    committed = ROOT / "assignments" / assignment / notebook
    root = make_course(tmp_path / "course")
    (root / "assignments").joinpath(assignment, notebook).unlink(missing_ok=True)
    nbgrader(root, nbgrader_env(), "generate_assignment", assignment, "--force")
    fresh = read(root / "assignments" / assignment / notebook)
    assert committed.is_file(), "no committed release: run `make release`"
    assert comparable(read(committed)) == comparable(fresh), (
        "assignments/ is out of date with solutions/: run `make release` and commit the result"
    )
    assert read(committed).metadata.get("kernelspec") == fresh.metadata.get("kernelspec")
    assert read(committed).metadata["autograder"] == {"exercise": assignment}


def test_release_has_stubs_and_no_hidden_tests() -> None:
    text = RELEASE.read_text()
    assert "scored_outside_the_kernel" not in text and "HIDDEN TESTS" not in text
    assert "BEGIN SOLUTION" not in text
    release = read(RELEASE)
    stubs = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == len(PARTS) - 1  # every part but the pipeline has its own cell
    assert all("raise NotImplementedError()" in c.source for c in stubs)


@dataclass
class Course:
    root: Path
    submitted: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)  # what each nbgrader command printed

    def feedback(self, student: str) -> str:
        return (
            self.root / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
        ).read_text()

    def autograded(self, student: str):
        return read(self.root / "autograded" / student / ASSIGNMENT / NOTEBOOK)

    def cell_scores(self, student: str) -> dict[str, float]:
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            notebook = gradebook.find_submission_notebook(NOTEBOOK[:-6], ASSIGNMENT, student)
            return {grade.name: float(grade.score) for grade in notebook.grades}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path) -> Course:
    root = make_course(tmp_path_factory.mktemp("nbgrader") / "course")
    env = nbgrader_env(real_data_dir)
    timings, logs = {}, {}

    def timed(name: str, *args: str) -> None:
        started = time.monotonic()
        done = nbgrader(root, env, *args)
        timings[name] = round(time.monotonic() - started, 1)
        logs[name] = done.stdout + done.stderr

    timed("generate_assignment", "generate_assignment", ASSIGNMENT, "--force")
    release = read(root / "assignments" / ASSIGNMENT / NOTEBOOK)
    correct = cheapen_exploration(answered(release, read(SOLUTION)))
    units_128 = 'keras.layers.Dense(128, activation="relu")'
    defective = mutate.edit_notebook(
        copy.deepcopy(correct), mutate.Edit("build_model", HIDDEN_UNITS_LINE, units_128, every=True)
    )
    # Stubs whose locked test cells claim full marks: nbgrader must grade them as released.
    tampered = edit_cell(release, "test_build_model", lambda s: "27")
    tampered = edit_cell(tampered, "test_CLASS_NAMES", lambda s: s + "\n3")
    submitted = {
        name: submit(root, name, notebook)
        for name, notebook in [
            ("correct", correct),
            ("stubs", release),
            ("defective", defective),
            ("tampered", tampered),
            # Stubs plus an untagged cell that patches the kit's test-cell code to print full
            # points, and test cells already showing them: nothing a kernel does is trusted.
            ("forger", forged(release)),
        ]
    }
    timed("autograde", "autograde", ASSIGNMENT)
    timed("generate_feedback", "generate_feedback", ASSIGNMENT)
    timed("export", "export", "--to", str(root / "grades.csv"))
    print(f"nbgrader timings (s): {timings}")
    return Course(root, submitted, timings, logs)


@pytest.fixture(scope="module")
def cli_reports(course: Course, real_grader) -> dict:
    """`autograder grade` (the same Grader, locked cells as released) on the same notebooks."""
    release = course.root / "assignments" / ASSIGNMENT / NOTEBOOK
    return {
        name: real_grader.grade(course.submitted[name], release=release)
        for name in ("correct", "stubs", "defective", "forger")
    }


@pytest.mark.slow
@pytest.mark.real_data
def test_nbgrader_points_equal_the_cli_grader(course: Course, cli_reports: dict) -> None:
    for student, report in cli_reports.items():
        scores = course.cell_scores(student)
        per_part = {part: scores[f"test_{part}"] for part in PARTS}
        assert per_part == {part: report.part_score(part)[0] for part in PARTS}, student
        assert sum(scores.values()) == pytest.approx(report.score), student
    totals = {student: sum(course.cell_scores(student).values()) for student in STUDENTS}
    print(
        f"nbgrader totals: {totals}; autograder grade: { {s: r.score for s, r in cli_reports.items()} }"
    )
    assert totals["correct"] == 100
    assert totals["stubs"] == 0
    assert totals["forger"] == 0
    defective = cli_reports["defective"]
    lost = {
        part: defective.part_score(part)
        for part in PARTS
        if defective.part_score(part)[0] < defective.part_score(part)[1]
    }
    assert set(lost) == {"build_model"}, lost
    assert totals["defective"] == 100 - (lost["build_model"][1] - lost["build_model"][0])


@pytest.mark.slow
@pytest.mark.real_data
def test_tampered_test_cells_are_graded_as_released_and_named(course: Course) -> None:
    scores = course.cell_scores("tampered")
    assert scores["test_build_model"] == 0 and scores["test_CLASS_NAMES"] == 0
    assert sum(scores.values()) == sum(course.cell_scores("stubs").values()) == 0
    release = course.root / "assignments" / ASSIGNMENT / NOTEBOOK
    assert tampered_cells(course.submitted["tampered"], release) == TAMPERED
    for honest in ("correct", "stubs", "defective"):
        assert tampered_cells(course.submitted[honest], release) == [], honest
        assert "Locked cells changed" not in course.feedback(honest)
    feedback = course.feedback("tampered")
    assert "Locked cells changed in the submission: test_CLASS_NAMES, test_build_model" in feedback
    assert "test_build_model) was changed" in feedback


@pytest.mark.slow
@pytest.mark.real_data
def test_feedback_shows_want_got_and_no_hidden_tests(course: Course) -> None:
    for student in STUDENTS:
        feedback = course.feedback(student)
        assert "HIDDEN TESTS" not in feedback, student
        if student != "forger":  # the forger's own cell names the hidden tests' function
            assert "scored_outside_the_kernel" not in feedback, student
        assert "autograder-feedback" in feedback, student
    defective = course.feedback("defective")
    assert "Expected: build_model(): Dense parameters 401,920 and 5,130" in defective
    assert "Received: build_model(): Dense parameters 100,480, 1,290" in defective
    assert "not implemented yet" in course.feedback("stubs")


@pytest.mark.slow
@pytest.mark.real_data
def test_test_cells_of_a_correct_submission_write_no_stderr(course: Course) -> None:
    notebook = course.autograded("correct")
    tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == len(PARTS)
    for cell in tests:
        kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
        assert kinds == [("execute_result", None)], (cell.metadata["nbgrader"]["grade_id"], kinds)


@pytest.mark.slow
@pytest.mark.real_data
def test_export_csv_matches_the_gradebook(course: Course) -> None:
    with (course.root / "grades.csv").open() as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(STUDENTS)
    for student in STUDENTS:
        assert float(rows[student]["raw_score"]) == pytest.approx(
            sum(course.cell_scores(student).values())
        )
        assert float(rows[student]["max_score"]) == 100


def warnings_in(log: str) -> list[str]:
    """The lines of an nbgrader log that warn: its own WARNING lines and Python's warnings."""
    return [line for line in log.splitlines() if "WARNING" in line or "Warning:" in line]


@pytest.mark.slow
@pytest.mark.real_data
def test_autograde_and_feedback_warn_only_about_the_cells_a_student_changed(
    course: Course,
) -> None:
    """nbgrader used to print about 15 warnings per student: a changed checksum for every test
    cell (its gradebook keeps them with their hidden tests), SQLAlchemy's about each new
    submission, and a config option ClearHiddenTests did not recognize."""
    autograde = warnings_in(course.logs["autograde"])
    assert all("Attribute 'checksum' for cell" in line for line in autograde), autograde
    assert sorted(re.findall(r"for cell (\w+) has changed", "\n".join(autograde))) == TAMPERED
    assert warnings_in(course.logs["generate_feedback"]) == []
    assert warnings_in(course.logs["export"]) == []


@pytest.mark.slow
@pytest.mark.real_data
def test_feedback_names_each_test_cell_and_shows_the_pipelines_plots(course: Course) -> None:
    for student in STUDENTS:
        entries = dict(
            re.findall(r'<li><a href="#test_(\w+)">([^<]*)</a> \(Score: ', course.feedback(student))
        )
        assert list(entries) == list(PARTS), student
        assert all(title.startswith(f"{part}: ") for part, title in entries.items()), entries
    correct = course.feedback("correct")
    assert "build_model: all 8 checks passed</a> (Score: 27.0 / 27.0)" in correct
    assert re.search(r"pipeline: test accuracy 0\.\d{4}, the check passed</a>", correct)
    defective = course.feedback("defective")
    assert re.search(r"build_model: \d of 8 checks failed \(parameter counts", defective)
    pipeline = correct[correct.index('name="test_pipeline"') :]
    images = re.findall(
        r'<img alt="(Training curves|Confusion matrix)[^"]*" src="data:image/png', pipeline
    )
    assert images == ["Training curves", "Confusion matrix"]
    assert "<img" not in course.feedback("stubs")
    assert len(correct) < 600_000  # two bounded PNGs on top of nbgrader's ~210 kB page

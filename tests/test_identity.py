"""Identity is the instructor's: the exercise a submission is graded as and the release whose
locked cells are restored come from the instructor (`--exercise`, the nbgrader assignment, the
course folder's own `assignments/`), never from a submission: its notebook metadata, a vote
among the class, its file name, or a folder inside the submissions (SECURITY.md).

Each attack runs through the route that exposed it: `autograder batch submitted/` over an
nbgrader course with liars in it, and `autograder grade`. housing_prices grades in seconds, so
the class is real and every grade is the real grader's.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from autograder import cli
from autograder.exercise_spec import available_exercises, load_exercise
from autograder.tamper import find_release

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "housing_prices"
SOLUTION = ROOT / "solutions" / EXERCISE / f"{EXERCISE}.ipynb"
RELEASE = ROOT / "assignments" / EXERCISE / f"{EXERCISE}.ipynb"
FASHION_RELEASE = ROOT / "assignments" / "fashion_mnist" / "fashion_mnist.ipynb"
NOTEBOOK = f"{EXERCISE}.ipynb"


def notebook(path: Path) -> dict:
    return json.loads(path.read_text())


def naming(nb: dict, exercise: str) -> dict:
    """`nb` with metadata that names `exercise` (what a liar writes)."""
    nb = copy.deepcopy(nb)
    nb["metadata"]["autograder"] = {"exercise": exercise}
    return nb


def sabotaging_release() -> dict:
    """The course's release plus a locked, graded cell of the liar's own, placed last so that
    inserted into a classmate's notebook it would replace her `build_model`."""
    nb = notebook(RELEASE)
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "sabotage",
            "metadata": {
                "tags": ["graded"],
                "nbgrader": {
                    "grade": False,
                    "grade_id": "sabotage",
                    "locked": True,
                    "schema_version": 3,
                    "solution": False,
                    "task": False,
                },
            },
            "outputs": [],
            "source": "def build_model():\n    raise RuntimeError('sabotaged')\n",
        }
    )
    return nb


def course(tmp_path: Path, students: dict[str, dict]) -> Path:
    """An nbgrader course that releases only housing_prices, with `students`' notebooks in
    `submitted/<student>/housing_prices/`."""
    root = tmp_path / "course"
    (root / "assignments" / EXERCISE).mkdir(parents=True)
    shutil.copy(RELEASE, root / "assignments" / EXERCISE / NOTEBOOK)
    for student, nb in students.items():
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(nb))
    return root


def batch(root: Path, out: Path, monkeypatch, capsys, *extra: str) -> tuple[dict[str, dict], str]:
    """`autograder batch submitted/` from the course folder, as the README says: each
    student's report, and what the command printed on stderr."""
    monkeypatch.chdir(root)
    assert cli.main(["batch", "submitted", "--out", str(out), "--jobs", "1", *extra]) == 0
    err = capsys.readouterr().err
    reports = {
        record.parent.name: json.loads(record.read_text())["report"]
        for record in out.glob("*/record.json")
    }
    return reports, err


def grades(report: dict) -> list[tuple[str, float]]:
    return [(t["name"], t["score"]) for t in report["tests"]]


HONEST = {"alice": notebook(SOLUTION), "bob": notebook(RELEASE)}


@pytest.fixture(scope="module")
def honest_class(tmp_path_factory) -> dict[str, dict]:
    """The honest students' reports from a batch with nobody else in the class."""
    tmp_path = tmp_path_factory.mktemp("honest")
    root = course(tmp_path, HONEST)
    monkeypatch = pytest.MonkeyPatch()
    try:
        monkeypatch.chdir(root)
        args = ["batch", "submitted", "--out", str(tmp_path / "out"), "--jobs", "1"]
        assert cli.main(args) == 0
    finally:
        monkeypatch.undo()
    reports = {
        record.parent.name: json.loads(record.read_text())["report"]
        for record in (tmp_path / "out").glob("*/record.json")
    }
    assert reports["alice"]["score"] == reports["alice"]["max_score"] == 100
    assert reports["bob"]["score"] < 50
    return reports


def test_liars_metadata_never_moves_the_class_onto_another_exercise(
    honest_class, tmp_path, monkeypatch, capsys
) -> None:
    """Three liars outnumber the two honest students and name fashion_mnist in their metadata
    (the old vote over the class's metadata graded everyone as fashion_mnist)."""
    liars = {
        # A correct housing_prices solution that says it is fashion_mnist.
        "mallory": naming(notebook(SOLUTION), "fashion_mnist"),
        # The fashion_mnist release, saying so.
        "oscar": notebook(FASHION_RELEASE),
        "trudy": naming(notebook(RELEASE), "fashion_mnist"),
    }
    root = course(tmp_path, {**HONEST, **liars})
    reports, _ = batch(root, tmp_path / "out", monkeypatch, capsys)

    assert set(reports) == {"alice", "bob", "mallory", "oscar", "trudy"}
    for student, honest in honest_class.items():
        assert reports[student]["exercise"] == EXERCISE
        assert grades(reports[student]) == grades(honest), student
        assert "exercise" not in reports[student]["part_notes"], student
    for student, named in (
        ("mallory", "fashion_mnist"),
        ("oscar", "fashion_mnist"),
        ("trudy", "fashion_mnist"),
    ):
        report = reports[student]
        assert report["exercise"] == EXERCISE, student
        note = report["part_notes"]["exercise"]
        assert f"metadata names {named}" in note and f"graded as {EXERCISE}" in note, note
    # The liar is graded as the instructor's exercise: her correct housing code earns its marks.
    assert grades(reports["mallory"]) == grades(honest_class["alice"])
    # The fashion_mnist release defines none of housing_prices' functions but build_model and
    # train_model, which it leaves unimplemented.
    assert reports["oscar"]["score"] < 50


def test_a_batch_without_an_exercise_from_the_instructor_stops_and_names_the_option(
    tmp_path, monkeypatch, capsys
) -> None:
    """A course folder that releases several exercises (or none) does not say which one a
    batch is: the instructor must, whatever the submissions' metadata says."""
    root = course(tmp_path, {"alice": notebook(SOLUTION)})
    shutil.copytree(ROOT / "assignments" / "fashion_mnist", root / "assignments" / "fashion_mnist")
    monkeypatch.chdir(root)
    assert cli.main(["batch", "submitted", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "pass --exercise" in err and ", ".join(available_exercises()) in err
    assert not (tmp_path / "out").exists()
    homework = root / "submitted" / "alice" / "homework1"
    homework.mkdir()
    shutil.copy(SOLUTION, homework / "homework1.ipynb")
    assert cli.main(["batch", "submitted", "--assignment", "homework1"]) == 2
    assert "--assignment homework1 is not an exercise" in capsys.readouterr().err


def test_a_student_named_assignments_cannot_change_the_release(
    honest_class, tmp_path, monkeypatch, capsys
) -> None:
    """A hub user called `assignments` submits a notebook with a locked cell of her own; a
    release looked for inside submitted/ would be hers, and its cell inserted into every
    classmate's notebook (a correct solution then scored 56/100)."""
    root = course(tmp_path, {**HONEST, "assignments": sabotaging_release()})
    reports, err = batch(root, tmp_path / "out", monkeypatch, capsys, "--exercise", EXERCISE)

    course_release = root / "assignments" / EXERCISE / NOTEBOOK
    assert f"Locked cells are graded as released in {course_release.resolve()}" in err
    assert str(root / "submitted" / "assignments") not in err
    for student, honest in honest_class.items():
        assert grades(reports[student]) == grades(honest), student
        notes = json.dumps(reports[student]["part_notes"])
        assert "sabotage" not in notes, notes
    assert reports["assignments"]["exercise"] == EXERCISE


def test_grade_one_file_takes_the_courses_release_never_one_inside_submitted(
    honest_class, tmp_path, monkeypatch, capsys
) -> None:
    """`autograder grade submitted/alice/...` from anywhere: the nbgrader course's own release,
    not `submitted/assignments/`."""
    root = course(tmp_path, {**HONEST, "assignments": sabotaging_release()})
    alice = root / "submitted" / "alice" / EXERCISE / NOTEBOOK
    exercise = load_exercise(EXERCISE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    released = (root / "assignments" / EXERCISE / NOTEBOOK).resolve()
    assert find_release(alice, exercise).resolve() == released
    # From inside submitted/ too (the current directory is no course there).
    monkeypatch.chdir(root / "submitted")
    assert find_release(alice, exercise).resolve() == released
    (root / "assignments" / EXERCISE / NOTEBOOK).unlink()
    assert find_release(alice, exercise) is None

    monkeypatch.chdir(elsewhere)
    (root / "assignments" / EXERCISE / NOTEBOOK).write_text(RELEASE.read_text())
    results = tmp_path / "alice.json"
    assert cli.main(["grade", str(alice), "--exercise", EXERCISE, "--report", str(results)]) == 0
    report = json.loads(results.read_text())
    assert grades(report) == grades(honest_class["alice"])
    assert "sabotage" not in json.dumps(report["part_notes"])


def test_a_release_never_adds_a_cell_to_a_submission(honest_class, tmp_path, capsys) -> None:
    """Even a release the instructor passes by hand only restores the locked cells a notebook
    has: a locked cell the notebook lacks is named, never inserted."""
    release = tmp_path / "release.ipynb"
    release.write_text(json.dumps(sabotaging_release()))
    alice = tmp_path / NOTEBOOK
    shutil.copy(SOLUTION, alice)
    results = tmp_path / "alice.json"
    args = ["grade", str(alice), "--exercise", EXERCISE, "--release", str(release)]
    assert cli.main([*args, "--report", str(results)]) == 0
    report = json.loads(results.read_text())
    assert grades(report) == grades(honest_class["alice"])
    assert report["part_notes"]["missing cells"] == (
        "locked cells of the release missing from this notebook (not added back): sabotage"
    )


def test_grade_without_exercise_fails_naming_the_option_whatever_the_metadata(
    tmp_path, capsys
) -> None:
    """`autograder grade` of a notebook whose metadata names an exercise does not take it."""
    liar = tmp_path / "fashion_mnist.ipynb"  # a file name that names an exercise, too
    liar.write_text(json.dumps(naming(notebook(SOLUTION), "housing_prices")))
    assert cli.main(["grade", str(liar), "--results", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "pass --exercise (one of " + ", ".join(available_exercises()) + ")" in err
    assert not (tmp_path / "r.json").exists()


def test_grade_as_the_instructors_exercise_with_a_note_for_the_student(
    honest_class, tmp_path, capsys
) -> None:
    """The liar of the issue: a housing_prices solution whose metadata names housing_prices,
    graded where the instructor grades fashion_mnist... here the reverse, which is quick: a
    notebook saying fashion_mnist, graded with `--exercise housing_prices`, is housing_prices,
    and its student and instructor read why."""
    liar = tmp_path / "fashion_mnist.ipynb"
    liar.write_text(json.dumps(naming(notebook(SOLUTION), "fashion_mnist")))
    results = tmp_path / "r.json"
    assert cli.main(["grade", str(liar), "--exercise", EXERCISE, "--report", str(results)]) == 0
    out = capsys.readouterr().out
    report = json.loads(results.read_text())
    assert report["exercise"] == EXERCISE
    assert grades(report) == grades(honest_class["alice"])
    assert "metadata names fashion_mnist; it was graded as housing_prices" in out


def test_a_file_that_defines_none_of_the_exercises_names_is_told_so(tmp_path, capsys) -> None:
    plain = tmp_path / "housing_prices.py"
    plain.write_text("def something_else():\n    return 1\n")
    results = tmp_path / "r.json"
    assert cli.main(["grade", str(plain), "--exercise", EXERCISE, "--report", str(results)]) == 0
    report = json.loads(results.read_text())
    assert report["score"] == 0
    note = report["part_notes"]["exercise"]
    assert "defines none of the names housing_prices asks for" in note
    assert "build_model" in note


def test_every_recipe_and_make_grade_name_the_exercise() -> None:
    """The GitHub Classroom and GitLab recipes grade with `--exercise "$EXERCISE"` (set at their
    top), and `make grade` with `--exercise $(EXERCISE)`, consistent with its SUBMISSION."""
    import yaml

    recipes = ROOT / "autograder" / "recipes"
    github = yaml.safe_load((recipes / "github" / "classroom.yml").read_text())
    gitlab = yaml.safe_load((recipes / "gitlab" / "gitlab-ci.yml").read_text())
    steps = github["jobs"]["run-autograding-tests"]["steps"]
    commands = [s["run"] for s in steps if "autograder grade" in s.get("run", "")]
    commands += [line for line in gitlab["grade"]["script"] if "autograder grade" in line]
    assert len(commands) == 2
    for command in commands:
        assert '--exercise "$EXERCISE"' in command, command
    assert github["env"]["EXERCISE"] == gitlab["variables"]["EXERCISE"] == "fashion_mnist"
    assert github["env"]["NOTEBOOK"] == gitlab["variables"]["NOTEBOOK"] == "fashion_mnist.ipynb"
    makefile = (ROOT / "Makefile").read_text()
    assert "EXERCISE ?= fashion_mnist\n" in makefile
    assert "SUBMISSION ?= solutions/$(EXERCISE)/$(EXERCISE).ipynb\n" in makefile
    grade = makefile.split("\ngrade:", 1)[1].split("\n\n", 1)[0]
    assert "autograder grade $(SUBMISSION) --exercise $(EXERCISE)" in grade

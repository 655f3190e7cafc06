"""What every exercise must satisfy, parametrized over the exercises found: a new exercise
(`autograder new-exercise`) is covered without editing this file.

Its rubric totals 100; its solution notebook (and the release, once `make release` wrote it)
has, for each part, a self-check cell and a locked autograded cell worth the part's points in
the rubric; the solution earns full marks; the release earns zero, saying per part that it is
not implemented yet; nbgrader's autograde step (the kit's GradeInSandbox) writes each test
cell's points from the sandboxed grading.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from fashion import ROOT, fast_options

from autograder.exercise_spec import available_exercises, load_exercise
from autograder.grader import Grader
from autograder.scoring.run import rubric

EXERCISES = available_exercises()


def notebooks(name: str) -> dict[str, Path]:
    """The exercise's solution and, when released, its release notebook."""
    exercise = load_exercise(name)
    found = {"solution": ROOT / "solutions" / name / exercise.notebook_name}
    if exercise.release_notebook(ROOT).is_file():
        found["release"] = exercise.release_notebook(ROOT)
    return found


def points_per_part(name: str) -> dict[str, int]:
    points: dict[str, int] = {}
    for line in rubric(load_exercise(name)):
        points[line.part] = points.get(line.part, 0) + line.points
    return points


@pytest.fixture(scope="module")
def reports(synthetic_dir: Path):
    """Each exercise's solution and release graded once (on the synthetic data when the
    exercise uses Fashion-MNIST; an exercise without a data set ignores it)."""
    cache: dict[tuple[str, str], object] = {}

    def report(name: str, which: str):
        if (name, which) not in cache:
            with Grader(fast_options(synthetic_dir, exercise=name)) as grader:
                cache[name, which] = grader.grade(notebooks(name)[which])
        return cache[name, which]

    return report


@pytest.mark.parametrize("name", EXERCISES)
def test_the_rubric_totals_100_and_each_line_names_its_part(name: str) -> None:
    exercise = load_exercise(name)
    lines = rubric(exercise)
    assert sum(line.points for line in lines) == 100
    assert {line.part for line in lines} == set(exercise.part_names)
    for line in lines:
        assert line.name.startswith(f"{line.part}: ")


@pytest.mark.parametrize("name", EXERCISES)
def test_each_part_has_a_self_check_and_an_autograded_cell_worth_its_points(name: str) -> None:
    expected = points_per_part(name)
    for which, path in notebooks(name).items():
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert notebook["metadata"]["autograder"]["exercise"] == name, which
        cells = notebook["cells"]
        tested = {
            cell["metadata"]["nbgrader"]["grade_id"][len("test_") :]: cell["metadata"]["nbgrader"][
                "points"
            ]
            for cell in cells
            if "autograded-test" in cell["metadata"].get("tags", [])
        }
        assert tested == expected, which
        checked = "".join(
            "".join(cell["source"])
            for cell in cells
            if "self-check" in cell["metadata"].get("tags", [])
        )
        for part in expected:
            assert f'check("{part}"' in checked, (which, part)
        assert any("setup" in c["metadata"].get("tags", []) for c in cells), which


@pytest.mark.parametrize("name", EXERCISES)
def test_the_solution_earns_full_marks(name: str, reports) -> None:
    report = reports(name, "solution")
    assert [f"{t.name}: {t.output}" for t in report.tests if not t.passed] == []
    assert report.score == report.max_score == 100


@pytest.mark.parametrize("name", EXERCISES)
def test_the_release_earns_zero_saying_what_is_not_implemented(name: str, reports) -> None:
    if "release" not in notebooks(name):
        pytest.skip(f"{name} is not released yet (make release EXERCISES={name})")
    report = reports(name, "release")
    assert report.score == 0
    for part in load_exercise(name).part_names:
        messages = " ".join(t.output for t in report.tests if t.part == part)
        assert "not implemented yet" in messages, (part, messages)


@pytest.mark.parametrize("name", EXERCISES)
def test_nbgrader_writes_each_test_cells_points_from_the_sandboxed_grading(
    name: str, reports, synthetic_dir: Path, tmp_path: Path
) -> None:
    import nbformat
    import nbgrader.utils

    from autograder import nbgrader_grading
    from autograder.nbgrader_grading import GradeInSandbox, autograded_cells

    notebook = nbformat.read(str(notebooks(name)["solution"]), as_version=4)
    resources = {
        "metadata": {"path": str(tmp_path)},
        "nbgrader": {"notebook": name, "assignment": name},
    }
    with Grader(fast_options(synthetic_dir, exercise=name)) as grader:
        nbgrader_grading.set_grader(grader)
        try:
            graded, _ = GradeInSandbox().score_cells(copy.deepcopy(notebook), resources)
        finally:
            nbgrader_grading.set_grader(None)
    points = {
        cell.metadata["nbgrader"]["grade_id"]: nbgrader.utils.determine_grade(cell)[0]
        for cell in autograded_cells(graded)
    }
    report = reports(name, "solution")
    assert points == {f"test_{part}": report.part_score(part)[0] for part in report.parts()}
    assert sum(points.values()) == 100


@pytest.mark.parametrize("name", EXERCISES)
def test_no_solution_is_spelt_out_in_the_kit(name: str) -> None:
    """The kit ships to students (the student bundle, its feedback): no region between the
    solution notebook's BEGIN and END SOLUTION markers appears in any of its files."""
    notebook = json.loads(notebooks(name)["solution"].read_text(encoding="utf-8"))
    regions = [
        region.split("### END SOLUTION")[0].strip()
        for cell in notebook["cells"]
        for region in "".join(cell["source"]).split("### BEGIN SOLUTION")[1:]
    ]
    package = ROOT / "autograder"
    skeleton = package / "authoring"  # new-exercise's own example solution, for instructors
    texts = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8", errors="replace")
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".tmpl", ".md", ".j2", ".json", ".sh", ".yml")
        and skeleton not in path.parents
    }  # each file read once, not once per region
    leaked = [
        (name, region[:60])
        for name, text in texts.items()
        for region in regions
        if region and region in text
    ]
    assert leaked == []


def solution_cell_names(name: str) -> set[str]:
    """The names the solution notebook's solution cells define at top level (the parts'
    answers: functions, classes, constants)."""
    import ast

    notebook = json.loads(notebooks(name)["solution"].read_text(encoding="utf-8"))
    names: set[str] = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code" or not cell["metadata"].get("nbgrader", {}).get("solution"):
            continue
        for node in ast.parse("".join(cell["source"])).body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("name", EXERCISES)
def test_no_reference_in_the_kit_defines_a_parts_answer(name: str) -> None:
    """A declared call's `Reference` whose definition is an answer (a name a solution cell
    defines) takes it from the solution notebook (`Reference(name)`, no source), never from a
    text in the kit: the kit ships to students and runs in their kernel. (A literal source
    with the right callback, spelt differently from the solution, slipped past the test
    above.)"""
    answers = solution_cell_names(name)
    in_kit = [
        (part.name, reference.name)
        for part in load_exercise(name).parts
        for call in part.calls
        for reference in getattr(call, "references", ())
        if reference.source is not None
        and (reference.name in answers or answers & defined(reference.source))
    ]
    assert in_kit == []


def defined(source: str) -> set[str]:
    import ast

    return {
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef | ast.FunctionDef)
    }


@pytest.mark.parametrize("name", [n for n in EXERCISES if "release" in notebooks(n)])
def test_the_student_bundle_holds_no_solution_definition(name: str, tmp_path: Path) -> None:
    """The students' bundle, built as `autograder student-bundle` builds it: no solutions/,
    and no file holding the solution's definition of any part (the text the grader substitutes
    with `Reference(name)`) or any `Reference` source."""
    import zipfile

    from autograder.platforms.student import build_student_bundle
    from autograder.solution_definitions import definitions_in_notebook

    exercise = load_exercise(name)
    solution = notebooks(name)["solution"]
    secrets = list(definitions_in_notebook(solution, sorted(solution_cell_names(name))).values())
    assert secrets, "the solution notebook defines the parts' answers"
    secrets += [
        r.source
        for part in exercise.parts
        for call in part.calls
        for r in getattr(call, "references", ())
        if r.source
    ]
    bundle = build_student_bundle(tmp_path / "student.zip", exercise=name)
    with zipfile.ZipFile(bundle) as archive:
        members = {m: archive.read(m).decode("utf-8", "replace") for m in archive.namelist()}
    assert [m for m in members if "solutions/" in m] == []
    leaked = [
        (member, secret[:60])
        for member, text in members.items()
        for secret in secrets
        if secret.strip() in text
    ]
    assert leaked == []
    others = [n for n in EXERCISES if n != name]
    assert [m for m in members if m.split("/")[3:4] and m.split("/")[3] in others] == [], (
        "a bundle made for one exercise carries no other exercise's folder"
    )

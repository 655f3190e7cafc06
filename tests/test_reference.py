"""The reference earns full marks; the stubs earn zero with a clear message per part."""

from __future__ import annotations

import json
from pathlib import Path

from fashion import PARTS, RELEASE, SOLUTION, rubric, stub_notebook_text

from autograder.exporters import text


def test_rubric_names_start_with_their_part_and_total_100() -> None:
    items = rubric()
    assert sum(c.points for c in items) == 100
    assert [c.part for c in items] == sorted((c.part for c in items), key=PARTS.index)
    assert {c.part for c in items} == set(PARTS)
    for item in items:
        assert item.name.startswith(f"{item.part}: ")
    assert [c.name for c in items if c.part == "pipeline"][0].startswith("pipeline: ")


def test_reference_notebook_scores_full_marks(grader) -> None:
    report = grader.grade(SOLUTION)
    failures = [f"{t.name}: {t.output}" for t in report.tests if not t.passed]
    assert failures == []
    assert report.score == report.max_score == 100
    assert report.artifacts["test_accuracy"] >= 0.8
    assert len(report.artifacts["confusion_matrix"]) == 10
    # A correct submission's report has no alarming note, and leads with the score.
    assert report.part_notes == {}, report.part_notes
    lines = text.render(report).splitlines()
    assert lines[0].startswith("Score: 100/100 for fashion_mnist.ipynb")
    assert lines[1] == "All checks passed."
    assert str(SOLUTION.parent) not in "\n".join(lines[:2])


def test_reference_module_scores_full_marks(grader, reference_py: Path) -> None:
    assert grader.grade(reference_py).score == 100


def test_stub_notebook_scores_zero_with_not_implemented_per_part(grader, tmp_path: Path) -> None:
    stub = RELEASE if RELEASE.is_file() else tmp_path / "stub.ipynb"
    if not RELEASE.is_file():
        stub.write_text(stub_notebook_text())
    report = grader.grade(stub)
    assert report.score == 0
    assert report.max_score == 100
    for part in PARTS:
        messages = " ".join(t.output for t in report.tests if t.part == part)
        assert "not implemented yet" in messages, (part, messages)


def test_same_submission_same_score(grader, tmp_path: Path) -> None:
    """Determinism: a submission near nothing but with training gets identical reports twice."""
    first = grader.grade(SOLUTION)
    second = grader.grade(SOLUTION)
    assert [(t.name, t.score) for t in first.tests] == [(t.name, t.score) for t in second.tests]
    assert first.artifacts["test_accuracy"] == second.artifacts["test_accuracy"]


def test_notebook_with_failing_exploratory_cells_and_magics_is_graded(
    grader, tmp_path: Path
) -> None:
    notebook = json.loads(SOLUTION.read_text())
    notebook["cells"].insert(
        1,
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "raise RuntimeError('exploration broke')",
        },
    )
    graded = [c for c in notebook["cells"] if "graded" in c.get("metadata", {}).get("tags", [])]
    graded[0]["source"] = "%matplotlib inline\n!pip install nothing\n" + "".join(
        graded[0]["source"]
    )
    path = tmp_path / "explore.ipynb"
    path.write_text(json.dumps(notebook))
    assert grader.grade(path).score == 100

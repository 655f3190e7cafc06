"""nbgrader's autograde scores come from the kit's sandboxed grader, in nbgrader's own process.

These tests run the `GradeInSandbox` preprocessor directly on notebooks (fast); the real
`nbgrader autograde` end to end is in test_nbgrader.py.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from fashion import PARTS, RELEASE, ROOT, SOLUTION
from nbgrader_course import answered, forged, full_points, read
from rubric_lines import rubric_line

from autograder import nbgrader_grading
from autograder.nbgrader_grading import (
    GradeInSandbox,
    ScoredOutsideTheKernel,
    autograded_cells,
    scored_outside_the_kernel,
)
from autograder.results import GradingReport, TestResult

nbgrader_utils = pytest.importorskip("nbgrader.utils")


def autograde(notebook: nbformat.NotebookNode, folder: Path, grader) -> nbformat.NotebookNode:
    """What nbgrader's autograde step does with the kit's preprocessor in place."""
    nbgrader_grading.set_grader(grader)
    try:
        resources = {
            "metadata": {"path": str(folder)},
            "nbgrader": {"notebook": "fashion_mnist", "assignment": "fashion_mnist"},
        }
        graded, _ = GradeInSandbox().score_cells(copy.deepcopy(notebook), resources)
    finally:
        nbgrader_grading.set_grader(None)
    return graded


def scores(notebook: nbformat.NotebookNode) -> dict[str, float | None]:
    return {
        cell.metadata["nbgrader"]["grade_id"][len("test_") :]: nbgrader_utils.determine_grade(cell)[
            0
        ]
        for cell in autograded_cells(notebook)
    }


def test_the_course_configuration_scores_through_the_kits_preprocessor() -> None:
    """nbgrader's Execute is gone, and grades are saved only by the kit's grading step."""
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", str(ROOT)).load_config()
    steps = config.Autograde.autograde_preprocessors
    assert steps[0] == "autograder.nbgrader_grading.GradeInSandbox"
    assert not any(s.endswith((".Execute", ".SaveAutoGrades")) for s in steps)
    assert GradeInSandbox().enabled
    # Locked cells are restored by the kit's OverwriteCells, which warns only about real changes.
    sanitize = config.Autograde.sanitize_preprocessors
    assert "autograder.nbgrader_grading.RestoreLockedCells" in sanitize
    assert not any(s.endswith(".OverwriteCells") for s in sanitize)
    assert config.GenerateFeedback.HTMLExporter.template_name == "autograder_feedback"


def test_notebook_points_equal_the_rubric() -> None:
    notebook = read(SOLUTION)
    points = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    assert points == {f"test_{part}": full for part, full in full_points().items()}
    for cell in autograded_cells(notebook):
        part = cell.metadata["nbgrader"]["grade_id"][len("test_") :]
        assert cell.metadata["nbgrader"]["locked"]
        hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1]
        assert f'scored_outside_the_kernel("{part}")' in hidden


def test_forged_kernel_output_scores_nothing_and_honest_work_scores_the_grade(
    grader, tmp_path: Path
) -> None:
    stubs = autograde(forged(read(RELEASE)), tmp_path, grader)
    assert scores(stubs) == dict.fromkeys(PARTS, 0.0)
    honest = autograde(forged(answered(read(RELEASE), read(SOLUTION))), tmp_path, grader)
    report = grader.grade(SOLUTION)
    assert scores(honest) == {part: report.part_score(part)[0] for part in PARTS}
    assert sum(scores(honest).values()) == 100
    for cell in autograded_cells(honest):
        (output,) = cell.outputs
        assert output.output_type == "execute_result"
        assert "autograder-feedback" in output.data["text/html"]


def test_a_test_cell_the_kit_does_not_know_scores_zero(grader, tmp_path: Path) -> None:
    notebook = answered(read(RELEASE), read(SOLUTION))
    extra = copy.deepcopy(autograded_cells(notebook)[0])
    extra.metadata["nbgrader"]["grade_id"] = "test_extra"
    extra.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "3"})]
    notebook.cells.append(extra)
    graded = autograde(notebook, tmp_path, grader)
    assert scores(graded)["extra"] == 0


def test_the_hidden_test_fails_the_cell_if_a_kernel_runs_it_while_autograding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ScoredOutsideTheKernel, match="GradeInSandbox") as info:
        scored_outside_the_kernel("build_model")
    assert info.value._render_traceback_()[0].startswith("ScoredOutsideTheKernel")


def test_failed_check_html_has_want_and_got() -> None:
    from autograder.results import Feedback, GradingReport, TestResult

    report = GradingReport(
        "nb",
        [
            TestResult(
                "build_model: params",
                "build_model",
                5,
                0,
                Feedback("401,920 <params>", "100,480 \x1b[31m", "128 units"),
            )
        ],
    )
    html = nbgrader_grading.render_html(report, "build_model", ["test_build_model"], first=True)
    assert "Expected: 401,920 &lt;params&gt;" in html and "Received: 100,480 " in html
    assert "\x1b" not in html
    assert "Likely cause: 128 units" in html
    assert "test_build_model) was changed" in html


def test_validate_runs_the_kits_checks_and_fails_a_part_that_loses_points(
    monkeypatch: pytest.MonkeyPatch, grader, capsys: pytest.CaptureFixture
) -> None:
    """The Validate button tells the truth: a part that would lose points fails its test cell
    with the grader's feedback; a correct part passes and says so."""
    import numpy as np

    from autograder import selfcheck

    monkeypatch.setattr(selfcheck, "get_grader", lambda exercise: grader)
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    namespace = {"np": np, "scale_images": lambda images: images / 255.0}
    monkeypatch.setattr(selfcheck, "_caller_namespace", lambda depth: namespace)
    scored_outside_the_kernel("scale_images")
    assert "All checks passed." in capsys.readouterr().out
    namespace["scale_images"] = lambda images: images  # the unscaled-pixels mistake
    with pytest.raises(AssertionError, match=r"scale_images: 3 of 9 points") as info:
        scored_outside_the_kernel("scale_images")
    assert "Expected" in str(info.value)


def pipeline_report(**artifacts) -> GradingReport:
    """A report whose pipeline passed and whose build_model lost one check."""
    tests = [
        TestResult(
            rubric_line("fashion_mnist", "build_model", "test_layer_order"), "build_model", 5, 5
        ),
        TestResult(
            rubric_line("fashion_mnist", "build_model", "test_parameter_counts"),
            "build_model",
            5,
            0,
        ),
        TestResult("build_model: loss <sparse>", "build_model", 2, 0),
        TestResult(
            rubric_line("fashion_mnist", "pipeline", "test_pipeline_accuracy"), "pipeline", 11, 11
        ),
    ]
    return GradingReport("nb", tests, artifacts=artifacts)


PLOTTED = {
    "history": {"loss": [0.5, 0.35, 0.3], "accuracy": [0.82, 0.87, 0.89]},
    "confusion_matrix": [[90 if i == j else 1 for j in range(10)] for i in range(10)],
    "class_names": [f"class {i}" for i in range(10)],
    "test_accuracy": 0.8765,
}


def test_the_pipeline_feedback_shows_the_reports_plots_and_only_there() -> None:
    report = pipeline_report(**PLOTTED)
    pipeline = nbgrader_grading.render_html(report, "pipeline", [])
    assert pipeline.count("<img ") == 2 and pipeline.count("data:image/png;base64,") == 2
    assert 'alt="Training curves' in pipeline and 'alt="Confusion matrix' in pipeline
    assert "<img" not in nbgrader_grading.render_html(report, "build_model", [])
    assert "<img" not in nbgrader_grading.render_html(pipeline_report(), "pipeline", [])


def test_a_plot_over_the_size_bound_is_left_out_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nbgrader_grading, "MAX_PLOT_BYTES", 100)
    pipeline = nbgrader_grading.render_html(pipeline_report(**PLOTTED), "pipeline", [])
    assert "<img" not in pipeline and pipeline.count("left out") == 2


def test_part_titles_name_the_part_and_what_its_checks_found() -> None:
    report = pipeline_report(test_accuracy=0.8765)
    assert nbgrader_grading.part_title(report, "build_model") == (
        "build_model: 2 of 3 checks failed (parameter counts 401,920 and 5,130, and 1 more)"
    )
    assert nbgrader_grading.part_title(report, "pipeline") == (
        "pipeline: test accuracy 0.8765, the check passed"
    )
    assert nbgrader_grading.part_title(report, "", "test_extra") == (
        "test_extra: not a part of this exercise, 0 points"
    )


def test_graded_test_cells_carry_their_title_for_the_table_of_contents(
    grader, tmp_path: Path
) -> None:
    graded = autograde(answered(read(RELEASE), read(SOLUTION)), tmp_path, grader)
    titles = {
        cell.metadata["nbgrader"]["grade_id"]: cell.metadata["autograder"]["title"]
        for cell in autograded_cells(graded)
    }
    assert titles["test_build_model"] == "build_model: all 8 checks passed"
    assert set(titles) == {f"test_{part}" for part in PARTS}
    assert all(
        title.startswith(grade_id[len("test_") :] + ": ") for grade_id, title in titles.items()
    )


def feedback_page(nb: nbformat.NotebookNode) -> str:
    """The course's feedback HTML of an autograded notebook, as generate_feedback renders it
    (scores as GetGrades puts them; the template and hidden-test step from nbgrader_config.py)."""
    from nbconvert import HTMLExporter
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", str(ROOT)).load_config()
    exporter = HTMLExporter(config=config.GenerateFeedback)
    exporter.register_preprocessor("autograder.nbgrader_feedback.ClearHiddenTests", enabled=True)
    for cell in autograded_cells(nb):
        cell.metadata["nbgrader"]["score"] = 1
    resources = {
        "nbgrader": {"notebook": "fashion_mnist", "score": 1, "max_score": 2, "late_penalty": 0}
    }
    return exporter.from_notebook_node(nb, resources=resources)[0]


def test_the_feedback_template_names_each_test_cell_and_escapes_the_name() -> None:
    notebook = read(SOLUTION)
    cells = autograded_cells(notebook)
    for cell in cells:
        cell.metadata["autograder"] = {"title": f"{cell.metadata.nbgrader.grade_id}: <b>x</b> & y"}
    del cells[-1].metadata["autograder"]  # graded before the kit named cells: nbgrader's words
    page = feedback_page(notebook)
    entries = re.findall(r'<li><a href="#(test_\w+)">([^<]*)</a> \(Score: ', page)
    assert [grade_id for grade_id, _ in entries] == [c.metadata.nbgrader.grade_id for c in cells]
    assert entries[0][1] == f"{entries[0][0]}: &lt;b&gt;x&lt;/b&gt; &amp; y"
    assert entries[-1][1] == "Test cell"
    assert "HIDDEN TESTS" not in page and "bootstrap" in page.lower()


def test_the_feedback_preprocessors_configure_without_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HTMLExporter's defaults set display_data_priority for every nbconvert class; nbgrader's
    ClearHiddenTests warned that it did not recognize it, on every generate_feedback."""
    from nbconvert import HTMLExporter

    from autograder.nbgrader_feedback import ClearHiddenTests

    exporter = HTMLExporter()
    with caplog.at_level(logging.WARNING):
        exporter.register_preprocessor(ClearHiddenTests, enabled=True)
    assert "not recognized" not in caplog.text


def test_only_sqlalchemys_warnings_about_nbgraders_new_submissions_are_ignored() -> None:
    from sqlalchemy.exc import SAWarning

    harmless = (
        "Object of type <SubmittedAssignment> not in session, add operation along "
        "'Assignment.submissions' will not proceed (This warning originated from ...)"
    )
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        nbgrader_grading.quiet_gradebook_warnings()
        for module, message in [
            ("nbgrader.api", harmless),
            ("nbgrader.api", "implicitly coercing SELECT object to scalar subquery"),
            ("somebody.else", harmless),
        ]:
            warnings.warn_explicit(message, SAWarning, "api.py", 1, module=module)
    assert [(str(w.message)[:30]) for w in shown] == [
        "implicitly coercing SELECT obj",
        harmless[:30],
    ]


def test_the_table_of_contents_names_each_comment_by_its_cell() -> None:
    """nbgrader's entry was a bare "Comment" linking to an answer cell (the one a student left
    as released, with nbgrader's automatic "No response."): each now names its cell."""
    notebook = read(SOLUTION)
    answers = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    answers[-1].metadata["nbgrader"]["comment"] = "No response."
    answers[0].metadata["nbgrader"]["comment"] = "Good <b>work</b>\non the names. " + "x" * 100
    page = feedback_page(notebook)
    comments = re.findall(r'<li><a href="#comment-(\w+)">([^<]*)</a></li>', page)
    first, last = answers[0].metadata.nbgrader.grade_id, answers[-1].metadata.nbgrader.grade_id
    assert comments[-1] == (last, f"{last}: not answered (the cell is as released)")
    grade_id, title = comments[0]
    assert grade_id == first and title.startswith(f"Comment on {first}: Good &lt;b&gt;work")
    assert "\n" not in title and title.endswith("…") and len(title) < 130
    assert ">Comment</a>" not in page


def test_the_autograde_log_names_the_student_and_gives_the_score_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The formgrader showed "None, None" for a student without names and buried the score in
    DEBUG lines: the log's INFO line names the student (with the gradebook's names, if any)."""
    from nbgrader.api import Gradebook

    # nbgrader's gradebook runs alembic from the environment's bin, as `make test` puts on PATH
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        gradebook.add_student("ada", first_name="Ada", last_name="Lovelace")
        gradebook.add_student("alice")
    resources = {"nbgrader": {"student": "ada", "db_url": db_url}}
    assert nbgrader_grading.student_label(resources) == "ada (Ada Lovelace)"
    resources["nbgrader"]["student"] = "alice"
    assert nbgrader_grading.student_label(resources) == "alice"
    resources["nbgrader"].update(student="bob", db_url=f"sqlite:///{tmp_path / 'none' / 'x.db'}")
    assert nbgrader_grading.student_label(resources) == "bob"  # no gradebook: the id alone
    assert nbgrader_grading.student_label({}) == "the student"
    line = nbgrader_grading.score_line(
        pipeline_report(), "ada (Ada Lovelace)", "fashion_mnist", 41.23
    )
    assert line == (
        "ada (Ada Lovelace): fashion_mnist scored 16/23 (lost points: build_model 5/12), "
        "graded in the sandbox in 41.2 s"
    )
    assert "None" not in line and "\n" not in line

"""Exporters over hand-built reports: no TensorFlow, no grading."""

from __future__ import annotations

import base64
import csv
import json
import re
import xml.etree.ElementTree as ET

import pytest
from fashion import PARTS

from autograder.exercises.datasets import FASHION_MNIST_CLASSES
from autograder.exporters import csv_export, gradescope, html, junit
from autograder.exporters.sanitize import printable
from autograder.results import Feedback, GradingReport
from autograder.results import TestResult as Result  # pytest would try to collect "Test*"

HOSTILE = "got <script>alert(\"x\")</script> & 'quotes' \x00 nul \x1b[31m escape"
HISTORY = {
    "loss": [0.52, 0.38, 0.34, 0.31, 0.29],
    "accuracy": [0.81, 0.86, 0.88, 0.89, 0.9],
    "val_loss": [0.41, 0.37, 0.36, 0.35, 0.36],
}
CONFUSION = [[90 if i == j else i + j for j in range(10)] for i in range(10)]


def make_report(**artifacts) -> GradingReport:
    tests = [
        Result("build_model: has two Dense layers", "build_model", 4, 4, message="ok"),
        Result(
            "build_model: uses softmax",
            "build_model",
            3,
            0,
            Feedback(expected="softmax <activation>", received=HOSTILE, hint="see & fix"),
            "output layer is wrong",
        ),
        Result("pipeline: accuracy", "pipeline", 11, 5.5, Feedback(received="0.8\x1b")),
        Result("pipeline: saves model", "pipeline", 2, 2),
    ]
    return GradingReport(
        submission="subs/alice <&>.ipynb",
        tests=tests,
        execution_time=12.345,
        isolation="bubblewrap (no network)",
        part_notes={"pipeline": "timed out\nafter 600 s", "network": "=tried example.com"},
        artifacts=artifacts,
        exercise="fashion_mnist",
    )


def test_gradescope_json_schema_and_total(tmp_path):
    report = make_report()
    data = json.loads(gradescope.write(report, tmp_path / "results.json").read_text())
    assert {"score", "execution_time", "tests"} <= data.keys()
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"])) == 11.5
    assert data["execution_time"] == 12.35
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output"} <= test.keys()
    assert [t["status"] for t in data["tests"]] == ["passed", "failed", "failed", "passed"]
    # Printable text only: the escape sequence and the NUL are gone, the rest is kept as is.
    assert "Received: " + printable(HOSTILE) in data["tests"][1]["output"]
    assert "\x1b" not in json.dumps(data) and "\\u001b" not in json.dumps(data)


def test_junit_parses_counts_failures_and_strips_control_characters(tmp_path):
    other = GradingReport("bob.py", [Result("pipeline: accuracy", "pipeline", 11, 11)], 1.0)
    path = junit.write([make_report(), other], tmp_path / "junit.xml")
    text = path.read_text(encoding="utf-8")
    assert "\x00" not in text and "\x1b" not in text
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("5", "2")
    alice, bob = root.findall("testsuite")
    assert alice.get("name") == "subs/alice <&>.ipynb"
    assert (alice.get("tests"), alice.get("failures"), alice.get("time")) == ("4", "2", "12.345")
    assert (bob.get("tests"), bob.get("failures")) == ("1", "0")
    properties = {p.get("name"): p.get("value") for p in alice.iter("property")}
    assert properties == {
        "score": "11.5",
        "max_score": "20",
        "isolation": "bubblewrap (no network)",
    }
    cases = alice.findall("testcase")
    assert [c.get("classname") for c in cases] == ["build_model"] * 2 + ["pipeline"] * 2
    assert cases[0].get("name") == "build_model: has two Dense layers"
    failures = [c.find("failure") for c in cases]
    assert [f is not None for f in failures] == [False, True, True, False]
    assert failures[1].get("message") == "output layer is wrong"
    assert "Received: got <script>" in failures[1].text
    assert "  nul  escape" in failures[1].text and "[31m" not in failures[1].text
    assert "timed out" in alice.find("system-out").text


def test_junit_write_accepts_a_single_report(tmp_path):
    root = ET.parse(junit.write(make_report(), tmp_path / "one.xml")).getroot()
    assert len(root.findall("testsuite")) == 1


def test_xml_text_drops_controls_and_replaces_other_illegal_characters():
    cleaned = junit.xml_text("a\x00b\x08c\x0bd\x1fe\tf\ng\rh\ud800i\uffff\x1b[2Jj")
    assert cleaned == "abcde\tf\ngh\ufffdi\ufffdj"


def test_csv_has_every_part_and_the_right_numbers(tmp_path):
    empty = GradingReport("carol.py", [], 0.5, "", {"grader": "RuntimeError: boom"})
    path = csv_export.write([make_report(), empty], tmp_path / "grades.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, alice, carol = rows
    assert header == ["submission", "score", "max_score", *PARTS] + [
        "execution_time",
        "isolation",
        "notes",
    ]
    alice_row = dict(zip(header, alice, strict=True))
    assert alice_row["submission"] == "subs/alice <&>.ipynb"
    assert (alice_row["score"], alice_row["max_score"]) == ("11.5", "20")
    assert (alice_row["build_model"], alice_row["pipeline"]) == ("4", "7.5")
    assert alice_row["load_data"] == ""  # not graded, not zero
    assert alice_row["execution_time"] == "12.35"
    assert alice_row["notes"] == "pipeline: timed out | after 600 s; network: =tried example.com"
    carol_row = dict(zip(header, carol, strict=True))
    assert (carol_row["score"], carol_row["notes"]) == ("0", "grader: RuntimeError: boom")


def test_csv_text_cells_cannot_become_spreadsheet_formulas(tmp_path):
    report = GradingReport("=HYPERLINK(1)", [], isolation="+rlimits")
    row = csv_export.row(report)
    assert (row["submission"], row["isolation"]) == ("'=HYPERLINK(1)", "'+rlimits")


def _png_images(page: str) -> list[bytes]:
    return [
        base64.b64decode(d)
        for d in re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page)
    ]


def test_html_escapes_feedback_and_has_no_external_assets():
    page = html.render(make_report())
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quotes&#x27;" in page
    assert "softmax &lt;activation&gt;" in page and "see &amp; fix" in page
    assert "<h1>Feedback: alice &lt;&amp;&gt;.ipynb</h1>" in page  # the file name, escaped
    assert "\x00" not in page and "\x1b" not in page
    for label in ("Expected", "Received", "Likely cause"):
        assert f"<dt>{label}</dt>" in page
    assert "11.5 / 20" in page and "bubblewrap (no network)" in page
    assert "timed out" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


NAMES = list(FASHION_MNIST_CLASSES)


def test_html_needs_class_names_that_fit_the_matrix():
    assert "<img" not in html.render(make_report(confusion_matrix=CONFUSION))
    assert "<img" not in html.render(make_report(confusion_matrix=CONFUSION, class_names=NAMES[:3]))


def test_html_without_artifacts_has_no_plots():
    page = html.render(make_report())
    assert "<img" not in page and "Plots" not in page


@pytest.mark.parametrize("history", [None, {"loss": "not a list"}, {"loss": [0.5, float("nan")]}])
def test_html_skips_unusable_history(history):
    page = html.render(
        make_report(history=history, confusion_matrix=[[1, 2], [3, 4]], class_names=NAMES)
    )
    assert "<img" not in page


def test_html_embeds_plots_when_artifacts_are_present():
    page = html.render(
        make_report(
            history=HISTORY, confusion_matrix=CONFUSION, test_accuracy=0.8765, class_names=NAMES
        )
    )
    images = _png_images(page)
    assert len(images) == 2
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000 for png in images)
    assert "0.8765" in page


def test_html_confusion_matrix_alone(tmp_path):
    report = make_report(confusion_matrix=CONFUSION, class_names=NAMES)
    path = html.write(report, tmp_path / "out" / "report.html")
    page = path.read_text(encoding="utf-8")
    assert len(_png_images(page)) == 1
    assert 'alt="Confusion matrix' in page


def test_a_reason_shared_by_several_checks_is_said_once_and_pointed_to_from_each():
    """A part that crashed fails all its checks for one reason: the terminal and nbgrader show
    it once, and every later failed check says where its explanation is (it once showed none)."""
    from autograder.exporters import text
    from autograder.nbgrader_grading import render_html

    reason = "build_model raised an error:\nValueError: no"
    tests = [
        Result(f"build_model: line {i}", "build_model", 2, 0, message=reason) for i in range(3)
    ]
    report = GradingReport(submission="a.py", tests=tests, execution_time=1.0, isolation="plain")
    rendered = text.render(report)
    assert rendered.count("ValueError: no") == 1
    assert rendered.count("(the same as above)") == 2
    nbgrader = render_html(report, "build_model", [])
    assert nbgrader.count("ValueError: no") == 1 and nbgrader.count("(the same as above)") == 2


# -- Student text in plots is plain text; a figure that fails never costs the page (issue 31, 9) --
MATH_KEY = "$\\undefinedcommand$"  # matplotlib's math text raises on it


def test_a_history_key_in_math_text_is_drawn_as_its_literal_text():
    from matplotlib import rc_context

    history = {MATH_KEY: [0.9, 0.5], "loss": [1.0, 0.4], "$x^2$ acc": [0.1, 0.3]}
    page = html.render(make_report(history=history))
    assert len(_png_images(page)) == 1 and "not drawn" not in page
    with rc_context(html.PLAIN_TEXT):  # as the exporter draws it
        figure = html._history_figure(history)
    legends = [t for axes in figure.axes for t in axes.get_legend().get_texts()]
    assert {t.get_text() for t in legends} == set(history)
    assert not any(t.get_parse_math() for t in legends)  # "$x^2$ acc" shown as typed
    texts = [axes.title for axes in figure.axes] + [axes.xaxis.label for axes in figure.axes]
    assert not any(t.get_parse_math() for t in texts)


def test_class_names_in_math_text_are_plain_tick_labels():
    names = [MATH_KEY, *NAMES[1:]]
    page = html.render(make_report(confusion_matrix=CONFUSION, class_names=names))
    assert len(_png_images(page)) == 1 and "not drawn" not in page


def test_a_figure_that_cannot_be_drawn_is_noted_and_the_page_still_written(tmp_path, monkeypatch):
    def broken(history):
        raise ValueError("a figure that cannot be drawn <b>")

    monkeypatch.setattr(html, "_history_png", broken)
    report = make_report(history=HISTORY, confusion_matrix=CONFUSION, class_names=NAMES)
    page = html.write(report, tmp_path / "report.html").read_text(encoding="utf-8")
    assert len(_png_images(page)) == 1  # the confusion matrix is still there
    assert "not drawn (ValueError: a figure that cannot be drawn &lt;b&gt;)" in page
    assert "<h2>Checks</h2>" in page


def test_nbgrader_feedback_survives_a_math_key_and_a_broken_figure(monkeypatch):
    from autograder.nbgrader_grading import render_html

    body = render_html(make_report(history={MATH_KEY: [0.9, 0.5]}), "pipeline", [])
    assert "data:image/png;base64," in body and "not drawn" not in body

    def broken(report):
        raise RuntimeError("no figures today")

    monkeypatch.setattr("autograder.nbgrader_grading.plots", broken)
    body = render_html(make_report(history=HISTORY), "pipeline", [])
    assert "The plots could not be drawn (RuntimeError)" in body
    assert "pipeline: accuracy" in body  # the part's checks are still shown

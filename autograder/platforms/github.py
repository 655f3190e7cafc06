"""GitHub Classroom: the grading reporter's step outputs and a Markdown step summary.

The reporter (`classroom-resources/autograding-grading-reporter`) reads, for each name in its
`runners` input, the environment variable `<NAME>_RESULTS`: base64 of
`{"version": 1, "status": "pass"|"fail"|"error", "max_score": N, "tests": [...]}`. It computes
two totals from that, differently:

* what GitHub Classroom records (the "Autograding report" notice): the sum of every test's
  `score` over the sum of the runners' `max_score`;
* what the Actions log shows ("Total points for <runner>" and the summary table): per runner,
  `passed tests / number of tests * max_score`, i.e. every test of a runner weighs the same.

The rubric's checks are worth 1 to 11 points, so one entry per check would make the two totals
disagree. The kit therefore writes **one runner per part** and, inside it, **one entry per point**
(a 5-point check is 5 entries, all passed or all failed): both formulas then give the same
number, exactly in floating point for every possible outcome of this rubric
(`tests/test_platforms.py` checks all of them). `reporter_totals()` mirrors the reporter's
arithmetic. The whole grade as a single runner is written too, as `result`.

Student-controlled text (feedback, tracebacks, the submission's name) is made printable and, in
the step summary, escaped for Markdown and HTML.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from autograder.exporters.sanitize import printable
from autograder.results import GradingReport, TestResult

WHOLE_RESULT = "result"  # the output holding the whole grade as one runner
MESSAGE_LIMIT = 1500  # characters of feedback per check: every output stays far below the
# 128 KiB that Linux allows for one environment variable (the reporter reads them from there)
SUMMARY_FEEDBACK_LIMIT = 4000  # characters of feedback per check in the step summary
STATUSES = ("pass", "fail", "error")


def runner_name(part: str) -> str:
    """The runner (and step output) name of a part: lower-case letters and digits only, as the
    reporter's `runners` input expects (`build_model` -> `buildmodel`)."""
    return re.sub(r"[^a-z0-9]", "", part.lower())


def _number(value: float) -> float | int:
    return int(round(value)) if math.isclose(value, round(value), abs_tol=1e-9) else value


def _whole_points(value: float) -> int | None:
    rounded = round(value)
    return int(rounded) if math.isclose(value, rounded, abs_tol=1e-9) else None


def _message(test: TestResult) -> str:
    text = printable(test.output)
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 20] + "\n[... truncated]"
    return text


def _entry(name: str, passed: bool, score: float, message: str) -> dict[str, Any]:
    return {
        "name": name,
        "status": "pass" if passed else "fail",
        "score": _number(score),
        "message": message,
        "test_code": "",
        "filename": "",
        "line_no": 0,  # the reporter prints " - line N" unless this is 0
        "duration": 0,
    }


def point_entries(test: TestResult) -> list[dict[str, Any]]:
    """A check as one reporter entry per point: `score` of them passed, the rest failed.

    A check whose points are not whole numbers stays one entry (the log's total may then differ
    from the recorded one; this rubric has none).
    """
    points, earned = _whole_points(test.max_score), _whole_points(test.score)
    if points is None or earned is None or points == 0:
        return [_entry(test.name, test.passed, test.score, _message(test))]
    entries = []
    for k in range(1, points + 1):
        name = test.name if points == 1 else f"{test.name} [point {k}/{points}]"
        message = _message(test) if k == 1 else ""
        entries.append(_entry(name, k <= earned, 1 if k <= earned else 0, message))
    return entries


def _runner_result(report: GradingReport, tests: list[TestResult]) -> dict[str, Any]:
    if "submission" in report.part_notes:
        status = "error"  # the submission could not be graded at all (missing, not JSON, ...)
    else:
        status = "pass" if all(t.passed for t in tests) else "fail"
    return {
        "version": 1,
        "status": status,
        "max_score": _number(sum(t.max_score for t in tests)),
        "tests": [entry for test in tests for entry in point_entries(test)],
    }


def runner_results(report: GradingReport) -> dict[str, dict[str, Any]]:
    """One reporter result per graded part, keyed by runner name, in rubric order."""
    return {
        runner_name(part): _runner_result(report, [t for t in report.tests if t.part == part])
        for part in report.parts()
    }


def whole_result(report: GradingReport) -> dict[str, Any]:
    """The whole grade as a single runner (the `result` output)."""
    return _runner_result(report, list(report.tests))


def encode(result: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(result, separators=(",", ":")).encode("utf-8")).decode()


def decode(value: str) -> dict[str, Any]:
    return json.loads(base64.b64decode(value).decode("utf-8"))


def reporter_totals(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The reporter's own arithmetic (src/helpers/test-helpers.js, aggregate-results.js and
    notify-classroom.js), with Python floats standing in for JavaScript numbers.

    Returns `log_total`/`log_max` (the Actions log's table) and `classroom_points`/
    `classroom_max` (the notice GitHub Classroom records).
    """
    log_total = log_max = 0.0
    classroom_points = classroom_max = 0.0
    for result in results.values():
        max_score = result.get("max_score") or 0
        tests = result["tests"]
        passed = sum(1 for t in tests if t["status"] == "pass")
        runner_score = (passed / len(tests)) * max_score if tests else math.nan
        log_total += runner_score
        log_max += max_score
        if result.get("max_score"):
            classroom_max += result["max_score"]
            for test in tests:
                classroom_points += test["score"]
    return {
        "log_total": log_total,
        "log_max": log_max,
        "classroom_points": classroom_points,
        "classroom_max": classroom_max,
    }


# -- the step summary ---------------------------------------------------------------------------
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>])")


def markdown_text(text: object) -> str:
    """Student text as one line of inert Markdown: no formatting, links, HTML or table breaks."""
    line = " ".join(printable(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(line, quote=False))


def _pre(text: str) -> str:
    """Preformatted student text: an HTML block, whose content Markdown never interprets."""
    if len(text) > SUMMARY_FEEDBACK_LIMIT:
        text = text[: SUMMARY_FEEDBACK_LIMIT - 20] + "\n[... truncated]"
    return "<pre>" + html.escape(printable(text)) + "</pre>"


def step_summary(report: GradingReport) -> str:
    """The Markdown shown on the run's summary page: parts, points, and what to fix."""
    lines = [
        f"## Fashion-MNIST autograder: {report.score:g}/{report.max_score:g}",
        "",
        f"Submission: {markdown_text(report.submission)}",
        "",
        "| part | points |",
        "|---|---:|",
    ]
    for part in report.parts():
        score, maximum = report.part_score(part)
        mark = "✅" if score >= maximum else "❌"
        lines.append(f"| {mark} `{part}` | {score:g}/{maximum:g} |")
    lines.append(f"| **total** | **{report.score:g}/{report.max_score:g}** |")
    failed_parts = [
        p for p in report.parts() if any(not t.passed for t in report.tests if t.part == p)
    ]
    if failed_parts:
        lines += ["", "### What to fix", ""]
    for part in failed_parts:
        score, maximum = report.part_score(part)
        lines += [f"<details open><summary><b>{part}</b> {score:g}/{maximum:g}</summary>", ""]
        previous = None
        for test in (t for t in report.tests if t.part == part and not t.passed):
            lines += [f"- ❌ {markdown_text(test.name)} ({test.score:g}/{test.max_score:g})", ""]
            if test.output and test.output != previous:  # a part-level reason: say it once
                lines += [_pre(test.output), ""]
            previous = test.output
        lines += ["</details>", ""]
    accuracy = report.artifacts.get("test_accuracy")
    lines.append("")
    if accuracy is not None:
        lines.append(f"Pipeline test accuracy measured by the grader: {accuracy:.4f}  ")
    notes = {k: v for k, v in report.part_notes.items() if k not in report.parts()}
    for key, note in notes.items():
        lines.append(f"Note ({markdown_text(key)}): {markdown_text(note)}  ")
    lines.append(f"Isolation: {markdown_text(report.isolation)}")
    return "\n".join(lines) + "\n"


def write_outputs(
    report: GradingReport,
    output_path: str | os.PathLike[str],
    summary_path: str | os.PathLike[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Append the reporter's results to `$GITHUB_OUTPUT` (one output per part, named by
    `runner_name`, plus `result`) and the summary to `$GITHUB_STEP_SUMMARY`."""
    results = runner_results(report)
    lines = [f"{name}={encode(result)}" for name, result in results.items()]
    lines.append(f"{WHOLE_RESULT}={encode(whole_result(report))}")
    with Path(output_path).open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    if summary_path:
        with Path(summary_path).open("a", encoding="utf-8") as handle:
            handle.write(step_summary(report))
    return results

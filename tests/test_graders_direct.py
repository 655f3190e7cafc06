"""An instructor can run an exercise's graders with pytest itself, and gets the grade
`autograder grade` gives: one sandboxed run, the same inputs (same code, same secret), the same
tests, the same points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fashion import ROOT

from autograder.exercise_spec import available_exercises

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("exercise", available_exercises())
def test_pytest_on_the_graders_reports_the_grade_of_autograder_grade(
    exercise: str, synthetic_dir: Path, tmp_path: Path
) -> None:
    solution = ROOT / "solutions" / exercise / f"{exercise}.ipynb"
    env = {
        **os.environ,
        "AUTOGRADER_SECRET": "the same secret for both routes",
        "FASHION_MNIST_DIR": str(synthetic_dir),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    results = tmp_path / "results.json"
    graded = subprocess.run(
        [BIN / "autograder", "grade", str(solution), "--exercise", exercise, "--results", results],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert graded.returncode == 0, graded.stderr[-2000:]
    junit = tmp_path / "junit.xml"
    direct = subprocess.run(
        [
            BIN / "pytest",
            f"autograder/exercises/{exercise}",
            "--submission",
            str(solution),
            f"--junitxml={junit}",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    expected = {t["name"]: t["score"] for t in json.loads(results.read_text())["tests"]}
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        found[properties["rubric"]] = float(properties["score"])
    assert found == expected  # every rubric line, the same points
    total = sum(expected.values())
    assert f"Score: {total:g} / 100 for {solution}" in direct.stdout, direct.stdout[-2000:]
    assert direct.returncode == (0 if total == 100 else 1)

"""The first child starts while the grader prepares the grading's inputs (issue 9).

Python and TensorFlow load in the child while the grader imports TensorFlow and draws the
inputs; the child runs nothing of the submission's before the grader tells it to go on, and a
child that is never told is killed with its working directory.
"""

from __future__ import annotations

import time
from pathlib import Path

from fashion import fast_options, reference_source

from autograder.exercise_spec import load_exercise
from autograder.grader import Grader
from autograder.sandbox.isolation import Limits, choose_sandbox
from autograder.sandbox.runner import Session
from autograder.sandbox.workdir import child_files

PROBE_CODE = """
import os as _os, sys as _sys
print("INPUTS", sorted(_os.listdir("inputs")))
print("STDIN", repr(_sys.stdin.read()))
"""


def test_the_submission_runs_after_its_inputs_exist_with_an_empty_stdin(
    synthetic_dir: Path, tmp_path: Path
) -> None:
    submission = tmp_path / "submission.py"
    submission.write_text(reference_source() + PROBE_CODE)
    with Grader(fast_options(synthetic_dir, parts=("CLASS_NAMES", "scale_images"))) as grader:
        report = grader.grade(submission)
    printed = report.artifacts["stdout_tail"]
    inputs_line = next(line for line in printed.splitlines() if line.startswith("INPUTS"))
    assert "sample_images.npy" in inputs_line and "reference_model.keras" in inputs_line
    assert "STDIN ''" in printed  # the grader's go line is never the submission's to read
    assert report.score == report.max_score > 0


def test_a_started_child_that_is_never_run_is_killed_and_removed(tmp_path: Path) -> None:
    session = Session(
        sandbox=choose_sandbox("auto"),
        limits=Limits(),
        timeouts={},
        chunks=[],
        inputs_dir=tmp_path,
        data_files={},
        grader_files=child_files(load_exercise("fashion_mnist")),
    )
    session.start()
    child = session.waiting
    assert child is not None
    time.sleep(1.0)
    assert child.proc.poll() is None  # loaded, and waiting to be told to go on
    session.cleanup()
    assert child.proc.returncode is not None
    assert not session.work.base.exists()
    assert session.waiting is None

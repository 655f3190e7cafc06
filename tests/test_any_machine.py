"""The same submission gets the same grade on any machine: one visible core or two, one grading
at a time or two side by side.

TensorFlow sizes its thread pools from the cores it may use, and a matrix product's reduction
order follows them; the grader fixes them (autograder.threads). These gradings run on the real
data, with two submissions near the pipeline's threshold, where a last-digit difference could
move a grade: one whose `train_model` drops `epochs` (the pipeline trains one epoch) and one
with 128 hidden units. (Both train in seconds; the reference's full pipeline is graded on the
real data by tests/test_real_data.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from defects_fashion_mnist import DEFECTS

from autograder.threads import INTER_OP_THREADS, INTRA_OP_THREADS, fix_threads, thread_environment

ROOT = Path(__file__).resolve().parents[1]


def test_the_child_and_the_grader_use_the_grading_thread_layout(tmp_path: Path) -> None:
    from autograder.sandbox.isolation import choose_sandbox
    from autograder.sandbox.workdir import Workdir

    fix_threads()
    assert {k: os.environ[k] for k in thread_environment()} == {
        "TF_NUM_INTRAOP_THREADS": str(INTRA_OP_THREADS),
        "TF_NUM_INTEROP_THREADS": str(INTER_OP_THREADS),
    }
    workdir = Workdir(
        sandbox=choose_sandbox("plain"),
        chunks=[],
        inputs_dir=tmp_path,
        data_files={},
        grader_files={},
    )
    try:
        assert thread_environment().items() <= workdir.environment(tmp_path).items()
    finally:
        workdir.cleanup()


def test_a_started_tensorflow_with_other_pools_is_reported_not_hidden() -> None:
    """In a kernel that trained before the kit was imported the pools cannot change any more:
    fix_threads says so instead of pretending."""
    script = (
        "import os, warnings\n"
        "os.environ['TF_NUM_INTRAOP_THREADS'] = '1'\n"
        "import tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
        "tf.constant(1.0) + 1\n"
        "from autograder.threads import fix_threads\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    held = fix_threads()\n"
        "print(held, any('thread pools' in str(w.message) for w in caught))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_NUM_INTRAOP_THREADS", None)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "True"]


def _batch(folder: Path, out: Path, jobs: int, cores: str | None) -> dict[str, dict]:
    """`autograder batch` of `folder` (optionally pinned to `cores`): each file's report."""
    command = [sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(out)]
    command += ["--jobs", str(jobs), "--layout", "files", "--exercise", "fashion_mnist"]
    if cores is not None:
        command = ["taskset", "-c", cores, *command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True, timeout=900)
    reports = {}
    for record in out.glob("*/record.json"):
        report = json.loads(record.read_text())["report"]
        reports[Path(report["submission"]).name] = report
    return reports


@pytest.mark.real_data
@pytest.mark.slow
def test_one_core_and_two_grade_alike(real_data_dir: Path, tmp_path: Path) -> None:
    if shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs taskset and two cores to compare one core with two")
    folder = tmp_path / "submissions"
    folder.mkdir()
    for defect_id, name in (("epochs_not_passed", "one_epoch.py"), ("units_128", "units_128.py")):
        near = next(d for d in DEFECTS if d.id == defect_id)
        (folder / name).write_text(near.source())
    os.environ["FASHION_MNIST_DIR"] = str(real_data_dir)

    one_core = _batch(folder, tmp_path / "one-core", jobs=1, cores="0")
    two_at_once = _batch(folder, tmp_path / "two-cores", jobs=2, cores=None)

    assert sorted(one_core) == sorted(two_at_once) == ["one_epoch.py", "units_128.py"]
    for name, report in one_core.items():
        other = two_at_once[name]
        assert report["artifacts"]["test_accuracy"] == other["artifacts"]["test_accuracy"], name
        assert [(t["name"], t["score"]) for t in report["tests"]] == [
            (t["name"], t["score"]) for t in other["tests"]
        ], name
        print(
            f"{name}: accuracy {report['artifacts']['test_accuracy']} on one core and two, "
            f"score {report['score']}"
        )
    assert all(report["artifacts"]["test_accuracy"] > 0.8 for report in one_core.values())

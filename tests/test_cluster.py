"""Grading on a real Dask cluster: a scheduler and two workers as separate processes on 127.0.0.1.

Each worker builds its own grader (its own copy of the synthetic data, its own sandbox) and gets
only the bytes of each submission. The cluster's grades must equal local grades, and a worker
killed with SIGKILL mid-batch must cost nothing: every submission graded, each recorded once.
A caller's own Dask client in the same process is neither taken over nor needed.
Two quick parts keep it fast (about a minute and a half in all).
"""

from __future__ import annotations

import csv
import json
import sys
import threading
import time
import traceback
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import mutate
import pytest
from fashion import fast_options, reference_source

from autograder import batch
from autograder.batch.store import LOG, RECORD
from autograder.grader import Grader

pytest.importorskip("distributed")
from dask_cluster import LocalDaskCluster  # noqa: E402

PARTS = ("CLASS_NAMES", "scale_images")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    instance = LocalDaskCluster(tmp_path_factory.mktemp("dask"), 2)
    try:
        instance.start()
        yield instance
    finally:
        instance.close()


@pytest.fixture(scope="module")
def options(synthetic_dir):
    return fast_options(synthetic_dir, parts=PARTS)


def records(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(out.glob(f"*/{RECORD}"))}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def scores(report) -> list[tuple[str, float]]:
    return [(t.name, t.score) for t in report.tests]


def write_class(folder: Path, prefix: str = "") -> Path:
    """The reference, two mistakes, a submission that kills its child at import, a stub."""
    reference = reference_source()
    sources = {
        "alice.py": reference,
        "bob.py": mutate.apply(
            reference, mutate.Edit("CLASS_NAMES", '"Coat",\n    "Sandal"', '"Sandal",\n    "Coat"')
        ),
        "carol.py": mutate.apply(
            reference, mutate.Edit("scale_images", "return images / 255.0", "return images // 255")
        ),
        "dave.py": reference + "\nimport os\nos._exit(3)\n",
        "erin.py": "CLASS_NAMES = None\n",
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        (folder / name).write_text(prefix + source)
    return folder


def batch_in_background(
    folder: Path, out: Path, options, address: str
) -> tuple[threading.Thread, dict[str, object]]:
    """Start `grade_folder` on the cluster in a thread; its reports or its error land in the dict."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["reports"] = batch.grade_folder(
                folder,
                out_dir=out,
                factory=batch.GraderFactory(options),
                scheduler=address,
                progress=False,
            )
        except BaseException as exc:  # reported by the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_the_cluster_grades_exactly_as_this_machine_does(cluster, options, tmp_path):
    folder = write_class(tmp_path / "class")
    with Grader(options) as grader:
        local = batch.grade_folder(folder, grader, tmp_path / "local", progress=False)
    remote = batch.grade_folder(
        folder,
        out_dir=tmp_path / "dask",
        factory=batch.GraderFactory(options),
        scheduler=cluster.address,
        progress=False,
    )
    assert [scores(r) for r in remote] == [scores(r) for r in local]
    assert [r.submission for r in remote] == [r.submission for r in local]
    totals = {Path(r.submission).stem: r.score for r in remote}
    assert totals["alice"] == 12 and totals["erin"] == 0
    assert 0 < totals["bob"] < 12 and 0 < totals["carol"] < 12 and totals["dave"] == 0
    assert "exited with status 3" in json.dumps(remote[3].to_dict())

    remote_records = records(tmp_path / "dask")
    local_pid = records(tmp_path / "local")["alice"]["worker"]
    workers = {r["worker"] for r in remote_records.values()}
    assert len(workers) == 2 and local_pid not in workers  # both workers graded, not this process
    assert (tmp_path / "dask" / "grades.csv").read_text() == (
        tmp_path / "local" / "grades.csv"
    ).read_text()
    ours, theirs = (
        read_csv(tmp_path / "local" / "parts.csv"),
        read_csv(tmp_path / "dask" / "parts.csv"),
    )
    for row in (*ours, *theirs):
        del row["execution_time"]
    assert theirs == ours

    again = batch.grade_folder(  # resumable through the cluster too
        folder,
        out_dir=tmp_path / "dask",
        factory=batch.GraderFactory(options),
        scheduler=cluster.address,
        progress=False,
    )
    assert (again.graded, again.skipped) == (0, 5)
    assert records(tmp_path / "dask") == remote_records


def test_a_batch_beside_the_callers_own_client_neither_takes_it_over_nor_needs_it(
    cluster, options, tmp_path
):
    # An instructor's notebook often has its own Dask client open. The batch must not become the
    # process's default client, nor run on the caller's event loop: closing that client mid-batch
    # (the CI run of 2026-12-04 did, with a probe client) once left the batch waiting forever.
    from distributed import Client, default_client

    folder = write_class(tmp_path / "class", prefix="import time\ntime.sleep(2)\n")
    out = tmp_path / "out"
    callers = Client(cluster.address, timeout=30)
    thread, outcome = batch_in_background(folder, out, options, cluster.address)
    deadline = time.monotonic() + 120
    while not records(out):
        assert thread.is_alive(), outcome.get("error")
        assert time.monotonic() < deadline, "no grading recorded in 120 s"
        time.sleep(0.05)
    assert default_client() is callers
    callers.close()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the batch did not finish after the caller's client closed"
    assert "error" not in outcome, outcome.get("error")
    assert sorted(Path(r.submission).stem for r in outcome["reports"]) == sorted(
        p.stem for p in folder.iterdir()
    )


def test_a_worker_killed_mid_batch_loses_nothing_and_grades_nothing_twice(
    cluster, options, tmp_path
):
    # Each submission sleeps 3 s while loading, so both workers are busy when one is killed.
    folder = write_class(tmp_path / "class", prefix="import time\ntime.sleep(3)\n")
    for index in range(3):
        (folder / f"zed{index}.py").write_text((folder / "alice.py").read_text())
    out = tmp_path / "out"
    thread, outcome = batch_in_background(folder, out, options, cluster.address)
    from distributed import Client

    with Client(cluster.address, timeout=30) as probe:
        workers = probe.scheduler_info(n_workers=-1)["workers"]
        doomed = next(a for a, w in workers.items() if w["name"] == "worker1")
        deadline = time.monotonic() + 120
        # kill once results are coming back and worker1 holds a grading in flight
        while not (records(out) and probe.processing(workers=[doomed])[doomed]):
            assert thread.is_alive(), outcome.get("error")
            assert time.monotonic() < deadline, "no grading in flight on worker1 in 120 s"
            time.sleep(0.05)
        in_flight = probe.processing(workers=[doomed])[doomed]
    killed_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    killed_pid = cluster.workers[1].pid
    cluster.kill_worker(1)
    thread.join(timeout=300)
    assert not thread.is_alive(), (
        "the batch did not finish after losing a worker; where it waits:\n"
        + "".join(traceback.format_stack(sys._current_frames()[thread.ident]))
        + "\nscheduler log:\n"
        + cluster.log("scheduler")
        + "\nworker0 log:\n"
        + cluster.log("worker0")
    )
    assert "error" not in outcome, outcome.get("error")

    reports = outcome["reports"]
    final = records(out)
    names = sorted(p.stem for p in folder.iterdir())
    assert sorted(final) == names and len(reports) == len(names)
    keys = Counter(json.loads(line)["key"] for line in (out / LOG).read_text().splitlines())
    assert keys == Counter(names)  # each recorded exactly once
    by_name = {Path(r.submission).stem: r.score for r in reports}
    assert by_name["alice"] == by_name["zed0"] == by_name["zed1"] == by_name["zed2"] == 12
    assert by_name["dave"] == by_name["erin"] == 0
    # the killed worker's results all came before it died; the survivor graded the rest
    by_killed = [r for r in final.values() if r["worker"].endswith(f":{killed_pid}")]
    assert all(r["graded_at"] < killed_at for r in by_killed)
    assert in_flight and len(by_killed) < len(names) - 1

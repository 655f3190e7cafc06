"""Benchmark: a batch of 20 submissions, locally with --jobs 1 and 2, and on a local Dask cluster.

    .venv/bin/python benchmarks/batch_throughput.py [--full] [--real-data]

The 20 submissions are a class in miniature: 5 correct (the solution notebook and the reference
as a module), 1 untouched release notebook, 8 typical mistakes (tests/defects_fashion_mnist.py) and
6 hostile ones (exit at import, `os._exit`, a segfault, a network attempt, a 10 MB output flood,
numpy monkeypatched). Hangs are left out on purpose: each costs its full time limit and would
measure the limit, not the batch.

By default every part but the pipeline is graded, on the tests' small synthetic data set, so the
benchmark takes a few minutes; `--full` adds the pipeline (5 epochs of training), `--real-data`
uses the real Fashion-MNIST (slow: about a minute per submission and core). The output says
which. Times are wall-clock and include each worker's grader set-up (TensorFlow import, data,
reference inputs), as an instructor would see them. Figures, not asserts.

Printed: seconds per submission with --jobs 1 and --jobs 2 (local processes), and the throughput
of 2 Dask workers pinned to one core each (`taskset`) over 1 such worker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(ROOT))

from table import record  # noqa: E402

SCALE = "    return images / 255.0\n"
BATCH = "    return np.expand_dims(image, 0)\n"


def write_class(folder: Path) -> dict[str, str]:
    """The 20 submissions; returns name -> kind."""
    import mutate
    from defects_fashion_mnist import DEFECTS
    from fashion import RELEASE, SOLUTION, reference_source

    reference = reference_source()
    folder.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, str] = {}

    def put(name: str, text: str, kind: str) -> None:
        (folder / name).write_text(text)
        kinds[name] = kind

    for index in range(2):
        put(f"correct_nb{index}.ipynb", SOLUTION.read_text(), "correct")
    for index in range(3):
        put(f"correct_py{index}.py", reference, "correct")
    put("stubs.ipynb", RELEASE.read_text(), "defective")
    for defect in DEFECTS[:8]:
        put(f"defect_{defect.id}.py", defect.source(), "defective")
    os_exit = mutate.Edit("scale_images", SCALE, "    import os\n    os._exit(1)\n")
    segfault = mutate.Edit(
        "add_batch_dimension", BATCH, "    import ctypes\n    ctypes.string_at(0)\n"
    )
    hostile = {
        "exit_at_import": reference + "\nimport sys\nsys.exit(0)\n",
        "os_exit": mutate.apply(reference, os_exit),
        "segfault": mutate.apply(reference, segfault),
        "network": reference
        + "\nimport socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
        "except OSError:\n    pass\n",
        "flood": reference + "\nprint('x' * 10_000_000)\n",
        "monkeypatch": reference
        + "\nimport numpy\nnumpy.array_equal = lambda *a, **k: True\nnumpy.allclose = numpy.array_equal\n",
    }
    for name, text in hostile.items():
        put(f"hostile_{name}.py", text, "hostile")
    assert len(kinds) == 20, len(kinds)
    return kinds


def timed(label: str, run) -> tuple[float, list]:
    started = time.perf_counter()
    reports = run()
    seconds = time.perf_counter() - started
    print(
        f"  {label}: {seconds:6.1f} s, {seconds / len(reports):5.2f} s per submission", flush=True
    )
    return seconds, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="grade the pipeline part too")
    parser.add_argument("--real-data", action="store_true", help="the real Fashion-MNIST")
    parser.add_argument("--data-dir", default=None, help="with --real-data: where the files are")
    parser.add_argument("--skip-dask", action="store_true", help="local runs only")
    parser.add_argument(
        "--submissions", type=int, default=20, help="grade only the first N (by name) of the 20"
    )
    args = parser.parse_args()

    from fashion import fast_options, write_synthetic_dataset

    from autograder import batch
    from autograder.exercise_spec import load_exercise
    from autograder.grader import GraderOptions

    work = Path(tempfile.mkdtemp(prefix="autograder-bench-batch-"))
    kinds = write_class(work / "class")
    for name in sorted(kinds)[args.submissions :]:
        (work / "class" / name).unlink()
        del kinds[name]
    every = load_exercise("fashion_mnist").part_names
    parts = every if args.full else tuple(p for p in every if p != "pipeline")
    if args.real_data:
        options = GraderOptions(exercise="fashion_mnist", data_dir=args.data_dir, parts=parts)
        data = "the real Fashion-MNIST"
    else:
        options = fast_options(write_synthetic_dataset(work / "data"), parts=parts)
        data = "synthetic data (600 training, 200 test images; tests/fashion.py)"
    factory = batch.GraderFactory(options)
    cores = len(os.sched_getaffinity(0))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"Batch benchmark: {len(kinds)} submissions ("
        + ", ".join(f"{n} {k}" for k, n in Counter(kinds.values()).items())
        + f"; no hangs), {data}, "
        f"{'all parts' if args.full else 'every part but the pipeline (add --full for it)'}; "
        f"machine: {cores} cores, {memory:.0f} GiB; wall clock including grader set-up",
        flush=True,
    )

    def local(jobs: int):
        return lambda: batch.grade_folder(
            work / "class", out_dir=work / f"jobs{jobs}", factory=factory, jobs=jobs, progress=False
        )

    one, reports1 = timed("--jobs 1", local(1))
    two, reports2 = timed("--jobs 2", local(2))
    print(f"  --jobs 2 / --jobs 1 speed-up: {one / two:.2f}x", flush=True)
    results = {"jobs 2": reports2}
    count = len(kinds)
    how = f"{count} submissions, {'real' if args.real_data else 'synthetic'} data, " + (
        "all parts" if args.full else "every part but the pipeline"
    )
    figures = [
        (
            f"batch per submission, `--jobs 1` / `--jobs 2` ({how})",
            f"{one / count:.2f} / {two / count:.2f} s ({one / two:.2f}x)",
        )
    ]

    if not args.skip_dask:
        from dask_cluster import LocalDaskCluster

        throughput = {}
        for workers in (1, 2):
            cpus = [[index % cores] for index in range(workers)]
            with LocalDaskCluster(work / f"dask{workers}", workers, cpus=cpus) as cluster:
                seconds, reports = timed(
                    f"Dask, {workers} worker{'s' if workers > 1 else ''} x 1 core",
                    lambda cluster=cluster, workers=workers: batch.grade_folder(
                        work / "class",
                        out_dir=work / f"dask-out{workers}",
                        factory=factory,
                        scheduler=cluster.address,
                        progress=False,
                    ),
                )
            throughput[workers] = len(reports) / seconds
            results[f"dask {workers}"] = reports
        ratio = throughput[2] / throughput[1]
        print(f"  Dask throughput, 2 workers / 1 worker (1 core each): {ratio:.2f}x", flush=True)
        figures.append(
            (
                f"the same on Dask, 1 worker / 2 workers pinned to a core each ({how})",
                f"{1 / throughput[1]:.2f} / {1 / throughput[2]:.2f} s ({ratio:.2f}x)",
            )
        )
    record("batch_throughput", figures)

    def scores(reports):
        return [[(t.name, t.score) for t in r.tests] for r in reports]

    same = all(scores(r) == scores(reports1) for r in results.values())
    by_kind: dict[str, list[float]] = {}
    for report in reports1:
        by_kind.setdefault(kinds[Path(report.submission).name], []).append(report.score)
    summary = ", ".join(
        f"{kind} {min(v):g}-{max(v):g}/{reports1[0].max_score:g}" for kind, v in by_kind.items()
    )
    print(f"  scores: {summary}; identical in every run: {'yes' if same else 'NO'}", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

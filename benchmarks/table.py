"""The one benchmark table: docs/benchmarks-table.md, shown on the manual's Benchmarks page.

Each `make bench` script calls `record(script, rows)` with what it measured; its own rows are
replaced (with the date and the machine), every other script's are kept. The table holds the
latest figures only: the history of runs is the file's history in git
(`git log -p docs/benchmarks-table.md`), never prose.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-table.md"
# The order of `make bench`, which is the table's order.
SCRIPTS = (
    "single_submission",
    "training_floor",
    "grading_time",
    "class_speed",
    "batch_throughput",
)
HEADER = (
    "<!-- Written by benchmarks/table.py: each `make bench` script replaces its own rows. "
    "Do not edit; the history of runs is this file's git log. -->",
    "",
    "| figure | measured | script | when (UTC) | machine |",
    "|---|---:|---|---|---|",
)
Row = tuple[str, str, str, str, str]  # figure, measured, script, when, machine


def machine() -> str:
    """The machine a figure was measured on, as the table says it."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = "GPU present" if Path("/dev/nvidia0").exists() else "no GPU"
    load = os.getloadavg()[0]
    return f"{cores}-core {platform.machine()}, {memory:.0f} GiB, {gpu}, load {load:.1f}"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def read(path: Path = TABLE) -> list[Row]:
    """The rows of the table as written (none when there is no table yet)."""
    if not path.exists():
        return []
    rows: list[Row] = []
    for line in path.read_text(encoding="utf-8").splitlines()[len(HEADER) :]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 5:
            rows.append(tuple(cells))  # type: ignore[arg-type]
    return rows


def render(rows: list[Row]) -> str:
    return "\n".join([*HEADER, *(f"| {' | '.join(row)} |" for row in rows)]) + "\n"


def record(
    script: str,
    figures: list[tuple[str, str]],
    *,
    when: str | None = None,
    on: str | None = None,
    path: Path = TABLE,
) -> None:
    """Replace `script`'s rows of the table with `figures` (name, measured value), dated now
    and on this machine unless `when` and `on` say otherwise."""
    if script not in SCRIPTS:
        raise ValueError(f"script: {script!r} is not one of make bench's {SCRIPTS}")
    when, on = when or now(), on or machine()
    kept = [row for row in read(path) if row[2] in SCRIPTS and row[2] != script]
    new = [(_cell(name), _cell(value), script, _cell(when), _cell(on)) for name, value in figures]
    rows = sorted(kept + new, key=lambda row: SCRIPTS.index(row[2]))  # stable: figures' order
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(rows), encoding="utf-8")
    print(f"benchmark table: {len(new)} figures of {script} written to {path.name}", flush=True)

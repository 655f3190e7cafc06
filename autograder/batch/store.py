"""Where a batch keeps its results, so that a batch killed at any moment can carry on.

`out/<key>/record.json` is written last and atomically (a temporary file, fsync, rename) once a
submission is graded and its per-student exports (`autograder.exporters.registry`:
`results.json`, `junit.xml`, `report.html`) are in place: a record
on disk means "graded", a half-written one never exists. A record holds the SHA-256 of the bytes
that were graded and the grader version; a later run skips a submission whose record matches its
current file and this grader (`--force` regrades). A submission that could not be graded (a
grader error, not a student's mistake) is tried again on the next run. Every committed grading is
also appended to `out/grading-log.jsonl` (who, what, when, where), an audit trail.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

RECORD = "record.json"
LOG = "grading-log.jsonl"
ERROR_NOTE = "grader"
PACKAGE = "keras-exercise-autograder"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step: readers see the old file or the new, never part."""
    atomic_write_with(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_with(path: Path, write: Callable[[Path], object]) -> None:
    """Replace `path` in one step with the file `write(tmp)` writes at a temporary path beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@lru_cache(maxsize=1)
def _kit_sources_digest() -> str:
    """Hash of the kit's grading code (not the batch driver or CLI, which do not change grades)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("batch/") or relative == "cli.py":
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def grader_version(options: Any = None) -> str:
    """The kit's version, a hash of its grading code and of the options that change grades
    (the version of what grades, not of one `Grader`; the name is kept: records store it).

    The data is not part of it: after changing the data set, regrade with `--force`.
    """
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "0"
    digest = hashlib.sha256(_kit_sources_digest().encode())
    if options is not None and dataclasses.is_dataclass(options):
        fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
        fields.pop("data_dir", None)  # a path, and on a cluster a path on the workers
        digest.update(repr(sorted(fields.items(), key=lambda kv: kv[0])).encode())
    elif options is not None:
        digest.update(repr(options).encode())
    return f"{version}+{digest.hexdigest()[:12]}"


class Store:
    """The records of one output folder."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def folder(self, key: str) -> Path:
        return self.out_dir / key

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            record = json.loads((self.folder(key) / RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return (
            record if isinstance(record, dict) and isinstance(record.get("report"), dict) else None
        )

    @staticmethod
    def is_current(record: dict[str, Any] | None, sha256: str, version: str) -> bool:
        """Graded from these exact bytes by this grader, and really graded (not a grader error)."""
        if not record or record.get("sha256") != sha256 or record.get("grader_version") != version:
            return False
        report = record["report"]
        return bool(report.get("tests")) or ERROR_NOTE not in report.get("part_notes", {})

    def save(self, key: str, record: dict[str, Any]) -> None:
        text = json.dumps(record, indent=1, sort_keys=True, default=str)
        atomic_write_bytes(self.folder(key) / RECORD, text.encode("utf-8"))
        line = {k: record.get(k) for k in ("key", "student_id", "sha256", "grading_id")}
        line.update(
            graded_at=record.get("graded_at"),
            worker=record.get("worker"),
            score=record["report"].get("score"),
        )
        with (self.out_dir / LOG).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")

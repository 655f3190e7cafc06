"""Zip bundles of the kit: reproducible members, and the kit's own source from a checkout.

Shared by the Gradescope autograder zip and the students' bundle.
"""

from __future__ import annotations

import functools
import os
import subprocess
import time
import zipfile
from pathlib import Path

# The oldest date a zip entry can hold is 1980; a date the kit never had (2020-01-01) made
# Jupyter say "Last Checkpoint: 6 years ago" on a notebook just unpacked.
ZIP_EPOCH = 315532800  # 1980-01-01 00:00:00 UTC


def bundle_time(checkout: Path | None = None) -> tuple[int, int, int, int, int, int]:
    """The date of every entry: SOURCE_DATE_EPOCH when set (reproducible builds' convention),
    else the checkout's last commit, else its pyproject.toml's mtime, in UTC. The same
    release gives the same bytes, dated when it was made."""
    seconds = _source_date_epoch()
    if seconds is None:
        checkout = checkout or kit_source()[1].parent
        seconds = _last_commit_time(checkout)
    if seconds is None:
        seconds = int((checkout / "pyproject.toml").stat().st_mtime)
    return time.gmtime(max(seconds, ZIP_EPOCH))[:6]


def _source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None


@functools.lru_cache(maxsize=8)  # once per bundle, not once per member
def _last_commit_time(checkout: Path) -> int | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(checkout), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = result.stdout.strip()
    return int(value) if result.returncode == 0 and value.isdigit() else None


def kit_source() -> tuple[Path, Path]:
    """The `autograder` package folder and the `pyproject.toml` beside it."""
    package = Path(__file__).resolve().parents[1]
    pyproject = package.parent / "pyproject.toml"
    if not pyproject.is_file():
        raise ValueError(
            f"the kit's pyproject.toml is not next to {package}: build the bundle from a checkout"
        )
    return package, pyproject


def add(
    archive: zipfile.ZipFile,
    name: str,
    payload: bytes,
    mode: int = 0o644,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """One member with the bundle's date (`bundle_time()` unless given) and the Unix mode."""
    info = zipfile.ZipInfo(name, date_time=date_time or bundle_time())
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, payload)


def add_kit(archive: zipfile.ZipFile, prefix: str = "kit", exercise: str | None = None) -> None:
    """The kit's installable source (`pip install ./kit`): pyproject.toml and the package, no
    tests, no solutions, no caches; with `exercise`, that exercise's folder alone, so a bundle
    made for one exercise knows no other (its self-checks and `autograder check` need no
    `--exercise`, and no other exercise's names can be mistaken for its own)."""
    package, pyproject = kit_source()
    add(archive, f"{prefix}/pyproject.toml", pyproject.read_bytes())
    # The license travels with the code (BSD-3-Clause), and pyproject's license-files names it.
    license_file = pyproject.with_name("LICENSE")
    if license_file.is_file():
        add(archive, f"{prefix}/LICENSE", license_file.read_bytes())
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package.parent)
        if exercise and _other_exercise(relative.parts, exercise):
            continue
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            add(archive, f"{prefix}/{relative.as_posix()}", path.read_bytes())


def _other_exercise(parts: tuple[str, ...], exercise: str) -> bool:
    """Whether a path of the package (`autograder/exercises/<name>/...`) is another exercise's."""
    return len(parts) > 3 and parts[1] == "exercises" and parts[2] != exercise

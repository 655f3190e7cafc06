"""Zip bundles of the kit: reproducible members, and the kit's own source from a checkout.

Shared by the Gradescope autograder zip and the students' bundle.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # the same bytes for the same content


def kit_source() -> tuple[Path, Path]:
    """The `autograder` package folder and the `pyproject.toml` beside it."""
    package = Path(__file__).resolve().parents[1]
    pyproject = package.parent / "pyproject.toml"
    if not pyproject.is_file():
        raise ValueError(
            f"the kit's pyproject.toml is not next to {package}: build the bundle from a checkout"
        )
    return package, pyproject


def add(archive: zipfile.ZipFile, name: str, payload: bytes, mode: int = 0o644) -> None:
    """One member with a fixed date and the given Unix mode."""
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, payload)


def add_kit(archive: zipfile.ZipFile, prefix: str = "kit") -> None:
    """The kit's installable source (`pip install ./kit`): pyproject.toml and the package, no
    tests, no solutions, no caches."""
    package, pyproject = kit_source()
    add(archive, f"{prefix}/pyproject.toml", pyproject.read_bytes())
    # The license travels with the code (BSD-3-Clause), and pyproject's license-files names it.
    license_file = pyproject.with_name("LICENSE")
    if license_file.is_file():
        add(archive, f"{prefix}/LICENSE", license_file.read_bytes())
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package.parent)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            add(archive, f"{prefix}/{relative.as_posix()}", path.read_bytes())

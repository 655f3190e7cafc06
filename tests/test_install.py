"""What an install needs: the runtime imports only declared runtime dependencies, the self-check
imports on a machine without POSIX-only modules, and the student install resolves on macOS and
Windows (pip's resolver for those platforms)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
DIST = "keras-exercise-autograder"
# What an optional feature imports: (module, top-level name) -> the extra that provides it.
OPTIONAL_IMPORTS = {
    ("autograder.nbgrader_grading", "nbgrader"): "nbgrader",
    ("autograder.nbgrader_grading", "sqlalchemy"): "nbgrader",
    ("autograder.nbgrader_feedback", "nbgrader"): "nbgrader",
    ("autograder.batch.engines", "distributed"): "cluster",
}
# What grading, the CLI, the child and a notebook's self-check import.
RUNTIME_PATH = (
    "autograder.cli",
    "autograder.grader",
    "autograder.selfcheck",
    "autograder.child.harness",
    "autograder.child.keras_tools",
    "autograder.platforms.gradescope",
    "autograder.platforms.github",
)
POSIX_ONLY = ("pwd", "grp", "resource", "fcntl", "termios", "pty")


def imported_names(path: Path) -> set[str]:
    """Top-level names a module imports anywhere (functions included), except imports guarded
    by `except ImportError` (an optional feature that degrades without its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
            for h in node.handlers
        ):
            guarded |= {id(n) for n in ast.walk(ast.Module(body=node.body, type_ignores=[]))}
    names = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def kit_modules() -> dict[str, Path]:
    """Every module of the kit, by dotted name."""
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): path
        for path in sorted((ROOT / "autograder").rglob("*.py"))
    }


def runtime_requirements(extra: str | None = None) -> set[str]:
    """The distributions the kit's metadata requires on this machine, with their own
    requirements, recursively (the closure pip would install)."""
    environment = {**default_environment(), "extra": extra or ""}
    wanted = [
        Requirement(r)
        for r in metadata.requires(DIST) or []
        if Requirement(r).marker is None or Requirement(r).marker.evaluate(environment)
    ]
    closure: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            sub = Requirement(text)
            if sub.marker is None or sub.marker.evaluate({**default_environment(), "extra": ""}):
                wanted.append(sub)
    return closure


def test_every_module_the_runtime_imports_is_a_declared_runtime_dependency() -> None:
    owners = metadata.packages_distributions()
    declared = runtime_requirements()
    undeclared = {}
    for module, path in kit_modules().items():
        for name in imported_names(path) - set(sys.stdlib_module_names) - {"autograder"}:
            if (module, name) in OPTIONAL_IMPORTS:
                continue
            dists = {d.lower().replace("_", "-") for d in owners.get(name, [name])}
            if not dists & declared:
                undeclared.setdefault(name, []).append(module)
    assert undeclared == {}, "imported at run time but not a runtime dependency"
    assert "pytest" in declared  # the graders are pytest tests


def test_the_grading_and_self_check_path_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)",
         *RUNTIME_PATH],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def test_optional_modules_name_an_extra_that_exists() -> None:
    extras = set(metadata.metadata(DIST).get_all("Provides-Extra") or [])
    assert set(OPTIONAL_IMPORTS.values()) <= extras
    for (module, name), extra in OPTIONAL_IMPORTS.items():
        assert name in imported_names(kit_modules()[module]), (module, name)  # still true
        owners = metadata.packages_distributions().get(name, [name])
        assert {d.lower() for d in owners} & runtime_requirements(extra), (name, extra)
    for extra in ("dev",):
        dev_only = runtime_requirements(extra) - runtime_requirements()
        assert "pytest" not in dev_only  # a clean install must never lack it


BLOCK_POSIX = """
import sys
for name in {posix!r}:
    sys.modules[name] = None  # `import name` now raises ImportError, as on Windows
import numpy as np
import autograder.selfcheck, autograder.grader
from autograder.selfcheck import report_part
def scale_images(images):
    return images / 255.0
print(report_part("scale_images", {{"scale_images": scale_images, "np": np}}))
"""


def test_the_self_check_runs_without_posix_only_modules(synthetic_dir: Path) -> None:
    env = {**os.environ, "FASHION_MNIST_DIR": str(synthetic_dir)}
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_POSIX.format(posix=POSIX_ONLY)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "scale_images  9/9" in done.stdout, done.stdout


STUDENT_PLATFORMS = {
    "macOS arm64": ("macosx_12_0_arm64", {"sys_platform": "darwin", "platform_machine": "arm64"}),
    "macOS x86_64": (
        "macosx_12_0_x86_64",
        {"sys_platform": "darwin", "platform_machine": "x86_64"},
    ),
    "Windows": ("win_amd64", {"sys_platform": "win32", "platform_machine": "AMD64"}),
}


def requirements_for(markers: dict[str, str], extra: str) -> list[str]:
    """The kit's requirements on another platform (pip evaluates markers for the running one)."""
    environment = {
        **default_environment(),
        **markers,
        "os_name": "nt" if markers["sys_platform"] == "win32" else "posix",
        "platform_system": {"darwin": "Darwin", "win32": "Windows"}[markers["sys_platform"]],
        "python_version": "3.11",
        "python_full_version": "3.11.9",
        "extra": extra,
    }
    selected = []
    for text in metadata.requires(DIST) or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            requirement.marker = None
            selected.append(str(requirement))
    return selected


@pytest.mark.network
@pytest.mark.parametrize("platform", STUDENT_PLATFORMS, ids=str)
def test_the_student_install_resolves_on_students_laptops(platform: str, tmp_path: Path) -> None:
    tag, markers = STUDENT_PLATFORMS[platform]
    requirements = requirements_for(markers, "student")
    assert any(r.startswith(("tensorflow==", "tensorflow-cpu==")) for r in requirements)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
         "--platform", tag, "--python-version", "3.11", "--only-binary=:all:",
         "--target", str(tmp_path / "target"), *requirements],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if "Could not fetch URL" in done.stderr or "NewConnectionError" in done.stderr:
        pytest.skip("the package index is unreachable")
    assert done.returncode == 0, "\n".join(
        line for line in done.stderr.splitlines() if "is ignored" not in line
    )
    shutil.rmtree(tmp_path / "target", ignore_errors=True)

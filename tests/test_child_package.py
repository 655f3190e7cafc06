"""The trust boundary in the folders: the child's package (autograder/child/) imports nothing of
the grader's, in one import style, and `ModelLimits` has one home that every import names.

Static checks (the modules' syntax trees) plus one start of the package, copied alone, in a
Python that cannot import the grader."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.exercise_spec import load_exercise
from autograder.sandbox.workdir import CHILD_PACKAGE_NAME, child_files

ROOT = Path(__file__).resolve().parents[1]
CHILD = ROOT / "autograder" / "child"
# What the child may import besides the standard library and its own package.
CHILD_THIRD_PARTY = {"numpy", "keras", "tensorflow"}
MODEL_LIMITS_HOME = "autograder.child.model_vetting"
# Where ModelLimits is imported: the kit, its exercises' skeleton, the tests, the benchmarks.
IMPORTERS = [
    *sorted((ROOT / "autograder").rglob("*.py")),
    *sorted((ROOT / "autograder").rglob("*.py.tmpl")),
    *sorted((ROOT / "tests").glob("*.py")),
    *sorted((ROOT / "benchmarks").glob("*.py")),
]


def child_modules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(CHILD.glob("*.py"))}


def imports(path: Path) -> list[tuple[int, str, ast.stmt]]:
    """Every import in the module, functions included: (relative level, module, node)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or "", node))
    return found


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return ".".join(relative.with_name(relative.name.split(".")[0]).parts)


def test_the_child_package_imports_only_the_standard_library_numpy_keras_and_itself() -> None:
    siblings = set(child_modules())
    assert {"harness", "keras_tools", "model_vetting", "__init__"} <= siblings
    foreign = []
    for name, path in child_modules().items():
        for level, module, node in imports(path):
            top = module.split(".")[0]
            if level == 1:
                ok = top in siblings or (not module and node.names[0].name in siblings)
            else:
                ok = (
                    level == 0
                    and (top in sys.stdlib_module_names or top in CHILD_THIRD_PARTY)
                    and top not in siblings
                )  # a sibling by its bare name: the old double import
            if not ok:
                foreign.append(f"{name}.py:{node.lineno}: {'.' * level}{module}")
    assert foreign == [], "the child's package imports something outside itself"


def test_no_import_of_the_package_is_guarded_by_import_error() -> None:
    """One import style: no `try: from sibling ... except ImportError: from autograder...`
    (an optional third-party import, e.g. a Keras internal, may still be guarded)."""
    siblings = set(child_modules())
    guarded = []
    for name, path in child_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Try):
                continue
            inside = ast.Module(body=[*node.body, *(s for h in node.handlers for s in h.body)])
            for child in ast.walk(inside):
                if isinstance(child, ast.ImportFrom) and (
                    child.level > 0
                    or (child.module or "").split(".")[0] in {"autograder", *siblings}
                ):
                    guarded.append(f"{name}.py:{child.lineno}")
    assert guarded == []


def test_the_child_is_given_its_whole_package() -> None:
    files = child_files(load_exercise("housing_prices"))
    copied = {name for name in files if name.startswith(f"{CHILD_PACKAGE_NAME}/")}
    assert copied == {f"{CHILD_PACKAGE_NAME}/{name}.py" for name in child_modules()}


@pytest.mark.skipif(os.name != "posix", reason="the sandboxed child runs on POSIX only")
def test_the_copied_package_starts_where_the_grader_cannot_be_imported(tmp_path: Path) -> None:
    """The package copied alone (as the child gets it) imports its harness while every import
    of `autograder` fails: nothing of the grader's is needed at start-up."""
    for name, source in child_files(load_exercise("housing_prices")).items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(source.read_bytes())
    code = (
        "import sys\n"
        "class NoGrader:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'autograder':\n"
        "            raise ImportError('the grader is not importable in the child: ' + name)\n"
        "sys.meta_path.insert(0, NoGrader())\n"
        f"sys.path[0] = {str(tmp_path)!r}\n"
        "import child.harness, child.declared, child.keras_tools\n"
        "print(child.harness.__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-B", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(tmp_path / CHILD_PACKAGE_NAME / "harness.py")


def test_model_limits_is_defined_once_and_imported_from_there_everywhere() -> None:
    homes = [
        module_name(path)
        for path in IMPORTERS
        if path.suffix == ".py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name == "ModelLimits"
    ]
    assert homes == [MODEL_LIMITS_HOME]
    elsewhere = []
    for path in IMPORTERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(
                alias.name == "ModelLimits" for alias in node.names
            ):
                module = node.module or ""
                ok = module == MODEL_LIMITS_HOME or (
                    node.level == 1 and module == "model_vetting" and path.parent == CHILD
                )
                if not ok:
                    elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr == "ModelLimits"
                and not ast.unparse(node.value).endswith("model_vetting")
            ):
                elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert elsewhere == [], f"ModelLimits must be imported from {MODEL_LIMITS_HOME}"

"""The package's modules import each other without a cycle, counting imports made inside
functions: a lazy import that dodges a cycle is still one (the modules still need each other).

The graph is read from the source (no module is imported): one edge per `import autograder...`
or `from autograder... import ...` (relative ones too) anywhere in a module, to the module it
names (the submodule when the imported name is one, else the package or module it comes from).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """`name`, or the innermost package module that contains it (a name imported from it)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_modules(module: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The package's modules `module` imports anywhere in its file -> the first line doing so."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [_known(alias.name, modules) or "" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                targets.append(full if full in modules else _known(source, modules) or "")
        for target in targets:
            if target and target != module:
                found.setdefault(target, node.lineno)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, int]]:
    modules = package_modules(package)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str]:
    """One cycle of `graph` (its modules in import order, the first repeated last), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    return "\n".join(
        f"  {a} imports {b} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)
    )


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "autograder.grader" in graph and graph["autograder.grader"]  # the graph was read
    cycle = find_cycle(graph)
    assert not cycle, "import cycle:\n" + describe(cycle, graph)


def test_a_cycle_made_by_a_function_level_import_is_found(tmp_path: Path) -> None:
    """The detector itself: a lazy import closing a loop is a cycle, a one-way one is not."""
    package = tmp_path / "autograder"
    (package / "scoring").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "scoring" / "__init__.py").write_text("")
    (package / "grader.py").write_text("from autograder.scoring.run import score\n")
    (package / "scoring" / "run.py").write_text("from .plugin import Scorer\n")
    plugin = package / "scoring" / "plugin.py"
    plugin.write_text("def direct():\n    from autograder import grader\n")
    graph = import_graph(package)
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and set(cycle) == {
        "autograder.grader",
        "autograder.scoring.run",
        "autograder.scoring.plugin",
    }
    assert "line 2" in describe(cycle, graph)
    plugin.write_text("def direct():\n    from autograder import results\n")
    (package / "results.py").write_text("")
    assert find_cycle(import_graph(package)) == []


def unresolved_imports(package: Path = PACKAGE) -> list[str]:
    """Every `from autograder.X import name` anywhere in the package (function bodies
    included) whose module does not exist or defines no `name`: ruff cannot see a
    function-level import left pointing at a name's old home after a move."""
    import importlib

    modules = package_modules(package)
    problems = []
    for module, path in modules.items():
        package_name = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package_name.split(".")[: len(package_name.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not (source == "autograder" or source.startswith("autograder.")):
                continue
            where = f"{path.relative_to(package.parent)}:{node.lineno}"
            if source not in modules:
                problems.append(f"{where}: no module {source}")
                continue
            imported = importlib.import_module(source)
            for alias in node.names:
                if f"{source}.{alias.name}" in modules or hasattr(imported, alias.name):
                    continue
                problems.append(f"{where}: {source} defines no {alias.name}")
    return problems


def test_every_import_of_the_package_names_something_that_exists() -> None:
    """A name moved to another module leaves no import behind, even inside a function."""
    problems = unresolved_imports()
    assert problems == [], "\n".join(problems)

"""The solution's definitions a grading substitutes for the student's (`Reference(name)`).

A declared call can run with the grader's definition of another part's name, so that one
mistake costs one part (autograder.declare.Reference). Its text is the instructor's answer, so
it is never in the kit: it is read, in the grader's process, from the instructor's solution
notebook, `solutions/<exercise>/<exercise>.ipynb` of the course (the current directory, else the
kit's own checkout). Neither is in the students' bundle nor in an installed kit, so there (a
student's `autograder check`, the self-check) the call runs with the student's definition.

Example:
    >>> definitions_in_notebook("solutions/digits_callback/digits_callback.ipynb", ["myCallback"])
    ... # doctest: +SKIP
    {'myCallback': 'class myCallback(keras.callbacks.Callback):\\n    ...'}
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
from pathlib import Path

from autograder.results import TestResult


def solution_names(exercise) -> list[str]:
    """The names the exercise's calls take from its solution (`Reference(name)`, no source)."""
    names = {
        r.name
        for part in exercise.parts
        for call in part.calls
        for r in getattr(call, "references", ())
        if r.source is None
    }
    return sorted(names)


def solution_notebook(exercise, courses: list[Path] | None = None) -> Path | None:
    """The exercise's solution notebook in the first of `courses` (default: the current
    directory, then the kit's checkout) that has it; None when none does."""
    if courses is None:
        courses = [Path.cwd(), Path(__file__).resolve().parents[1]]
    for course in courses:
        candidate = Path(course) / "solutions" / exercise.name / exercise.notebook_name
        if candidate.is_file():
            return candidate
    return None


def definitions_in_notebook(notebook: str | os.PathLike[str], names: list[str]) -> dict[str, str]:
    """The source of each top-level definition (class, function or assignment) of `names` in
    the notebook's code cells (the last one wins, as when the notebook runs top to bottom);
    a name the notebook does not define is left out."""
    found: dict[str, str] = {}
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:  # nbformat 4 JSON, read as is: the kit does not need nbformat
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics, or not Python: defines nothing we can use
            continue
        for node in tree.body:
            for name in set(_defined(node)) & set(names):
                found[name] = ast.get_source_segment(source, node) or ""
    return {name: source for name, source in found.items() if source}


def _defined(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def solution_definitions(exercise, courses: list[Path] | None = None) -> dict[str, str]:
    """The solution's definition of each name the exercise's calls take from it; {} when no
    call does or the solution is not available (then the calls run with the student's own)."""
    names = solution_names(exercise)
    notebook = solution_notebook(exercise, courses) if names else None
    if notebook is None:
        return {}
    return definitions_in_notebook(notebook, names)


def resolved_calls(declared: dict[str, list[dict]], definitions: dict[str, str]) -> dict:
    """The declared calls as the child is told them: each `Reference(name)` given the solution's
    definition, or left out when there is none (the call then uses the student's own)."""
    resolved = {}
    for part, calls in declared.items():
        resolved[part] = []
        for call in calls:
            references = {}
            for name, source in (call.get("references") or {}).items():
                if source is None:
                    source = definitions.get(name)
                if source is not None:
                    references[name] = source
            resolved[part].append({**call, "references": references})
    return resolved


def own_definitions(exercise, definitions: dict[str, str]) -> dict[str, list[str]]:
    """part -> the names its calls would take from the solution but ran with the student's own
    (the solution was not available)."""
    missing: dict[str, list[str]] = {}
    for part in exercise.parts:
        names = {
            r.name
            for call in part.calls
            for r in getattr(call, "references", ())
            if r.source is None and r.name not in definitions
        }
        if names:
            missing[part.name] = sorted(names)
    return missing


def solution_missing(exercise, own: dict[str, list[str]]) -> str:
    """The report's note when the parts in `own` ran with the submission's own definitions
    (part -> names) because the solution notebook was not found."""
    names = sorted({name for listed in own.values() for name in listed})
    return (
        f"{', '.join(own)} ran with the submission's own {', '.join(names)}, not the "
        f"solution's: solutions/{exercise.name}/{exercise.notebook_name} is not in the current "
        "directory nor the kit's checkout"
    )


def ran_with_own(tests: list[TestResult], own: dict[str, list[str]]) -> list[TestResult]:
    """`tests`, each failed check of a part in `own` (part -> names its calls would take from
    the solution, which was not available) saying that it ran with the student's own
    definitions, which the grader replaces by its own."""
    result = []
    for test in tests:
        names = own.get(test.part)
        if names and not test.passed:
            listed = ", ".join(f"`{name}`" for name in names)
            said = (
                f"This check ran with your own {listed} (the solution's is not available "
                f"here); the course's grading runs this part with the solution's, so a mistake "
                f"in {listed} costs only its own part: check {listed} first."
            )
            hint = test.feedback.hint.strip()
            hint = f"{hint}{'' if not hint or hint.endswith(('.', '!', '?')) else '.'} {said}"
            hint = hint.strip()
            test = dataclasses.replace(test, feedback=dataclasses.replace(test.feedback, hint=hint))
        result.append(test)
    return result

"""Make a submission from a solution by editing what it defines, not wherever its text happens to be.

Every test that needs a wrong (or differently written) submission starts from an exercise's
reference solution and changes it. An edit names the top-level definition it changes (a function,
a class, an assigned name such as `CLASS_NAMES`, or `imports` for the import block at the top), so
it cannot silently land in another part when the same text appears twice, and when the solution
changes under it the error says which definition no longer holds the text:

    mutate.apply(source, Edit("scale_images", "return images / 255.0", "return images"))
    mutate.replace_definition(source, "scale_images", "def scale_images(images):\\n    ...\\n")
    mutate.set_literal(source, "CLASS_NAMES", ["Shirt", ...])
    mutate.insert_after(source, "load_data", "import os\\n")

An edit whose `within` is empty finds its definition itself: the one definition whose text holds
`old` (the error lists the definitions when none or several do). In a notebook, `edit_notebook`
makes each edit in the one code cell that defines `within` (`edit_cells` for a list of sources).

Used by every table of submissions (defects_fashion_mnist, style_table, hostile_submissions,
submission_batch, the CNN and variant tables) and the tests' one-off mistakes; specified by
tests/test_mutate.py.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

IMPORTS = "imports"  # the import statements at the top of the solution, as one definition


class EditError(AssertionError):
    """An edit no longer applies to the solution: the solution changed, or the edit is wrong."""


@dataclass(frozen=True)
class Edit:
    """Replace `old` by `new` inside the top-level definition `within`.

    `count`: how many times `old` must occur there (each is replaced); None replaces the first
    of one or more occurrences, or with `every` all of them.
    """

    within: str
    old: str
    new: str
    count: int | None = None
    every: bool = False


@dataclass(frozen=True)
class Definition:
    """A top-level definition: its name and its lines (with the comments that belong to it)."""

    name: str
    start: int  # character offsets into the source
    end: int


def _names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def definitions(source: str, label: str = "the solution") -> dict[str, Definition]:
    """Each top-level definition of `source` by name; its text runs from the comment lines just
    above it to the indented comment lines just below it (nbgrader's `### END SOLUTION`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise EditError(f"{label} does not parse, so it cannot be edited: {exc}") from exc
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def span(first: int, last: int) -> tuple[int, int]:  # 1-based inclusive line numbers
        while first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        while (
            last < len(lines) and lines[last][:1].isspace() and lines[last].lstrip().startswith("#")
        ):
            last += 1
        return offsets[first - 1], offsets[last]

    found: dict[str, Definition] = {}
    imports: list[ast.stmt] = []  # the leading run of import statements
    for index, node in enumerate(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and len(imports) == index:
            imports.append(node)
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        for name in _names(node):
            found.setdefault(name, Definition(name, *span(first, node.end_lineno or node.lineno)))
    if imports:
        found.setdefault(
            IMPORTS, Definition(IMPORTS, *span(imports[0].lineno, imports[-1].end_lineno))
        )
    return found


def _definition(source: str, name: str, label: str) -> Definition:
    found = definitions(source, label)
    if name not in found:
        raise EditError(
            f"{label} defines no {name!r} at its top level (it defines {sorted(found)})"
        )
    return found[name]


def _pieces(source: str, label: str) -> tuple[list[str], dict[str, int]]:
    """`source` cut into its definitions and the text between them, and which piece each
    definition is: edits of one definition never reach into another, and need no re-parsing
    (an edit may leave the module unparseable until the next one closes what it opened)."""
    spans: dict[tuple[int, int], list[str]] = {}
    for definition in definitions(source, label).values():
        spans.setdefault((definition.start, definition.end), []).append(definition.name)
    pieces: list[str] = []
    index: dict[str, int] = {}
    at = 0
    for (start, end), names in sorted(spans.items()):
        start = max(start, at)  # a comment line claimed by two neighbours goes to the first
        pieces.append(source[at:start])
        index.update(dict.fromkeys(names, len(pieces)))
        pieces.append(source[start:end])
        at = end
    pieces.append(source[at:])
    return pieces, index


def locate(source: str, old: str, label: str = "the solution") -> str:
    """The one top-level definition whose text holds `old`."""
    pieces, index = _pieces(source, label)
    return _locate(pieces, index, old, label)


def _locate(pieces: list[str], index: dict[str, int], old: str, label: str) -> str:
    holders = [name for name, i in index.items() if old in pieces[i]]
    holders = [h for h in holders if h != IMPORTS] or holders
    if len(holders) != 1:
        where = f"in {holders}" if holders else f"in none of {sorted(index)}"
        raise EditError(f"{label}: {old!r} is {where}; name the definition to edit")
    return holders[0]


def apply(source: str, *edits: Edit, label: str = "the solution") -> str:
    """`source` with each edit made in turn in its definition (each sees the ones before)."""
    pieces, index = _pieces(source, label)
    for edit in edits:
        within = edit.within or _locate(pieces, index, edit.old, label)
        if within not in index:
            raise EditError(f"{label} defines no {within!r} at its top level ({sorted(index)})")
        text = pieces[index[within]]
        occurs = text.count(edit.old)
        if occurs == 0 or (edit.count is not None and occurs != edit.count):
            expected = "at least once" if edit.count is None else f"{edit.count} time(s)"
            raise EditError(
                f"{label}: {within} no longer holds {edit.old!r} {expected} (found {occurs})"
                f"; its text is now:\n{text}"
            )
        every = edit.count is not None or edit.every
        pieces[index[within]] = text.replace(edit.old, edit.new, occurs if every else 1)
    return "".join(pieces)


def replace_in(source: str, within: str, old: str, new: str, label: str = "the solution") -> str:
    """`source` with the first `old` in the definition `within` replaced by `new`."""
    return apply(source, Edit(within, old, new), label=label)


def edits(
    pairs: Iterable[tuple[str, str] | Edit],
    within: str = "",
    count: int | None = None,
    every: bool = False,
) -> list[Edit]:
    """(old, new) pairs as edits of `within` (empty: each pair's own definition); an `Edit`
    among them stays as it is."""
    return [p if isinstance(p, Edit) else Edit(within, *p, count, every) for p in pairs]


def replace_definition(source: str, name: str, new: str, label: str = "the solution") -> str:
    """`source` with the whole definition `name` (its comments included) replaced by `new`."""
    definition = _definition(source, name, label)
    new = new if new.endswith("\n") or not new else new + "\n"
    return source[: definition.start] + new + source[definition.end :]


def insert_after(source: str, name: str, new: str, label: str = "the solution") -> str:
    """`source` with `new` (a cell's code) inserted right after the definition `name`."""
    definition = _definition(source, name, label)
    new = new if new.endswith("\n") else new + "\n"
    return source[: definition.end] + new + source[definition.end :]


def set_literal(source: str, name: str, value: object, label: str = "the solution") -> str:
    """`source` with the top-level assignment `name = ...` assigning the literal `value`."""
    definition = _definition(source, name, label)
    text = source[definition.start : definition.end]
    node = ast.parse(text).body[-1]
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        raise EditError(f"{label}: {name} is not assigned a value, so it has no literal to set")
    lines = text.splitlines(keepends=True)
    head = (
        "".join(lines[: node.value.lineno - 1])
        + lines[node.value.lineno - 1][: node.value.col_offset]
    )
    tail_line = lines[node.value.end_lineno - 1]
    tail = tail_line[node.value.end_col_offset :] + "".join(lines[node.value.end_lineno :])
    return source[: definition.start] + head + repr(value) + tail + source[definition.end :]


def _cell_source(cell) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _defined_in(cell, label: str) -> dict[str, int]:
    try:
        return _pieces(_cell_source(cell), label)[1]
    except EditError:  # a cell Python cannot parse (an IPython magic) defines nothing here
        return {}


def edit_notebook(notebook, *edits: Edit, label: str = "the notebook"):
    """`notebook` (an nbformat node or its JSON) with each edit made, in place, in the one code
    cell that defines `edit.within` at its top level (with no `within`: the one code cell with a
    definition holding `edit.old`); returns the notebook."""
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for edit in edits:
        if edit.within:
            cells = [c for c in code if edit.within in _defined_in(c, label)]
        else:
            cells = [c for c in code if edit.old in _cell_source(c) and _defined_in(c, label)]
            cells = [c for c in cells if _locate_quietly(_cell_source(c), edit.old, label)]
        if len(cells) != 1:
            what = edit.within or f"a definition holding {edit.old!r}"
            raise EditError(f"{label}: {len(cells)} code cells define {what}, not one")
        cell = cells[0]
        cell_label = f"{label}'s cell defining {edit.within or 'it'}"
        cell["source"] = apply(_cell_source(cell), edit, label=cell_label)
    return notebook


def edit_cells(cells: list[str], *edits: Edit, label: str = "the notebook") -> list[str]:
    """Code cells' sources, edited as `edit_notebook` edits a notebook's code cells."""
    notebook = {"cells": [{"cell_type": "code", "source": source} for source in cells]}
    return [cell["source"] for cell in edit_notebook(notebook, *edits, label=label)["cells"]]


def _locate_quietly(source: str, old: str, label: str) -> bool:
    try:
        locate(source, old, label)
    except EditError:
        return False
    return True

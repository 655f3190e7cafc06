"""Turn a submission file into the code chunks the child executes.

A notebook contributes only its graded cells (tagged `graded` in cell metadata); a `.py` file
contributes its top-level statements. Each chunk runs on its own in the child, so one failing cell
(a stub raising NotImplementedError, say) does not hide the parts defined after it.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder.notebook_places import cell_place

GRADED_TAG = "graded"
MAX_SUBMISSION_BYTES = 32 * 2**20  # a notebook with many plots is a few MiB
# Every bound below is checked on the raw text, before anything is parsed: parsing is what
# costs (`ast.parse` takes about 700 bytes per token, `json.loads` about 70 per value), so a
# file far over the bounds once cost 4.3 GB and a minute before it was refused.
# A notebook's JSON values (bounded by its commas, brackets and braces): an exercise's notebook
# has about 2,000, outputs included.
MAX_NOTEBOOK_VALUES = 500_000
MAX_CELLS = 2000  # cells of any type
# The code of a submission, every code cell counted (graded or not): an exercise is a few
# hundred lines (about 12 KB and 3,000 tokens in a few dozen cells or statements). Far above
# that, the bounds keep what parsing the code and everything the grader derives from it (the
# chunks, their JSON, the seed) small.
MAX_CHUNKS = 2000
MAX_CODE_BYTES = 2 * 2**20
MAX_CODE_LINES = 20000
MAX_CODE_TOKENS = 100_000
# An upper bound on Python's tokens, counted without tokenizing: every token but the layout
# ones (bounded by the lines) holds a word or a punctuation character of its own.
TOKENISH = re.compile(r"\w+|[^\w\s]")
PY_FILENAME = "submission.py"


class SubmissionError(ValueError):
    """The submission cannot be read; the message is shown to the student as is."""


@dataclass(frozen=True)
class Chunk:
    """One unit of student code: a notebook cell or a top-level statement."""

    label: str  # the nbgrader grade_id of the cell, or "line N"
    source: str
    first_line: int
    filename: str

    def to_dict(self) -> dict:
        return asdict(self)


def strip_ipython(source: str) -> str:
    """Blank out IPython magics and shell lines (keeping line numbers); drop cell magics."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(line if isinstance(line, str) else "" for line in source)
    return source if isinstance(source, str) else ""


def _metadata(cell: dict) -> dict:
    metadata = cell.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _tags(cell: dict) -> list[str]:
    tags = _metadata(cell).get("tags")
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _nbgrader(cell: dict) -> dict:
    meta = _metadata(cell).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _cells(notebook: dict) -> list:
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError("the notebook has no list of cells")
    return cells


def graded_cells(notebook: dict) -> list[tuple[int, dict]]:
    """The cells tagged `graded`, with their index; every code cell if none is tagged.

    Malformed metadata (a list where an object belongs, say) counts as no metadata.
    """
    code = [
        (i, c)
        for i, c in enumerate(_cells(notebook))
        if isinstance(c, dict) and c.get("cell_type") == "code"
    ]
    tagged = [(i, c) for i, c in code if GRADED_TAG in _tags(c)]
    return tagged or code


def cell_label(index: int, cell: dict) -> str:
    grade_id = _nbgrader(cell).get("grade_id")
    return str(grade_id)[:100] if grade_id else f"cell {index + 1}"


def locked_cells(notebook: dict) -> dict[str, dict]:
    """grade_id -> cell, for every locked nbgrader cell."""
    found = {}
    for cell in _cells(notebook):
        if isinstance(cell, dict) and _nbgrader(cell).get("locked"):
            grade_id = _nbgrader(cell).get("grade_id")
            if isinstance(grade_id, str) and grade_id not in found:
                found[grade_id] = cell
    return found


def restore_locked_cells(notebook: dict, release: dict) -> tuple[dict, list[str]]:
    """The notebook with each of its locked cells as released, and the grade_ids of the graded
    ones the submission had changed.

    A changed locked cell gets back its released source, type and metadata (its `graded` tag
    included, which nbgrader itself does not restore). A release never adds a cell: one the
    submission deleted stays deleted (`missing_locked_cells` names it), as in nbgrader, so a
    release with a cell of its own cannot change what any submission runs.
    nbgrader's autograde and the CLI both grade through this, so they agree.
    """
    released = locked_cells(release)
    restored: list[str] = []
    cells = []
    seen: set[str] = set()
    for cell in _cells(notebook):
        grade_id = _nbgrader(cell).get("grade_id") if isinstance(cell, dict) else None
        if isinstance(grade_id, str) and grade_id in released and grade_id not in seen:
            seen.add(grade_id)
            original = released[grade_id]
            # Named only when it changes what is graded (a test cell's hidden tests do not).
            graded = GRADED_TAG in _tags(cell) or GRADED_TAG in _tags(original)
            if graded and _comparable(cell) != _comparable(original):
                restored.append(grade_id)
            cells.append(copy.deepcopy(original))
        else:
            cells.append(cell)
    result = dict(notebook)
    result["cells"] = cells
    return result, restored


def missing_locked_cells(notebook: dict, release: dict) -> list[str]:
    """The grade_ids of the release's locked cells that the submission does not have."""
    ids = (_nbgrader(c).get("grade_id") for c in _cells(notebook) if isinstance(c, dict))
    present = {grade_id for grade_id in ids if isinstance(grade_id, str)}
    return [grade_id for grade_id in locked_cells(release) if grade_id not in present]


def _comparable(cell: dict) -> tuple:
    return (cell.get("cell_type"), _cell_source(cell), _tags(cell), _nbgrader(cell).get("locked"))


def notebook_chunks(notebook: dict) -> list[Chunk]:
    """The graded cells, and the import statements of every other code cell, in notebook order.

    Students add cells: an import in a cell of their own counts for grading (imports are cheap
    and harmless, and forgetting one would cost every part that uses it). Anything else defined
    outside the graded cells does not count; `ungraded_definitions` names it for the feedback.
    """
    graded = {index for index, _ in graded_cells(notebook)}
    chunks = []
    for index, cell in enumerate(_cells(notebook)):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = strip_ipython(_cell_source(cell))
        if index in graded:
            label = cell_label(index, cell)
            chunks.append(Chunk(label, source, 1, f"<cell {label}>"))
            continue
        imports = _import_statements(source)
        if imports:
            label = f"imports of cell {index + 1}"
            chunks.append(Chunk(label, imports, 1, f"<{label}>"))
    return chunks


KIT_MODULES = ("autograder",)  # the self-check's own imports: not part of a submission


def _top_level(source: str) -> list[ast.stmt]:
    try:
        return ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []


def _import_statements(source: str) -> str:
    """The top-level import statements of a cell, one per line (the kit's own left out)."""
    lines = []
    for node in _top_level(source):
        if isinstance(node, ast.Import):
            names = [a for a in node.names if not a.name.startswith(KIT_MODULES)]
            if names:
                lines.append(ast.unparse(ast.Import(names=names)))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and not node.module.startswith(KIT_MODULES)
        ):
            lines.append(ast.unparse(node))
    return "\n".join(lines)


def defined_names(source: str) -> set[str]:
    """Names a cell binds at top level: assignments, functions, classes (not imports)."""
    names: set[str] = set()
    for node in _top_level(source):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [getattr(node, "target", None)]
                + [i.optional_vars for i in getattr(node, "items", [])]
            )
            for target in targets:
                if target is not None:
                    names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def ungraded_definitions(notebook: dict) -> dict[str, str]:
    """Name -> cell, for names bound only in cells that are not graded (a helper constant or
    function a student put in a cell of their own, which grading does not run); the cell as a
    student finds it on the page (`autograder.notebook_places`)."""
    graded = {index for index, _ in graded_cells(notebook)}
    in_graded: set[str] = set()
    found: dict[str, str] = {}
    cells = _cells(notebook)
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        names = defined_names(strip_ipython(_cell_source(cell)))
        if index in graded:
            in_graded |= names
        else:
            for name in names:
                found.setdefault(name, cell_place(cells, index))
    return {name: cell for name, cell in found.items() if name not in in_graded}


def python_chunks(source: str) -> list[Chunk]:
    """Top-level statements of a module, each with its real first line number and only its own
    text: statements that share a line (`a = 1; b = 2`) are cut at their columns, so the
    chunks together are never larger than the module (a 56 KB line of 14,000 statements once
    gave each of them the whole line: 749 MiB)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Let the child report the syntax error with its line, as Python would.
        return [Chunk("line 1", source, 1, PY_FILENAME)]
    lines = source.splitlines()
    spans = []
    for node in tree.body:
        first = node.decorator_list[0] if getattr(node, "decorator_list", None) else node
        start = first.lineno
        # A decorator's column is that of its expression, one after the '@'.
        column = first.col_offset - 1 if first is not node else node.col_offset
        spans.append((start, column, node.end_lineno or node.lineno, node.end_col_offset))
    encoded: dict[int, bytes] = {}  # a shared line in UTF-8 (the parser's columns), once

    def cut(number: int, begin: int | None, stop: int | None) -> str:
        if number not in encoded:
            encoded[number] = lines[number - 1].encode("utf-8")
        return encoded[number][begin:stop].decode("utf-8", "replace")

    chunks = []
    for i, (start, column, end, end_column) in enumerate(spans):
        shares_start = i > 0 and spans[i - 1][2] == start
        shares_end = i + 1 < len(spans) and spans[i + 1][0] == end and end_column is not None
        text_lines = lines[start - 1 : end]
        if start == end and (shares_start or shares_end):
            text_lines = [cut(start, max(column, 0) if shares_start else None,
                              end_column if shares_end else None)]  # fmt: skip
        else:
            if shares_start:
                text_lines[0] = cut(start, max(column, 0), None)
            if shares_end:
                text_lines[-1] = cut(end, None, end_column)
        chunks.append(Chunk(f"line {start}", "\n".join(text_lines), start, PY_FILENAME))
    return chunks


@dataclass
class LoadedSubmission:
    """The chunks to execute, and the locked cells that were restored from the release."""

    chunks: list[Chunk]
    restored: list[str] = field(default_factory=list)
    # Names bound only outside the graded cells, with their cell: for the feedback.
    ungraded: dict[str, str] = field(default_factory=dict)
    # The release's locked cells the notebook does not have (never added back).
    missing: list[str] = field(default_factory=list)
    # The notebook's metadata: only compared with the instructor's exercise, never obeyed.
    metadata: Any = None


def load_chunks(path: str | Path) -> list[Chunk]:
    """Read a `.ipynb` or `.py` submission as it is (no release to restore from).

    Raises:
        SubmissionError: the file is missing, of another type, not JSON, or not a notebook.
    """
    return load_submission(path).chunks


def read_notebook(path: str | Path) -> dict:
    """A notebook file as JSON, or SubmissionError saying why it is not one or that it is over
    a bound (its size, its JSON values, its cells, the code in its code cells: each checked
    before what it bounds is parsed)."""
    path = Path(path)
    raw = _read_bytes(path, MAX_SUBMISSION_BYTES, _NOTEBOOK_TOO_LARGE)
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{") + 1
    if values > MAX_NOTEBOOK_VALUES:
        raise SubmissionError(
            f"{path.name} holds up to {values:,} JSON values (at most {MAX_NOTEBOOK_VALUES:,}); "
            "clear the notebook's outputs (Edit > Clear All Outputs) and save it again"
        )
    text = _decode(raw, path)
    del raw
    try:
        notebook = json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        where = (
            f" ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise SubmissionError(
            f"{path.name} is not a valid notebook: not JSON{where}; re-download it or open and "
            "save it in Jupyter"
        ) from None
    if not isinstance(notebook, dict):
        raise SubmissionError(f"{path.name} is not a valid notebook: the JSON is not an object")
    cells = _cells(notebook)
    if len(cells) > MAX_CELLS:
        raise SubmissionError(
            f"{path.name} has {len(cells):,} cells (at most {MAX_CELLS:,}); an exercise needs a "
            "few dozen"
        )
    check_code_bounds(
        [
            (f"cell {index + 1}", _cell_source(cell))
            for index, cell in enumerate(cells)
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
        ],
        path.name,
        cells=True,
    )
    return notebook


_NOTEBOOK_TOO_LARGE = (
    "{name} is larger than {mib} MiB; clear the notebook's outputs (Edit > Clear All Outputs) "
    "and save it again"
)
_CODE_TOO_LARGE = (
    "{name} is larger than {mib} MiB, the most code graded; an exercise needs a few hundred lines"
)


def _read_bytes(path: Path, limit: int, too_large: str) -> bytes:
    """At most `limit` bytes of `path`; SubmissionError (`too_large`) when it has more."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise SubmissionError(f"{path.name} cannot be read ({exc.strerror})") from None
    if len(raw) > limit:
        raise SubmissionError(too_large.format(name=path.name, mib=f"{limit / 2**20:g}"))
    return raw


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def check_code_bounds(sources: list[tuple[str, str]], name: str, *, cells: bool = False) -> None:
    """SubmissionError naming the bound when the code of `sources` ((label, text) pairs: every
    code cell, graded or not, or a whole `.py`) is over its bytes, lines or tokens in all;
    checked on the text, so nothing over the bounds is ever parsed."""
    measures = (
        ("bytes", MAX_CODE_BYTES, _utf8_size),
        ("lines", MAX_CODE_LINES, lambda text: text.count("\n") + 1),
        ("tokens", MAX_CODE_TOKENS, lambda text: TOKENISH.subn("", text)[1]),
    )
    where = " in its code cells, graded or not" if cells else ""
    for what, bound, measure in measures:  # tokens last: their count needs the others' bound
        amounts = [(measure(text), label) for label, text in sources]
        total = sum(amount for amount, _ in amounts)
        if total > bound:
            largest, label = max(amounts)
            alone = f"; {label} alone has {largest:,}" if cells else ""
            raise SubmissionError(
                f"{name} has {total:,} {what} of code{where} (at most {bound:,}{alone}); an "
                "exercise needs a few hundred lines"
            )


def load_submission(path: str | Path, *, release: str | Path | None = None) -> LoadedSubmission:
    """Read a `.ipynb` or `.py` submission; a notebook's locked cells are graded as released
    when `release` (the released notebook) is given.

    Raises:
        SubmissionError: the file is missing, of another type, not JSON, not a notebook, or
            the release cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"submission {str(path)!r} does not exist or is not a file")
    if path.suffix not in {".ipynb", ".py"}:
        raise SubmissionError(f"submission must be a .ipynb or .py file, got {path.name!r}")
    if path.suffix == ".py":
        source = _decode(_read_bytes(path, MAX_CODE_BYTES, _CODE_TOO_LARGE), path)
        check_code_bounds([("the file", source)], path.name)
        return LoadedSubmission(_bounded(python_chunks(source), path))
    notebook = read_notebook(path)
    restored: list[str] = []
    missing: list[str] = []
    if release is not None:
        try:
            released = read_notebook(release)
        except SubmissionError as exc:
            raise SubmissionError(f"the release notebook cannot be used: {exc}") from None
        missing = missing_locked_cells(notebook, released)
        notebook, restored = restore_locked_cells(notebook, released)
    chunks = _bounded(notebook_chunks(notebook), path)
    return LoadedSubmission(
        chunks, restored, ungraded_definitions(notebook), missing, notebook.get("metadata")
    )


def _bounded(chunks: list[Chunk], path: Path) -> list[Chunk]:
    """`chunks`, when the code they hold is within the bounds; SubmissionError otherwise."""
    size = sum(len(c.source.encode("utf-8", "replace")) for c in chunks)
    lines = sum(c.source.count("\n") + 1 for c in chunks)
    for amount, bound, what in (
        (len(chunks), MAX_CHUNKS, "top-level statements or cells"),
        (size, MAX_CODE_BYTES, "bytes of code"),
        (lines, MAX_CODE_LINES, "lines of code"),
    ):
        if amount > bound:
            raise SubmissionError(
                f"{path.name} has {amount:,} {what} to grade (at most {bound:,}); an exercise "
                "needs a few hundred lines"
            )
    return chunks

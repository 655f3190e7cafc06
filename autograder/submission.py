"""Turn a submission file into the code chunks the child executes.

A notebook contributes only its graded cells (tagged `graded` in cell metadata); a `.py` file
contributes its top-level statements. Each chunk runs on its own in the child, so one failing cell
(a stub raising NotImplementedError, say) does not hide the parts defined after it.
"""

from __future__ import annotations

import ast
import json
from dataclasses import asdict, dataclass
from pathlib import Path

GRADED_TAG = "graded"
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
    return "".join(source) if isinstance(source, list) else str(source)


def graded_cells(notebook: dict) -> list[tuple[int, dict]]:
    """The cells tagged `graded`, with their index; every code cell if none is tagged."""
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError("the notebook has no list of cells")
    code = [
        (i, c) for i, c in enumerate(cells) if isinstance(c, dict) and c.get("cell_type") == "code"
    ]
    tagged = [(i, c) for i, c in code if GRADED_TAG in (c.get("metadata", {}).get("tags") or [])]
    return tagged or code


def cell_label(index: int, cell: dict) -> str:
    grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
    return str(grade_id) if grade_id else f"cell {index + 1}"


def notebook_chunks(notebook: dict) -> list[Chunk]:
    chunks = []
    for index, cell in graded_cells(notebook):
        label = cell_label(index, cell)
        chunks.append(Chunk(label, strip_ipython(_cell_source(cell)), 1, f"<cell {label}>"))
    return chunks


def python_chunks(source: str) -> list[Chunk]:
    """Top-level statements of a module, each with its real first line number."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # Let the child report the syntax error with its line, as Python would.
        return [Chunk("line 1", source, 1, PY_FILENAME)]
    lines = source.splitlines()
    chunks = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        end = node.end_lineno or node.lineno
        text = "\n".join(lines[start - 1 : end])
        chunks.append(Chunk(f"line {start}", text, start, PY_FILENAME))
    return chunks


def load_chunks(path: str | Path) -> list[Chunk]:
    """Read a `.ipynb` or `.py` submission.

    Raises:
        SubmissionError: the file is missing, of another type, not JSON, or not a notebook.
    """
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"submission {str(path)!r} does not exist or is not a file")
    if path.suffix not in {".ipynb", ".py"}:
        raise SubmissionError(f"submission must be a .ipynb or .py file, got {path.name!r}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    if path.suffix == ".py":
        return python_chunks(text)
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"{path.name} is not a valid notebook: not JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}); re-download it or open and save it in Jupyter"
        ) from None
    if not isinstance(notebook, dict):
        raise SubmissionError(f"{path.name} is not a valid notebook: the JSON is not an object")
    return notebook_chunks(notebook)

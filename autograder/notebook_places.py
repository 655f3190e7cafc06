"""Where a cell is, in words a student finds on the page.

Jupyter numbers cells by execution count (`[12]`), which changes with every run, and never by
position: "cell 30" pointed nowhere. A cell is named by its first line and the heading of the
part it sits in, as the student reads them: the cell `model = build_model()` under "Inspect
the model".

Both come from the notebook, that is from the student: each is folded onto one line and cut
short before it enters a message (autograder.student_text).

Example:
    >>> cells = [{"cell_type": "markdown", "source": "### Inspect the model\\nText."},
    ...          {"cell_type": "code", "source": "model = build_model()\\nmodel.summary()"}]
    >>> cell_place(cells, 1)
    'the cell `model = build_model()` under "Inspect the model"'
"""

from __future__ import annotations

from autograder.student_text import one_line

MAX_SHOWN = 60  # characters of a first line or a heading


def _source(cell: object) -> str:
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        return "".join(line if isinstance(line, str) else "" for line in source)
    return source if isinstance(source, str) else ""


def _short(text: str) -> str:
    text = one_line(text.strip())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3].rstrip() + "..."


def first_line(source: str) -> str:
    """The cell's first line that is not blank, nor only a comment (a comment only when the
    cell holds nothing else)."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    code = [line for line in lines if not line.startswith("#")]
    return (code or lines or [""])[0]


def heading_above(cells: list, index: int) -> str:
    """The nearest Markdown heading above cell `index` (its text, without the #s), or ''."""
    for cell in reversed(cells[:index]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        headings = [
            line.lstrip("#").strip()
            for line in _source(cell).splitlines()
            if line.startswith("#") and line.lstrip("#").strip()
        ]
        if headings:
            return headings[-1]
    return ""


def cell_place(cells: list, index: int) -> str:
    """`the cell `FIRST LINE` under "HEADING"`: how a student finds cell `index`."""
    line = first_line(_source(cells[index])) if 0 <= index < len(cells) else ""
    heading = heading_above(cells, index)
    place = f"the cell `{_short(line)}`" if line else "an empty cell"
    return f'{place} under "{_short(heading)}"' if heading else place

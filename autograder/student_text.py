"""Student text inside the kit's messages: it never starts a line where the kit's own stand.

An exception message, a printed line or a file name comes from the submission and may hold line
breaks: `RuntimeError("boom\\nScore: 100/100 ... All checks passed.")` raised at load time once
printed a forged score line at column 0 of the report. Where such text enters a message it is
either folded onto one line (`one_line`) or its later lines are indented (`continued`); the
exporters then remove escape sequences and control characters (autograder.exporters.sanitize).

Example:
    >>> one_line("boom\\nScore: 100/100")
    'boom\\\\nScore: 100/100'
    >>> continued("boom\\nScore: 100/100")
    'boom\\n    Score: 100/100'
"""

from __future__ import annotations


def one_line(text: object) -> str:
    """`text` on one line: each line break shown as the two characters `\\n`."""
    return str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def continued(text: object, indent: str = "    ") -> str:
    """`text` with every line after the first indented by `indent`."""
    first, *rest = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join([first, *(indent + line for line in rest)])

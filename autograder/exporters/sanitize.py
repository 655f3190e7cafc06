"""Make student-controlled text safe to show: every exporter passes text through here.

Exception messages, printed output and file names come from the submission. On a terminal an
ANSI escape sequence can repaint the screen (a fake "Score: 100/100"); a newline in a message
starts a line that looks like the kit's own unless it is indented or folded (done where the
text enters a message: autograder.student_text); in XML most control characters are invalid; in a spreadsheet a cell starting with
`=`, `+`, `-` or `@` is a formula.

Example:
    >>> printable("\\x1b[2J\\x1b[HScore: 100/100")
    'Score: 100/100'
    >>> spreadsheet_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
"""

from __future__ import annotations

import re

# CSI and OSC escape sequences first (so their parameters go too), then any other control
# character but newline and tab: C0, DEL and C1.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def printable(text: object) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay)."""
    value = str(text).replace("\r\n", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", value))


def spreadsheet_cell(text: object) -> str:
    """One printable line that a spreadsheet shows as text and never evaluates."""
    value = re.sub(r"\s*\n\s*", " | ", printable(text).strip())
    return "'" + value if value.startswith(_FORMULA_STARTS) else value

"""Grade a table of edited solutions in one `autograder batch`, and read back each one's lines.

A table maps a submission's name to the (old, new) text replacements that make it from the
solution, each made in the definition of the solution that holds it (tests/mutate.py); every
replacement must apply, so a table cannot drift silently from its solution.
"""

from __future__ import annotations

import json
from pathlib import Path

import mutate

from autograder import cli


def edited(solution: str, replacements: list[tuple[str, str]]) -> str:
    """`solution` with every `old` replaced by `new` in the one definition that holds it."""
    return mutate.apply(solution, *mutate.edits(replacements, every=True))


def grade_edits(root: Path, exercise: str, solution: str, edits: dict[str, list]) -> Path:
    """`solution.py` and one `<name>.py` per entry of `edits`, graded by `autograder batch
    --jobs 2 --exercise <exercise>`; the batch's output folder."""
    folder = root / "submissions"
    folder.mkdir()
    (folder / "solution.py").write_text(solution)
    for name, replacements in edits.items():
        (folder / f"{name}.py").write_text(edited(solution, replacements))
    out = root / "out"
    args = ["batch", str(folder), "--out", str(out), "--jobs", "2", "--exercise", exercise]
    assert cli.main(args) == 0
    return out


def rubric_lines(out: Path, name: str) -> dict[str, dict]:
    """Each rubric line of submission `name` in a batch's output, by its name."""
    report = json.loads((out / name / "results.json").read_text())
    return {test["name"]: test for test in report["tests"]}

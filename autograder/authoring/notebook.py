"""An exercise's source notebook in the kit's conventions, for nbgrader's `generate_assignment`.

Each part gets, in order: its instructions (markdown), a solution cell (nbgrader `solution`,
tagged `graded`: what the grader runs), a `self-check` cell (`check("part")`, what students run
as they go) and a locked `autograded-test` cell worth the part's points, scored by the kit's
sandboxed grading (autograder.nbgrader_grading), never by the kernel. The notebook starts with
a locked imports cell and the `setup`-tagged import of `check`.

Example:
    >>> nb = exercise_notebook("demo", "A demo", "Intro.", "import numpy as np",
    ...                        [Section("double", "Double it.", "def double(x):\\n    return 2 * x", 10)])
    >>> [c.metadata.get("tags") for c in nb.cells][2:]
    [['setup'], None, ['graded'], ['self-check'], ['autograded-test']]
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

SCHEMA_VERSION = 3  # nbgrader's cell metadata schema


@dataclass(frozen=True)
class Section:
    """One part of the notebook: instructions, the solution (the lines between `### BEGIN
    SOLUTION` and `### END SOLUTION` become the students' stub) and the part's points."""

    part: str
    instructions: str
    solution: str  # empty for a part that only uses others' code (an end-to-end pipeline)
    points: int
    example: str = ""  # an ungraded cell before the self-check (trying the part out)


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return meta


def test_cell_source(part: str) -> str:
    """The hidden body of a part's autograded cell: its points come from the sandboxed grading."""
    return (
        "# Autograded: the same checks as `autograder grade`. Editing this cell does not change "
        "your grade.\n"
        "### BEGIN HIDDEN TESTS\n"
        "from autograder.nbgrader_grading import scored_outside_the_kernel\n"
        f"scored_outside_the_kernel({part!r})\n"
        "### END HIDDEN TESTS"
    )


def exercise_notebook(
    exercise: str, title: str, intro: str, imports: str, sections: list[Section]
) -> nbformat.NotebookNode:
    """The instructor's notebook for `exercise` (solutions/<exercise>/<exercise>.ipynb)."""
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell(f"# {title}\n\n{intro}"),
        v4.new_code_cell(
            imports,
            metadata={
                "nbgrader": _nbgrader("imports", solution=False, grade=False),
                "tags": ["graded"],
            },
        ),
        v4.new_code_cell("from autograder.selfcheck import check", metadata={"tags": ["setup"]}),
    ]
    for section in sections:
        cells.append(v4.new_markdown_cell(section.instructions))
        if section.solution:
            metadata = {
                "nbgrader": _nbgrader(section.part, solution=True, grade=False),
                "tags": ["graded"],
            }
            cells.append(v4.new_code_cell(section.solution, metadata=metadata))
        if section.example:
            cells.append(v4.new_code_cell(section.example))
        cells += [
            v4.new_code_cell(f'check("{section.part}")', metadata={"tags": ["self-check"]}),
            v4.new_code_cell(
                test_cell_source(section.part),
                metadata={
                    "nbgrader": _nbgrader(
                        f"test_{section.part}",
                        solution=False,
                        grade=True,
                        points=int(section.points),
                    ),
                    "tags": ["autograded-test"],
                },
            ),
        ]
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
        "autograder": {"exercise": exercise},
    }
    return notebook

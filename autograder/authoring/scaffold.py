"""`autograder new-exercise NAME`: a working exercise to start from, graded in full marks.

Writes `autograder/exercises/<name>/` (the exercise: its declared parts, the inputs drawn per
grading, the graders, from the templates in `skeleton/`) and `solutions/<name>/<name>.ipynb` (the nbgrader
source notebook, whose test cells are worth what the graders' rubric gives each part). Then
`make release EXERCISES=<name>` writes the students' notebook and `autograder grade
solutions/<name>/<name>.ipynb` gives 100/100.

Example:
    >>> written = new_exercise("housing_prices", course=Path("."))   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.authoring.notebook import Section, exercise_notebook
from autograder.authoring.rebuild import points_per_part
from autograder.exercise_spec import NAME, ExerciseError, available_exercises

SKELETON = Path(__file__).with_name("skeleton")
PACKAGE = Path(__file__).resolve().parents[1]  # the `autograder` package being run

INTRO = (
    "Fill in each graded cell, then run the `check(...)` cell below it: it runs the grader's "
    "own checks on your code and says what to fix."
)
IMPORTS = "import numpy as np\nimport keras"
SECTIONS = {
    "make_points": (
        "## Part 1: points on a line\n\n"
        "Write `make_points(xs)`: return the y of each x on the line y = 2x - 1, as a new "
        "NumPy array (leave `xs` unchanged).",
        "def make_points(xs):\n"
        '    """The y of each x on the line y = 2x - 1."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return 2.0 * xs - 1.0\n"
        "    ### END SOLUTION",
    ),
    "build_model": (
        "## Part 2: a one-neuron model\n\n"
        "Write `build_model()`: a `keras.Sequential` model of one `Dense(1)` layer on inputs "
        'of shape `(1,)`, compiled with `optimizer="sgd"` and `loss="mean_squared_error"`.',
        "def build_model():\n"
        '    """One neuron: y = w * x + b."""\n'
        "    ### BEGIN SOLUTION\n"
        "    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])\n"
        '    model.compile(optimizer="sgd", loss="mean_squared_error")\n'
        "    return model\n"
        "    ### END SOLUTION",
    ),
}


def new_exercise(name: str, course: Path, *, title: str | None = None) -> list[Path]:
    """Write the exercise `name` into this kit's `autograder/exercises/` and `course`'s
    `solutions/`; the files written, in order. ExerciseError for a bad or taken name (then
    nothing is written)."""
    if not NAME.match(name):
        raise ExerciseError(f"an exercise name must match {NAME.pattern}, received {name!r}")
    folder = PACKAGE / "exercises" / name
    notebook = course / "solutions" / name / f"{name}.ipynb"
    taken = [p for p in (folder, notebook) if p.exists()]
    if taken or name in available_exercises():
        where = ", ".join(str(p) for p in taken) or f"exercise {name!r}"
        raise ExerciseError(f"{where} already exists: choose another name")
    title = title or name.replace("_", " ").capitalize()
    written = []
    for template in sorted(SKELETON.rglob("*.tmpl")):
        target = folder / template.relative_to(SKELETON).with_suffix("")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = template.read_text(encoding="utf-8")
        target.write_text(text.replace("__NAME__", name).replace("__TITLE__", title), "utf-8")
        written.append(target)
    points = points_per_part(name)
    sections = [
        Section(part, instructions, solution, points[part])
        for part, (instructions, solution) in SECTIONS.items()
    ]
    notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(exercise_notebook(name, title, INTRO, IMPORTS, sections), notebook)
    written.append(notebook)
    return written


_points_per_part = points_per_part  # the name it had before rebuild.py

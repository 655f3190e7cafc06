"""What the engine knows about an exercise, and which one a grading uses.

An exercise is one folder, `autograder/exercises/<name>/`, whose `__init__.py` defines
`EXERCISE`, an `Exercise`, whose parts declare the calls the sandboxed child makes
(`autograder/declare.py`; the engine derives each part's observation schema from them). The
folder also holds `graders/test_*.py`: the rubric, as pytest tests marked with
`autograder.scoring.grader`.

Its notebooks live where nbgrader wants them: `solutions/<name>/<name>.ipynb` (the instructor's
source) and `assignments/<name>/<name>.ipynb` (the release).

Example:
    >>> from autograder.exercise_spec import load_exercise
    >>> exercise = load_exercise("fashion_mnist")
    >>> exercise.part_names[:2]
    ('CLASS_NAMES', 'load_data')
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from autograder.child.model_vetting import ModelLimits
from autograder.declare import Call, check_calls, part_schema, student_names

EXERCISES_PACKAGE = "autograder.exercises"
EXERCISES_DIR = Path(__file__).with_name("exercises")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
METADATA_KEY = "autograder"  # notebook metadata: {"autograder": {"exercise": "<name>"}}


class ExerciseError(ValueError):
    """No such exercise, or the instructor did not say which one to grade."""


@dataclass(frozen=True)
class Part:
    """One graded part: a name the student defines, its time limit in the child, the calls the
    child makes (autograder/declare.py), and the student names they use (when not derived
    from the calls)."""

    name: str
    timeout: float
    uses: tuple[str, ...] = ()
    # Parts whose functions this part calls: when one of them hung, crashed or ran out of
    # memory, this part fails at once with that cause.
    depends: tuple[str, ...] = ()
    # Self-checks skip a slow part unless asked (`check(part, slow=True)`).
    slow: bool = False
    # Shown under a self-check of the part (e.g. how much it trains).
    selfcheck_note: str = ""
    # The calls the engine runs in the child (autograder/declare.py), from which it derives the
    # part's schema. Required: a part without calls would record nothing to grade.
    calls: tuple[Call, ...] = ()

    def __post_init__(self) -> None:
        if not self.calls:
            raise ValueError(
                f"part {self.name!r} declares no calls: give it calls=(...) "
                "(see autograder/declare.py)"
            )
        check_calls(self.name, self.calls)

    @property
    def names(self) -> tuple[str, ...]:
        return self.uses or student_names(self.calls) or (self.name,)


@dataclass(frozen=True)
class DatasetFiles:
    """Where an exercise's data set comes from: files in Keras' cache folder
    `$KERAS_HOME/datasets/<cache_folder>/`, a variable naming a folder with them, and system
    folders (e.g. a Debian package) to look in."""

    title: str
    cache_folder: str
    files: Mapping[str, str]  # array name -> file name
    env: str
    system_dirs: tuple[Path, ...] = ()
    # Dotted path of Keras' loader, tried last (it downloads when there is a network).
    keras_loader: str = ""
    # The official files' SHA-256 and where to download them (`autograder fetch-data`).
    sha256: Mapping[str, str] = field(default_factory=dict)
    base_url: str = ""

    def cache_path(self, name: str) -> str:
        """Where Keras keeps the file `name`, relative to its home (`$KERAS_HOME`)."""
        return f"datasets/{self.cache_folder}/{name}"


@dataclass
class GradingInputs:
    """One grading's inputs: `arrays` and `config` go to the child, `context` never does (it is
    what the graders compare against, handed to them by the `ctx` fixture)."""

    seed: int
    arrays: dict[str, np.ndarray]
    config: dict[str, Any]
    context: Any


class ExerciseSetup(Protocol):
    """What an exercise prepares once per grader (reference model, inputs folder files)."""

    # Files every child receives in its read-only inputs folder (name -> path).
    files: dict[str, Path]

    def draw(self, seed: int) -> GradingInputs:
        """This grading's inputs, drawn from `seed` (a per-grading secret the child never sees)."""
        ...


@dataclass(frozen=True)
class Exercise:
    """Everything the engine needs to grade one exercise."""

    name: str
    title: str
    parts: tuple[Part, ...]
    # None: the exercise's inputs are all generated (drawn by its setup), no files to find.
    dataset: DatasetFiles | None
    model_limits: ModelLimits
    # Builds the exercise's setup from the grader's data arrays, a scratch folder and the
    # exercise's settings (e.g. {"pipeline_threshold": 0.85}).
    make_setup: Callable[..., ExerciseSetup]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ExerciseError(f"exercise name must match {NAME.pattern}, received {self.name!r}")
        names = [p.name for p in self.parts]
        if len(set(names)) != len(names):
            raise ExerciseError(f"exercise {self.name!r} has duplicate parts: {names}")
        for part in self.parts:
            unknown = set(part.depends) - set(names)
            if unknown:
                raise ExerciseError(f"part {part.name!r} depends on unknown parts {unknown}")

    @property
    def part_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts)

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        raise ExerciseError(
            f"{self.name} has no part {name!r}; its parts are {', '.join(self.part_names)}"
        )

    @property
    def folder(self) -> Path:
        return EXERCISES_DIR / self.name

    @property
    def graders_dir(self) -> Path:
        return self.folder / "graders"

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"

    def release_notebook(self, course: Path | None = None) -> Path:
        """The student release, `assignments/<name>/<name>.ipynb` under the course folder."""
        return (course or Path.cwd()) / "assignments" / self.name / self.notebook_name

    @property
    def timeouts(self) -> dict[str, float]:
        return {p.name: p.timeout for p in self.parts}

    @property
    def depends(self) -> dict[str, tuple[str, ...]]:
        return {p.name: p.depends for p in self.parts if p.depends}

    @property
    def schema(self) -> dict[str, dict[str, str]]:
        """The exercise's observation schema (see autograder.child.schema): what each part's
        declared calls record."""
        return self.declared_schema

    @property
    def declared(self) -> dict[str, list[dict[str, Any]]]:
        """The declared parts' calls, as the child is told them (plain JSON)."""
        return {p.name: [c.to_json() for c in p.calls] for p in self.parts if p.calls}

    @property
    def declared_schema(self) -> dict[str, dict[str, str]]:
        return {p.name: part_schema(p.calls) for p in self.parts if p.calls}


def available_exercises() -> tuple[str, ...]:
    """The names of the exercises in `autograder/exercises/` (one folder each)."""
    return tuple(
        sorted(
            entry.name
            for entry in EXERCISES_DIR.iterdir()
            if entry.is_dir() and NAME.match(entry.name) and (entry / "__init__.py").is_file()
        )
    )


@functools.cache
def load_exercise(name: str) -> Exercise:
    """The exercise `name`; `ExerciseError` naming the available ones when there is none."""
    if not isinstance(name, str) or name not in available_exercises():
        raise ExerciseError(
            f"unknown exercise {name!r}; the exercises are {', '.join(available_exercises())}"
        )
    exercise = importlib.import_module(f"{EXERCISES_PACKAGE}.{name}").EXERCISE
    if exercise.name != name:
        raise ExerciseError(f"exercises/{name}/ defines an exercise named {exercise.name!r}")
    return exercise


def common_dataset(explicit: str | None = None) -> DatasetFiles:
    """The data set of `explicit` (an exercise), else the one every exercise that has a data set
    uses; ExerciseError when there is none or more than one."""
    if explicit:
        spec = load_exercise(explicit).dataset
        if spec is None:
            raise ExerciseError(
                f"exercise {explicit!r} uses no data set: there is nothing to fetch"
            )
        return spec
    specs = datasets_in_use()
    if not specs:
        raise ExerciseError("no exercise uses a data set: there is nothing to fetch")
    if len(specs) != 1:
        raise ExerciseError(
            f"the exercises use different data sets: pass --exercise ({', '.join(available_exercises())})"
        )
    return next(iter(specs.values()))


def datasets_in_use() -> dict[str, DatasetFiles]:
    """The data sets the exercises use, by cache folder (exercises without one add nothing)."""
    specs: dict[str, DatasetFiles] = {}
    for name in available_exercises():
        spec = load_exercise(name).dataset
        if spec is not None:
            specs[spec.cache_folder] = spec
    return specs


def course_exercises(course: Path) -> tuple[str, ...]:
    """The exercises a course folder releases: those with `assignments/<name>/<name>.ipynb`."""
    return tuple(
        name
        for name in available_exercises()
        if load_exercise(name).release_notebook(course).is_file()
    )


def instructor_exercise(explicit: str | None = None, courses: tuple[Path, ...] = ()) -> Exercise:
    """The exercise the instructor set: `explicit` (`--exercise`, the nbgrader assignment, the
    Gradescope bundle's); else, when the first folder of `courses` with an `assignments/`
    release releases exactly one exercise, that one; else the kit's only exercise.

    Never the submission's metadata, file name or folder: a submission cannot choose the exercise
    it is graded as (SECURITY.md, "Identity is the instructor's").

    Raises:
        ExerciseError: the exercise is not given and cannot be known from the instructor's side
            (the message names `--exercise` and lists the exercises).
    """
    if explicit:
        return load_exercise(explicit)
    for course in courses:
        released = course_exercises(course)
        if len(released) == 1:
            return load_exercise(released[0])
        if released:
            break  # the course releases several: which one is for the instructor to say
    names = available_exercises()
    if len(names) == 1:
        return load_exercise(names[0])
    raise ExerciseError(
        f"which exercise to grade is not given: pass --exercise (one of {', '.join(names)}); "
        "a submission's metadata, file name or folder never chooses it"
    )


def metadata_exercise(metadata: Any) -> str | None:
    """The exercise a notebook's metadata names (`{"autograder": {"exercise": ...}}`), or None;
    only ever compared with the instructor's exercise, never used to choose one."""
    named = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    name = named.get("exercise") if isinstance(named, dict) else None
    return name if isinstance(name, str) else None


def _defines(name: str, sources: list[str]) -> bool:
    pattern = re.compile(
        rf"^(?:(?:async\s+)?def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=,]", re.M
    )
    return any(pattern.search(source) for source in sources)


def identity_notes(exercise: Exercise, metadata: Any, sources: list[str]) -> dict[str, str]:
    """What the student and the instructor are told when a submission says it is another
    exercise than the one it is graded as: its notebook metadata names another one, or its code
    (`sources`) defines none of the names the exercise asks for. Empty when they agree."""
    notes = []
    named = metadata_exercise(metadata)
    if named is not None and named != exercise.name:
        shown = named if NAME.match(named) else "an unknown exercise"
        notes.append(
            f"this notebook's metadata names {shown}; it was graded as {exercise.name}, the "
            "exercise your instructor set (a notebook's metadata never chooses the exercise)"
        )
    wanted = sorted({n for p in exercise.parts for n in p.names})
    if sources and not any(_defines(n, sources) for n in wanted):
        notes.append(
            f"the graded code defines none of the names {exercise.name} asks for "
            f"({', '.join(wanted[:6])}{', ...' if len(wanted) > 6 else ''}); it was graded as "
            f"{exercise.name}, the exercise your instructor set: check that you submitted the "
            "right file"
        )
    return {"exercise": "; ".join(notes)} if notes else {}

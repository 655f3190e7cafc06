"""Self-checks for students: `check("build_model")` in the notebook, right after the part.

It runs the grader's own probes and checks on the objects already defined in the student's
kernel and prints the same feedback `autograder grade` gives for that part. It is fast: the
callback and training checks train briefly on a small subset (as the grader does too), and the
pipeline part, which trains for 5 epochs on all 60,000 images, is skipped unless asked for with
`check("pipeline", slow=True)`.

A self-check is only a preview: the code runs in the student's own kernel, not in the sandbox,
and grades always come from `autograder grade` (or nbgrader, which runs the same grader).

Example (in a notebook cell):
    >>> from autograder.selfcheck import check
    >>> check("scale_images")
    scale_images  9/9
      [PASS] scale_images: ...
    All checks passed.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import warnings

from autograder.exercise_spec import Exercise, available_exercises, datasets_in_use, load_exercise
from autograder.threads import fix_threads

# The notebook imports this right after TensorFlow, before any op: the self-checks' trainings
# use the grader's thread pools (autograder.threads), so their figures are the grader's.
fix_threads()


def _caller_namespace(depth: int) -> dict:
    """The IPython user namespace when running in a notebook, else the caller's globals."""
    try:
        from IPython import get_ipython
    except ImportError:
        shell = None
    else:
        shell = get_ipython()
    if shell is not None and getattr(shell, "user_ns", None) is not None:
        return shell.user_ns
    return sys._getframe(depth + 1).f_globals


def exercise_for(part: str, namespace: dict) -> Exercise:
    """The exercise a notebook's `check(part)` means: of the exercises with that part, the one
    whose names the notebook defines most of (a notebook defines its own exercise's stubs)."""
    from autograder.grader import shared_exercises

    candidates = [
        load_exercise(name)
        for name in available_exercises()
        if part in load_exercise(name).part_names
    ]
    if not candidates:
        names = sorted({p for n in available_exercises() for p in load_exercise(n).part_names})
        raise KeyError(f"Unknown part {part!r}. The parts are: {', '.join(names)}.")
    prepared = set(shared_exercises())

    def defined(exercise: Exercise) -> tuple[float, bool]:
        names = {n for p in exercise.parts for n in p.names}
        return (len(names & set(namespace)) / len(names), exercise.name in prepared)

    return max(candidates, key=defined)


def get_grader(exercise: Exercise | str):
    """The kernel's grader for `exercise`, created on first use (the data location comes from
    the data set's variable, the Keras cache or a system package, as `autograder grade` does)."""
    from autograder.grader import shared_grader

    name = exercise if isinstance(exercise, str) else exercise.name
    with _quiet():
        grader = shared_grader(name)
    if grader.exercise.dataset is not None:
        keras_can_load(grader.data_dir, grader.exercise.dataset)
    return grader


def keras_can_load(data_dir, spec) -> None:
    """Let Keras' loader (e.g. `keras.datasets.fashion_mnist.load_data()`) in this kernel find
    the grader's copy of the data offline: link the files into the cache Keras reads (its
    KERAS_HOME, fixed when Keras was imported, or /tmp/.keras when that is not writable), as
    Keras' own download would."""
    from pathlib import Path

    from autograder.data import prepare_keras_cache

    try:
        from keras.src.backend.config import keras_home

        home = Path(os.path.expanduser(keras_home()))
    except ImportError:  # another Keras layout: its default
        home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    if not os.access(home, os.W_OK) and not os.access(home.parent, os.W_OK):
        home = Path("/tmp/.keras")  # where Keras itself falls back
    source = Path(data_dir)
    cached = home / "datasets" / spec.cache_folder
    if all(_same_file(cached / n, source / n) for n in spec.files.values()):
        return
    # Relink whatever is there (an old download, another data set's links): the kernel must
    # read the very files the checks compare with.
    with contextlib.suppress(OSError):
        prepare_keras_cache(source, home, spec)


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def prepare_offline_data() -> None:
    """Called when the notebook imports `check`: link a local copy of each exercise's data (its
    variable, e.g. FASHION_MNIST_DIR, or a system package) into Keras' cache, so the data set's
    Keras loader works offline from the first cell."""
    from autograder.data import DataError, locate_data

    for spec in datasets_in_use().values():
        # Online, Keras downloads the files itself; offline, the check says what to do.
        with contextlib.suppress(DataError, OSError):
            keras_can_load(locate_data(spec, allow_download=False), spec)


def set_grader(grader) -> None:
    """Use this grader for the following checks of its exercise (tests, or custom data and
    options)."""
    from autograder.grader import share_grader

    share_grader(grader)


@contextlib.contextmanager
def _quiet():
    """Hide the student's own prints, progress bars and warnings while the probes run, and
    TensorFlow's C++ log lines, which bypass Python and write to file descriptor 2."""
    sink = io.StringIO()
    with (
        _descriptor_silenced(2),
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        warnings.simplefilter("ignore")
        yield sink


@contextlib.contextmanager
def _descriptor_silenced(fd: int):
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def check(
    part: str, *, slow: bool = False, namespace: dict | None = None, exercise: str | None = None
) -> None:
    """Check one part of the exercise and print the grader's feedback for it.

    Args:
        part: the part's name, as in the cell above (e.g. "build_model").
        slow: also run a slow part (the end-to-end training of the pipeline).
        namespace: where the student's names live; default: the notebook's (or caller's) globals.
        exercise: the exercise's name; default: the one whose names the notebook defines.
    """
    if namespace is None:
        namespace = _caller_namespace(1)
    try:
        chosen = load_exercise(exercise) if exercise else exercise_for(part, namespace)
        spec = chosen.part(part)
    except (KeyError, ValueError) as exc:
        print(exc.args[0] if exc.args else exc)
        return
    if os.environ.get("NBGRADER_EXECUTION"):
        # nbgrader is running the notebook (autograde/validate): the test cells do the grading.
        print(f"Self-check for {part} skipped while nbgrader runs the notebook.")
        return
    if spec.slow and not slow:
        print(
            f"The {part} check trains your model end to end, as the grader does, and takes a "
            "minute or more, so it is skipped here.\n"
            f'Run check("{part}", slow=True) to run it now.'
        )
        return
    print(report_part(part, namespace, exercise=chosen))


def notebook_path() -> str | None:
    """The notebook this kernel runs, as Jupyter names it (saved version on disk), if known."""
    name = os.environ.get("JPY_SESSION_NAME") or os.environ.get("AUTOGRADER_NOTEBOOK")
    return name if name and name.endswith(".ipynb") and os.path.isfile(name) else None


def _global_names(value, depth: int = 0) -> set[str]:
    """Global names a function (or a class's methods) looks up, nested functions included."""
    codes = []
    if isinstance(value, type):
        codes = [getattr(v, "__code__", None) for v in vars(value).values()]
    else:
        codes = [getattr(value, "__code__", None)]
    names: set[str] = set()
    stack = [c for c in codes if c is not None]
    while stack:
        code = stack.pop()
        names |= set(code.co_names)
        stack += [c for c in code.co_consts if hasattr(c, "co_names")]
    return names


def ungraded_warnings(
    part: str, namespace: dict, path: str | None = None, exercise: Exercise | None = None
) -> list[str]:
    """What grading will not see: the part's functions defined, or using names defined, only
    in cells that are not graded (read from the saved notebook). Same words as the grader's."""
    from autograder.scoring.feedback import ungraded_hint
    from autograder.submission import SubmissionError, read_notebook, ungraded_definitions

    path = path or notebook_path()
    if path is None:
        return []
    try:
        ungraded = ungraded_definitions(read_notebook(path))
    except SubmissionError:
        return []
    exercise = exercise or exercise_for(part, namespace)
    warnings = []
    for name in exercise.part(part).names:
        if name in ungraded:
            warnings.append(
                f"`{name}` is defined in an ungraded cell ({ungraded[name]}): grading runs only "
                f"the graded cells, so define `{name}` in its graded cell (tagged `graded`)."
            )
        for used in sorted(_global_names(namespace.get(name)) & set(ungraded)):
            warnings.append(ungraded_hint(name, used, ungraded[used]) + ".")
    return warnings


def report_part(
    part: str, namespace: dict, notebook: str | None = None, exercise: Exercise | None = None
) -> str:
    """The self-check text for one part (what `check` prints)."""
    return checked_part(part, namespace, notebook, exercise)[0]


def validate_part(part: str, namespace: dict | None = None) -> None:
    """`nbgrader validate`'s test for one part: the kit's checks, run in this kernel.

    Raises AssertionError with the feedback when the part does not earn full points, so the
    Validate button reports exactly the parts that would lose points (the pipeline included).
    """
    namespace = _caller_namespace(1) if namespace is None else namespace
    with _descriptor_silenced(2):  # nbgrader counts anything on stderr against the cell
        text, score, maximum = checked_part(part, namespace)
    print(text)
    if score is None or maximum is None:
        raise AssertionError(f"{part}: not checked\n{text}")
    if score < maximum:
        raise AssertionError(f"{part}: {score:g} of {maximum:g} points\n{text}")


def checked_part(
    part: str, namespace: dict, notebook: str | None = None, exercise: Exercise | None = None
) -> tuple[str, float | None, float | None]:
    """The self-check text for one part, with the points it earned and its maximum (None when
    the checks could not run)."""
    started = time.monotonic()
    exercise = exercise or exercise_for(part, namespace)
    lines = []
    warnings = ungraded_warnings(part, namespace, notebook, exercise)
    missing = [name for name in exercise.part(part).names if name not in namespace]
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        lines.append(
            f"{names} not defined yet: run the cell above first. If it still raises "
            "NotImplementedError, this part is not implemented yet."
        )
    from autograder.data import DataError

    try:
        grader = get_grader(exercise)
    except DataError as exc:
        title = exercise.dataset.title if exercise.dataset else "data set"
        text = f"The self-check cannot run without the {title} files: {exc}"
        return "\n".join([*lines, text]), None, None
    with _quiet():
        report = grader.check_namespace(namespace, [part])
    from autograder.exporters.text import render_part

    lines += render_part(report, part)
    score, maximum = report.part_score(part)
    accuracy = report.artifacts.get("test_accuracy")
    if accuracy is not None:
        needed = report.artifacts.get("pipeline_threshold")
        lines.append(
            f"Pipeline test accuracy: {accuracy:.4f}"
            + (f" (needs {needed:g})" if isinstance(needed, (int, float)) else "")
        )
    note = exercise.part(part).selfcheck_note
    if note:
        lines.append(f"({note})")
    verdict = (
        "All checks passed." if score >= maximum else f"{score:g} of {maximum:g} points so far."
    )
    if warnings:
        lines += ["", "The grader will not see the same code:", *[f"  - {w}" for w in warnings]]
        verdict = f"{score:g} of {maximum:g} here, but not when graded: see above."
    lines.append(f"{verdict}  (self-check in your kernel, {time.monotonic() - started:.1f} s)")
    return "\n".join(lines), score, maximum


prepare_offline_data()

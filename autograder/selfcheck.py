"""Self-checks for students: `check("build_model")` in the notebook, right after the part.

It runs the grader's own declared calls and checks on the objects already defined in the student's
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
import json
import os
import sys
import time
import warnings

from autograder.exercise_spec import (
    Exercise,
    available_exercises,
    datasets_in_use,
    load_exercise,
    metadata_exercise,
)
from autograder.exercises import DEFAULT_EXERCISE
from autograder.submission import MAX_SUBMISSION_BYTES
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
    """The exercise a notebook's `check(part)` means: the one the running notebook's metadata
    names, else of the exercises with that part the one whose names the notebook defines most of
    (a notebook defines its own exercise's stubs), else the course's first."""
    from autograder.shared_graders import shared_exercises

    candidates = [
        load_exercise(name)
        for name in available_exercises()
        if part in load_exercise(name).part_names
    ]
    if not candidates:
        names = sorted({p for n in available_exercises() for p in load_exercise(n).part_names})
        raise KeyError(f"Unknown part {part!r}. The parts are: {', '.join(names)}.")
    named = _notebook_exercise()
    for exercise in candidates:
        if exercise.name == named:
            return exercise
    prepared = set(shared_exercises())

    def defined(exercise: Exercise) -> tuple[int, float, bool, bool]:
        # Most names defined first: a notebook that has run only `scale_images` so far is no
        # more the smallest exercise with that part than any other.
        names = {n for p in exercise.parts for n in p.names}
        count = len(names & set(namespace))
        prefer = (exercise.name in prepared, exercise.name == DEFAULT_EXERCISE)
        return (count, *prefer, count / len(names))

    return max(candidates, key=defined)


def _notebook_exercise() -> str | None:
    """The exercise the running notebook's metadata names, if Jupyter says which notebook runs.
    Only the student's own self-check reads it (a grade never does: SECURITY.md)."""
    path = notebook_path()
    try:
        if path is None or os.path.getsize(path) > MAX_SUBMISSION_BYTES:
            return None
        with open(path, "rb") as handle:
            return metadata_exercise(json.loads(handle.read()).get("metadata"))
    except (OSError, ValueError, AttributeError):
        return None


def get_grader(exercise: Exercise | str):
    """The kernel's grader for `exercise`, created on first use (the data location comes from
    the data set's variable, the Keras cache or a system package, as `autograder grade` does)."""
    from autograder.shared_graders import shared_grader

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
    from autograder.shared_graders import share_grader

    share_grader(grader)


@contextlib.contextmanager
def _quiet():
    """Hide the student's own prints, progress bars and warnings while the part's calls run, and
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
    if spec.slow:
        with TrainingProgress(part) as progress:
            text = report_part(part, namespace, exercise=chosen)
            progress.finish()
        print(text)
        return
    print(report_part(part, namespace, exercise=chosen))


class TrainingProgress:
    """What a slow self-check is doing, in the page while it runs: which epoch of how many,
    the time spent and the time left (one line, updated in place in Jupyter; printed line by
    line elsewhere). Fed by every Keras fit in the kernel while it is active: Keras' callback
    container is wrapped for the duration (never the student's callbacks)."""

    EVERY = 1.0  # seconds between two updates within an epoch

    def __init__(self, part: str, clock=time.monotonic) -> None:
        self.part = part
        self.clock = clock
        self.started = clock()
        self.shown_at = -self.EVERY
        self.epochs: int | None = None
        self.epoch = 0
        self.fraction = 0.0  # of the current epoch
        self.handle = None
        self.out = sys.stdout  # the page's, before the check hides the student's prints
        self.restore: list = []

    # -- what is shown --------------------------------------------------------------------
    def line(self) -> str:
        elapsed = self.clock() - self.started
        if self.epochs is None:
            return f"{self.part}: preparing your model ({elapsed:.0f} s)..."
        done = (self.epoch + self.fraction) / self.epochs
        text = (
            f"{self.part}: training epoch {min(self.epoch + 1, self.epochs)} of {self.epochs}, "
            f"{elapsed:.0f} s so far"
        )
        if done > 0.02:
            text += f", about {elapsed / done - elapsed:.0f} s left"
        return text + "..."

    def show(self, text: str, force: bool = False) -> None:
        now = self.clock()
        if not force and (self.handle is None or now - self.shown_at < self.EVERY):
            return  # printed lines stay: only one per epoch outside Jupyter
        self.shown_at = now
        try:
            if self.handle is not None:
                self.handle.update({"text/plain": text}, raw=True)
            else:
                print(text, file=self.out, flush=True)
        except Exception:  # progress must never break a check
            pass

    def finish(self) -> None:
        elapsed = self.clock() - self.started
        trained = f"trained {self.epochs} epochs, " if self.epochs else ""
        self.show(f"{self.part}: {trained}done in {elapsed:.0f} s.", force=True)

    # -- where it comes from --------------------------------------------------------------
    def __enter__(self) -> TrainingProgress:
        self.handle = _display_handle(self.line())
        if self.handle is None:
            self.show(self.line(), force=True)
        try:
            from keras.callbacks import CallbackList
        except ImportError:
            return self
        progress = self

        def wrap(name: str, after):
            original = CallbackList.__dict__[name]

            def hooked(container, *args, **kwargs):
                result = original(container, *args, **kwargs)
                with contextlib.suppress(Exception):  # progress must never break a fit
                    after(container, *args)
                return result

            self.restore.append((name, original))
            setattr(CallbackList, name, hooked)

        def epoch_begin(container, epoch, *_):
            progress.epochs = int((container.params or {}).get("epochs") or 1)
            progress.epoch, progress.fraction = int(epoch), 0.0
            progress.show(progress.line(), force=True)

        def batch_end(container, batch, *_):
            steps = (container.params or {}).get("steps")
            if steps:
                progress.fraction = min(1.0, (int(batch) + 1) / int(steps))
            progress.show(progress.line())

        def epoch_end(container, epoch, *_):
            progress.epoch, progress.fraction = int(epoch) + 1, 0.0
            progress.show(progress.line(), force=True)

        wrap("on_epoch_begin", epoch_begin)
        wrap("on_train_batch_end", batch_end)
        wrap("on_epoch_end", epoch_end)
        return self

    def __exit__(self, *exc) -> None:
        try:
            from keras.callbacks import CallbackList
        except ImportError:
            return
        for name, original in reversed(self.restore):
            setattr(CallbackList, name, original)
        self.restore.clear()


def _display_handle(text: str):
    """A display Jupyter updates in place (None outside a Jupyter kernel)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return None
    try:
        return display({"text/plain": text}, raw=True, display_id=True)
    except Exception:
        return None


def notebook_path() -> str | None:
    """The notebook this kernel runs, as Jupyter names it (saved version on disk), if known."""
    name = os.environ.get("JPY_SESSION_NAME") or os.environ.get("AUTOGRADER_NOTEBOOK")
    return name if name and name.endswith(".ipynb") and os.path.isfile(name) else None


# The instructions that read a global (or, at a module's or class body's top level, a name):
# attribute names (`self.model.stop_training`) share `co_names` with them and are no globals.
GLOBAL_READS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS"})


def _functions_of(value) -> list:
    """The functions behind `value`: itself, or a class's methods (static and class methods,
    properties' accessors and nested classes' methods included)."""
    if not isinstance(value, type):
        return [value]
    found = []
    for member in vars(value).values():
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property):
            found += [f for f in (member.fget, member.fset, member.fdel) if f is not None]
        elif isinstance(member, type) and member is not value:
            found += _functions_of(member)
        else:
            found.append(member)
    return found


def _global_names(value) -> set[str]:
    """Global names a function (or a class's methods) reads, nested functions, lambdas and
    comprehensions included; never the names of attributes."""
    import dis

    stack = [getattr(f, "__code__", None) for f in _functions_of(value)]
    stack = [code for code in stack if code is not None]
    names: set[str] = set()
    while stack:
        code = stack.pop()
        names |= {str(i.argval) for i in dis.get_instructions(code) if i.opname in GLOBAL_READS}
        stack += [c for c in code.co_consts if hasattr(c, "co_code")]
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


def _ran_stub(name: str, namespace: dict) -> bool | None:
    """Whether the kernel's latest run of a cell naming `name` was its stub (it raises
    NotImplementedError, as the stub of a constant does, and defines nothing): read from
    IPython's input history; None without one."""
    history = namespace.get("_ih", namespace.get("In"))
    if not isinstance(history, list):
        return None
    for source in reversed(history):  # the latest run of a cell naming it decides
        if isinstance(source, str) and name in source and "check(" not in source:
            return "raise NotImplementedError" in source
    return False


def missing_names_text(missing: list[str], namespace: dict) -> str:
    """Why the part's names are not in the kernel: its stub ran (not implemented yet), or its
    cell has not run (run it first)."""
    names = ", ".join(f"`{name}`" for name in missing)
    ran = [_ran_stub(name, namespace) for name in missing]
    if all(ran):
        return (
            f"{names} not implemented yet: the cell above still raises NotImplementedError. "
            "Replace `raise NotImplementedError()` with your code and run that cell again."
        )
    if all(r is False for r in ran):
        return f"{names} not defined yet: run the cell above first."
    return (
        f"{names} not defined yet: run the cell above first. If it still raises "
        "NotImplementedError, this part is not implemented yet."
    )


def _as_stub(test, stubs: list[str]):
    """`test` saying "not implemented yet" instead of "not defined" for a name whose stub
    ran in this kernel (the grader, which sees the stub raise, says the same)."""
    import dataclasses

    from autograder.results import Feedback
    from autograder.scoring.feedback import STUB_HINT, not_implemented

    for name in stubs:
        if test.message.startswith(f"`{name}` is not defined."):
            return dataclasses.replace(
                test, message=not_implemented(f"`{name}`"), feedback=Feedback(hint=STUB_HINT)
            )
    return test


@contextlib.contextmanager
def _keras_names_kept():
    """The models a check builds do not use up the student's layer names: after a check,
    `model.summary()` still says `sequential` and `dense`, not `sequential_5` and `dense_9`
    (Keras numbers automatic names with counters kept per thread; the student's session is
    otherwise left alone, never cleared)."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # another Keras layout: names as Keras gives them
        yield
        return
    key = "object_name_uids"
    counters = global_state.get_global_attribute(key)
    saved = dict(counters) if counters is not None else {}
    try:
        yield
    finally:
        from collections import defaultdict

        global_state.set_global_attribute(key, defaultdict(int, saved))


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
    stubs = [name for name in missing if _ran_stub(name, namespace)]
    if missing and len(stubs) < len(missing):
        lines.append(missing_names_text(missing, namespace))
    from autograder.data import DataError

    try:
        grader = get_grader(exercise)
    except DataError as exc:
        title = exercise.dataset.title if exercise.dataset else "data set"
        text = f"The self-check cannot run without the {title} files: {exc}"
        return "\n".join([*lines, text]), None, None
    from autograder.kernel_check import check_namespace

    with _quiet(), _keras_names_kept():
        report = check_namespace(grader, namespace, [part])
    if stubs:
        report.tests = [_as_stub(test, stubs) for test in report.tests]
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

"""The students' bundle: the released notebook and the self-checks, without any solution.

Students are told to install the kit to check their work as they go; the repository holds the
instructor's `solutions/`, so it is not what they get. `autograder student-bundle OUT.zip`
(`make student-bundle`) writes:

    fashion_mnist/fashion_mnist.ipynb   the release (stubs, no hidden tests)
    kit/                                the kit's installable source (`pip install "./kit[student]"`)
    README.md                           how to install, check and submit

Example:
    >>> build_student_bundle("dist/fashion_mnist-student.zip")   # doctest: +SKIP
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from autograder.platforms.bundle import add, add_kit, kit_source

DATA_STEP = """2. Data: the notebook downloads {dataset} through Keras the first time. Offline, point the
   kit at a folder holding the official files before starting Jupyter:

       export {env}=/path/to/{cache}

"""
NO_DATA_STEP = """2. Data: none to download; the exercise makes its own.

"""

README = """# {title}

What is here: the notebook to fill in, and `kit/`, the kit's source: the same checks the grader
runs and the code that draws their inputs. It includes each exercise's `reference.py`, which
builds the model the checks train and predict with: the architecture and compile settings the
notebook's instructions spell out, nothing more (no other part's solution, no hidden tests, no
grading secret; grades never come from your kernel).

1. Install (Python 3.11 or 3.12, on Linux, macOS or Windows; on Windows activate with
   `.venv\\Scripts\\activate`). TensorFlow is large: this took 12 minutes on 2026-12-07 on a
   2-core x86_64 VM shared with other jobs, with pip's downloads already cached:

       python3 -m venv .venv
       . .venv/bin/activate
       pip install "./kit[student]"

{data_step}3. Work through the notebook, running each `check("...")` cell after the part above it:

       jupyter notebook {assignment}/{assignment}.ipynb

   A check runs the grader's own checks on your code, in your own kernel, and says what to
   fix. Measured on 2026-12-07 on a 2-core x86_64 VM without a GPU, shared with other jobs
   (Fashion-MNIST): 0.1-10 s a check; the pipeline, which trains your model end to end and runs
   only with `check("pipeline", slow=True)`, 45-75 s, showing its progress as it goes.

4. On Linux (or WSL), check the saved file as the grader will see it, in the grader's sandbox
   (all parts but the slow pipeline; add `--slow` for the pipeline). On the VM above this took
   45-50 s, and 2.5 minutes with `--slow`:

       autograder check {assignment}/{assignment}.ipynb --exercise {assignment}

5. Submit `{assignment}/{assignment}.ipynb` as your course says.
"""


def build_student_bundle(
    out: str | os.PathLike[str],
    release: str | os.PathLike[str] | None = None,
    exercise: str | None = None,
) -> Path:
    """Write the students' bundle for `exercise` to `out` (the release defaults to the
    checkout's; the exercise must be given when the kit has several)."""
    from autograder.exercise_spec import instructor_exercise

    package, _ = kit_source()
    chosen = instructor_exercise(exercise)
    name = chosen.name
    release = Path(release or chosen.release_notebook(package.parent))
    if not release.is_file():
        raise ValueError(f"no release notebook at {release}: run `make release` first")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        add(archive, f"{name}/{name}.ipynb", release.read_bytes())
        readme = README.format(
            title=chosen.title,
            assignment=name,
            data_step=_data_step(chosen.dataset),
        )
        add(archive, "README.md", readme.encode())
        add_kit(archive, exercise=chosen.name)
    return out


def _data_step(spec) -> str:
    """The README's data step: where the data set comes from, or that there is none."""
    if spec is None:
        return NO_DATA_STEP
    return DATA_STEP.format(dataset=spec.title, env=spec.env, cache=spec.cache_folder)

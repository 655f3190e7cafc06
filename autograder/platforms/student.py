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

ASSIGNMENT = "fashion_mnist"
README = """# Fashion-MNIST exercise

1. Install (Python 3.11 or newer; TensorFlow takes a few minutes the first time):

       python3 -m venv .venv
       . .venv/bin/activate
       pip install "./kit[student]"

2. Data: the notebook's `load_data()` downloads Fashion-MNIST through Keras the first time. Offline,
   point the kit at a folder holding the four official `.gz` files before starting Jupyter:

       export FASHION_MNIST_DIR=/path/to/fashion-mnist

3. Work through the notebook, running each `check("...")` cell after the part above it:

       jupyter notebook {assignment}/{assignment}.ipynb

   A check takes a few seconds (10-20 s for the callbacks and `train_model`, 1-2 minutes for the
   pipeline). It runs the grader's own checks on your code and says what to fix.

4. Check the saved file as the grader will see it (all parts but the slow pipeline, about a
   minute; add `--slow` for the pipeline):

       autograder check {assignment}/{assignment}.ipynb

5. Submit `{assignment}/{assignment}.ipynb` as your course says.
"""


def build_student_bundle(
    out: str | os.PathLike[str], release: str | os.PathLike[str] | None = None
) -> Path:
    """Write the students' bundle to `out` (the release defaults to the checkout's)."""
    package, _ = kit_source()
    release = Path(release or package.parent / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    if not release.is_file():
        raise ValueError(f"no release notebook at {release}: run `make release` first")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        add(archive, f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb", release.read_bytes())
        add(archive, "README.md", README.format(assignment=ASSIGNMENT).encode())
        add_kit(archive)
    return out

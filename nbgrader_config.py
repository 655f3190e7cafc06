"""nbgrader configuration for the Fashion-MNIST course (this repository is the course directory).

Run nbgrader from the repository root with the environment's `bin` on PATH (`make release` does):

    nbgrader generate_assignment fashion_mnist     # solutions/ -> assignments/
    nbgrader autograde fashion_mnist               # submitted/<student>/fashion_mnist/ -> autograded/
    nbgrader generate_feedback fashion_mnist       # -> feedback/
    nbgrader export                                # -> grades.csv

Autograding never runs student code outside the kit's sandbox: nbgrader's `Execute` step (which
would run the notebook in a kernel, as the instructor, where the student's cells can change every
test cell's output) is replaced by the kit's `GradeInSandbox`, which grades the notebook with the
same sandboxed grader as `autograder grade` and writes each test cell's score in nbgrader's own
process. The environment variables set below are inherited by kernels nbgrader starts (validate).
"""

import os
import tempfile
from pathlib import Path

try:
    from autograder.nbgrader_feedback import TEMPLATE_NAME, TEMPLATES, template_paths
    from autograder.nbgrader_grading import quiet_gradebook_warnings
except ModuleNotFoundError as missing:
    if missing.name != "autograder":
        raise  # the kit is there but broken: say so rather than give nbgrader's stock feedback
    # nbgrader run outside the kit's environment: its preprocessors below fail to load anyway
    TEMPLATE_NAME, TEMPLATES, template_paths, quiet_gradebook_warnings = None, None, None, None

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

ROOT = Path(__file__).resolve().parent

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.course_id = "fashion-mnist"
# solutions/fashion_mnist/fashion_mnist.ipynb -> assignments/fashion_mnist/fashion_mnist.ipynb
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# gradebook.db, submitted/, autograded/, feedback/ stay at the root (ignored by .gitignore).
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"

# Autograde: sanitize as nbgrader does (clear outputs, restore locked cells from the gradebook),
# then grade in the sandbox instead of executing in a kernel, then nbgrader's own bookkeeping.
# RestoreLockedCells is nbgrader's OverwriteCells without its false alarm for every test cell
# with hidden tests (it still reports a locked cell the student changed).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.nbgrader_grading.RestoreLockedCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# GradeInSandbox is nbgrader's SaveAutoGrades preceded by the sandboxed grading.
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_grading.GradeInSandbox",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# `nbgrader validate` still executes in a kernel (the hidden tests do nothing there).
c.Execute.timeout = 2400
c.Execute.startup_timeout = 120

# Feedback shows the kit's want/got explanation and plots (the test cells' output), never the
# hidden tests; the kit's ClearHiddenTests is nbgrader's without a config warning per run.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.nbgrader_feedback.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
if TEMPLATE_NAME:
    # nbgrader's feedback page with each test cell named in its table of contents. Nested under
    # GenerateFeedback: the formgrader's own exporter keeps its template, and its "generate
    # feedback" button (which sets HTMLExporter.template_name = "feedback") still gets this one.
    c.GenerateFeedback.HTMLExporter.template_name = TEMPLATE_NAME
    c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.GenerateFeedback.HTMLExporter.extra_template_paths = template_paths()
if quiet_gradebook_warnings:
    quiet_gradebook_warnings()  # SQLAlchemy's three harmless warnings per student (see there)

# `nbgrader release_assignment`/`collect` use an exchange directory; set NBGRADER_EXCHANGE to use
# one other than nbgrader's default (/srv/nbgrader/exchange).
if os.environ.get("NBGRADER_EXCHANGE"):
    c.Exchange.root = os.environ["NBGRADER_EXCHANGE"]

# nbgrader scores a test cell 0 when it writes to stderr: keep TensorFlow's start-up logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _keras_home() -> None:
    """Give kernels a writable KERAS_HOME whose data set files (Fashion-MNIST's for this course)
    link to the real data, so Keras' loaders work offline in the students' notebooks."""
    try:
        from autograder.data import DataError, locate_data, prepare_keras_cache
        from autograder.exercise_spec import datasets_in_use
    except ImportError:  # nbgrader run outside the kit's environment: nothing to prepare
        return
    found = {}
    for folder, spec in datasets_in_use().items():
        try:
            found[folder] = (locate_data(spec, allow_download=False), spec)
        except DataError:
            continue  # no local copy: keras downloads the data itself when it has network
    if not found:
        return
    for home in (
        ROOT / ".cache" / "keras",
        Path(tempfile.gettempdir()) / f"autograder-keras-{os.getuid()}",
    ):
        try:
            for source, spec in found.values():
                prepare_keras_cache(source, home, spec)  # safe when source is this cache
        except OSError:
            continue
        os.environ["KERAS_HOME"] = str(home)
        return


_keras_home()

"""Fashion-MNIST, the course's first exercise: data, scaling, a dense network, callbacks, a
pipeline training the student's own scaling, model and training end to end. Every part is
declared below (autograder/declare.py); the rubric is in `graders/`, the drawn inputs and what
only the graders see in `reference.py`."""

from autograder.declare import Call, DataSet, DriveCallback, EpochLog, Input, Returned, Setting

from autograder.declare import StartModel, Value  # isort: skip (two lines: one is too long)
from autograder.exercise_spec import Exercise, Part
from autograder.exercises.datasets import FASHION_MNIST
from autograder.exercises.fashion_mnist.constants import MODEL_LIMITS, SUBSET_SIZE

QUICK_FIT = f"These checks train briefly on {SUBSET_SIZE} of the training images, exactly as the grader does."  # fmt: skip


def _train(key: str, **epochs) -> Call:
    """One train_model call, from weights and images drawn for it alone (never seen by an
    earlier part), so a training cannot be replayed from another part's fits."""
    start = StartModel(f"train_{key}", save_as=f"{key}_model")
    return Call("train_model", start, Input(f"train_{key}_images"), Input(f"train_{key}_labels"),
                **epochs, callbacks=EpochLog(), returns="history", training=True, key=key)  # fmt: skip


def _part(name: str, timeout: int, *calls: Call, **options) -> Part:
    return Part(name, timeout=timeout, calls=calls, **options)


# The pipeline: the student's own scaling, model and training end to end on the real training
# set; the grader evaluates the saved model on the test set itself.
PIPELINE = (
    Call("scale_images", DataSet("train_images"), key="scale_images"),
    Call("build_model", key="build_model"),
    Call("train_model", Returned("build_model", save_as="model"), Returned("scale_images"),
         DataSet("train_labels"), epochs=Setting("pipeline_epochs"), returns="history",
         training=True, key="train_model"),
)  # fmt: skip
EXERCISE = Exercise(
    name="fashion_mnist",
    title="Fashion-MNIST: your first neural network for computer vision",
    parts=(
        _part("CLASS_NAMES", 30, Value("CLASS_NAMES")),
        _part("load_data", 90, Call("load_data", returns="arrays", max_elements=70_000 * 28 * 28)),
        _part("scale_images", 30, Call("scale_images", Input("sample_images"), returns="array")),
        _part("add_batch_dimension", 30, Call("add_batch_dimension", Input("batch_image"), returns="array")),
        _part("build_model", 60, Call("build_model", key="default", returns="model"),
              Call("build_model", hidden_units=Setting("small_units"), key="small", returns="model")),
        _part("StopOnLoss", 120, DriveCallback("StopOnLoss", "loss_cases", "loss_fits"), selfcheck_note=QUICK_FIT),
        _part("StopOnAccuracy", 120, DriveCallback("StopOnAccuracy", "accuracy_cases", "accuracy_fits"),
              selfcheck_note=QUICK_FIT),
        _part("train_model", 180, _train("explicit", epochs=Setting("train_epochs")), _train("default"),
              selfcheck_note=QUICK_FIT),
        _part("predict_classes", 60,
              Call("predict_classes", StartModel("predict_weights"), Input("predict_images"), returns="array")),
        _part("pipeline", 600, *PIPELINE, uses=("scale_images", "build_model", "train_model"),
              depends=("scale_images", "build_model", "train_model"), slow=True),
    ),
    dataset=FASHION_MNIST,
    model_limits=MODEL_LIMITS,
    make_setup=lambda data, folder, **settings: _setup(data, folder, **settings),
)  # fmt: skip


def _setup(data, folder, **settings):
    from autograder.exercises.fashion_mnist.reference import FashionSetup

    return FashionSetup(data, folder, **settings)

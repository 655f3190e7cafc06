"""Fashion-MNIST, the course's first exercise: data, scaling, a dense network, callbacks.

Students define `CLASS_NAMES`, `load_data`, `scale_images`, `add_batch_dimension`,
`build_model`, `StopOnLoss`, `StopOnAccuracy`, `train_model` and `predict_classes`; the
`pipeline` part trains their own scaling, model and training end to end. Every part is
declared below (autograder/declare.py); the rubric is in `graders/`, the drawn inputs and what
only the graders see in `reference.py`.
"""

from autograder.declare import (
    Call,
    DataSet,
    DriveCallback,
    EpochLog,
    Input,
    Returned,
    Setting,
    StartModel,
    Value,
)
from autograder.exercise_spec import Exercise, Part
from autograder.exercises.datasets import FASHION_MNIST
from autograder.exercises.fashion_mnist.constants import MODEL_LIMITS, SUBSET_SIZE

QUICK_FIT = f"These checks train briefly on {SUBSET_SIZE} of the training images, exactly as the grader does."

# Declared parts (autograder/declare.py): the engine calls these and records what comes back.
BUILD_MODEL = (
    Call("build_model", key="default", returns="model"),
    Call("build_model", hidden_units=Setting("small_units"), key="small", returns="model"),
)
LOAD_DATA = (Call("load_data", returns="arrays", max_elements=70_000 * 28 * 28),)
SCALE_IMAGES = (Call("scale_images", Input("sample_images"), returns="array"),)


def _train(key: str, **epochs) -> Call:
    """One train_model call, from weights and images drawn for it alone (never seen by an
    earlier part), so a training cannot be replayed from another part's fits."""
    start = StartModel(f"train_{key}", save_as=f"{key}_model")
    images, labels = Input(f"train_{key}_images"), Input(f"train_{key}_labels")
    return Call("train_model", start, images, labels, **epochs, callbacks=EpochLog(),
                returns="history", training=True, key=key)  # fmt: skip


TRAIN_MODEL = (_train("explicit", epochs=Setting("train_epochs")), _train("default"))
# The student's own scaling, model and training end to end on the real training set; the
# grader evaluates the saved model on the test set itself.
PIPELINE = (
    Call("scale_images", DataSet("train_images"), key="scale_images"),
    Call("build_model", key="build_model"),
    Call(
        "train_model",
        Returned("build_model", save_as="model"),
        Returned("scale_images"),
        DataSet("train_labels"),
        epochs=Setting("pipeline_epochs"),
        returns="history",
        training=True,
        key="train_model",
    ),  # fmt: skip
)
PREDICT_CLASSES = (
    Call(
        "predict_classes", StartModel("predict_weights"), Input("predict_images"), returns="array"
    ),
)

EXERCISE = Exercise(
    name="fashion_mnist",
    title="Fashion-MNIST: your first neural network for computer vision",
    parts=(
        Part("CLASS_NAMES", timeout=30, calls=(Value("CLASS_NAMES"),)),
        Part("load_data", timeout=90, calls=LOAD_DATA),
        Part("scale_images", timeout=30, calls=SCALE_IMAGES),
        Part(
            "add_batch_dimension",
            timeout=30,
            calls=(Call("add_batch_dimension", Input("batch_image"), returns="array"),),
        ),
        Part("build_model", timeout=60, calls=BUILD_MODEL),
        Part(
            "StopOnLoss",
            timeout=120,
            selfcheck_note=QUICK_FIT,
            calls=(DriveCallback("StopOnLoss", "loss_cases", "loss_fits"),),
        ),  # fmt: skip
        Part(
            "StopOnAccuracy",
            timeout=120,
            selfcheck_note=QUICK_FIT,
            calls=(DriveCallback("StopOnAccuracy", "accuracy_cases", "accuracy_fits"),),
        ),  # fmt: skip
        Part("train_model", timeout=180, selfcheck_note=QUICK_FIT, calls=TRAIN_MODEL),
        Part("predict_classes", timeout=60, calls=PREDICT_CLASSES),
        Part(
            "pipeline",
            timeout=600,
            uses=("scale_images", "build_model", "train_model"),
            depends=("scale_images", "build_model", "train_model"),
            slow=True,
            calls=PIPELINE,
        ),
    ),
    dataset=FASHION_MNIST,
    model_limits=MODEL_LIMITS,
    make_setup=lambda data, folder, **settings: _setup(data, folder, **settings),
)


def _setup(data, folder, **settings):
    from autograder.exercises.fashion_mnist.reference import FashionSetup

    return FashionSetup(data, folder, **settings)

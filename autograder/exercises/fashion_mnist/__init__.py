"""Fashion-MNIST, the course's first exercise: data, scaling, a dense network, callbacks.

Students define `CLASS_NAMES`, `load_data`, `scale_images`, `add_batch_dimension`,
`build_model`, `StopOnLoss`, `StopOnAccuracy`, `train_model` and `predict_classes`; the
`pipeline` part trains their own scaling, model and training end to end. The rubric is in
`graders/`; three parts are declared below, the others' child-side probes are in `probes.py`
and what they record in `schema.py`.
"""

from autograder.declare import Call, Input, Setting, StartModel
from autograder.exercise_spec import Exercise, Part
from autograder.exercises.datasets import FASHION_MNIST
from autograder.exercises.fashion_mnist.constants import MODEL_LIMITS, SUBSET_SIZE

QUICK_FIT = f"These checks train briefly on {SUBSET_SIZE} of the training images, exactly as the grader does."

# Declared parts (autograder/declare.py): the engine calls these and records what comes back.
BUILD_MODEL = (
    Call("build_model", key="default", returns="model"),
    Call("build_model", hidden_units=Setting("small_units"), key="small", returns="model"),
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
        Part("CLASS_NAMES", timeout=30),
        Part("load_data", timeout=90),
        Part("scale_images", timeout=30),
        Part(
            "add_batch_dimension",
            timeout=30,
            calls=(Call("add_batch_dimension", Input("batch_image"), returns="array"),),
        ),
        Part("build_model", timeout=60, calls=BUILD_MODEL),
        Part("StopOnLoss", timeout=120, selfcheck_note=QUICK_FIT),
        Part("StopOnAccuracy", timeout=120, selfcheck_note=QUICK_FIT),
        Part("train_model", timeout=180, selfcheck_note=QUICK_FIT),
        Part("predict_classes", timeout=60, calls=PREDICT_CLASSES),
        Part(
            "pipeline",
            timeout=600,
            uses=("scale_images", "build_model", "train_model"),
            depends=("scale_images", "build_model", "train_model"),
            slow=True,
        ),
    ),
    dataset=FASHION_MNIST,
    model_limits=MODEL_LIMITS,
    make_setup=lambda data, folder, **settings: _setup(data, folder, **settings),
)


def _setup(data, folder, **settings):
    from autograder.exercises.fashion_mnist.reference import FashionSetup

    return FashionSetup(data, folder, **settings)

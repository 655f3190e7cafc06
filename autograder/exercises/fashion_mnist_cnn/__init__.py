"""Fashion-MNIST with convolutions, the lesson after `fashion_mnist` in the same course.

Students define `reshape_images` (add the channel axis, scale), `build_model(filters=64)` (two
Conv2D + MaxPooling2D blocks, then Dense layers), `layer_output_shapes(model)`,
`StopAtAccuracy` and `predict_classes`; the `pipeline` part trains their own model on their own
reshaped images. The rubric is in `graders/`; build_model and predict_classes are declared
below, the other parts' child-side probes are in `probes.py` and what they record in
`schema.py`; the grader's inputs and reference are in `reference.py`.
"""

from autograder.declare import Call, Input, Setting, StartModel
from autograder.exercise_spec import Exercise, Part
from autograder.exercises.datasets import FASHION_MNIST
from autograder.exercises.fashion_mnist_cnn.constants import (
    MODEL_LIMITS,
    PIPELINE_EPOCHS,
    PIPELINE_IMAGES,
    SUBSET_SIZE,
)

# Declared parts (autograder/declare.py): the engine calls these and records what comes back.
BUILD_MODEL = (
    Call("build_model", key="default", returns="model"),
    Call("build_model", filters=Setting("small_filters"), key="small", returns="model"),
)
PREDICT_CLASSES = (
    Call(
        "predict_classes", StartModel("predict_weights"), Input("predict_images"), returns="array"
    ),
)

EXERCISE = Exercise(
    name="fashion_mnist_cnn",
    title="Fashion-MNIST with convolutions",
    parts=(
        Part("reshape_images", timeout=30),
        Part("build_model", timeout=60, calls=BUILD_MODEL),
        Part("layer_output_shapes", timeout=60),
        Part(
            "StopAtAccuracy",
            timeout=150,
            selfcheck_note=f"These checks train the reference CNN briefly on {SUBSET_SIZE} "
            "training images, exactly as the grader does.",
        ),
        Part("predict_classes", timeout=60, calls=PREDICT_CLASSES),
        Part(
            "pipeline",
            timeout=600,
            uses=("reshape_images", "build_model"),
            depends=("reshape_images", "build_model"),
            slow=True,
            selfcheck_note=f"The grader trains your model {PIPELINE_EPOCHS} epochs on the first "
            f"{PIPELINE_IMAGES:,} training images, as here.",
        ),
    ),
    dataset=FASHION_MNIST,
    model_limits=MODEL_LIMITS,
    make_setup=lambda data, folder, **settings: _setup(data, folder, **settings),
)


def _setup(data, folder, **settings):
    from autograder.exercises.fashion_mnist_cnn.reference import CnnSetup

    return CnnSetup(data, folder, **settings)

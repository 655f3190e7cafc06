"""Fashion-MNIST with convolutions, the lesson after `fashion_mnist` in the same course.

Students define `reshape_images` (add the channel axis, scale), `build_model(filters=64)` (two
Conv2D + MaxPooling2D blocks, then Dense layers), `layer_output_shapes(model)`,
`StopAtAccuracy` and `predict_classes`; the `pipeline` part trains their own model on their own
reshaped images. Every part is declared (autograder/declare.py); the grader's draw and
reference are in `reference.py`, the rubric in `graders/`.
"""

from autograder import declare as d
from autograder.drawn import drawn_setup
from autograder.exercise_spec import Exercise, Part
from autograder.exercises.datasets import FASHION_MNIST
from autograder.exercises.fashion_mnist_cnn import constants as c

SHAPE_IDS = ("exercise", "m0", "m1")  # the exercise's CNN, then two of drawn sizes
PIPELINE = (
    d.Call("reshape_images", d.Input("pipeline_images"), key="reshape_images"),
    d.Call("build_model", key="build_model"),
    # The student's model, trained on the student's reshaped images, saved for the grader.
    d.Method("fit", d.Returned("build_model", save_as="model"), d.Returned("reshape_images"),
           d.Input("pipeline_labels"), epochs=c.PIPELINE_EPOCHS, verbose=0, key="fit",
           returns="history", training=True),
)  # fmt: skip
EXERCISE = Exercise(
    name="fashion_mnist_cnn",
    title="Fashion-MNIST with convolutions",
    parts=(
        Part("reshape_images", timeout=30,
             calls=(d.Call("reshape_images", d.Input("sample_images"), returns="array"),)),
        Part("build_model", timeout=60, calls=(
            d.Call("build_model", key="default", returns="model"),
            d.Call("build_model", filters=d.Setting("small_filters"), key="small", returns="model"),
        )),
        Part("layer_output_shapes", timeout=60, calls=tuple(
            d.Call("layer_output_shapes", d.BuiltModel(f"shape_{i}"), key=i, returns="shapes")
            for i in SHAPE_IDS
        )),
        Part("StopAtAccuracy", timeout=150, calls=(d.DriveCallback("StopAtAccuracy", "cases", "fits"),),
             selfcheck_note=f"These checks train the reference CNN briefly on {c.SUBSET_SIZE} "
             "training images, exactly as the grader does."),
        Part("predict_classes", timeout=60, calls=(
            d.Call("predict_classes", d.StartModel("predict_weights"), d.Input("predict_images"),
                 returns="array"),
        )),
        Part("pipeline", timeout=600, calls=PIPELINE, uses=("reshape_images", "build_model"),
             depends=("reshape_images", "build_model"), slow=True,
             selfcheck_note=f"The grader trains your model {c.PIPELINE_EPOCHS} epochs on the "
             f"first {c.PIPELINE_IMAGES:,} training images, as here."),
    ),
    dataset=FASHION_MNIST,
    model_limits=c.MODEL_LIMITS,
    make_setup=lambda data, folder, **settings: _setup(data, folder, **settings),
)  # fmt: skip


def _setup(data, folder, **settings):
    from autograder.exercises.fashion_mnist_cnn.reference import draw, reference_model

    return drawn_setup(draw, reference_model, dataset=lambda: data, seed=c.SEED,
                       small_filters=c.SMALL_FILTERS, model_input_shape=list(c.IMAGE_SHAPE))(
        data, folder, **settings)  # fmt: skip

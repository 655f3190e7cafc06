"""Housing prices, the course's first lesson: one neuron learns that a house costs 50k plus 50k
per bedroom. Every part is declared (autograder/declare.py); no data set, reference.py draws
each grading's inputs; the rubric is in graders/."""

from autograder.declare import Call, Input, Returned, Setting, StartModel
from autograder.exercise_spec import Exercise, Part
from autograder.sandbox.model_vetting import ModelLimits

START = StartModel("train_weights", save_as="trained")
TRAIN = Call(
    "train_model", START, Input("xs"), Input("ys"), epochs=Setting("epochs"), returns="history"
)
PREDICT = Call(
    "predict_price", StartModel("predict_weights"), Setting("bedrooms"), returns="number"
)
PIPELINE = (
    Call("make_data", key="data", returns="arrays"),
    Call("build_model", key="model", returns="model"),
    Call("train_model", Returned("model", save_as="trained"), Returned("data", 0),
         Returned("data", 1), epochs=500, key="history", returns="history", training=True),
)  # fmt: skip
EXERCISE = Exercise(
    name="housing_prices",
    title="Housing prices: a neural network of one neuron",
    parts=(
        Part("make_data", timeout=30, calls=(Call("make_data", returns="arrays"),)),
        Part("build_model", timeout=60, calls=(Call("build_model", returns="model"),)),
        Part("train_model", timeout=120, calls=(TRAIN,)),
        Part("predict_price", timeout=60, calls=(PREDICT,)),
        Part("pipeline", timeout=300, calls=PIPELINE, depends=("build_model", "train_model")),
    ),
    dataset=None,
    model_limits=ModelLimits(layers=frozenset({"InputLayer", "Dense"}), max_params=1_000),
    make_setup=lambda data, folder, **settings: _setup(folder),
)


def _setup(folder):
    from autograder.exercises.housing_prices.reference import Setup

    return Setup(folder)

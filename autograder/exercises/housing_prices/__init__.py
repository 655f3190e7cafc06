"""Housing prices, the course's first lesson: one neuron learns that a house costs 50k plus 50k
per bedroom. Every part is declared (autograder/declare.py), every input drawn per grading by
`draw` (autograder/drawn.py); no data set. The rubric is in graders/."""

import numpy as np

from autograder.child.model_vetting import ModelLimits
from autograder.declare import Call, Input, Returned, Setting, StartModel
from autograder.drawn import drawn_setup
from autograder.exercise_spec import Exercise, Part


def price(bedrooms) -> np.ndarray:
    """A house's price in hundreds of thousands: 50k plus 50k per bedroom."""
    return 0.5 + 0.5 * np.asarray(bedrooms, dtype=float)


def draw(rng: np.random.Generator) -> dict:
    xs = rng.choice(np.arange(1.0, 11.0), size=int(rng.integers(5, 9)), replace=False)
    weights = [[rng.uniform(-1, 1, (1, 1)), rng.uniform(-1, 1, (1,))] for _ in range(2)]
    bedrooms, epochs = float(rng.integers(2, 10)), int(rng.integers(3, 8))
    return dict(xs=xs, ys=price(xs), train=weights[0], predict=weights[1], epochs=epochs,
                bedrooms=bedrooms)  # fmt: skip


def start_model():
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    return model


START = StartModel("train", save_as="trained")
TRAIN = Call(
    "train_model", START, Input("xs"), Input("ys"), epochs=Setting("epochs"), returns="history"
)
PREDICT = Call("predict_price", StartModel("predict"), Setting("bedrooms"), returns="number")
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
    model_limits=ModelLimits(
        layers=frozenset({"InputLayer", "Dense"}), max_params=1_000, input_shape=(1,)
    ),
    # The pipeline's seed: the same submission trains to the same weights at every grading.
    make_setup=drawn_setup(draw, start_model, seed=20_260_101, model_input_shape=[1]),
)

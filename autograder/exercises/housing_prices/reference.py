"""The grader's side of housing_prices: per grading, drawn from a seed the child never sees, the
start weights of train_model and predict_price, train_model's data and epochs, the bedrooms to
price; and what the graders compare with (`Context`)."""

from dataclasses import dataclass

import numpy as np

from autograder.exercise_spec import GradingInputs
from autograder.inputs import weight_arrays


def price(bedrooms) -> np.ndarray:
    """A house's price in hundreds of thousands: 50k plus 50k per bedroom."""
    return 0.5 + 0.5 * np.asarray(bedrooms, dtype=float)


@dataclass
class Context:
    train_xs: np.ndarray
    train_ys: np.ndarray
    start_loss: float  # the mean squared error of train_model's start weights on its data
    train_epochs: int
    bedrooms: float
    price: float  # what predict_price's start model says for `bedrooms`


class Setup:
    def __init__(self, folder) -> None:
        import keras

        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mean_squared_error")
        model.save(folder / "start.keras")
        self.files = {"start.keras": folder / "start.keras"}

    def draw(self, seed: int) -> GradingInputs:
        rng = np.random.default_rng(seed)
        train, predict = ([rng.uniform(-1, 1, (1, 1)), rng.uniform(-1, 1, (1,))] for _ in "ab")
        xs = rng.choice(np.arange(1.0, 11.0), size=int(rng.integers(5, 9)), replace=False)
        bedrooms, epochs = float(rng.integers(2, 10)), int(rng.integers(3, 8))
        arrays = {"xs": xs, "ys": price(xs)}
        weights = {"train_weights": weight_arrays("train", train)}
        weights["predict_weights"] = weight_arrays("predict", predict)
        for names in weights.values():
            arrays.update(names)
        config = {name: list(names) for name, names in weights.items()}
        config.update(start_model="start.keras", epochs=epochs, bedrooms=bedrooms)
        config.update(seed=20_260_101, model_input_shape=[1])  # the pipeline's seed
        start_loss = float(np.mean((train[0][0, 0] * xs + train[1][0] - price(xs)) ** 2))
        answer = float(predict[0][0, 0] * bedrooms + predict[1][0])
        context = Context(xs, price(xs), start_loss, epochs, bedrooms, answer)
        return GradingInputs(seed=seed, arrays=arrays, config=config, context=context)

"""The rubric of housing_prices, over what its declared parts record."""

import numpy as np

from autograder.exercises.housing_prices import PIPELINE as PIPELINE_CALLS
from autograder.exercises.housing_prices import TRAIN as TRAIN_CALL
from autograder.exercises.housing_prices import price
from autograder.scoring import checks, grader

BEDROOMS, TRAIN = np.arange(1.0, 7.0), "train_model(model, xs, ys, epochs)"
PIPELINE = "train_model(build_model(), *make_data(), epochs=500)"


@grader("make_data", "bedrooms 1 to 6", points=10)
def test_bedrooms(obs, ctx):
    checks.check_close(
        checks.returned_items(obs, "result", "make_data()", 2)[0], BEDROOMS, "bedrooms"
    )


@grader("make_data", "prices in hundreds of thousands: 1.0 to 3.5", points=15)
def test_prices(obs, ctx):
    ys = checks.returned_items(obs, "result", "make_data()", 2)[1]
    unscaled = ys.size and np.max(np.abs(ys)) > 1000
    hint = "write prices in hundreds of thousands (100,000 is 1.0)" if unscaled else ""
    checks.check_close(ys, price(BEDROOMS), "prices", hint=hint)


@grader("build_model", "one Dense(1) on one input: 2 parameters", points=15)
def test_layers(obs, ctx):
    hint = "one number in, one out: keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])"
    checks.check_layers(obs, "result", "build_model()", ["Dense"], 2, hint=hint)


@grader("build_model", "compiled with sgd and mean squared error", points=10)
def test_compiled(obs, ctx):
    checks.check_compiled(
        obs, "result", "build_model()", optimizer="sgd", loss="mean_squared_error"
    )


@grader("train_model", "trains for the epochs it is given", points=10)
def test_epochs(obs, ctx):
    training = checks.declared_training(obs, ctx, TRAIN_CALL)  # the grader's replay proves them
    checks.check_epochs(obs, "result", TRAIN, "trained", ctx.epochs, training)


@grader("train_model", "the loss goes down", points=10)
def test_loss_drops(obs, ctx):
    checks.trained_epochs(obs, "result", TRAIN)
    checks.check_trained(obs, "trained", TRAIN, checks.declared_training(obs, ctx, TRAIN_CALL))


@grader("predict_price", "the model's price for the bedrooms, as a float", points=10)
def test_price(obs, ctx):
    got = checks.returned_number(obs, "result", "predict_price(model, bedrooms)")
    (weight, bias), what = ctx.predict, f"that model's price for {ctx.bedrooms:g} bedrooms"
    checks.check_close(got, weight[0, 0] * ctx.bedrooms + bias[0], what, atol=1e-4)


@grader("pipeline", "your model predicts 7 bedrooms within 0.1 of 4.0", points=20)
def test_pipeline(obs, ctx):
    checks.trained_epochs(obs, "history", PIPELINE)
    training = checks.declared_training(obs, ctx, PIPELINE_CALLS[-1])
    checks.check_trained(obs, "trained", PIPELINE, training)
    hint = "check the parts above: prices scaled, sgd and mean squared error, 500 epochs"
    checks.check_outputs(
        obs, "trained", PIPELINE, [[7.0]], [[4.0]], "7 bedrooms, 400k", atol=0.1, hint=hint
    )

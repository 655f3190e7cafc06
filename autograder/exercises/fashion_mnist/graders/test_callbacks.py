"""StopOnLoss and StopOnAccuracy, driven with drawn logs (each decision test mixes cases that
must stop with cases that must not, autograder.scoring.callbacks) and real short fits."""

from autograder.exercises.fashion_mnist import constants as c
from autograder.scoring import grader
from autograder.scoring.callbacks import CallbackRule, check_decisions, check_fits

LOSS = CallbackRule("StopOnLoss", "loss", "<", "threshold", c.DEFAULT_LOSS_THRESHOLD)
ACCURACY = CallbackRule("StopOnAccuracy", "accuracy", ">=", "target", c.DEFAULT_ACCURACY_TARGET)


@grader("StopOnLoss", "stops when loss < 0.4", points=3)
def test_loss_stops(obs, ctx, submission) -> None:
    check_decisions(
        obs, LOSS, ctx.expectations, ("below", "far_below", "far_above"), submission.code
    )


@grader("StopOnLoss", "keeps training at or above 0.4", points=3)
def test_loss_keeps_training(obs, ctx, submission) -> None:
    check_decisions(obs, LOSS, ctx.expectations, ("above", "boundary", "below"), submission.code)


@grader("StopOnLoss", "custom threshold honoured", points=2)
def test_loss_custom_threshold(obs, ctx, submission) -> None:
    check_decisions(obs, LOSS, ctx.expectations, None, submission.code)


@grader("StopOnLoss", "stops a real fit at the expected epoch", points=3)
def test_loss_real_fit(obs, ctx, submission) -> None:
    check_fits(obs, LOSS, ctx.expectations, submission.code)


@grader("StopOnAccuracy", "stops when accuracy >= 0.9, boundary included", points=3)
def test_accuracy_stops(obs, ctx, submission) -> None:
    check_decisions(
        obs, ACCURACY, ctx.expectations, ("boundary", "above", "far_below"), submission.code
    )


@grader("StopOnAccuracy", "keeps training below 0.9", points=3)
def test_accuracy_keeps_training(obs, ctx, submission) -> None:
    check_decisions(
        obs, ACCURACY, ctx.expectations, ("below", "far_below", "above"), submission.code
    )


@grader("StopOnAccuracy", "custom target honoured", points=2)
def test_accuracy_custom_target(obs, ctx, submission) -> None:
    check_decisions(obs, ACCURACY, ctx.expectations, None, submission.code)


@grader("StopOnAccuracy", "stops a real fit at the expected epoch", points=3)
def test_accuracy_real_fit(obs, ctx, submission) -> None:
    check_fits(obs, ACCURACY, ctx.expectations, submission.code)

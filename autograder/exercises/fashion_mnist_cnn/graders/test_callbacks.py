"""StopAtAccuracy, driven with this grading's logs and real short fits of the reference CNN
(see autograder.scoring.callbacks)."""

from autograder.exercises.fashion_mnist_cnn.constants import DEFAULT_TARGET
from autograder.scoring import grader
from autograder.scoring.callbacks import CallbackRule, check_drawn_decisions, check_drawn_fits

ACCURACY = CallbackRule("StopAtAccuracy", "accuracy", ">=", "target", DEFAULT_TARGET)
CUSTOM = ("custom_between", "custom_boundary", "custom_below")


@grader("StopAtAccuracy", "stops when accuracy >= 0.9, boundary included", points=4)
def test_stops(obs, ctx, submission) -> None:
    check_drawn_decisions(obs, ACCURACY, ctx.cases, submission.code, ("boundary", "above", "far_below"))  # fmt: skip


@grader("StopAtAccuracy", "keeps training below 0.9", points=4)
def test_keeps_training(obs, ctx, submission) -> None:
    check_drawn_decisions(obs, ACCURACY, ctx.cases, submission.code, ("below", "far_below", "above"))  # fmt: skip


@grader("StopAtAccuracy", "custom target honoured", points=3)
def test_custom_target(obs, ctx, submission) -> None:
    check_drawn_decisions(obs, ACCURACY, ctx.cases, submission.code, CUSTOM)


@grader("StopAtAccuracy", "stops a real fit at the expected epoch", points=3)
def test_real_fit(obs, ctx, submission) -> None:
    check_drawn_fits(obs, ACCURACY, ctx.fits, submission.code, ctx.cases)

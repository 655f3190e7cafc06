"""StopAtAccuracy, driven with this grading's logs and real short fits of the reference CNN
(see autograder.scoring.callbacks)."""

from __future__ import annotations

from autograder.exercises.fashion_mnist_cnn.constants import DEFAULT_TARGET
from autograder.scoring import grader
from autograder.scoring.callbacks import CallbackRule, check_decisions, check_fits

ACCURACY = CallbackRule("StopAtAccuracy", "accuracy", ">=", "target", DEFAULT_TARGET)


@grader("StopAtAccuracy", "stops when accuracy >= 0.9, boundary included", points=4)
def test_stops(obs, ctx, submission) -> None:
    kinds = ("boundary", "above", "far_below")
    check_decisions(obs, ACCURACY, ctx.expectations, kinds, submission.code)


@grader("StopAtAccuracy", "keeps training below 0.9", points=4)
def test_keeps_training(obs, ctx, submission) -> None:
    kinds = ("below", "far_below", "above")
    check_decisions(obs, ACCURACY, ctx.expectations, kinds, submission.code)


@grader("StopAtAccuracy", "custom target honoured", points=3)
def test_custom_target(obs, ctx, submission) -> None:
    check_decisions(obs, ACCURACY, ctx.expectations, None, submission.code)


@grader("StopAtAccuracy", "stops a real fit at the expected epoch", points=3)
def test_real_fit(obs, ctx, submission) -> None:
    check_fits(obs, ACCURACY, ctx.expectations, submission.code)

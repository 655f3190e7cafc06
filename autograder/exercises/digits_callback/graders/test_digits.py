"""The rubric of digits_callback, over what its declared parts record."""

from autograder.exercises.digits_callback import THRESHOLD
from autograder.scoring import checks, grader
from autograder.scoring.callbacks import CallbackRule, check_drawn_decisions, check_drawn_fits

RULE = CallbackRule("myCallback", key="accuracy", op=">", argument="", default=THRESHOLD)
TRAIN = "train_mnist(x_train, y_train)"
SCALE_HINT = "the pixels go from 0-255 into 0-1 when divided by 255.0, in a new array"


@grader("scale_images", "pixels scaled into 0 to 1", points=20)
def test_scaled(obs, ctx):
    got = checks.returned_array(obs, "result", "scale_images(images)")
    unscaled = got.size and got.max() > 1.5
    checks.check_close(got, ctx.images / 255.0, "the images / 255", atol=1e-4,
                       hint=SCALE_HINT if unscaled else "")  # fmt: skip


@grader("scale_images", "leaves its argument unchanged", points=5)
def test_unchanged(obs, ctx):
    checks.check_unchanged(obs, "result", "scale_images(images)")


@grader("myCallback", "stops when the accuracy passes 0.99, not before", points=15)
def test_decisions(obs, ctx, submission):
    kinds = ("far_above", "above", "below", "far_below")
    check_drawn_decisions(obs, RULE, ctx.cases, submission.code, kinds)


@grader("myCallback", "at exactly 0.99 keeps going (the comparison is >)", points=10)
def test_boundary(obs, ctx, submission):
    check_drawn_decisions(obs, RULE, ctx.cases, submission.code, ("boundary",))


@grader("myCallback", "stops a real fit after the first epoch past 0.99", points=10)
def test_fits(obs, ctx, submission):
    check_drawn_fits(obs, RULE, ctx.fits, submission.code)


@grader("train_mnist", "returns the History of model.fit", points=10)
def test_history(obs, ctx):
    checks.epochs_trained(obs, "result", TRAIN, "trained")


@grader("train_mnist", "the trained model passes 0.99 accuracy", points=15)
def test_accuracy(obs, ctx):
    checks.epochs_trained(obs, "result", TRAIN, "trained")
    hint = "compile with metrics=['accuracy'] and train with model.fit(x_train, y_train, epochs=10)"
    checks.check_accuracy(obs, "trained", TRAIN, ctx.scaled, ctx.labels, THRESHOLD, hint=hint)


@grader("train_mnist", "stopped by the callback, within 10 epochs", points=15)
def test_stopped(obs, ctx):
    epochs = checks.epochs_trained(obs, "result", TRAIN, "trained")
    if not epochs < 10:
        hint = "pass the callback to fit: model.fit(..., epochs=10, callbacks=[callbacks])"
        raise checks.CheckFailed(expected="fewer than 10 epochs (stopped at 0.99)",
                                 received=f"{epochs} epochs", hint=hint)  # fmt: skip

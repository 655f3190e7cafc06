"""Callback feedback a student reads: the failed case in words, settings as she would write them,
and the real-fit hint naming the real mistake."""

from __future__ import annotations

from autograder.inputs import CallbackCase, callback_fits
from autograder.scoring.callbacks import CallbackRule, _fit_hint, decision_text

LOSS = CallbackRule("StopOnLoss", key="loss", op="<", argument="threshold", default=0.4)
ACCURACY = CallbackRule("StopOnAccuracy", key="accuracy", op=">=", argument="target", default=0.9)


def test_a_case_that_must_keep_going_says_so_in_words() -> None:
    case = CallbackCase("a", "above", {}, {"loss": 0.41, "accuracy": 0.95}, stop=False)
    assert decision_text(LOSS, case, stopped=True) == (
        "StopOnLoss() at the end of an epoch with logs loss 0.41, accuracy 0.95: your callback "
        "stopped training; it should keep going (0.41 >= 0.4)."
    )


def test_a_mixed_in_case_that_must_stop_says_stop() -> None:
    case = CallbackCase("b", "custom_boundary", {"target": 0.8}, {"accuracy": 0.8}, stop=True)
    assert decision_text(ACCURACY, case, stopped=False) == (
        "StopOnAccuracy(target=0.8) at the end of an epoch with logs accuracy 0.8: your callback "
        "let training continue; it should stop (0.8 >= 0.8)."
    )


def test_real_fit_hint_names_the_acc_key_not_stop_training() -> None:
    code = ["class StopOnAccuracy(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        if logs['acc'] >= self.target:\n"
            "            self.model.stop_training = True\n"]  # fmt: skip
    assert "'accuracy', not 'acc'" in _fit_hint(ACCURACY, 1, code)
    assert "self.model.stop_training" in _fit_hint(ACCURACY, 1, None)


def test_drawn_fit_settings_look_like_values_a_student_writes() -> None:
    import numpy as np

    for seed in range(50):
        rng = np.random.default_rng(seed)
        for fit in callback_fits(rng, "loss", "threshold"):
            value = fit.kwargs["threshold"]
            assert (3.0 <= value <= 6.0) if fit.expect == 1 else (-1.0 <= value <= -0.1)
        for fit in callback_fits(rng, "accuracy", "target"):
            value = fit.kwargs["target"]
            assert (0.01 <= value <= 0.05) if fit.expect == 1 else (1.01 <= value <= 1.5)

"""Grading a Keras callback that stops training, from the child's outcomes on drawn cases.

The child is sent each case's constructor arguments and logs (autograder.inputs draws them per
grading) and reports whether `model.stop_training` was set; the right decision for each case is
known only in the grader (`Expectations`). A grader checks a mix of cases that must stop and
cases that must not, so no constant answer passes one. Real fits are judged by the optimizer
steps the grader counts in the model the child saved after each fit, not by the child's word.

Example (an exercise's graders):
    LOSS = CallbackRule("StopOnLoss", key="loss", op="<", argument="threshold", default=0.4)

    @grader("StopOnLoss", "stops when loss < 0.4", points=3)
    def test_stops(obs, ctx, submission):
        check_decisions(obs, LOSS, ctx.expectations, ("below", "far_below"), submission.code)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autograder.inputs import CallbackCase, DrawnFit, Expectations
from autograder.readers.observations import MODEL_SUFFIX, ObservationError, trained_steps
from autograder.scoring.feedback import (
    ACC_KEY,
    CheckFailed,
    definition_source,
    diagnose_error,
    format_error,
    not_implemented,
)


@dataclass(frozen=True)
class CallbackRule:
    """A callback class `part` that stops when `logs[key] <op> self.<argument>`."""

    part: str
    key: str  # "loss" or "accuracy"
    op: str  # "<", ">" (strict) or "<=", ">=" (inclusive)
    argument: str  # the constructor argument, e.g. "threshold"
    default: float


def describe_case(rule: CallbackRule, case: CallbackCase) -> str:
    setting = case.kwargs.get(rule.argument, rule.default)
    made = f"{rule.part}({rule.argument}={setting})" if case.kwargs else f"{rule.part}()"
    return f"{made} with logs {case.logs}"


def outcomes(obs, rule: CallbackRule) -> dict[str, dict]:
    """The child's outcome of each case, by case id."""
    errors = obs.get("errors") or {}
    if any(isinstance(e, dict) and e.get("type") == "NotImplementedError" for e in errors.values()):
        raise CheckFailed(message=not_implemented(rule.part))
    results = obs.get("cases")
    if not isinstance(results, list):
        raise CheckFailed(message=f"{rule.part} could not be driven with synthetic logs.")
    return {
        str(r["id"]): r for r in results if isinstance(r, dict) and isinstance(r.get("id"), str)
    }


def select_cases(
    expectations: Expectations, part: str, kinds: tuple[str, ...] | None
) -> list[CallbackCase]:
    """The cases of the given kinds (all custom ones for None), in that order."""
    cases = expectations.cases[part]
    if kinds is None:
        return [c for c in cases if c.kind.startswith("custom")]
    return [c for kind in kinds for c in cases if c.kind == kind]


def check_decisions(
    obs,
    rule: CallbackRule,
    expectations: Expectations,
    kinds: tuple[str, ...] | None,
    code: list[str],
) -> None:
    """Fail unless the callback decided every case of `kinds` as the rule says."""
    found = outcomes(obs, rule)
    for case in select_cases(expectations, rule.part, kinds):
        outcome = found.get(case.id)
        what = describe_case(rule, case)
        if outcome is None:
            raise CheckFailed(message=f"{what}: no result came back.")
        error = outcome.get("error")
        if error:
            error = error if isinstance(error, dict) else {}
            if error.get("type") == "NotImplementedError":
                raise CheckFailed(message=not_implemented(rule.part))
            raise CheckFailed(
                message=f"{what} raised an error:\n{format_error(error)}",
                hint=diagnose_error(error),
            )
        stopped = outcome.get("model_stop_training") is True
        if stopped == case.stop:
            continue
        raise CheckFailed(
            message=decision_text(rule, case, stopped),
            hint=_hint(rule, case, outcome, found, expectations, code),
        )


NEGATED = {"<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def decision_text(rule: CallbackRule, case: CallbackCase, stopped: bool) -> str:
    """One failed case in a student's words, e.g. "With loss 0.41 and threshold 0.4, your
    callback stopped training; it should keep going (0.41 >= 0.4)."""
    setting = case.kwargs.get(rule.argument, rule.default)
    value = case.logs.get(rule.key)
    made = f"{rule.part}({rule.argument}={setting:g})" if case.kwargs else f"{rule.part}()"
    did = "stopped training" if stopped else "let training continue"
    should = "stop" if case.stop else "keep going"
    op = rule.op if case.stop else NEGATED.get(rule.op, "not " + rule.op)
    because = f" ({value:g} {op} {setting:g})" if isinstance(value, (int, float)) else ""
    logs = ", ".join(
        f"{k} {v:g}" if isinstance(v, (int, float)) else k for k, v in case.logs.items()
    )
    return (
        f"{made} at the end of an epoch with logs {logs}: your callback {did}; "
        f"it should {should}{because}."
    )


VAL_KEY = re.compile(r"""['"]val_(?:accuracy|acc|loss)['"]""")
COMPARED_STOP = re.compile(r"stop_training\s*==")


def _source_hint(rule: CallbackRule, code: list[str] | None) -> str:
    """A cause read from the class's own source: a key the logs never have, stop_training
    compared instead of set, or no on_epoch_end for Keras to call."""
    source = definition_source(code or [], rule.part)
    if ACC_KEY.search(source):
        return "Keras 3 logs the metric as 'accuracy', not 'acc': use logs['accuracy'] (logs.get('acc') is always None)"
    if VAL_KEY.search(source):
        return (
            f"the logs hold 'val_...' values only when fit is given validation data: "
            f"the rule watches the training value, logs['{rule.key}']"
        )
    if COMPARED_STOP.search(source):
        return "`self.model.stop_training == True` compares and changes nothing: assign it, self.model.stop_training = True"
    if source and "on_epoch_end" not in source:
        return (
            "the class defines no on_epoch_end, which Keras calls after each epoch: "
            "def on_epoch_end(self, epoch, logs=None) (on_batch_end runs after every batch)"
        )
    return ""


def _hint(rule, case, outcome, found, expectations, code) -> str:
    key, op, argument = rule.key, rule.op, rule.argument
    from_source = _source_hint(rule, code)
    if from_source:
        return from_source
    if case.stop and outcome.get("self_stop_training") is True:
        return "set self.model.stop_training = True; self.stop_training is an attribute of the callback, which Keras ignores"
    # A callback without arguments compares with its fixed threshold, the rule's default.
    setting = f"self.{argument}" if argument else f"{rule.default:g}"
    if _looks_reversed(rule.part, found, expectations):
        return f"the comparison is reversed: stop when logs['{key}'] {op} {setting}"
    if "boundary" in case.kind:
        strict = " (strict)" if op in ("<", ">") else " (inclusive)"
        at = f"the {argument}" if argument else setting
        return f"at exactly {at} the rule is logs['{key}'] {op} {setting}{strict}"
    if case.kind.startswith("custom"):
        return f"the {argument} argument is ignored: store it in __init__ and compare with self.{argument}"
    return ""


def _looks_reversed(part: str, found: dict[str, dict], expectations: Expectations) -> bool:
    decisions = [
        (found[c.id].get("model_stop_training") is True, c.stop)
        for c in expectations.cases[part]
        if "boundary" not in c.kind and c.id in found and not found[c.id].get("error")
    ]
    return bool(decisions) and all(got != want for got, want in decisions)


def check_fits(
    obs, rule: CallbackRule, expectations: Expectations, code: list[str] | None = None
) -> None:
    """Fail unless each real fit ran the epochs it must (counted from the optimizer's steps)."""
    part = rule.part
    records = obs.get("fits")
    if not isinstance(records, list) or not records:
        raise CheckFailed(message=f"{part} could not be used in a real fit.")
    by_id = {r.get("id"): r for r in records if isinstance(r, dict)}
    steps_per_epoch = expectations.steps_per_epoch
    for fit in expectations.fits[part]:
        record = by_id.get(fit.id) or {}
        error = record.get("error") or obs.error(f"fit {fit.id}")
        arguments = ", ".join(f"{k}={v:g}" for k, v in fit.kwargs.items())
        call = f"model.fit(epochs={fit.epochs}) with {part}({arguments})"
        if error:
            error = error if isinstance(error, dict) else {}
            if error.get("type") == "NotImplementedError":
                raise CheckFailed(message=not_implemented(part))
            raise CheckFailed(
                message=f"{call} raised an error:\n{format_error(error)}",
                hint=diagnose_error(error),
            )
        try:
            steps = trained_steps(obs.path(f"fit_{fit.id}{MODEL_SUFFIX}"), obs.model_limits())
        except ObservationError as exc:
            raise CheckFailed(
                message=f"{call}: the trained model did not come back ({exc})."
            ) from None
        ran = steps // steps_per_epoch if steps and steps % steps_per_epoch == 0 else None
        if ran != fit.expect:
            raise CheckFailed(
                expected=f"{call} runs {fit.expect} epoch(s)",
                received=f"{ran} epoch(s)" if ran is not None else f"{steps} training steps",
                hint=_fit_hint(rule, fit.expect, code, obs, expectations),
            )


def _fit_hint(
    rule: CallbackRule,
    expect: int,
    code: list[str] | None,
    obs=None,
    expectations: Expectations | None = None,
) -> str:
    from_source = _source_hint(rule, code)
    if from_source:
        return from_source
    if obs is not None and expectations is not None and _ignores_argument(rule, obs, expectations):
        # The fits are made with a custom argument: a callback deciding every default case
        # right and a custom one wrong compares with a constant.
        return f"the {rule.argument} argument is ignored: store it in __init__ and compare with self.{rule.argument}"
    if expect == 1:
        return "the callback must set self.model.stop_training = True in on_epoch_end"
    return "the callback stops training when it should not"


def _ignores_argument(rule: CallbackRule, obs, expectations: Expectations) -> bool:
    """Every case made without arguments decided right, and some custom one wrong."""
    results = obs.get("cases")
    if not isinstance(results, list):
        return False
    found = {r.get("id"): r for r in results if isinstance(r, dict)}

    def right(case: CallbackCase) -> bool:
        outcome = found.get(case.id) or {}
        stopped = outcome.get("model_stop_training") is True
        return not outcome.get("error") and stopped == bool(case.stop)

    cases = expectations.cases[rule.part]
    return all(right(c) for c in cases if not c.kwargs) and not all(
        right(c) for c in cases if c.kwargs
    )


def check_drawn_decisions(
    obs, rule: CallbackRule, cases: list[CallbackCase], code: list[str], kinds=None
) -> None:
    """A declared callback part (autograder.declare.DriveCallback) decided each drawn case of
    `kinds` (all the cases for None) as `rule` says: stop exactly when `logs[rule.key] <rule.op>
    the setting`. Fails on the first wrong one, saying what it did and why it should not, with
    the likely cause (a key the logs never have, a reversed or strict/inclusive comparison, an
    argument ignored, `self.stop_training` set instead of the model's).

    Example:
        RULE = CallbackRule("myCallback", key="accuracy", op=">", argument="", default=0.99)
        check_drawn_decisions(obs, RULE, ctx.cases, submission.code)
    """
    every_kind = tuple(dict.fromkeys(c.kind for c in cases))
    expectations = Expectations(cases={rule.part: list(cases)})
    check_decisions(obs, rule, expectations, every_kind if kinds is None else kinds, code)


def check_drawn_fits(
    obs,
    rule: CallbackRule,
    fits: list[DrawnFit],
    code: list[str],
    cases: list[CallbackCase] = (),
) -> None:
    """Each drawn real fit of a declared callback part ran the epochs it must: counted by the
    grader from the optimizer steps of the model the fit trained (`fit_<id>`), never from the
    child's word; a fit that must stop after its first epoch and did not, or stopped when it
    must not, fails with the likely cause. With the part's drawn `cases`, a callback that
    decided every case made without arguments right and a custom one wrong is told that it
    ignores its argument (the fits are made with one).

    Example:
        check_drawn_fits(obs, RULE, ctx.fits, submission.code, ctx.cases)
    """
    for fit in fits:
        expectations = Expectations(
            cases={rule.part: list(cases)},
            fits={rule.part: [fit]},
            steps_per_epoch=fit.steps_per_epoch,
        )
        check_fits(obs, rule, expectations, code)

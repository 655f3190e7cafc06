"""Checks for StopOnLoss and StopOnAccuracy, driven with the grader's logs and real short fits.

The child is sent each case's constructor arguments and logs, drawn for this grading, and reports
whether `model.stop_training` was set; the right decision for each case is known only here
(`ctx.expectations`). Every scored check mixes cases that must stop with cases that must not, so
no constant answer passes one. The real fits are judged by the optimizer steps the grader counts
in the model the child saved after each fit, not by what the child says it ran.
"""

from __future__ import annotations

from autograder import exercise
from autograder.checks.base import (
    ACC_KEY,
    CheckFailed,
    GradingContext,
    check,
    definition_source,
    diagnose_error,
    format_error,
)
from autograder.inputs import CallbackCase
from autograder.observations import ObservationError, PartObservation, trained_steps

WATCHED = {
    "StopOnLoss": ("loss", "<", "threshold", exercise.DEFAULT_LOSS_THRESHOLD),
    "StopOnAccuracy": ("accuracy", ">=", "target", exercise.DEFAULT_ACCURACY_TARGET),
}
# Which kinds of case each check decides on (see autograder.inputs).
CHECKED_KINDS = {
    "StopOnLoss": {
        "stops": ("below", "far_below", "far_above"),
        "keeps": ("above", "boundary", "below"),
    },
    "StopOnAccuracy": {
        "stops": ("boundary", "above", "far_below"),
        "keeps": ("below", "far_below", "above"),
    },
}
TITLES = {
    "StopOnLoss": ("stops when loss < 0.4", "keeps training at or above 0.4"),
    "StopOnAccuracy": ("stops when accuracy >= 0.9, boundary included", "keeps training below 0.9"),
}


def _describe_case(part: str, case: CallbackCase) -> str:
    _, _, argument, default = WATCHED[part]
    setting = case.kwargs.get(argument, default)
    made = f"{part}({argument}={setting})" if case.kwargs else f"{part}()"
    return f"{made} with logs {case.logs}"


def _not_implemented(part: str) -> CheckFailed:
    return CheckFailed(message=f"{part} is not implemented yet (it raises NotImplementedError).")


def _outcomes(obs: PartObservation, part: str) -> dict[str, dict]:
    errors = obs.data.get("errors") or {}
    if any(isinstance(e, dict) and e.get("type") == "NotImplementedError" for e in errors.values()):
        raise _not_implemented(part)
    results = obs.data.get("cases")
    if not isinstance(results, list):
        raise CheckFailed(message=f"{part} could not be driven with synthetic logs.")
    return {
        str(r["id"]): r for r in results if isinstance(r, dict) and isinstance(r.get("id"), str)
    }


def _verify(part: str, ctx: GradingContext, outcomes: dict[str, dict], cases: list) -> None:
    key, op, argument, _ = WATCHED[part]
    for case in cases:
        outcome = outcomes.get(case.id)
        what = _describe_case(part, case)
        if outcome is None:
            raise CheckFailed(message=f"{what}: no result came back.")
        error = outcome.get("error")
        if error:
            error = error if isinstance(error, dict) else {}
            if error.get("type") == "NotImplementedError":
                raise _not_implemented(part)
            raise CheckFailed(
                message=f"{what} raised an error:\n{format_error(error)}",
                hint=diagnose_error(error),
            )
        stopped = outcome.get("model_stop_training") is True
        if stopped == case.stop:
            continue
        hint = ""
        if ACC_KEY.search(definition_source(ctx, part)):
            hint = "Keras 3 logs the metric as 'accuracy', not 'acc': use logs['accuracy'] (logs.get('acc') is always None)"
        elif case.stop and outcome.get("self_stop_training") is True:
            hint = "set self.model.stop_training = True; self.stop_training is an attribute of the callback, which Keras ignores"
        elif _looks_reversed(ctx, part, outcomes):
            hint = f"the comparison is reversed: stop when logs['{key}'] {op} self.{argument}"
        elif "boundary" in case.kind:
            hint = f"at exactly the {argument} the rule is logs['{key}'] {op} self.{argument}" + (
                " (strict)" if op == "<" else " (inclusive)"
            )
        elif case.kind.startswith("custom"):
            hint = f"the {argument} argument is ignored: store it in __init__ and compare with self.{argument}"
        raise CheckFailed(
            expected=f"{what}: training {'stops' if case.stop else 'continues'}",
            received=f"training {'stops' if stopped else 'continues'}",
            hint=hint,
        )


def _looks_reversed(ctx: GradingContext, part: str, outcomes: dict[str, dict]) -> bool:
    decisions = [
        (outcomes[c.id].get("model_stop_training") is True, c.stop)
        for c in ctx.expectations.cases[part]
        if "boundary" not in c.kind and c.id in outcomes and not outcomes[c.id].get("error")
    ]
    return bool(decisions) and all(got != want for got, want in decisions)


def _cases(ctx: GradingContext, part: str, kinds: tuple[str, ...] | None) -> list[CallbackCase]:
    """The cases of the given kinds (all custom ones for None), in that order."""
    cases = ctx.expectations.cases[part]
    if kinds is None:
        return [c for c in cases if c.kind.startswith("custom")]
    return [c for kind in kinds for c in cases if c.kind == kind]


def _verify_fits(obs: PartObservation, ctx: GradingContext, part: str) -> None:
    records = obs.data.get("fits")
    if not isinstance(records, list) or not records:
        raise CheckFailed(message=f"{part} could not be used in a real fit.")
    by_id = {r.get("id"): r for r in records if isinstance(r, dict)}
    steps_per_epoch = ctx.expectations.steps_per_epoch
    for fit in ctx.expectations.fits[part]:
        record = by_id.get(fit.id) or {}
        error = record.get("error") or obs.error(f"fit {fit.id}")
        call = f"model.fit(epochs={fit.epochs}) with {part}(**{fit.kwargs})"
        if error:
            error = error if isinstance(error, dict) else {}
            if error.get("type") == "NotImplementedError":
                raise _not_implemented(part)
            raise CheckFailed(
                message=f"{call} raised an error:\n{format_error(error)}",
                hint=diagnose_error(error),
            )
        try:
            steps = trained_steps(obs.path(f"fit_{fit.id}.keras"))
        except ObservationError as exc:
            raise CheckFailed(
                message=f"{call}: the trained model did not come back ({exc})."
            ) from None
        ran = steps // steps_per_epoch if steps and steps % steps_per_epoch == 0 else None
        if ran != fit.expect:
            raise CheckFailed(
                expected=f"{call} runs {fit.expect} epoch(s)",
                received=f"{ran} epoch(s)" if ran is not None else f"{steps} training steps",
                hint="the callback must set self.model.stop_training = True in on_epoch_end"
                if fit.expect == 1
                else "the callback stops training when it should not",
            )


def _register(part: str) -> None:
    _, _, argument, _ = WATCHED[part]
    stop_title, keep_title = TITLES[part]
    kinds = CHECKED_KINDS[part]

    @check(part, stop_title, points=3)
    def stops(obs: PartObservation, ctx: GradingContext) -> None:
        _verify(part, ctx, _outcomes(obs, part), _cases(ctx, part, kinds["stops"]))

    @check(part, keep_title, points=3)
    def keeps_training(obs: PartObservation, ctx: GradingContext) -> None:
        _verify(part, ctx, _outcomes(obs, part), _cases(ctx, part, kinds["keeps"]))

    @check(part, f"custom {argument} honoured", points=2)
    def custom(obs: PartObservation, ctx: GradingContext) -> None:
        _verify(part, ctx, _outcomes(obs, part), _cases(ctx, part, None))

    @check(part, "stops a real fit at the expected epoch", points=3)
    def real_fit(obs: PartObservation, ctx: GradingContext) -> None:
        _verify_fits(obs, ctx, part)


_register("StopOnLoss")
_register("StopOnAccuracy")

"""Checks for StopOnLoss and StopOnAccuracy, driven with synthetic logs and real short fits.

The cases are plain data: the grader sends them to the child, which calls `on_epoch_end` on a
stand-in model and reports whether `model.stop_training` was set.
"""

from __future__ import annotations

from autograder.checks.base import CheckFailed, GradingContext, check, diagnose_error, format_error
from autograder.observations import PartObservation


def _case(case_id: str, kwargs: dict, loss: float, accuracy: float, stop: bool) -> dict:
    return {
        "id": case_id,
        "kwargs": kwargs,
        "logs": {"loss": loss, "accuracy": accuracy},
        "stop": stop,
    }


# Each log pairs the watched value with an unwatched one that points the other way, so reading the
# wrong key shows up as a wrong decision.
CALLBACK_CASES: dict[str, list[dict]] = {
    "StopOnLoss": [
        _case("above", {}, loss=0.5, accuracy=0.95, stop=False),
        _case("boundary", {}, loss=0.4, accuracy=0.95, stop=False),
        _case("below", {}, loss=0.39, accuracy=0.5, stop=True),
        _case("custom_above", {"threshold": 0.2}, loss=0.3, accuracy=0.95, stop=False),
        _case("custom_boundary", {"threshold": 0.2}, loss=0.2, accuracy=0.95, stop=False),
        _case("custom_below", {"threshold": 0.2}, loss=0.19, accuracy=0.5, stop=True),
    ],
    "StopOnAccuracy": [
        _case("below", {}, loss=0.1, accuracy=0.85, stop=False),
        _case("boundary", {}, loss=0.9, accuracy=0.9, stop=True),
        _case("above", {}, loss=0.9, accuracy=0.95, stop=True),
        _case("custom_below", {"target": 0.8}, loss=0.1, accuracy=0.79, stop=False),
        _case("custom_boundary", {"target": 0.8}, loss=0.9, accuracy=0.8, stop=True),
    ],
}

# Real fits of the reference model on a small subset: one that must stop after the first epoch
# and one that must run all epochs.
CALLBACK_FITS: dict[str, list[dict]] = {
    "StopOnLoss": [
        {"id": "stop_after_first", "kwargs": {"threshold": 100.0}, "epochs": 3, "expect": 1},
        {"id": "never_stop", "kwargs": {"threshold": 0.0}, "epochs": 3, "expect": 3},
    ],
    "StopOnAccuracy": [
        {"id": "stop_after_first", "kwargs": {"target": 0.0}, "epochs": 3, "expect": 1},
        {"id": "never_stop", "kwargs": {"target": 1.01}, "epochs": 3, "expect": 3},
    ],
}

TITLES = {
    "StopOnLoss": ("stops when loss < 0.4", "keeps training at or above 0.4"),
    "StopOnAccuracy": ("stops when accuracy >= 0.9, boundary included", "keeps training below 0.9"),
}
WATCHED = {
    "StopOnLoss": ("loss", "<", "threshold", 0.4),
    "StopOnAccuracy": ("accuracy", ">=", "target", 0.9),
}


def _describe_case(part: str, case: dict) -> str:
    key, _, argument, default = WATCHED[part]
    setting = case["kwargs"].get(argument, default)
    made = f"{part}({argument}={setting})" if case["kwargs"] else f"{part}()"
    return f"{made} with logs {case['logs']}"


def _outcomes(obs: PartObservation, part: str) -> dict[str, dict]:
    if obs.error("init above") or obs.error("init below"):
        error = obs.error("init above") or obs.error("init below")
        if error.get("type") == "NotImplementedError":
            raise CheckFailed(
                message=f"{part} is not implemented yet (it raises NotImplementedError)."
            )
    results = obs.data.get("cases")
    if not isinstance(results, list):
        raise CheckFailed(message=f"{part} could not be driven with synthetic logs.")
    return {
        r["case"]["id"]: r
        for r in results
        if isinstance(r, dict) and isinstance(r.get("case"), dict)
    }


def _verify(part: str, outcomes: dict[str, dict], ids: list[str]) -> None:
    key, op, argument, _ = WATCHED[part]
    for case_id in ids:
        outcome = outcomes.get(case_id)
        case = next(c for c in CALLBACK_CASES[part] if c["id"] == case_id)
        what = _describe_case(part, case)
        if outcome is None:
            raise CheckFailed(message=f"{what}: no result came back.")
        error = outcome.get("error")
        if error:
            if error.get("type") == "NotImplementedError":
                raise CheckFailed(
                    message=f"{part} is not implemented yet (it raises NotImplementedError)."
                )
            raise CheckFailed(
                message=f"{what} raised an error:\n{format_error(error)}",
                hint=diagnose_error(error),
            )
        stopped = bool(outcome.get("model_stop_training"))
        if stopped == case["stop"]:
            continue
        hint = ""
        if case["stop"] and outcome.get("self_stop_training"):
            hint = "set self.model.stop_training = True; self.stop_training is an attribute of the callback, which Keras ignores"
        elif _looks_reversed(part, outcomes):
            hint = f"the comparison is reversed: stop when logs['{key}'] {op} self.{argument}"
        elif "boundary" in case_id:
            hint = f"at exactly the {argument} the rule is logs['{key}'] {op} self.{argument}" + (
                " (strict)" if op == "<" else " (inclusive)"
            )
        elif case_id.startswith("custom"):
            hint = f"the {argument} argument is ignored: store it in __init__ and compare with self.{argument}"
        raise CheckFailed(
            expected=f"{what}: training {'stops' if case['stop'] else 'continues'}",
            received=f"training {'stops' if stopped else 'continues'}",
            hint=hint,
        )


def _looks_reversed(part: str, outcomes: dict[str, dict]) -> bool:
    decisions = [
        (bool(o.get("model_stop_training")), o["case"]["stop"])
        for o in outcomes.values()
        if "boundary" not in o["case"]["id"] and not o.get("error")
    ]
    return bool(decisions) and all(got != want for got, want in decisions)


def _verify_fits(obs: PartObservation, part: str) -> None:
    fits = obs.data.get("fits")
    if not isinstance(fits, list) or not fits:
        raise CheckFailed(message=f"{part} could not be used in a real fit.")
    for record in fits:
        fit = record.get("fit", {})
        error = record.get("error") or obs.error(f"fit {fit.get('id')}")
        if error:
            if error.get("type") == "NotImplementedError":
                raise CheckFailed(
                    message=f"{part} is not implemented yet (it raises NotImplementedError)."
                )
            raise CheckFailed(
                message=f"model.fit with {part}({fit.get('kwargs')}) raised an error:\n{format_error(error)}",
                hint=diagnose_error(error),
            )
        expected = next(
            (f["expect"] for f in CALLBACK_FITS[part] if f["id"] == fit.get("id")), None
        )
        got = record.get("epochs_run")
        if got != expected:
            raise CheckFailed(
                expected=f"model.fit(epochs={fit.get('epochs')}) with {part}(**{fit.get('kwargs')}) runs {expected} epoch(s)",
                received=f"{got} epoch(s)",
                hint="the callback must set self.model.stop_training = True in on_epoch_end"
                if expected == 1
                else "the callback stops training when it should not",
            )


def _register(part: str) -> None:
    key, op, argument, default = WATCHED[part]
    above_ids = [c["id"] for c in CALLBACK_CASES[part] if not c["kwargs"] and not c["stop"]]
    stop_ids = [c["id"] for c in CALLBACK_CASES[part] if not c["kwargs"] and c["stop"]]
    custom_ids = [c["id"] for c in CALLBACK_CASES[part] if c["kwargs"]]
    stop_title, keep_title = TITLES[part]

    @check(part, stop_title, points=3)
    def stops(obs: PartObservation, ctx: GradingContext) -> None:
        _verify(part, _outcomes(obs, part), stop_ids)

    @check(part, keep_title, points=3)
    def keeps_training(obs: PartObservation, ctx: GradingContext) -> None:
        _verify(part, _outcomes(obs, part), above_ids)

    @check(part, f"custom {argument} honoured", points=2)
    def custom(obs: PartObservation, ctx: GradingContext) -> None:
        _verify(part, _outcomes(obs, part), custom_ids)

    @check(part, "stops a real fit at the expected epoch", points=3)
    def real_fit(obs: PartObservation, ctx: GradingContext) -> None:
        _verify_fits(obs, part)


_register("StopOnLoss")
_register("StopOnAccuracy")

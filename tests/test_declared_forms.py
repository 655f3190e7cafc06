"""The declared forms of issue 33, each on its own: a callback part (DriveCallback, judged in
the grader by check_drawn_decisions / check_drawn_fits, with hints right for any comparison),
a training part that keeps its model (keep_model), reference substitution (Reference),
grader-only values (GraderOnly, and callback cases whose decisions never reach the child) and a
data set declared in the exercise's folder (files_dataset, dataset=). The whole route, in the
sandbox, is tests/test_digits_callback.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.child.declared import _call_with_references
from autograder.declare import Call, DriveCallback, Input, Reference, part_schema
from autograder.drawn import GraderOnly, drawn_setup, files_dataset
from autograder.exercise_spec import Part
from autograder.inputs import COMPARISONS, CallbackCase, DrawnFit, threshold_cases
from autograder.results import Feedback, TestResult
from autograder.scoring.callbacks import CallbackRule, check_drawn_decisions, check_drawn_fits
from autograder.scoring.feedback import CheckFailed
from autograder.solution_definitions import (
    own_definitions,
    ran_with_own,
    resolved_calls,
    solution_definitions,
    solution_missing,
)

CALLBACK = "class Stop:\n    pass\n"


def test_a_callback_part_declares_what_its_driving_records() -> None:
    call = DriveCallback("myCallback", cases="cases", fits="fits")
    told = call.to_json()
    assert told["function"] == "myCallback"
    assert told["drive_callback"] == {"cases": "cases", "fits": "fits"}
    assert part_schema((call,)) == {
        "calls": "list", "cases": "list", "fits": "list", "fit_*": "model"
    }  # fmt: skip
    assert Part("myCallback", timeout=10, calls=(call,)).names == ("myCallback",)


def test_a_training_call_keeps_the_model_of_its_history_for_the_grader() -> None:
    call = Call("train", Input("xs"), returns="history", keep_model="trained", training=True)
    assert call.to_json()["keep_model"] == "trained"
    assert part_schema((call,))["trained"] == "model"
    with pytest.raises(ValueError, match="keep_model"):
        Call("train", returns="model", keep_model="trained")
    with pytest.raises(ValueError, match="keep_model"):
        Call("train", returns="history", keep_model="not a name")


def test_a_reference_is_checked_when_declared_and_sent_as_its_source() -> None:
    call = Call("train", returns="history", references=(Reference("Stop", CALLBACK),))
    assert call.to_json()["references"] == {"Stop": CALLBACK}
    with pytest.raises(ValueError, match="does not parse"):
        Reference("Stop", "class Stop(:")
    with pytest.raises(ValueError, match="identifier"):
        Reference("my callback", CALLBACK)
    with pytest.raises(ValueError, match="Reference objects"):
        Call("train", references=("Stop",))


class FakeHarness:
    """What `_call_with_references` uses of the child's harness."""

    k = {"keras": None}

    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace

    def call(self, rec, key, function, *args, **kwargs):
        try:
            return True, function(*args, **kwargs)
        except Exception as exc:  # as h.call: recorded, never raised
            return False, exc


def test_during_the_call_the_student_name_is_the_graders_and_is_put_back_after() -> None:
    namespace: dict = {"Stop": "the student's", "ok": False}
    exec("def train():\n    return Stop.__name__, Stop.__module__\n", namespace)  # noqa: S102
    h = FakeHarness(namespace)
    ok, value = _call_with_references(
        h, None, "result", {"Stop": CALLBACK}, namespace["train"], [], {}
    )
    assert (ok, value) == (True, ("Stop", "grader_reference"))
    assert namespace["Stop"] == "the student's"
    # Put back after a call that raised too, and removed when the student had none.
    del namespace["Stop"]
    exec("def broken():\n    raise ValueError(Stop)\n", namespace)  # noqa: S102
    ok, _ = _call_with_references(h, None, "r", {"Stop": CALLBACK}, namespace["broken"], [], {})
    assert not ok and "Stop" not in namespace


def test_a_reference_without_source_is_the_solutions_definition_read_by_the_grader(
    tmp_path: Path,
) -> None:
    """`Reference(name)`: the kit holds no text; the grader reads the solution notebook's
    top-level definition of `name` (not the rest of its cell) and fills it in, or leaves it
    out when there is no solution (the call then keeps the student's own)."""
    call = Call("train", returns="history", references=(Reference("Stop"),))
    declared = {"train": [call.to_json()]}
    assert declared["train"][0]["references"] == {"Stop": None}
    notebook = tmp_path / "solutions" / "demo" / "demo.ipynb"
    notebook.parent.mkdir(parents=True)
    cell = "import keras\n\n" + CALLBACK + "\nprint('not the definition')\n"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "class Stop: nothing"},
        {"cell_type": "code", "metadata": {}, "source": cell.splitlines(keepends=True)},
        {"cell_type": "code", "metadata": {}, "source": "%time 1"},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))  # fmt: skip
    exercise = SimpleNamespace(
        name="demo", notebook_name="demo.ipynb", parts=[Part("train", timeout=9, calls=(call,))]
    )
    definitions = solution_definitions(exercise, [tmp_path])
    assert definitions == {"Stop": CALLBACK.strip()}
    assert resolved_calls(declared, definitions)["train"][0]["references"] == definitions
    assert own_definitions(exercise, definitions) == {}
    assert solution_definitions(exercise, [tmp_path / "elsewhere"]) == {}
    assert resolved_calls(declared, {})["train"][0]["references"] == {}
    assert own_definitions(exercise, {}) == {"train": ["Stop"]}


def test_a_reference_the_grader_could_not_fill_keeps_the_students_own() -> None:
    namespace: dict = {"Stop": "the student's"}
    exec("def train():\n    return Stop\n", namespace)  # noqa: S102
    ok, value = _call_with_references(
        FakeHarness(namespace), None, "r", {"Stop": None}, namespace["train"], [], {}
    )
    assert (ok, value) == (True, "the student's")


def test_a_failed_check_run_with_the_students_own_definition_says_so() -> None:
    failed = TestResult("train: stops", "train", 10, 0, Feedback(hint="pass the callback"))
    passed = TestResult("train: history", "train", 10, 10)
    other = TestResult("Stop: decides", "Stop", 10, 0, Feedback(hint="compare with >"))
    said = ran_with_own([failed, passed, other], {"train": ["Stop"]})
    assert said[0].feedback.hint.startswith(
        "pass the callback. This check ran with your own `Stop` (the solution's is not"
    )
    assert "check `Stop` first" in said[0].feedback.hint
    assert said[1:] == [passed, other]
    assert ran_with_own([failed], {}) == [failed]
    exercise = SimpleNamespace(name="demo", notebook_name="demo.ipynb")
    note = solution_missing(exercise, {"train": ["Stop"]})
    assert note.startswith("train ran with the submission's own Stop, not the solution's")
    assert "solutions/demo/demo.ipynb" in note


def draw_cases(rng: np.random.Generator) -> dict:
    fit = DrawnFit("f0", {}, 3, 1, "xs", "ys", None, 2)
    return {
        "xs": rng.uniform(size=4),
        "answer": GraderOnly(np.arange(3)),
        "cases": threshold_cases(rng, "accuracy", ">", 0.99),
        "fits": [fit],
    }


def test_the_child_gets_no_grader_only_value_and_no_decision(tmp_path: Path) -> None:
    inputs = drawn_setup(draw_cases)(None, tmp_path).draw(7)
    assert "answer" not in inputs.config and "answer" not in inputs.arrays
    assert list(inputs.context.answer) == [0, 1, 2]
    sent = json.dumps(inputs.config)
    assert "stop" not in sent and "expect" not in sent and "steps_per_epoch" not in sent
    assert {c["id"] for c in inputs.config["cases"]} == {c.id for c in inputs.context.cases}
    assert inputs.config["fits"] == [
        {"id": "f0", "kwargs": {}, "epochs": 3, "images": "xs", "labels": "ys", "weights": None}
    ]
    assert inputs.context.fits[0].expect == 1


@pytest.mark.parametrize("op", sorted(COMPARISONS))
def test_threshold_cases_decide_by_the_comparison_and_test_its_boundary(op: str) -> None:
    cases = threshold_cases(np.random.default_rng(3), "accuracy", op, 0.99)
    by_kind = {c.kind: c for c in cases}
    assert by_kind["boundary"].logs["accuracy"] == 0.99
    assert by_kind["boundary"].stop is (op in ("<=", ">="))
    for case in cases:
        assert case.stop is COMPARISONS[op](case.logs["accuracy"], 0.99)
    assert {c.stop for c in cases} == {True, False}  # no constant answer passes
    assert len({c.id for c in cases}) == len(cases)


class Observed(SimpleNamespace):
    def get(self, key, default=None):
        return self.data.get(key, default)

    def error(self, key):
        return None


def observed(cases: list[CallbackCase], stopped: set[str]) -> Observed:
    outcomes = [{"id": c.id, "model_stop_training": c.id in stopped} for c in cases]
    return Observed(data={"cases": outcomes, "errors": {}})


@pytest.mark.parametrize(
    ("op", "word"), [(">", "(strict)"), ("<", "(strict)"), (">=", "(inclusive)"), ("<=", "(inclusive)")]
)  # fmt: skip
def test_the_boundary_hint_is_right_for_every_comparison(op: str, word: str) -> None:
    rule = CallbackRule("myCallback", key="accuracy", op=op, argument="threshold", default=0.99)
    cases = threshold_cases(np.random.default_rng(1), "accuracy", op, 0.99)
    boundary = next(c for c in cases if c.kind == "boundary")
    right = {c.id for c in cases if c.stop}
    check_drawn_decisions(observed(cases, right), rule, cases, [])  # the right decisions pass
    with pytest.raises(CheckFailed) as failed:
        check_drawn_decisions(
            observed(cases, right ^ {boundary.id}), rule, cases, [], ("boundary",)
        )
    hint = failed.value.feedback.hint
    assert word in hint and f"logs['accuracy'] {op} self.threshold" in hint, hint


def test_a_reversed_comparison_is_named(tmp_path: Path) -> None:
    rule = CallbackRule("myCallback", key="accuracy", op=">", argument="threshold", default=0.99)
    cases = threshold_cases(np.random.default_rng(2), "accuracy", ">", 0.99)
    reversed_ = {c.id for c in cases if not c.stop and c.kind != "boundary"}
    with pytest.raises(CheckFailed) as failed:
        check_drawn_decisions(observed(cases, reversed_), rule, cases, [], ("far_above", "above"))
    assert "reversed" in failed.value.feedback.hint


def test_a_data_set_in_the_exercise_folder_is_checked_before_it_is_read(tmp_path: Path) -> None:
    np.save(tmp_path / "images.npy", np.arange(6).reshape(2, 3))
    digest = hashlib.sha256((tmp_path / "images.npy").read_bytes()).hexdigest()
    load = files_dataset(tmp_path, {"images": ("images.npy", digest)})
    seen = {}

    def draw(rng, data):
        seen.update(data)
        return {"first": data["images"][0]}

    inputs = drawn_setup(draw, dataset=load)(None, tmp_path).draw(1)
    assert list(inputs.arrays["first"]) == [0, 1, 2] and seen["images"].shape == (2, 3)
    (tmp_path / "images.npy").write_bytes(b"changed")
    with pytest.raises(ValueError, match="images.npy: SHA-256"):
        load()


def test_a_generated_data_set_is_made_once_per_grader(tmp_path: Path) -> None:
    made = []

    def generate():
        made.append(1)
        return {"xs": np.ones(3)}

    setup = drawn_setup(lambda rng, data: {"xs": data["xs"] * 2}, dataset=generate)(None, tmp_path)
    assert [list(setup.draw(s).arrays["xs"]) for s in (1, 2)] == [[2.0] * 3] * 2
    assert made == [1]


def test_a_callback_without_arguments_is_told_its_fixed_threshold() -> None:
    rule = CallbackRule("myCallback", key="accuracy", op=">", argument="", default=0.99)
    cases = threshold_cases(np.random.default_rng(5), "accuracy", ">", 0.99)
    right = {c.id for c in cases if c.stop}
    boundary = next(c for c in cases if c.kind == "boundary")
    with pytest.raises(CheckFailed) as failed:
        check_drawn_decisions(observed(cases, right | {boundary.id}), rule, cases, [])
    hint = failed.value.feedback.hint
    assert hint == "at exactly 0.99 the rule is logs['accuracy'] > 0.99 (strict)", hint


def test_a_fit_that_ran_wrong_fails_with_its_epochs_and_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autograder.scoring.callbacks as callbacks

    rule = CallbackRule("myCallback", key="accuracy", op=">", argument="", default=0.99)
    fit = DrawnFit("f0", {}, 3, 1, "xs", "ys", None, 2)
    obs = Observed(data={"fits": [{"id": "f0"}], "errors": {}, "cases": []})
    obs.path, obs.model_limits = (lambda name: tmp_path / name), (lambda: None)
    monkeypatch.setattr(callbacks, "trained_steps", lambda path, limits: 6)  # 3 epochs of 2
    with pytest.raises(CheckFailed) as failed:
        check_drawn_fits(obs, rule, [fit], [])
    feedback = failed.value.feedback
    assert (feedback.expected, feedback.received) == (
        "model.fit(epochs=3) with myCallback() runs 1 epoch(s)",
        "3 epoch(s)",
    )
    assert "self.model.stop_training = True" in feedback.hint

"""Declared parts (autograder/declare.py): what a call records is derived from what it returns,
and a declaration that cannot work fails when the exercise is defined, naming what is wrong."""

from __future__ import annotations

import pytest

from autograder.declare import Call, Input, Returned, Setting, StartModel, part_schema
from autograder.exercise_spec import Part, load_exercise


def test_each_kind_of_result_declares_the_keys_the_child_records() -> None:
    train = Call(
        "train_model",
        StartModel("w", save_as="trained"),
        Input("xs"),
        epochs=Setting("epochs"),
        returns="history",
        training=True,
    )
    assert part_schema((train,)) == {
        "calls": "list",
        "result": "info",
        "result_is_history": "bool",
        "result_epochs": "list",
        "result_curves": "dict",
        "result_changed": "list",
        "result_reshaped": "list",
        "result_seconds": "number",
        "trained": "model",
    }
    assert part_schema((Call("f", returns="arrays", key="data"),))["data_item_*"] == "array"
    assert part_schema((Call("f", returns="number"),))["result_number"] == "number"
    assert train.to_json()["kwargs"] == {"epochs": {"setting": "epochs"}}
    assert Call("f", 3).to_json()["args"] == [{"value": 3}]  # a fixed value, the same each time


@pytest.mark.parametrize(
    ("calls", "message"),
    [
        ((Call("f", Returned("data")),), "Returned\\('data'\\) names no earlier call"),
        ((Call("f"), Call("g")), "two calls record under key 'result'"),
        (("f",), "calls must be Call objects, received 'f'"),
    ],
)
def test_a_declaration_that_cannot_work_is_refused_when_defined(calls, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Part("p", timeout=1, calls=calls)


def test_bad_arguments_name_the_argument_and_the_value() -> None:
    with pytest.raises(ValueError, match="returns must be one of .* received 'float'"):
        Call("f", returns="float")
    with pytest.raises(ValueError, match="key must be a Python identifier, received 'a b'"):
        Call("f", key="a b")


def test_a_declared_exercise_derives_its_schema_and_names_from_its_calls() -> None:
    exercise = load_exercise("housing_prices")
    assert exercise.schema["predict_price"]["result_number"] == "number"
    assert exercise.part("pipeline").names == ("make_data", "build_model", "train_model")
    assert exercise.dataset is None

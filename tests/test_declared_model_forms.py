"""The declared forms a convolutional exercise needs: a model of the grader's built in the child
(`BuiltModel`), a method of a returned value (`Method`, a pipeline's `model.fit`) and a list of
shapes as a result (`returns="shapes"`), bounded before the grader reads it."""

from __future__ import annotations

import numpy as np

from autograder.child.declared import MAX_SHAPES, _plain_shapes
from autograder.declare import BuiltModel, Call, Input, Method, Returned, part_schema, student_names


def test_a_pipeline_fits_the_returned_model_and_names_only_the_students_functions() -> None:
    calls = (
        Call("build_model", key="build_model"),
        Method("fit", Returned("build_model", save_as="model"), Input("xs"), epochs=2,
               key="fit", returns="history", training=True),
    )  # fmt: skip
    fit = calls[1].to_json()
    assert fit["method"] is True and fit["function"] == "fit"
    assert fit["args"][0] == {"returned": "build_model", "index": None, "save_as": "model"}
    assert student_names(calls) == ("build_model",)
    schema = part_schema(calls)
    assert schema["model"] == "model" and schema["fit_curves"] == "dict"
    assert schema["fit_seconds"] == "number" and schema["fit_reshaped"] == "list"


def test_a_built_model_is_sent_as_the_name_of_its_config_and_shapes_have_their_key() -> None:
    call = Call("layer_output_shapes", BuiltModel("shape_m0"), key="m0", returns="shapes")
    assert call.to_json()["args"] == [{"built_model": "shape_m0"}]
    assert part_schema((call,))["m0_shapes"] == "list"


class Dims:
    """A shape-like object whose iteration raises (student code may)."""

    def __iter__(self):
        raise RuntimeError("no")


def test_only_a_bounded_list_of_integer_shapes_crosses_back() -> None:
    assert _plain_shapes([(28, 28, 1), [None, np.int64(5)]]) == [[28, 28, 1], [None, 5]]
    assert _plain_shapes([(1,)] * (MAX_SHAPES + 1)) is None  # too many: never read one by one
    assert _plain_shapes([(1,) * 9]) is None  # too many dimensions
    assert _plain_shapes([(True, 2)]) is None  # a bool is not a dimension
    assert _plain_shapes([Dims()]) is None
    assert _plain_shapes(None) is None and _plain_shapes("(1, 2)") is None


class _Harness:
    """Just what `_record` uses of the child's harness: describe a value."""

    @staticmethod
    def describe(value) -> dict:
        return {"type": type(value).__name__}


class _Recorder:
    def __init__(self) -> None:
        self.data: dict = {}
        self.saved: list[str] = []

    def save_array(self, key: str, value) -> None:
        self.saved.append(key)


def test_nested_returned_arrays_save_at_most_eight_in_all() -> None:
    """`returns="arrays"` saves one level down for `((xs, ys), (tx, ty))`, but a submission
    returning eight tuples of eight arrays gets eight saved in all, not sixty-four."""
    from autograder.child.declared import MAX_ITEMS, _record

    array = np.zeros(3)
    pairs, recorder = ((array, array), (array, array)), _Recorder()
    _record(_Harness(), recorder, "result", "arrays", pairs, bound=10)
    assert recorder.saved == ["result_item_0_0", "result_item_0_1", "result_item_1_0",
                              "result_item_1_1"]  # fmt: skip
    hostile, recorder = tuple((array,) * 8 for _ in range(8)), _Recorder()
    _record(_Harness(), recorder, "result", "arrays", hostile, bound=10)
    assert len(recorder.saved) == MAX_ITEMS
    flat, recorder = (array,) * 12, _Recorder()
    _record(_Harness(), recorder, "result", "arrays", flat, bound=10)
    assert recorder.saved == [f"result_item_{i}" for i in range(MAX_ITEMS)]

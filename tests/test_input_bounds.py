"""What a submission hands the grader is bounded before the grader parses, converts or copies it.

The raw text first: a `.py` is read to 2 MiB at most, a notebook's JSON values are counted
before `json.loads`, and the code of every code cell, graded or not, is bounded in bytes, lines
and tokens before `ast.parse` (a 6 MiB `.py` of `a=1` lines once took the grading process to
4.3 GB and a minute, one ungraded 4 MiB cell to 2.5 GB). Then what comes back: a returned array
is bounded by its declared call (dtype, values, shape) from its `.npy` header, before its data
is read (two 400 MB bool arrays from housing's `make_data` once took it to 7.2 GB).

The attacks run through the real CLI (`autograder grade FILE --exercise housing_prices`), and the
grading process's own peak memory (not its sandboxed child's) is measured against grading the
reference solution the same way.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tracemalloc
import types
from pathlib import Path

import numpy as np
import pytest
from rubric_lines import rubric_line

from autograder import submission
from autograder.declare import DEFAULT_MAX_ELEMENTS, Call, Input, Returned, array_bounds
from autograder.readers.observations import ObservationError, PartObservation, read_array
from autograder.sandbox.outcome import PartRun
from autograder.scoring.checks import check_close
from autograder.scoring.feedback import CheckFailed
from autograder.submission import SubmissionError, load_submission, read_notebook

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_NOTEBOOK = ROOT / "solutions" / "housing_prices" / "housing_prices.ipynb"


def _cell(source: str, **metadata) -> dict:
    return {"cell_type": "code", "metadata": metadata, "outputs": [], "source": source}


def _notebook(path: Path, cells: list[dict]) -> Path:
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    return path


def _refuse(*args, **kwargs):
    raise AssertionError("parsed before it was bounded")


class _UnparsedJson:
    """The submission reader's `json`, whose parser must not be reached."""

    JSONDecodeError = json.JSONDecodeError
    loads = staticmethod(_refuse)


@pytest.fixture
def code_unparsed(monkeypatch):
    """Fails the test if the submission reader hands any code to Python's parser."""
    unparsed = types.ModuleType("ast")
    unparsed.__dict__.update(ast.__dict__)
    unparsed.parse = _refuse
    monkeypatch.setattr(submission, "ast", unparsed)


@pytest.fixture
def nothing_parsed(monkeypatch, code_unparsed):
    """Fails the test if anything reaches Python's parser or the notebook's JSON parser."""
    monkeypatch.setattr(submission, "json", _UnparsedJson)


# -- the raw text ----------------------------------------------------------------------------------
def test_a_py_over_2_mib_is_refused_without_being_read_whole(tmp_path, nothing_parsed) -> None:
    path = tmp_path / "big.py"
    path.write_text("a=1\n" * (6 * 2**20 // 4))
    with pytest.raises(SubmissionError, match="larger than 2 MiB, the most code graded"):
        load_submission(path)


@pytest.mark.parametrize(
    ("source", "bound"),
    [
        ("a=1\n" * 30_000, "20,000 lines"),  # 120 KB: within the bytes
        (("a=1;" * 25 + "\n") * 5_000, "100,000 tokens"),  # 500 KB in 5,000 lines
    ],
)
def test_a_py_over_a_code_bound_is_refused_before_it_is_parsed(
    tmp_path, nothing_parsed, source, bound
) -> None:
    path = tmp_path / "dense.py"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(SubmissionError, match=f"at most {bound.split()[0]}") as refused:
        load_submission(path)
    assert bound.split()[1] in str(refused.value) and "dense.py" in str(refused.value)


def test_an_ungraded_cell_counts_against_the_code_bounds_before_any_parse(
    tmp_path, code_unparsed
) -> None:
    graded = _cell("def f():\n    return 1\n", tags=["graded"])
    scratch = _cell("a=1\n" * 2**20)  # 4 MiB in a cell the grading would not even run
    path = _notebook(tmp_path / "n.ipynb", [graded, scratch])
    with pytest.raises(SubmissionError) as refused:  # its JSON is parsed (a few values)
        load_submission(path)
    message = str(refused.value)
    assert "4,194,326 bytes of code in its code cells, graded or not" in message
    assert "cell 2 alone has 4,194,304" in message and "at most 2,097,152" in message


def test_code_is_bounded_in_utf8_bytes_not_characters(tmp_path, code_unparsed) -> None:
    text = "s = '" + "é" * (2**20 + 10) + "'\n"  # 1 Mi characters, 2 MiB in UTF-8
    path = _notebook(tmp_path / "accents.ipynb", [_cell(text)])
    size = len(text.encode("utf-8"))
    assert len(text) < submission.MAX_CODE_BYTES < size
    with pytest.raises(SubmissionError, match=f"{size:,} bytes of code .*at most 2,097,152"):
        load_submission(path)


def test_a_notebook_of_many_json_values_is_refused_before_json_loads(
    tmp_path, nothing_parsed
) -> None:
    path = tmp_path / "values.ipynb"
    values = ",".join(["{}"] * (submission.MAX_NOTEBOOK_VALUES + 1))
    path.write_text('{"cells": [], "metadata": {"x": [' + values + "]}}")
    with pytest.raises(SubmissionError, match="JSON values .at most 500,000.; clear"):
        read_notebook(path)


def test_a_notebook_of_too_many_cells_is_refused_before_its_code_is_parsed(
    tmp_path, code_unparsed
) -> None:
    path = _notebook(tmp_path / "cells.ipynb", [_cell("x = 1")] * (submission.MAX_CELLS + 1))
    with pytest.raises(SubmissionError, match="2,001 cells .at most 2,000."):
        load_submission(path)


def test_an_exercise_sized_notebook_is_well_within_every_bound(tmp_path) -> None:
    raw = SOLUTION_NOTEBOOK.read_bytes()
    assert (
        raw.count(b",") + raw.count(b"[") + raw.count(b"{") < submission.MAX_NOTEBOOK_VALUES / 100
    )
    loaded = load_submission(SOLUTION_NOTEBOOK)
    code = "\n".join(c.source for c in loaded.chunks)
    assert submission.TOKENISH.subn("", code)[1] < submission.MAX_CODE_TOKENS / 20


# -- what comes back -------------------------------------------------------------------------------
def test_a_returned_array_over_its_bound_is_refused_from_its_header_alone(tmp_path) -> None:
    path = tmp_path / "result.npy"
    with path.open("wb") as handle:  # a header claiming 400 MB, and no data at all
        np.lib.format.write_array_header_1_0(
            handle, {"descr": "|b1", "fortran_order": False, "shape": (400_000_000,)}
        )
    tracemalloc.start()
    try:
        with pytest.raises(ObservationError, match="400,000,000 values .* more than the 6"):
            read_array(path, max_elements=6)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    with pytest.raises(ObservationError, match="shorter than its header says"):
        read_array(path)  # within the bytes bound, but the data is not there


@pytest.mark.parametrize(
    "array",
    [
        np.zeros(3, dtype=complex),
        np.zeros(3, dtype=np.longdouble),
        np.zeros(3, dtype=[("a", "<f8"), ("b", "<i4")]),
        np.array(["a", "b"]),
        np.zeros(3, dtype="datetime64[s]"),
    ],
    ids=["complex", "longdouble", "record", "str", "datetime"],
)
def test_only_plain_numbers_are_read(tmp_path, array) -> None:
    if array.dtype == np.longdouble and np.longdouble(0).itemsize <= 8:
        pytest.skip("longdouble is float64 here")
    path = tmp_path / "a.npy"
    np.save(path, array)
    with pytest.raises(ObservationError, match="not a numeric array"):
        read_array(path)


def test_a_sub_array_dtype_cannot_hide_values_behind_its_shape(tmp_path) -> None:
    path = tmp_path / "a.npy"
    with path.open("wb") as handle:  # shape (3,) of 1,000 floats each: 3,000 values
        np.lib.format.write_array_header_1_0(
            handle, {"descr": ("<f8", (1000,)), "fortran_order": False, "shape": (3,)}
        )
        handle.write(bytes(3 * 8000))
    with pytest.raises(ObservationError, match="not a numeric array"):
        read_array(path, max_elements=3)


def test_plain_arrays_read_back_as_written(tmp_path) -> None:
    for array in (
        np.arange(12.0).reshape(3, 4),
        np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4)),
        np.ones((0, 5), dtype=bool),
        np.float32(2.5).reshape(()),
        np.arange(4, dtype=">u4"),
    ):
        np.save(tmp_path / "a.npy", array)
        read = read_array(tmp_path / "a.npy", max_elements=array.size)
        assert read.dtype == array.dtype and read.shape == array.shape
        assert np.array_equal(read, array) and read.flags.writeable


def test_a_declared_call_bounds_what_it_returns_by_its_inputs_or_its_declaration() -> None:
    sizes = {"images": 2_000_000, "xs": 8}
    calls = (
        Call("make_data", key="data", returns="arrays"),
        Call("scale", Input("images"), returns="array"),
        Call("predict", Input("xs"), key="small", returns="array"),
        Call("load", returns="array", key="loaded", max_elements=47_040_000),
        Call("train", Returned("data", 0), key="fit", returns="history"),
    )
    assert array_bounds(calls, sizes) == {
        "data_item_*": DEFAULT_MAX_ELEMENTS,
        "result": 2_000_000,
        "small": DEFAULT_MAX_ELEMENTS,
        "loaded": 47_040_000,
    }
    for wrong in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_elements must be a positive int"):
            Call("f", returns="array", max_elements=wrong)


def test_an_observation_reads_each_array_with_its_declared_bound(tmp_path) -> None:
    np.save(tmp_path / "make_data.result_item_0.npy", np.ones(10, dtype=bool))
    np.save(tmp_path / "make_data.other.npy", np.ones(10, dtype=bool))
    obs = PartObservation("make_data", PartRun("ok"), tmp_path, array_bounds={"result_item_*": 6})
    with pytest.raises(ObservationError, match="10 values of shape .10,., more than the 6"):
        obs.array("result_item_0")
    assert obs.array("other").size == 10  # a probe's own key: bounded by its bytes only


def test_check_close_refuses_another_size_before_converting_it() -> None:
    got = np.ones(50_000_000, dtype=bool)  # 50 MB, 400 MB as float64
    tracemalloc.start()
    try:
        with pytest.raises(CheckFailed) as failed:
            check_close(got, np.arange(1.0, 7.0), "bedrooms")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak
    assert "shape (6,)" in failed.value.feedback.expected
    assert "shape (50000000,)" in failed.value.feedback.received
    check_close(np.arange(1, 7).reshape(2, 3), np.arange(1.0, 7.0), "same values, other shape")
    with pytest.raises(CheckFailed, match="numbers"):
        check_close(np.array(["a"]), [1.0], "a string")


# -- through the CLI, measured ---------------------------------------------------------------------
MEASURE = """
import resource, sys, time
started = time.monotonic()
from autograder.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"MEASURED {peak:.1f} {time.monotonic() - started:.2f}", file=sys.stderr)
"""


def grade_with_cli(path: Path, tmp_path: Path) -> dict:
    """`autograder grade PATH --exercise housing_prices --results ...` in a fresh process: its
    results file, and that process's own peak memory (MiB) and time (s)."""
    results = tmp_path / f"{path.stem}-results.json"
    argv = ["grade", str(path), "--exercise", "housing_prices", "--results", str(results)]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, timeout=900,
        cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    measured = [line for line in done.stderr.splitlines() if line.startswith("MEASURED ")]
    assert done.returncode == 0 and measured, done.stderr[-3000:]
    _, peak, seconds = measured[-1].split()
    return {
        "results": json.loads(results.read_text()),
        "peak_mib": float(peak),
        "seconds": float(seconds),
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("reference")
    measured = grade_with_cli(SOLUTION_NOTEBOOK, folder)
    assert measured["results"]["score"] == 100
    return measured


def _outputs(measured: dict) -> str:
    return "\n".join(t.get("output", "") for t in measured["results"]["tests"])


@pytest.mark.slow
def test_a_6_mib_py_is_not_graded_cheaply_through_the_cli(tmp_path, reference) -> None:
    path = tmp_path / "big.py"
    path.write_text("a=1\n" * (6 * 2**20 // 4))
    measured = grade_with_cli(path, tmp_path)
    print(f"6 MiB .py: {measured['peak_mib']:.0f} MiB, {measured['seconds']:.1f} s; reference "
          f"{reference['peak_mib']:.0f} MiB, {reference['seconds']:.1f} s")  # fmt: skip
    assert measured["results"]["score"] == 0
    assert "Not graded: big.py is larger than 2 MiB, the most code graded" in _outputs(measured)
    assert measured["peak_mib"] <= 1.25 * reference["peak_mib"]
    assert measured["seconds"] <= reference["seconds"]


@pytest.mark.slow
def test_an_ungraded_4_mib_cell_is_not_graded_cheaply_through_the_cli(tmp_path, reference) -> None:
    notebook = json.loads(SOLUTION_NOTEBOOK.read_text())
    notebook["cells"].append(_cell("a=1\n" * 2**20))
    path = tmp_path / "housing_prices.ipynb"
    path.write_text(json.dumps(notebook))
    measured = grade_with_cli(path, tmp_path)
    print(f"4 MiB ungraded cell: {measured['peak_mib']:.0f} MiB, {measured['seconds']:.1f} s; "
          f"reference {reference['peak_mib']:.0f} MiB, {reference['seconds']:.1f} s")  # fmt: skip
    assert measured["results"]["score"] == 0
    outputs = _outputs(measured)
    assert "Not graded: housing_prices.ipynb has 4," in outputs
    assert "bytes of code in its code cells, graded or not (at most 2,097,152" in outputs
    assert measured["peak_mib"] <= 1.25 * reference["peak_mib"]
    assert measured["seconds"] <= reference["seconds"]


BOOL_ATTACK = """
import numpy as np
import keras


class Small(np.ndarray):
    size = 6  # what the child asks before saving: the grader reads the file's own header

    def __repr__(self):  # NumPy's own would print every value of an array this "small"
        return "Small"


def make_data():
    big = np.ones(SIZE, dtype=bool)  # 400 MB at most: under the 400 MiB array bound
    big = big.view(Small) if FORGED else big
    return big, big


def build_model():
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    return model


def train_model(model, xs, ys, epochs=500):
    if len(xs) > 100:  # the pipeline's own data: not worth the child's time
        raise ValueError("no")
    return model.fit(xs, ys, epochs=epochs, verbose=0)


def predict_price(model, bedrooms):
    prediction = model.predict(np.array([[bedrooms]], dtype="float32"), verbose=0)
    return float(prediction[0][0])
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("forged", "size", "refusal"),
    [
        # The child leaves it unsaved and says why.
        (False, 400_000_000, "an array of at most 1,000,000 values"),
        # Saved anyway (its `size` lies to the child): the grader's reader refuses the file by
        # its header. 50 MB each: the child must write them within make_data's 30 s.
        (True, 50_000_000, "50,000,000 values of shape (50000000,), more than the 1,000,000"),
    ],
    ids=["returned", "forged size"],
)
def test_two_400_mb_arrays_from_make_data_cost_the_grader_nothing(
    tmp_path, reference, forged, size, refusal
) -> None:
    path = tmp_path / "bool_data.py"
    path.write_text(f"FORGED, SIZE = {forged}, {size}\n" + BOOL_ATTACK)
    measured = grade_with_cli(path, tmp_path)
    print(f"two 400 MB bool arrays ({'forged' if forged else 'returned'}): "
          f"{measured['peak_mib']:.0f} MiB, {measured['seconds']:.1f} s; "
          f"reference {reference['peak_mib']:.0f} MiB")  # fmt: skip
    tests = {t["name"]: t for t in measured["results"]["tests"]}
    for name in (
        rubric_line("housing_prices", "make_data", "test_bedrooms"),
        rubric_line("housing_prices", "make_data", "test_prices"),
    ):
        assert tests[name]["score"] == 0
        assert refusal in tests[name]["output"], tests[name]["output"]
    # The other parts are graded as usual: build_model and predict_price are right.
    assert tests[rubric_line("housing_prices", "build_model", "test_layers")]["score"] == 15
    assert tests[rubric_line("housing_prices", "predict_price", "test_price")]["score"] == 10
    assert measured["peak_mib"] <= 1.25 * reference["peak_mib"]

"""Property-based fuzzing of everything that reads what a submission or its child produced.

Whatever bytes arrive, reading and scoring never raise, every check gets a result within its
points, and the grading process does not grow: each example may allocate at most
`EXAMPLE_MEMORY_MIB` at its peak (measured with tracemalloc, which numpy reports its arrays to; a
decompression or parsing bomb would cost far more). Time is reported, not asserted (a loaded CI
machine is slower than this one): the slowest example's seconds are printed beside its memory.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fashion import RELEASE, rubric

from autograder.child.keras_tools import write_keras_model
from autograder.child.model_vetting import ModelLimits
from autograder.grader import describe_import_errors
from autograder.readers.keras_archive import ArchiveError, read_archive, vet_config
from autograder.readers.observations import (
    ObservationError,
    load_model,
    read_import_errors,
    trained_steps,
)
from autograder.sandbox.outcome import PartRun
from autograder.scoring.run import score
from autograder.submission import SubmissionError, load_submission

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLE_MEMORY_MIB = 64
PARTS = ("CLASS_NAMES", "scale_images", "build_model", "StopOnLoss", "train_model", "pipeline")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: CI never flakes
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=40,
)
KEYS = ["errors", "cases", "fits", "explicit", "default", "result", "value", "missing",
        "history", "default_saved", "model_saved", "train_images", "call", "id", "frames"]  # fmt: skip
observation_objects = st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=8), json_values, max_size=8
)
hostile_texts = st.sampled_from(
    [
        '{"value": ' + "9" * 5000 + "}",  # past Python's int-string limit
        "[" * 50000 + "]" * 50000,  # past the recursion limit
        '{"a": ' * 2000 + "1" + "}" * 2000,
        "\x00\xff not json",
        "",
    ]
)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


keras_files = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda config, extra: _zip({"config.json": config, **extra}),
        st.one_of(
            json_values.map(lambda v: json.dumps({"class_name": "Sequential", "config": {"layers": v}}).encode()),
            observation_objects.map(lambda v: json.dumps(v).encode()),
            st.just(b" " * (3 * 2**20)),  # larger than config.json may be
        ),
        st.dictionaries(st.sampled_from(["weights.json", "weights.bin", "../evil", "assets/x",
                                         "model.weights.h5"]),
                        st.binary(max_size=64), max_size=2),
    ),
)  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_context(grader):
    return grader.setup.draw(7).context


class MemoryBound:
    """The largest peak of traced memory over the examples (each must stay within the bound),
    and the slowest example's wall time (reported only)."""

    def __init__(self) -> None:
        self.largest = 0.0
        self.slowest = 0.0

    @contextlib.contextmanager
    def example(self):
        tracemalloc.start()
        start = time.perf_counter()
        try:
            yield
            peak = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
        self.slowest = max(self.slowest, time.perf_counter() - start)
        self.largest = max(self.largest, peak)
        assert peak <= EXAMPLE_MEMORY_MIB, f"an example allocated {peak:.0f} MiB at its peak"


@pytest.fixture(scope="module")
def memory_bound(grader, tmp_path_factory):
    # Warm up what loads lazily on first use (Keras' loading and calling code), so that a
    # one-time import is not counted against the first example.
    from autograder.model_eval import predict_probabilities
    from autograder.readers.observations import load_model, trained_steps
    from autograder.scoring.observed import Observed
    from autograder.scoring.run import score

    path = tmp_path_factory.mktemp("warm") / "model.model"
    with path.open("wb") as handle:
        write_keras_model(handle, grader.setup.scratch)  # the seeded reference model
    limits = grader.exercise.model_limits
    predict_probabilities(load_model(path, limits), grader.dataset.test_images[:10] / 255.0)
    trained_steps(path, limits)
    score(grader.exercise, Observed({}, dict.fromkeys(PARTS, "warm-up"), None), PARTS)
    bound = MemoryBound()
    yield bound
    print(
        f"largest peak of one fuzzing example: {bound.largest:.1f} MiB (bound {EXAMPLE_MEMORY_MIB}); "
        f"slowest example: {bound.slowest:.2f} s"
    )


@FUZZ
@given(
    part_json=st.one_of(
        observation_objects.map(json.dumps), hostile_texts, st.binary(max_size=300)
    ),
    import_json=st.one_of(observation_objects.map(json.dumps), hostile_texts),
    npy=st.binary(max_size=300),
    keras_file=keras_files,
    status=st.sampled_from(["ok", "ok", "timeout", "crashed", "skipped"]),
)
def test_scoring_never_raises_whatever_the_child_wrote(
    grader,
    fuzz_context,
    memory_bound,
    tmp_path_factory,
    part_json,
    import_json,
    npy,
    keras_file,
    status,
) -> None:
    out = tmp_path_factory.mktemp("out")
    try:
        (out / "import.json").write_text(import_json)
        for part in PARTS:
            data = part_json if isinstance(part_json, bytes) else part_json.encode()
            (out / f"{part}.json").write_bytes(data)
            for key in ("result", "train_images", "call"):
                (out / f"{part}.{key}.npy").write_bytes(npy)
            for key in ("default", "small", "model", "explicit_model", "fit_f0", "fit_f1"):
                (out / f"{part}.{key}.model").write_bytes(keras_file)
        runs = {part: PartRun(status, "fuzzed") for part in PARTS}
        with memory_bound.example():
            import_errors = read_import_errors(out)
            found = grader.read_observed(out, runs, PARTS, fuzz_context, import_errors)
            tests = score(grader.exercise, found, PARTS)
            describe_import_errors(import_errors)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    expected = [c for c in rubric() if c.part in PARTS]
    assert [t.name for t in tests] == [c.name for c in expected]
    assert all(0 <= t.score <= t.max_score for t in tests)


LIMITS = ModelLimits(frozenset({"InputLayer", "Flatten", "Dense", "Reshape", "Dropout"}))


@FUZZ
@given(keras_file=keras_files)
def test_keras_archives_are_read_or_refused_never_crash(memory_bound, keras_file) -> None:
    with memory_bound.example(), contextlib.suppress(ArchiveError):
        archive = read_archive(io.BytesIO(keras_file))
        vet_config(archive.config, LIMITS)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> dict[str, bytes]:
    """The members of a real model file: a small trained-shape Dense model the child could save."""
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(16),
         keras.layers.Dropout(0.1), keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    buffer = io.BytesIO()
    write_keras_model(buffer, model)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@FUZZ
@given(
    path=st.lists(st.integers(min_value=0, max_value=50), max_size=5),
    value=json_values | st.integers(min_value=-1, max_value=10**12).map(lambda n: [n, n]),
    cut=st.integers(min_value=-64, max_value=64),
)
def test_forged_manifests_and_weights_are_refused_before_any_array_is_made(
    memory_bound, model_file, path, value, cut
) -> None:
    """A manifest that lies about shapes, dtypes, layers or the step counter, and weights of any
    length: the model is built from its config and given exactly its own weights, or refused."""
    manifest = _mutate(json.loads(model_file["weights.json"]), path, value)
    weights = model_file["weights.bin"]
    weights = weights[: len(weights) + cut] if cut < 0 else weights + bytes(cut)
    members = {**model_file, "weights.json": json.dumps(manifest).encode(), "weights.bin": weights}
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "m.model").write_bytes(_zip(members))
        with memory_bound.example():
            try:
                model = load_model(folder / "m.model", LIMITS)
            except ObservationError:
                return
            steps = trained_steps(folder / "m.model", LIMITS)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert model.count_params() == 28 * 28 * 16 + 16 + 16 * 10 + 10
    assert steps is None or (isinstance(steps, int) and steps >= 0)


def _hdf5_file(folder: Path, layout: dict) -> bytes:
    """An HDF5 file of one of the layouts that made the grader's old HDF5 reader leak or blow up:
    external storage (a host file), soft and external links, fill-value-only chunked datasets,
    filters."""
    import h5py
    import numpy

    path = folder / "w.h5"
    with h5py.File(path, "w") as store:
        kind = layout["kind"]
        if kind == "external":
            store.create_dataset(
                "optimizer/vars/0", shape=(4,), dtype="<u8", external=[(layout["host"], 0, 32)]
            )
        elif kind == "fill":
            store.create_dataset(
                "layers/dense/vars/0", shape=(max(layout["size"], 1024),), dtype="<f4", chunks=(1024,),
                fillvalue=1.5,
            )  # fmt: skip
        elif kind == "soft_link":
            store["optimizer/vars/0"] = h5py.SoftLink(layout["target"] or "/")
        elif kind == "external_link":
            store["optimizer/vars/0"] = h5py.ExternalLink(layout["host"], "/x")
        else:
            store.create_dataset(
                "layers/dense/vars/0", data=numpy.zeros(layout["size"] % 5000, "<f4"),
                compression="gzip", shuffle=True,
            )  # fmt: skip
    return path.read_bytes()


hdf5_layouts = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["external", "fill", "soft_link", "external_link", "filters"]),
        "size": st.integers(min_value=1, max_value=200_000_000),
        "target": st.text(alphabet="/abc0", max_size=12),
        "where": st.sampled_from(["whole", "weights.bin", "weights.json", "config.json"]),
    }
)


@FUZZ
@given(layout=hdf5_layouts)
def test_hdf5_files_in_any_member_read_nothing_outside_the_file(
    memory_bound, model_file, tmp_path_factory, layout
) -> None:
    """Whatever HDF5 layout a child writes, wherever it puts it, the grader parses no HDF5:
    the file is refused or its bytes are only bytes, and no byte of a host file comes back."""
    folder = tmp_path_factory.mktemp("h5")
    host = folder / "host-secret"
    host.write_bytes(b"HOSTSECRET" * 4)
    layout = {**layout, "host": str(host)}
    try:
        payload = _hdf5_file(folder, layout)
        path = folder / "m.model"
        if layout["where"] == "whole":
            path.write_bytes(payload)
        else:
            path.write_bytes(_zip({**model_file, layout["where"]: payload}))
        with memory_bound.example():
            outcome = []
            for read in (load_model, trained_steps):
                try:
                    outcome.append(repr(read(path, LIMITS)))
                except ObservationError as exc:
                    outcome.append(str(exc))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # The old leak: host bytes read through external storage came back as the step counter.
    leaked = {str(int.from_bytes(b"HOSTSECR", order)) for order in ("big", "little")}
    assert not any("HOSTSECRET" in text or text in leaked for text in outcome)


def _mutate(node, path: list[int], value):
    """`node` with the subtree reached by following `path` (indexes mod size) replaced."""
    if not path or not isinstance(node, (dict, list)) or not node:
        return value
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    key = keys[path[0] % len(keys)]
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[key] = _mutate(node[key], path[1:], value)
    return copy


RELEASE_JSON = json.loads(RELEASE.read_text())


@FUZZ
@given(
    path=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
    value=json_values,
    with_release=st.booleans(),
)
def test_mutated_notebooks_are_graded_or_refused_never_crash(
    memory_bound, tmp_path_factory, path, value, with_release
) -> None:
    folder = tmp_path_factory.mktemp("nb")
    notebook = folder / "fashion_mnist.ipynb"
    notebook.write_text(json.dumps(_mutate(RELEASE_JSON, path, value)))
    try:
        with memory_bound.example():
            loaded = load_submission(notebook, release=RELEASE if with_release else None)
    except SubmissionError:
        return
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert all(isinstance(c.source, str) and isinstance(c.label, str) for c in loaded.chunks)


@FUZZ
@given(document=st.one_of(json_values.map(json.dumps), hostile_texts, st.text(max_size=200)))
def test_arbitrary_files_as_notebooks_never_crash(memory_bound, tmp_path_factory, document) -> None:
    folder = tmp_path_factory.mktemp("nb")
    notebook = folder / "odd.ipynb"
    notebook.write_text(document)
    try:
        with memory_bound.example(), contextlib.suppress(SubmissionError):
            load_submission(notebook, release=RELEASE)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_lying_zip_header_cannot_inflate_past_the_bound(tmp_path: Path) -> None:
    """A member that declares a small size but inflates to far more is cut at the bound."""
    big = b"{" + b" " * (8 * 2**20) + b"}"
    data = bytearray(_zip({"config.json": big}))
    # Patch the declared uncompressed size (local header and central directory) to 100 bytes.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = (100).to_bytes(4, "little")
    with pytest.raises(ArchiveError):
        read_archive(io.BytesIO(bytes(data)))


# -- the input readers' bounds (issue 31): nothing over a bound is parsed or read ---------------
# The bounds shrunk a thousandfold, so that small examples cross each of them.
SMALL_BOUNDS = {
    "MAX_SUBMISSION_BYTES": 6_000,
    "MAX_NOTEBOOK_VALUES": 300,
    "MAX_CELLS": 12,
    "MAX_CODE_BYTES": 2_000,
    "MAX_CODE_LINES": 40,
    "MAX_CODE_TOKENS": 300,
}
code_texts = st.one_of(
    st.text(max_size=60),
    st.builds(lambda unit, n: unit * n,
              st.sampled_from(["a=1\n", "a=1;", "x,", "\n", "é", "[(", "def f():\n  pass\n"]),
              st.integers(min_value=0, max_value=900)),
)  # fmt: skip
sources = st.one_of(code_texts, st.lists(code_texts, max_size=4), json_values)
cells = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw", 3]), "source": sources},
    optional={
        "metadata": st.one_of(
            st.fixed_dictionaries({"tags": st.sampled_from([["graded"], [], "graded", [1]])}),
            json_values,
        ),
        "outputs": st.lists(json_values, max_size=3),
    },
)
notebook_documents = st.one_of(
    st.builds(lambda cs, extra: {"cells": cs, "nbformat": 4, "metadata": {"x": extra}},
              st.lists(cells, max_size=16), json_values),
    json_values,
)  # fmt: skip


def _parsed_within_bounds(parsed: list[str]):
    """An `ast` module for the submission reader that records what it parses."""
    import ast
    import types

    module = types.ModuleType("ast")
    module.__dict__.update(ast.__dict__)

    def parse(source, *args, **kwargs):
        parsed.append(source)
        return ast.parse(source, *args, **kwargs)

    module.parse = parse
    return module


@FUZZ
@given(document=notebook_documents, code=code_texts, as_py=st.booleans())
def test_input_readers_refuse_by_name_or_parse_only_what_is_within_the_bounds(
    tmp_path_factory, document, code, as_py
) -> None:
    from autograder import submission

    folder = tmp_path_factory.mktemp("bounds")
    if as_py:
        path, text = folder / "odd.py", code
    else:
        path, text = folder / "odd.ipynb", json.dumps(document)
    path.write_text(text)
    parsed: list[str] = []
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, bound in SMALL_BOUNDS.items():
                patch.setattr(submission, name, bound)
            patch.setattr(submission, "ast", _parsed_within_bounds(parsed))
            try:
                loaded = submission.load_submission(path)
            except SubmissionError as exc:
                loaded, refusal = None, str(exc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bound = next((w for w in ("larger", "values", "cells", "bytes", "lines", "tokens",
                              "statements") if loaded is None and w in refusal), None)  # fmt: skip
    event(f"refused ({bound})" if loaded is None else f"read ({len(parsed)} parsed)")
    size = len(text.encode("utf-8"))
    if size > SMALL_BOUNDS["MAX_CODE_BYTES" if as_py else "MAX_SUBMISSION_BYTES"]:
        assert loaded is None and "larger than" in refusal
    if loaded is None:
        assert path.name in refusal or "notebook" in refusal
    # Whatever was parsed was within every code bound, counted on the text.
    assert (
        sum(len(s.encode("utf-8", "replace")) for s in parsed) <= 3 * SMALL_BOUNDS["MAX_CODE_BYTES"]
    )  # a cell may be parsed twice (its imports, its names), a .py once
    for source in parsed:
        assert len(source.encode("utf-8", "replace")) <= SMALL_BOUNDS["MAX_CODE_BYTES"]
        assert source.count("\n") + 1 <= SMALL_BOUNDS["MAX_CODE_LINES"]
        assert submission.TOKENISH.subn("", source)[1] <= SMALL_BOUNDS["MAX_CODE_TOKENS"]


npy_headers = st.fixed_dictionaries(
    {
        "descr": st.sampled_from(["<f8", "|b1", "<i4", ">u2", "<c16", "|O", "<U3", "|V8",
                                  "<M8[s]", "<f16", [("a", "<f8")], ("<f8", (50,))]),
        "fortran_order": st.booleans(),
        "shape": st.lists(st.integers(min_value=-2, max_value=10**12), max_size=40).map(tuple),
    }
)  # fmt: skip


@FUZZ
@given(header=npy_headers, data=st.binary(max_size=2_000), max_elements=st.integers(1, 300))
def test_array_headers_of_any_shape_are_read_within_their_bound_or_refused(
    tmp_path_factory, header, data, max_elements
) -> None:
    from autograder.readers.observations import read_array

    path = tmp_path_factory.mktemp("npy") / "a.npy"
    with path.open("wb") as handle:
        try:
            np.lib.format.write_array_header_1_0(handle, header)
        except ValueError:
            handle.write(b"\x93NUMPY\x01\x00garbage")
        handle.write(data)
    tracemalloc.start()
    try:
        array = read_array(path, max_elements=max_elements)
    except ObservationError:
        array = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 2**20
    if array is not None:
        assert array.size <= max_elements and array.dtype.kind in "biuf"
        assert array.dtype.itemsize <= 8 and array.shape == header["shape"]

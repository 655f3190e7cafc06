"""Only validated plain data crosses back from the child."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder.child.model_vetting import ModelLimits
from autograder.child.schema import SchemaError
from autograder.exercise_spec import load_exercise
from autograder.exercises.fashion_mnist.constants import MODEL_LIMITS
from autograder.readers.observations import (
    ObservationError,
    read_array,
    read_json,
    read_keras_archive,
    read_observations,
)
from autograder.sandbox.outcome import PartRun
from autograder.scoring.feedback import CheckFailed, format_error, part_failure
from autograder.scoring.keras_models import normalise
from autograder.scoring.observed import Observed
from autograder.scoring.run import score

EXERCISE = load_exercise("fashion_mnist")


def vet_keras_archive(path: Path) -> None:
    read_keras_archive(path, MODEL_LIMITS)


def test_pickled_and_object_arrays_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ObservationError, match="not a plain .npy"):
        read_array(tmp_path / "obj.npy")
    np.save(tmp_path / "str.npy", np.array(["a", "b"]))
    with pytest.raises(ObservationError, match="not a numeric array"):
        read_array(tmp_path / "str.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(ObservationError):
        read_array(tmp_path / "junk.npy")
    np.save(tmp_path / "ok.npy", np.arange(3))
    assert read_array(tmp_path / "ok.npy").tolist() == [0, 1, 2]


def test_json_must_be_an_object(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1]")
    with pytest.raises(ObservationError, match="object"):
        read_json(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("{")
    with pytest.raises(ObservationError, match="not valid JSON"):
        read_json(tmp_path / "b.json")
    with pytest.raises(ObservationError, match="not written"):
        read_json(tmp_path / "missing.json")


def _archive(path: Path, config: dict) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    return path


def test_keras_archives_with_foreign_code_are_refused(tmp_path: Path) -> None:
    lam = {"module": "keras.layers", "class_name": "Lambda", "config": {}}
    with pytest.raises(ObservationError, match="Lambda"):
        vet_keras_archive(_archive(tmp_path / "l.keras", {"config": {"layers": [lam]}}))
    evil = {"module": "os", "class_name": "system", "config": {}}
    with pytest.raises(ObservationError, match="module 'os'"):
        vet_keras_archive(_archive(tmp_path / "e.keras", {"config": {"layers": [evil]}}))
    (tmp_path / "z.keras").write_bytes(b"not a zip")
    with pytest.raises(ObservationError, match="not a valid saved model"):
        vet_keras_archive(tmp_path / "z.keras")
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 10}}
    model = {"class_name": "Sequential", "config": {"layers": [dense]}}
    vet_keras_archive(_archive(tmp_path / "ok.keras", model))


def test_malformed_observations_fail_the_check_without_raising(tmp_path: Path) -> None:
    (tmp_path / "scale_images.json").write_text(json.dumps({"result": {"saved": True}}))
    (tmp_path / "scale_images.result.npy").write_bytes(b"garbage")
    obs = read_observations(tmp_path, "scale_images", PartRun("ok"), EXERCISE.schema)
    found = Observed({"scale_images": obs}, {"scale_images": part_failure(obs)}, None)
    results = score(EXERCISE, found, ("scale_images",))
    assert len(results) == 4 and all(r.score == 0 for r in results)
    assert any("Not gradable" in r.output for r in results)


def test_the_schema_drops_values_of_the_wrong_kind(tmp_path: Path) -> None:
    forged = {"result_changed": {"no": 1}, "result": 1, "secret": True}
    (tmp_path / "scale_images.json").write_text(json.dumps(forged))
    obs = read_observations(tmp_path, "scale_images", PartRun("ok"), EXERCISE.schema)
    assert obs.get("result_changed") is None and obs.get("result") is None
    assert dict(obs.data) == {}


def test_a_grader_reading_an_undeclared_key_is_a_grader_bug(tmp_path: Path) -> None:
    (tmp_path / "scale_images.json").write_text(json.dumps({"result_changed": []}))
    obs = read_observations(tmp_path, "scale_images", PartRun("ok"), EXERCISE.schema)
    with pytest.raises(SchemaError, match="input_changed"):
        obs.get("input_changed")  # a renamed key fails loudly instead of scoring 0


def test_the_probe_cannot_record_an_undeclared_key(tmp_path: Path) -> None:
    from autograder.child.harness import Recorder

    rec = Recorder(str(tmp_path), "scale_images", EXERCISE.schema)
    rec.data["result_changed"] = []
    with pytest.raises(SchemaError, match="input_changed"):
        rec.data["input_changed"] = True
    with pytest.raises(SchemaError):
        rec.data.update(result_shape=[1])


def test_every_schema_key_a_grader_reads_is_declared() -> None:
    """Graders only read declared keys: scoring a full set of empty observations raises no
    SchemaError (a renamed key would be reported as a broken grader, never a silent 0)."""
    found = Observed(
        {
            part: read_observations(Path("/nonexistent"), part, PartRun("skipped"), EXERCISE.schema)
            for part in EXERCISE.part_names
        },
        dict.fromkeys(EXERCISE.part_names),
        None,
    )
    for result in score(EXERCISE, found, EXERCISE.part_names):
        assert "grader itself is broken" not in result.output, result.name


def test_part_failure_messages() -> None:
    obs = read_observations(
        Path("/nonexistent"), "build_model", PartRun("timeout", "timed out after 5 s")
    )
    assert part_failure(obs) == "build_model timed out after 5 s."
    obs = read_observations(Path("/nonexistent"), "build_model", PartRun("ok"))
    assert "left no readable observations" in part_failure(obs)


def test_traceback_is_trimmed_to_student_lines() -> None:
    error = {
        "type": "ValueError",
        "message": "bad",
        "frames": [
            {"file": "<cell build_model>", "line": 3, "function": "build_model", "code": "x = y"}
        ],
    }
    text = format_error(error)
    assert text == "  cell build_model, line 3, in build_model\n    x = y\nValueError: bad"


def test_check_failed_carries_feedback() -> None:
    failed = CheckFailed(expected="a", received="b", hint="c")
    assert failed.feedback.render() == "Expected: a\nReceived: b\nLikely cause: c"


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("sparse_categorical_crossentropy", "sparsecategoricalcrossentropy"),
        (
            {"class_name": "SparseCategoricalCrossentropy", "config": {}},
            "sparsecategoricalcrossentropy",
        ),
        (
            {
                "module": "builtins",
                "class_name": "function",
                "config": "sparse_categorical_crossentropy",
            },
            "sparsecategoricalcrossentropy",
        ),
        ({"module": "keras.optimizers", "class_name": "Adam"}, "adam"),
        (None, ""),
    ],
)
def test_compile_identifiers_are_normalised(identifier, expected: str) -> None:
    assert normalise(identifier) == expected


CONV_LIMITS = ModelLimits(
    frozenset({"InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Lambda2"}),
    max_params=1_000_000,
    max_width=100_000,
    max_macs=20_000_000,
)


def _conv_model(*layers: dict) -> dict:
    return {
        "class_name": "Sequential",
        "config": {"layers": list(layers), "build_input_shape": [None, 28, 28, 1]},
    }


def _layer(kind: str, **config) -> dict:
    return {"module": "keras.layers", "class_name": kind, "config": config}


def test_convolutions_are_bounded_by_their_weights_width_and_work() -> None:
    from autograder.readers.keras_archive import ArchiveError, vet_config

    conv = _layer("Conv2D", filters=64, kernel_size=[3, 3], strides=[1, 1], padding="valid")
    pool = _layer("MaxPooling2D", pool_size=[2, 2], strides=[2, 2], padding="valid")
    reference = [conv, pool, dict(conv), dict(pool), _layer("Flatten"), _layer("Dense", units=128)]
    vet_config(_conv_model(*reference), CONV_LIMITS)  # the exercise's CNN: about 5 M multiply-adds
    wide = _layer("Conv2D", filters=200, kernel_size=[3, 3], padding="same")
    with pytest.raises(ArchiveError, match="values per image"):  # 28 x 28 x 200 outputs
        vet_config(_conv_model(wide), CONV_LIMITS)
    costly = [conv, _layer("Conv2D", filters=128, kernel_size=[5, 5])]
    with pytest.raises(ArchiveError, match="multiply-adds"):  # few weights, used everywhere
        vet_config(_conv_model(*costly), CONV_LIMITS)
    narrow = _layer("Conv2D", filters=8, kernel_size=[3, 3])
    heavy = [narrow, _layer("Flatten"), _layer("Dense", units=256)]  # 26 * 26 * 8 -> 256
    with pytest.raises(ArchiveError, match="parameters"):
        vet_config(_conv_model(*heavy), CONV_LIMITS)
    with pytest.raises(ArchiveError, match="cannot bound"):
        vet_config(_conv_model(_layer("Lambda2")), CONV_LIMITS)
    with pytest.raises(ArchiveError, match="kernel_size"):
        vet_config(_conv_model(_layer("Conv2D", filters=8, kernel_size="big")), CONV_LIMITS)


def test_a_schema_with_an_unknown_kind_is_refused_when_loaded() -> None:
    from autograder.child.schema import check_schema

    check_schema(EXERCISE.schema)
    with pytest.raises(SchemaError, match="unknown kind 'arry'"):
        check_schema({"scale_images": {"result": "arry"}})


def _model_file(path: Path, model) -> Path:
    from autograder.child.keras_tools import write_keras_model

    with path.open("wb") as handle:
        write_keras_model(handle, model)
    return path


def _small_model():
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(8, activation="relu"),
         keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_saved_model_is_rebuilt_from_its_config_and_plain_arrays_without_hdf5(
    tmp_path: Path, monkeypatch
) -> None:
    import h5py

    from autograder.readers.observations import compile_config, load_model, trained_steps

    model = _small_model()
    images = np.random.default_rng(0).random((32, 28, 28), dtype=np.float32)
    model.fit(images, np.arange(32) % 10, epochs=1, batch_size=8, verbose=0)
    path = _model_file(tmp_path / "m.model", model)

    def no_hdf5(*args, **kwargs):
        raise AssertionError("the grader opened an HDF5 file the child wrote")

    monkeypatch.setattr(h5py, "File", no_hdf5)
    loaded = load_model(path, MODEL_LIMITS)
    assert np.array_equal(loaded(images).numpy(), model(images).numpy())
    assert trained_steps(path, MODEL_LIMITS) == 4
    assert compile_config(path, MODEL_LIMITS)["loss"] == "sparse_categorical_crossentropy"


def _hdf5_bytes(tmp_path: Path, **dataset) -> bytes:
    import h5py

    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as store:
        store.create_dataset("optimizer/vars/0", **dataset)
    return path.read_bytes()


def test_hdf5_tricks_in_a_model_file_read_nothing_and_allocate_nothing(tmp_path: Path) -> None:
    """The two HDF5 attacks of the old `.keras` route: a dataset stored in an external file
    (it made the grader read any host file, the secret included) and an unwritten dataset of
    160 million values (HDF5 filled 5.5 GiB from its fill value). In a model file HDF5 bytes are
    only bytes: they never reach h5py, and their length is checked against the model's own."""
    from autograder.readers.observations import load_model, trained_steps

    secret = tmp_path / "secret"
    secret.write_bytes(b"S" * 32)
    external = _hdf5_bytes(tmp_path, shape=(4,), dtype="<u8", external=[(str(secret), 0, 32)])
    bomb = _hdf5_bytes(tmp_path, shape=(160_000_000,), dtype="<f4", chunks=(1_000_000,))
    assert len(bomb) < 100_000
    real = _model_file(tmp_path / "real.model", _small_model())
    with zipfile.ZipFile(real) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name, payload in [("external", external), ("bomb", bomb)]:
        whole = tmp_path / f"{name}_whole.model"
        whole.write_bytes(payload)
        as_weights = tmp_path / f"{name}_weights.model"
        with zipfile.ZipFile(as_weights, "w") as archive:
            for member, data in {**members, "weights.bin": payload}.items():
                archive.writestr(member, data)
        for path in (whole, as_weights):
            with pytest.raises(ObservationError) as refused:
                load_model(path, MODEL_LIMITS)
            assert "S" * 8 not in str(refused.value)
        with pytest.raises(ObservationError, match="not a valid saved model"):
            trained_steps(whole, MODEL_LIMITS)
        with pytest.raises(ObservationError, match="weights take"):
            load_model(as_weights, MODEL_LIMITS)


def test_a_manifest_that_lies_is_refused_with_what_differs(tmp_path: Path) -> None:
    from autograder.readers.observations import load_model

    real = _model_file(tmp_path / "real.model", _small_model())
    with zipfile.ZipFile(real) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members["weights.json"])
    manifest["layers"][1]["weights"][0]["shape"] = [10**6, 10**6]
    forged = tmp_path / "forged.model"
    with zipfile.ZipFile(forged, "w") as archive:
        for member, data in {**members, "weights.json": json.dumps(manifest)}.items():
            archive.writestr(member, data)
    with pytest.raises(ObservationError, match=r"stored as float32 of shape \[1000000, 1000000\]"):
        load_model(forged, MODEL_LIMITS)


def test_a_config_that_understates_its_shapes_is_refused_once_built(tmp_path: Path) -> None:
    """The vetting trusts a layer's saved build shape (Keras builds the weights from it), but a
    convolution's work depends on the shape the graph really feeds it: a Conv2D saved as built
    on 28 x 28 that runs on 316 x 316 is measured again on the built model and refused."""
    import keras

    from autograder.exercises.fashion_mnist_cnn.constants import MODEL_LIMITS as CNN_LIMITS
    from autograder.readers.observations import load_model

    model = keras.Sequential(
        [keras.Input((316, 316, 1)), keras.layers.Conv2D(1, 41, padding="same"), keras.layers.Flatten(),
         keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    honest = _model_file(tmp_path / "honest.model", model)
    with pytest.raises(ObservationError, match="multiply-adds"):
        load_model(honest, CNN_LIMITS)  # refused from the config alone
    with zipfile.ZipFile(honest) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    conv = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Conv2D")
    conv["build_config"]["input_shape"] = [None, 28, 28, 1]
    lying = tmp_path / "lying.model"
    with zipfile.ZipFile(lying, "w") as archive:
        for member, data in {**members, "config.json": json.dumps(config)}.items():
            archive.writestr(member, data)
    with pytest.raises(ObservationError, match="multiply-adds"):
        load_model(lying, CNN_LIMITS)


def test_json_of_too_many_values_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """4 MiB of `{},` would be 1.4 million objects (about 100 MB) once parsed: counted first."""
    from autograder.readers.observations import MAX_JSON_BYTES, MAX_JSON_VALUES

    path = tmp_path / "part.json"
    path.write_text('{"x": [' + ",".join(["{}"] * 1_000_000) + "]}")  # 3 MB, 70 MB parsed
    tracemalloc.start()
    try:
        with pytest.raises(ObservationError, match=f"at most {MAX_JSON_VALUES:,}"):
            read_json(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MAX_JSON_BYTES  # the bytes read, never the objects
    path.write_text('{"x": [' + ",".join(["{}"] * 1000) + "]}")
    assert len(read_json(path)["x"]) == 1000

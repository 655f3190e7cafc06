"""Only validated plain data crosses back from the child."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder.checks.base import CheckFailed, format_error, part_failure, run_check
from autograder.checks.model import normalise
from autograder.observations import (
    ObservationError,
    read_array,
    read_json,
    read_observations,
    vet_keras_archive,
)
from autograder.sandbox.runner import PartRun


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
    with pytest.raises(ObservationError, match="not a valid .keras"):
        vet_keras_archive(tmp_path / "z.keras")
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 10}}
    model = {"class_name": "Sequential", "config": {"layers": [dense]}}
    vet_keras_archive(_archive(tmp_path / "ok.keras", model))


def test_malformed_observations_fail_the_check_without_raising(tmp_path: Path) -> None:
    from autograder.checks import rubric

    (tmp_path / "scale_images.json").write_text(json.dumps({"result": {"saved": True}}))
    (tmp_path / "scale_images.result.npy").write_bytes(b"garbage")
    obs = read_observations(tmp_path, "scale_images", PartRun("ok"))
    item = next(c for c in rubric() if c.part == "scale_images")
    result = run_check(item, obs, None, part_failure(obs))  # type: ignore[arg-type]
    assert result.score == 0 and "Not gradable" in result.output


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

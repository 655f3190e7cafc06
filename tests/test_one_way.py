"""One way to define a part: declared calls (autograder/declare.py). No exercise carries a
hand-written probe or schema, a part without calls is refused when the exercise is defined,
and the child runs only declared calls (it looks up no `probe_<part>` function)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.child.harness import Probe
from autograder.exercise_spec import EXERCISES_DIR, Part, available_exercises, load_exercise
from autograder.sandbox.workdir import CHILD_PACKAGE, child_files


def test_no_exercise_folder_has_a_probes_or_schema_file() -> None:
    folders = [EXERCISES_DIR / name for name in available_exercises()]
    assert len(folders) >= 4  # the course's exercises, not an empty glob
    left = [
        str(f / name) for f in folders for name in ("probes.py", "schema.py") if (f / name).exists()
    ]
    assert left == []


def test_every_part_of_every_exercise_declares_its_calls() -> None:
    for name in available_exercises():
        exercise = load_exercise(name)
        assert set(exercise.declared) == set(exercise.part_names), name
        assert set(exercise.schema) == set(exercise.part_names), name


def test_a_part_without_calls_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="part 'train_model' declares no calls"):
        Part("train_model", timeout=10)
    with pytest.raises(ValueError, match="part 'predict' declares no calls"):
        Part("predict", timeout=10, calls=())


def test_the_child_package_has_no_probe_lookup_and_the_child_gets_only_the_package() -> None:
    sources = {path.name: path.read_text() for path in Path(CHILD_PACKAGE).glob("*.py")}
    assert "harness.py" in sources and "declared.py" in sources
    for name, text in sources.items():
        assert "probe_" not in text, name
        assert "probes_file" not in text and "schema_file" not in text, name
    files = child_files(load_exercise("housing_prices"))
    assert all(name.startswith("child/") for name in files), sorted(files)
    assert not hasattr(Probe, "drive_callback") and not hasattr(Probe, "train_and_record")

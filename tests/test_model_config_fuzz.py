"""The grader sizes a model's config before Keras builds any of it, and builds nothing over the
bounds (issue 31, items 4 and 5, and the rule "vet the whole model config tree").

A spy records, in order, every vetting of a config, every object Keras deserializes and every
weight a layer allocates. Whatever a child writes in a model file (nested models or layers in
any setting, missing or symbolic input shapes, layers saved as built for another shape, huge
layers), the grader either refuses it before Keras deserializes anything, or builds it after the
vetting passed and within the bounds, and never more weights than the vetting counted.
"""

from __future__ import annotations

import copy
import gc
import io
import json
import math
import weakref
import zipfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.child.keras_tools import write_keras_model
from autograder.child.model_vetting import ModelLimits
from autograder.exercises.fashion_mnist.constants import MODEL_LIMITS
from autograder.readers import keras_archive
from autograder.readers.keras_archive import Archive, ArchiveError, build_model, vet_config
from autograder.readers.observations import ObservationError, load_model

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples on every run: CI never flakes
)
LIMITS = ModelLimits(
    frozenset({"InputLayer", "Flatten", "Dense", "Dropout", "Reshape", "Conv2D", "MaxPooling2D",
               "BatchNormalization", "Activation"}),
    max_layers=12, max_params=40_000, max_width=4_000, max_macs=1_000_000, input_shape=(12, 12, 1),
)  # fmt: skip


class Spy:
    """What happened, in order: ("vet", passed), ("deserialize", class name), ("weight", size)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def first_passed_vetting(self) -> int | None:
        return next((i for i, e in enumerate(self.events) if e == ("vet", True)), None)

    def built(self) -> list[int]:
        return [i for i, (kind, _) in enumerate(self.events) if kind in ("deserialize", "weight")]

    def weights(self) -> int:
        return sum(size for kind, size in self.events if kind == "weight")


@contextmanager
def spying(monkeypatch):
    import keras
    from keras.src.layers.layer import Layer
    from keras.src.saving import serialization_lib

    spy = Spy()
    vet, add_weight = keras_archive.vet_config, Layer.add_weight
    deserialize = serialization_lib.deserialize_keras_object

    def spied_vet(config, limits):
        try:
            sized = vet(config, limits)
        except ArchiveError:
            spy.events.append(("vet", False))
            raise
        spy.events.append(("vet", True))
        return sized

    def spied_deserialize(config, *args, **kwargs):
        name = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        spy.events.append(("deserialize", name))
        return deserialize(config, *args, **kwargs)

    def spied_add_weight(layer, *args, **kwargs):
        shape = kwargs.get("shape", args[0] if args else None)
        spy.events.append(("weight", math.prod(shape) if shape else 1))
        return add_weight(layer, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(keras_archive, "vet_config", spied_vet)
        patch.setattr(serialization_lib, "deserialize_keras_object", spied_deserialize)
        patch.setattr(keras.saving, "deserialize_keras_object", spied_deserialize)
        patch.setattr(Layer, "add_weight", spied_add_weight)
        yield spy


def _members(model) -> dict[str, bytes]:
    buffer = io.BytesIO()
    write_keras_model(buffer, model)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bases() -> dict[str, dict[str, bytes]]:
    """Model files of the shapes students write, on LIMITS' (12, 12, 1) images."""
    import keras

    L = keras.layers
    sequential = keras.Sequential(
        [keras.Input((12, 12, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
         L.Flatten(), L.Dense(16, activation="relu"), L.Dense(10, activation="softmax")]
    )  # fmt: skip
    inputs = keras.Input((12, 12, 1))
    x = L.Conv2D(4, 3, kernel_initializer=keras.initializers.HeNormal(seed=1))(inputs)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Flatten()(x)
    x = L.Dropout(0.2)(x)
    functional = keras.Model(inputs, L.Dense(10, activation="softmax")(x))
    built_later = keras.Sequential([L.Flatten(), L.Dense(16), L.Dense(10, activation="softmax")])
    built_later.build((None, 12, 12, 1))
    # Unbuilt, as a file the child forged: no input shape anywhere, no weights.
    unbuilt = keras.Sequential([L.Flatten(), L.Dense(16), L.Dense(10, activation="softmax")])
    return {
        "sequential": _members(sequential),
        "functional": _members(functional),
        "built_later": _members(built_later),
        "unbuilt": _members(unbuilt),
    }


@pytest.fixture(scope="module")
def bases() -> dict[str, dict[str, bytes]]:
    return _bases()


def _nested_model(width: int) -> dict:
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, width], "dtype": "float32", "name": "inner_in"}}]  # fmt: skip
    for index in range(2):
        layers.append(
            {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"name": f"inner_{index}", "units": width, "activation": "linear"}}
        )  # fmt: skip
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "inner", "layers": layers}}  # fmt: skip


NESTED = [
    _nested_model(3000),  # 18 M weights if Keras deserializes it
    _nested_model(4),  # small, but a model inside a layer all the same
    {"module": "keras.layers", "class_name": "Dense", "config": {"units": 3000}},
    {"class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float32"}},
    {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": _nested_model(3000)},
    },  # fmt: skip
    {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "int8_from_float32"}},
    {
        "module": "builtins",
        "class_name": "function",
        "config": "eval",
        "registered_name": "function",
    },
    {"class_name": "__lambda__", "config": {"value": "lambda x: x"}},
    {
        "class_name": "__keras_tensor__",
        "config": {"shape": [None, 3000], "dtype": "float32", "keras_history": ["inner_in", 0, 0]},
    },  # fmt: skip
    {"a": {"b": _nested_model(3000)}},  # a plain dict, deserialized key by key
    [_nested_model(3000)],
    # Allowed: built-in objects with plain configs.
    "relu",
    {"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": 3}},
    {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01}},
    {"module": "keras.layers", "class_name": "LeakyReLU", "config": {"negative_slope": 0.1}},
]
KEYS = ["activation", "kernel_initializer", "bias_regularizer", "kernel_constraint", "dtype",
        "extra", "seed", "lora_rank"]  # fmt: skip

mutations = st.lists(
    st.one_of(
        st.tuples(
            st.just("nest"),
            st.integers(0, 20),
            st.sampled_from(KEYS),
            st.integers(0, len(NESTED) - 1),
        ),  # fmt: skip
        st.tuples(st.just("size"), st.integers(0, 20), st.integers(1, 100_000)),
        st.tuples(st.just("drop_input")),
        st.tuples(st.just("drop_build_configs")),
        st.tuples(st.just("symbolic"), st.integers(1, 3)),
        st.tuples(
            st.just("lie"),
            st.integers(0, 20),
            st.lists(st.integers(1, 5000) | st.none(), min_size=1, max_size=4),
        ),  # fmt: skip
        st.tuples(st.just("kernel"), st.integers(0, 20), st.integers(1, 40)),
    ),
    min_size=1,
    max_size=3,
)


def _mutate(config: dict, mutation: tuple) -> None:
    inner = config["config"]
    layers = inner["layers"]
    layer = layers[mutation[1] % len(layers)] if len(mutation) > 1 and layers else None
    kind = mutation[0]
    if kind == "nest":
        layer["config"][mutation[2]] = copy.deepcopy(NESTED[mutation[3]])
    elif kind == "size":
        for key in ("units", "filters"):
            if key in layer["config"]:
                layer["config"][key] = mutation[2]
    elif kind == "drop_input":
        inner["layers"] = [item for item in layers if item["class_name"] != "InputLayer"]
        inner.pop("build_input_shape", None)
        config.pop("build_config", None)
    elif kind == "drop_build_configs":
        for item in layers:
            item.pop("build_config", None)
    elif kind == "symbolic":
        for item in layers:
            shape = item["config"].get("batch_shape")
            if item["class_name"] == "InputLayer" and shape and mutation[1] < len(shape):
                shape[mutation[1]] = None
    elif kind == "lie":
        layer["build_config"] = {"input_shape": [None, *mutation[2]]}
    elif kind == "kernel" and "kernel_size" in layer["config"]:
        layer["config"]["kernel_size"] = [mutation[2], mutation[2]]


def test_nothing_is_built_before_it_is_sized_nor_over_the_bounds(bases, monkeypatch) -> None:
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(
        base=st.sampled_from(["sequential", "functional", "built_later", "unbuilt"]),
        changes=mutations,
    )
    def example(base, changes) -> None:
        members = bases[base]
        config = json.loads(members["config.json"])
        for change in changes:
            _mutate(config, change)
        with spying(monkeypatch) as spy:
            try:
                model = build_model(Archive(dict(members), config), LIMITS)
            except ArchiveError:
                model = None
        passed = spy.first_passed_vetting()
        built = spy.built()
        if passed is None:
            assert built == [], f"Keras built {spy.events[:5]} from a config the vetting refused"
            outcomes["refused unbuilt"] += 1
        else:
            assert all(i > passed for i in built), spy.events[:8]
            assert spy.weights() <= LIMITS.max_params, spy.weights()
            assert spy.weights() <= vet_config(config, LIMITS).params, spy.weights()
            outcomes["built within the bounds"] += 1
        deserialized = [name for kind, name in spy.events if kind == "deserialize"]
        # No model inside the model, no array or code from the config, whatever was accepted.
        forbidden = {"Sequential", "Functional", "__numpy__", "__lambda__", "__tensor__"}
        assert not forbidden & set(deserialized[1:]), deserialized
        if model is not None:
            outcomes["loaded"] += 1
            assert int(model.count_params()) <= LIMITS.max_params
        del model
        gc.collect()

    example()
    # Both sides of the property were exercised, not only refusals.
    assert outcomes["refused unbuilt"] >= 20 and outcomes["built within the bounds"] >= 20, outcomes
    print(dict(outcomes))


@pytest.mark.parametrize("base", ["sequential", "functional", "built_later"])
def test_honest_models_are_built_as_sized(bases, monkeypatch, base) -> None:
    members = bases[base]
    archive = Archive(dict(members), json.loads(members["config.json"]))
    with spying(monkeypatch) as spy:
        model = build_model(archive, LIMITS)
    sized = vet_config(archive.config, LIMITS)
    assert int(model.count_params()) == sized.params == spy.weights()
    assert spy.events[0] == ("vet", True)


def test_an_unbuilt_model_of_a_forged_file_is_built_on_the_exercises_shape_only(
    bases, monkeypatch
) -> None:
    """A Sequential without any input shape is sized on the exercise's (12, 12, 1) images and
    built on exactly them by the grader (not by its first call); its file has no weights for
    them, so it is refused, with what differs."""
    members = bases["unbuilt"]
    archive = Archive(dict(members), json.loads(members["config.json"]))
    assert vet_config(archive.config, LIMITS).params == (144 + 1) * 16 + (16 + 1) * 10
    with spying(monkeypatch) as spy, pytest.raises(ArchiveError, match="weights cannot be used"):
        build_model(archive, LIMITS)
    assert spy.weights() == (144 + 1) * 16 + (16 + 1) * 10
    with pytest.raises(ArchiveError, match="declares no input shape"):
        vet_config(archive.config, ModelLimits(LIMITS.layers))


def _model_file(path: Path, model) -> Path:
    path.write_bytes(_zip(_members(model)))
    return path


def test_item_4_an_unbuilt_model_is_sized_on_the_exercises_images_and_refused(
    tmp_path, monkeypatch
) -> None:
    """Flatten, Dense(16000), Dense(16000), Dense(10) without an input: once counted as
    `units` parameters per Dense, it is 269 M parameters on Fashion-MNIST's 28 x 28 images."""
    import keras

    L = keras.layers
    model = keras.Sequential([L.Flatten(), L.Dense(16000), L.Dense(16000), L.Dense(10)])
    path = _model_file(tmp_path / "unsized.model", model)
    with spying(monkeypatch) as spy, pytest.raises(ObservationError, match="5,000,000 parameters"):
        load_model(path, MODEL_LIMITS)
    assert spy.built() == []


def test_item_5_a_model_nested_in_a_layer_is_refused_before_keras_reads_it(
    tmp_path, monkeypatch
) -> None:
    import keras

    L = keras.layers
    model = keras.Sequential(
        [keras.Input((28, 28)), L.Flatten(), L.Dense(8), L.Dense(10, activation="softmax")]
    )
    members = _members(model)
    config = json.loads(members["config.json"])
    nested = _nested_model(10000)
    config["config"]["layers"][-1]["config"]["activation"] = nested
    path = tmp_path / "nested.model"
    path.write_bytes(_zip({**members, "config.json": json.dumps(config).encode()}))
    with (
        spying(monkeypatch) as spy,
        pytest.raises(ObservationError, match="Sequential object in 'activation'"),
    ):
        load_model(path, MODEL_LIMITS)
    assert spy.built() == []
    # The exercise's layer classes bind nested objects too: not even an allowed class may nest.
    config["config"]["layers"][-1]["config"]["activation"] = {
        "module": "keras.layers", "class_name": "Dense", "config": {"units": 10}
    }  # fmt: skip
    with pytest.raises(ArchiveError, match="Dense object in 'activation'"):
        vet_config(config, MODEL_LIMITS)


def test_a_loaded_model_is_freed_once_its_observations_are(tmp_path) -> None:
    """Nothing the grader loads outlives its check: the graders' cache of a part's models
    lives in that part's observations, and a model is collected once they are dropped."""
    import keras

    from autograder.readers.observations import PartObservation
    from autograder.sandbox.outcome import PartRun
    from autograder.scoring.keras_models import load_saved

    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    _model_file(tmp_path / "build_model.default.model", model)
    obs = PartObservation("build_model", PartRun("ok"), tmp_path, limits=MODEL_LIMITS)
    loaded = load_saved(obs, "default")
    assert load_saved(obs, "default") is loaded  # one load per grading, however many graders
    ref = weakref.ref(loaded)
    del loaded, obs
    gc.collect()
    assert ref() is None, "the grader kept a student's model alive after its observations"


def test_a_refused_model_is_freed_at_once(tmp_path, monkeypatch) -> None:
    """A model Keras built but the grader then refuses (here: weights of another shape) is
    collected before the refusal reaches the grader's code."""
    import keras
    from keras.src.models.model import Model

    made: list[weakref.ref] = []
    original = Model.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(Model, "__init__", recording)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(4)])
    members = _members(model)
    del model
    members["weights.bin"] = members["weights.bin"][:-4]
    path = tmp_path / "short.model"
    path.write_bytes(_zip(members))
    made.clear()
    with pytest.raises(ObservationError, match="weights take"):
        load_model(path, MODEL_LIMITS)
    assert made and all(ref() is None for ref in made)


HONEST_LIMITS = ModelLimits(
    frozenset({"InputLayer", "Flatten", "Dense", "Dropout", "Rescaling", "BatchNormalization",
               "LayerNormalization", "Softmax", "Conv2D", "MaxPooling2D", "Reshape"}),
    input_shape=(28, 28),
)  # fmt: skip


def _honest_models() -> dict:
    import keras
    import tensorflow as tf

    L = keras.layers
    inputs = keras.Input((28, 28))
    x = L.Flatten()(inputs)
    outputs = L.Dense(10, activation=tf.nn.softmax)(L.Dense(32, activation=tf.nn.relu)(x))
    return {
        "tf.nn activations, functional": keras.Model([inputs], [outputs]),
        "activation objects and settings": keras.Sequential([
            keras.Input((28, 28)), L.Rescaling(1 / 255.0), L.Flatten(), L.BatchNormalization(),
            L.Dense(32, activation=L.LeakyReLU(0.1), kernel_initializer=keras.initializers.HeNormal(1),
                    kernel_regularizer=keras.regularizers.l2(0.01),
                    kernel_constraint=keras.constraints.MaxNorm(3), dtype="float64"),
            L.Dropout(0.2, seed=1), L.LayerNormalization(), L.Dense(10), L.Softmax(),
        ]),
        "no Flatten": keras.Sequential([keras.Input((28, 28)), L.Dense(16), L.Dense(10)]),
        "reshaped for a convolution": keras.Sequential([
            keras.Input((28, 28)), L.Reshape((28, 28, 1)), L.Conv2D(4, 3, padding="same"),
            L.MaxPooling2D(), L.Flatten(), L.Dense(10, activation="softmax"),
        ]),
        "784 inputs (a wrong input shape is graded, not refused)": keras.Sequential(
            [keras.Input((784,)), L.Dense(10, activation="softmax")]
        ),
    }  # fmt: skip


@pytest.mark.parametrize("name", list(_honest_models()))
def test_honest_settings_are_built_as_sized(tmp_path, name) -> None:
    model = _honest_models()[name]
    path = _model_file(tmp_path / "m.model", model)
    sized = vet_config(json.loads(_members(model)["config.json"]), HONEST_LIMITS)
    loaded = load_model(path, HONEST_LIMITS)
    assert int(loaded.count_params()) == sized.params == int(model.count_params())


def _edited(config: dict, edit) -> dict:
    config = copy.deepcopy(config)
    edit(config, config["config"]["layers"])
    return config


REFUSALS = {
    "LoRA adapters": (lambda c, ls: ls[2]["config"].update(lora_rank=10**6), "lora_rank"),
    "a quantized dtype policy": (
        lambda c, ls: ls[2]["config"]["dtype"]["config"].update(name="int8_from_float32"),
        "DTypePolicy object in 'dtype'",
    ),
    "a shared object": (lambda c, ls: ls[2].update(shared_object_id=1), "shared_object_id"),
    "a legacy layer without a module": (lambda c, ls: ls[2].pop("module"), "names no Keras module"),
    "an array value": (
        lambda c, ls: ls[2]["config"].update(
            bias_initializer={"class_name": "__numpy__", "config": {"value": [1], "dtype": "f"}}
        ),
        "__numpy__ object in 'bias_initializer'",
    ),
    "an axis of unknown size": (
        lambda c, ls: (
            c.pop("build_config", None),
            c["config"].pop("build_input_shape", None),
            ls[0]["config"].update(batch_shape=[None, None, None, 5]),
        ),
        "axes of unknown size",
    ),
    "a build shape the layer does not receive": (
        lambda c, ls: ls[2].update(build_config={"input_shape": [None, 3000]}),
        "saved as built for inputs of shape (3000,)",
    ),
    "a model nested in an initializer's seed": (
        lambda c, ls: ls[2]["config"]["kernel_initializer"]["config"].update(
            seed=_nested_model(3000)
        ),
        "GlorotUniform object in 'kernel_initializer'",
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_what_the_grader_cannot_size_is_refused_with_a_reason(monkeypatch, name) -> None:
    import keras

    L = keras.layers
    model = keras.Sequential(
        [keras.Input((28, 28)), L.Flatten(), L.Dense(8), L.Dense(10, activation="softmax")]
    )
    members = _members(model)
    edit, reason = REFUSALS[name]
    config = _edited(json.loads(members["config.json"]), edit)
    with spying(monkeypatch) as spy, pytest.raises(ArchiveError) as refused:
        build_model(Archive(dict(members), config), MODEL_LIMITS)
    assert reason in str(refused.value)
    assert spy.built() == []


def test_no_model_the_grader_loads_outlives_the_grading(grader, tmp_path, monkeypatch) -> None:
    """Through a real grading of the reference's build_model: every model the graders loaded
    is collected once the grading returned (no process-wide cache keeps it)."""
    from fashion import reference_source
    from hostile_submissions import grade

    from autograder.readers import observations

    made: list[weakref.ref] = []
    original = observations.build_model

    def recording(archive, limits):
        model = original(archive, limits)
        made.append(weakref.ref(model))
        return model

    monkeypatch.setattr(observations, "build_model", recording)
    report = grade(grader, tmp_path, reference_source(), parts=("build_model",))
    assert report.part_score("build_model")[0] == report.part_score("build_model")[1] > 0
    del report
    gc.collect()
    assert made and all(ref() is None for ref in made), f"{len(made)} models loaded"

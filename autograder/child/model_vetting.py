"""Vetting a Keras model's config before anything runs it: what the grader will build and run.

Plain JSON in, a verdict out, before Keras sees a byte of it:

1. **The whole tree is allow-listed.** Every object in the config is one the grader knows at
   the place it stands: the model (Sequential or Functional), the exercise's layer classes, and
   inside a layer only plain values (numbers, short strings, short lists of numbers) or a
   built-in activation, initializer, regularizer, constraint or dtype policy, by name or as a
   small object with a plain config. Keras deserializes every nested object it meets (a Dense
   layer whose `activation` is a whole Sequential model is built while the config is read), so
   anything else is refused, however deep: nested models or layers, `__numpy__` values, shared
   objects, quantization and LoRA settings, legacy layer configs without a module.
2. **The model is sized on the exercise's own input** (`ModelLimits.input_shape`): the
   parameter count, every layer's width and the multiply-adds per example are computed layer
   by layer from that shape (or the one the model declares, which must be concrete) *before*
   Keras allocates a single weight. What cannot be computed is refused: an unknown layer class,
   a missing or symbolic input shape, a layer saved as built for another shape than it
   receives, a reshape that does not fit.

Standard library only: the grader vets every model the child saves (autograder.readers.keras_archive),
and the child, which is copied this file, vets the student's model before training it, so that a
model the grader will refuse costs seconds instead of a training's time limit. Only the grader's
verdict counts.

Example:
    >>> limits = ModelLimits(frozenset({"InputLayer", "Flatten", "Dense"}), input_shape=(28, 28))
    >>> vet_config(config, limits).params
    407050
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ALLOWED_MODULES = ("keras", "builtins")
FORBIDDEN_CLASSES = {"Lambda", "TFSMLayer"}
MODEL_CLASSES = {"Sequential", "Functional"}
MAX_RANK = 8  # axes of an example, batch axis excluded
MAX_LIST = 16  # items of a plain list in a layer's config (kernel_size, axis, target_shape...)
MAX_TEXT = 200  # characters of a plain string in a config


class ArchiveError(ValueError):
    """The archive is not one the grader accepts; the message says why, for the student."""


@dataclass(frozen=True)
class ModelLimits:
    """What an exercise lets the grader load and run: layer classes, size, width and work, and
    the shape of one input example, on which the grader sizes a model."""

    layers: frozenset[str]
    max_layers: int = 32
    max_params: int = 5_000_000
    max_width: int = 100_000  # values per example in any layer's input or output
    # Multiply-adds per example, summed over the layers (convolutions reuse their weights, so
    # a small model can still cost a lot to run): the grader evaluates 10,000 test images.
    max_macs: int = 100_000_000
    # One example as the grader feeds it (no batch axis), e.g. (28, 28); None: the model must
    # declare a concrete input shape itself.
    input_shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        # As the child receives them: JSON lists.
        object.__setattr__(self, "layers", frozenset(self.layers))
        if self.input_shape is not None:
            object.__setattr__(self, "input_shape", tuple(self.input_shape))


@dataclass(frozen=True)
class Sized:
    """What the vetting computed: the input shape the model is built on (no batch axis), its
    parameters, its widest layer (values per example) and its multiply-adds per example."""

    input_shape: tuple[int, ...]
    params: int
    width: int
    macs: int


# -- what may stand inside a layer's config -------------------------------------------------------
ACTIVATIONS = frozenset(
    {"celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
     "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
     "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
     "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
     "tanh_shrink", "threshold",
     # tf.nn.softmax and tf.nn.log_softmax, saved under TensorFlow's names (the grader maps them)
     "softmax_v2", "log_softmax_v2"}
)  # fmt: skip
# Weightless layers a student may pass as an activation: Dense(64, activation=LeakyReLU(0.1)).
ACTIVATION_LAYERS = frozenset({"ReLU", "LeakyReLU", "Softmax", "ELU"})
INITIALIZERS = frozenset(
    {"Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
     "IdentityInitializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
     "OrthogonalInitializer", "RandomNormal", "RandomUniform", "TruncatedNormal",
     "VarianceScaling", "Zeros", "constant", "glorot_normal", "glorot_uniform", "he_normal",
     "he_uniform", "identity", "lecun_normal", "lecun_uniform", "normal", "one", "ones",
     "orthogonal", "random_normal", "random_uniform", "truncated_normal", "uniform",
     "variance_scaling", "zero", "zeros"}
)  # fmt: skip
REGULARIZERS = frozenset(
    {"L1", "L1L2", "L2", "OrthogonalRegularizer", "l1", "l1l2", "l1_l2", "l2",
     "orthogonal_regularizer"}
)  # fmt: skip
CONSTRAINTS = frozenset(
    {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm", "non_neg",
     "unit_norm"}
)  # fmt: skip
DTYPES = frozenset(
    {"float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16", "uint8",
     "int8", "int16", "int32", "int64", "bool"}
)  # fmt: skip
DTYPE_POLICIES = frozenset({"DTypePolicy", "FloatDTypePolicy"})
# Settings that allocate weights or swap the layer's computation (LoRA adapters, quantized
# kernels, batch renormalisation) or hand Keras a tensor: the grader does not size them.
UNSET = frozenset(
    {"lora_rank", "lora_alpha", "quantization_config", "renorm_clipping", "input_tensor"}
)
LAYER_KEYS = frozenset(
    {"module", "class_name", "config", "registered_name", "build_config", "name", "inbound_nodes"}
)
MODEL_KEYS = frozenset(
    {"module", "class_name", "config", "registered_name", "build_config", "compile_config"}
)
OBJECT_KEYS = frozenset({"module", "class_name", "config", "registered_name"})


def _text(value: Any) -> str:
    return str(value)[:100]


def _plain_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return value is None or isinstance(value, (bool, int, float))


def _plain(value: Any) -> bool:
    """A JSON scalar, or a short flat list of numbers (and None): nothing Keras deserializes."""
    if isinstance(value, list):
        return len(value) <= MAX_LIST and all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in value
        )
    return _plain_scalar(value)


def _refuse_object(where: str, key: str, value: Any) -> ArchiveError:
    if isinstance(value, dict) and "class_name" in value:
        found = f"a {_text(value.get('class_name'))} object"
    elif isinstance(value, (dict, list)):
        found = f"a nested {type(value).__name__}"
    else:
        found = repr(value)[:100]
    return ArchiveError(
        f"the model's {where} has {found} in {_text(key)!r}; the grader builds only Keras' "
        "built-in layers with built-in activations, initializers, regularizers and constraints "
        "(nested models and layers cannot be graded)"
    )


def _named_object(
    value: Any, names: frozenset[str], where: str, key: str, *, modules=("keras",)
) -> dict | None:
    """`value` as a small serialized object of one of `names` (class_name), with a plain
    config; None when `value` is a plain allowed name or None; ArchiveError otherwise."""
    if value is None or (isinstance(value, str) and value in names):
        return None
    if not isinstance(value, dict) or set(value) - OBJECT_KEYS:
        raise _refuse_object(where, key, value)
    kind = value.get("class_name")
    module = value.get("module")
    registered = value.get("registered_name")
    if (
        not isinstance(kind, str)
        or kind not in names
        or not isinstance(module, str)
        or not module.startswith(modules)
        or registered not in (None, kind)
    ):
        raise _refuse_object(where, key, value)
    config = value.get("config")
    if not isinstance(config, dict) or not all(_plain(v) for v in config.values()):
        raise _refuse_object(where, key, value)
    return value


def _check_activation(value: Any, where: str, key: str) -> None:
    if value is None or (isinstance(value, str) and value in ACTIVATIONS):
        return
    if isinstance(value, dict) and value.get("class_name") == "function":
        # A function saved by name: tf.nn.softmax is {"module": "builtins", "config": "softmax_v2"}.
        module = value.get("module")
        if (
            not set(value) - OBJECT_KEYS
            and isinstance(module, str)
            and module.startswith(ALLOWED_MODULES)
            and value.get("config") in ACTIVATIONS
            and value.get("registered_name") in (None, "function", value.get("config"))
        ):
            return
        raise _refuse_object(where, key, value)
    if isinstance(value, dict) and value.get("class_name") in ACTIVATION_LAYERS:
        # A weightless layer used as an activation: a Keras layer with a plain config.
        kind = value["class_name"]
        module = value.get("module")
        if (
            not set(value) - OBJECT_KEYS - {"build_config"}
            and isinstance(module, str)
            and module.startswith("keras")
            and value.get("registered_name") in (None, kind)
            and isinstance(value.get("config"), dict)
        ):
            _check_build_config(value.get("build_config"), f"{where} activation")
            _check_layer_config(kind, value["config"], f"{where} activation")
            return
    raise _refuse_object(where, key, value)


def _check_dtype(value: Any, where: str, key: str) -> None:
    if value is None or (isinstance(value, str) and value in DTYPES):
        return
    policy = _named_object(value, DTYPE_POLICIES, where, key)
    if (
        policy is None
        or policy["config"].get("name") not in DTYPES
        or set(policy["config"]) - {"name"}
    ):
        raise _refuse_object(where, key, value)


def _check_layer_config(kind: str, config: dict, where: str) -> None:
    """Every value of a layer's config is plain or an allowed nested object for its key."""
    for key, value in config.items():
        if not isinstance(key, str):
            raise ArchiveError(f"the model's {where} has a setting that is not named")
        if key == "dtype":
            _check_dtype(value, where, key)
        elif key == "activation":
            _check_activation(value, where, key)
        elif key.endswith("_initializer"):
            _named_object(value, INITIALIZERS, where, key)
        elif key.endswith("_regularizer"):
            _named_object(value, REGULARIZERS, where, key)
        elif key.endswith("_constraint"):
            _named_object(value, CONSTRAINTS, where, key)
        elif key in UNSET:
            if value is not None:
                raise ArchiveError(
                    f"the model's {where} sets {key}={repr(value)[:50]}; the grader does not "
                    "build layers with that setting"
                )
        elif not _plain(value):
            raise _refuse_object(where, key, value)


def _check_tree(config: dict[str, Any]) -> None:
    """The allow-list over every node of the config, before any shape is looked at."""
    for node in _nodes(config):
        module = node.get("module")
        if isinstance(module, str) and not module.startswith(ALLOWED_MODULES):
            raise ArchiveError(
                f"the model uses {_text(node.get('class_name', '?'))} from module "
                f"{module[:100]!r}; only Keras' built-in layers can be graded"
            )
        if node.get("class_name") in FORBIDDEN_CLASSES:
            raise ArchiveError(
                f"the model contains a {node['class_name']} layer, which cannot be loaded safely"
            )
    kind = config.get("class_name")
    if kind not in MODEL_CLASSES:
        raise ArchiveError(f"the saved object is a {_text(kind)}, not a model")
    unknown = set(config) - MODEL_KEYS
    if unknown:
        raise ArchiveError(f"the saved model has an unknown entry {_text(sorted(unknown)[0])!r}")
    module = config.get("module")
    if module is not None and not (isinstance(module, str) and module.startswith("keras")):
        raise ArchiveError(f"the saved model comes from module {_text(module)!r}")
    if config.get("registered_name") not in (None, kind):
        raise _refuse_object("model", "registered_name", config.get("registered_name"))
    _check_build_config(config.get("build_config"), "model")
    inner = config.get("config")
    if not isinstance(inner, dict):
        raise ArchiveError("the model's config lists no layers")
    for key, value in inner.items():
        if key == "layers":
            continue
        if key == "dtype":
            _check_dtype(value, "model", key)
        elif key in ("build_input_shape", "input_layers", "output_layers"):
            if not _json_list_of_plain(value):
                raise _refuse_object("model", key, value)
        elif not _plain(value):
            raise _refuse_object("model", key, value)


def _json_list_of_plain(value: Any) -> bool:
    """None, or a list of plain scalars and lists of plain scalars (a shape, a layer reference)."""
    if value is None:
        return True
    if not isinstance(value, list) or len(value) > MAX_LIST:
        return False
    return all(
        _plain_scalar(v)
        or (isinstance(v, list) and len(v) <= MAX_LIST and all(_plain_scalar(w) for w in v))
        for v in value
    )


def _check_build_config(value: Any, where: str) -> None:
    if value is None:
        return
    if (
        not isinstance(value, dict)
        or set(value) - {"input_shape"}
        or not _json_list_of_plain(value.get("input_shape"))
    ):
        raise _refuse_object(where, "build_config", value)


def _check_layer_entry(layer: Any, functional: bool) -> tuple[str, dict]:
    """A layer of the model's list: its class and config, allow-listed."""
    if not isinstance(layer, dict):
        raise ArchiveError("the model's config has a layer that is not an object")
    kind = layer.get("class_name")
    if kind in MODEL_CLASSES or kind == "Model":
        raise ArchiveError("models nested inside the model cannot be graded")
    unknown = set(layer) - LAYER_KEYS
    if unknown:
        raise ArchiveError(
            f"the model's {_text(kind)} layer has an unknown entry {_text(sorted(unknown)[0])!r}"
        )
    module = layer.get("module")
    if not isinstance(module, str) or not module.startswith("keras"):
        # Without a module, Keras reads the layer with its legacy loader.
        raise ArchiveError(f"the model's {_text(kind)} layer names no Keras module")
    if layer.get("registered_name") not in (None, kind):
        raise _refuse_object(f"{_text(kind)} layer", "registered_name", layer["registered_name"])
    config = layer.get("config")
    if not isinstance(config, dict):
        raise ArchiveError(f"the model's {_text(kind)} layer has no config")
    _check_build_config(layer.get("build_config"), f"{_text(kind)} layer")
    if not isinstance(layer.get("name", ""), str):
        raise _refuse_object(f"{_text(kind)} layer", "name", layer.get("name"))
    nodes = layer.get("inbound_nodes")
    if nodes not in (None, []) and not functional:
        raise _refuse_object(f"{_text(kind)} layer", "inbound_nodes", nodes)
    return str(kind), config


def _nodes(root: Any):
    """Every dict in a JSON tree (iteratively: the depth was bounded, but stay safe)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


# -- shapes ------------------------------------------------------------------------------------------
Shape = list  # one example's dims (no batch axis): positive ints, None where unknown


def _shape(value: Any, what: str) -> Shape | None:
    """A saved batch shape without its batch axis (None when absent); ArchiveError when it is
    not one: at most MAX_RANK axes of positive ints or None."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not 2 <= len(value) <= MAX_RANK + 1
        or not all(d is None or _positive(d) for d in value)
    ):
        raise ArchiveError(f"the model's {what} is not a shape: {_text(value)}")
    return list(value[1:])


def _compatible(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def _merge(a: Shape, b: Shape) -> Shape:
    return [x if x is not None else y for x, y in zip(a, b, strict=True)]


def _declared_input(config: dict, layers: list, functional: bool) -> Shape | None:
    """The input shape the model declares (its input layer, its saved build shape), merged;
    ArchiveError when they disagree or there are several inputs."""
    inner = config["config"]
    found = []
    inputs = [layer for layer in layers if layer.get("class_name") == "InputLayer"]
    if len(inputs) > 1:
        raise ArchiveError("the model has several inputs; the grader feeds it one")
    if inputs:
        if not functional and layers[0] is not inputs[0]:
            raise ArchiveError("the model's input layer is not its first layer")
        layer_config = inputs[0]["config"]
        shape = layer_config.get("batch_shape", layer_config.get("batch_input_shape"))
        if shape is not None:
            found.append(_shape(shape, "input layer's shape"))
    elif functional:
        raise ArchiveError("the functional model has no input layer")
    if not functional and inner.get("build_input_shape") is not None:
        found.append(_shape(inner["build_input_shape"], "build_input_shape"))
    build = config.get("build_config")
    if isinstance(build, dict) and build.get("input_shape") is not None:
        found.append(_shape(build["input_shape"], "build shape"))
    declared = None
    for shape in found:
        if declared is not None and not _compatible(declared, shape):
            raise ArchiveError(
                f"the model declares inputs of shape {_shown(declared)} and of shape "
                f"{_shown(shape)}"
            )
        declared = shape if declared is None else _merge(declared, shape)
    return declared


def _shown(shape: Shape | tuple) -> str:
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + (",)" if len(shape) == 1 else ")")
    )


def _start_shapes(declared: Shape | None, exercise: tuple | None) -> tuple[Shape, Shape | None]:
    """The shape the model is built on, and the exercise's input shape it would run on when
    that differs but Keras would still feed it (None otherwise)."""
    ours = list(exercise) if exercise is not None else None
    if declared is None:
        if ours is None:
            raise ArchiveError(
                "the model declares no input shape, and the grader cannot size it without one: "
                "give it one (keras.Input(shape=...))"
            )
        return ours, None
    if ours is not None and len(declared) == len(ours):
        declared = _merge(declared, ours)
    if any(d is None for d in declared):
        raise ArchiveError(
            f"the model's input shape {_shown(declared)} has axes of unknown size; the grader "
            "cannot size it"
        )
    if ours is None or ours == declared:
        return declared, None
    # Keras runs a model on inputs of its rank, or one axis of size 1 more or less.
    if len(ours) == len(declared):
        return declared, ours
    if len(ours) == len(declared) + 1 and ours[-1] == 1:
        return declared, ours[:-1]
    if len(declared) == len(ours) + 1 and declared[-1] == 1:
        return declared, [*ours, 1]
    return declared, None


# -- the walk over the layers ----------------------------------------------------------------------
class _Totals:
    def __init__(self, limits: ModelLimits) -> None:
        self.limits = limits
        self.params = 0
        self.macs = 0
        self.width = 0

    def add(self, shape: Shape, params: int, macs: int) -> None:
        self.width = max(self.width, _width(shape, self.limits))
        self.params += params
        self.macs += macs
        if self.macs > self.limits.max_macs:
            raise ArchiveError(
                f"running the model takes more than {self.limits.max_macs:,} multiply-adds per "
                "image; the grader does not run models that large"
            )
        if self.params > self.limits.max_params:
            raise ArchiveError(
                f"the model has more than {self.limits.max_params:,} parameters; the exercise's "
                "model has about 400,000"
            )


def _width(dims: Shape, limits: ModelLimits) -> int:
    values = math.prod(dims)
    if values > limits.max_width:
        raise ArchiveError(
            f"a layer of the model holds {values:,} values per image (at most {limits.max_width:,})"
        )
    return values


def _walk(config: dict, start: Shape, limits: ModelLimits, built_here: bool) -> _Totals:
    """Every layer's shape, parameters and work, from `start` through the graph. `built_here`:
    `start` is the shape Keras builds the model on, so a layer's saved build shape must agree
    with what it receives (Keras builds a layer from it before the graph feeds it)."""
    totals = _Totals(limits)
    totals.add(start, 0, 0)
    inner = config["config"]
    functional = config["class_name"] == "Functional"
    outputs: dict[str, Shape] = {}
    shape = start
    for layer in inner["layers"]:
        kind, layer_config = layer["class_name"], layer["config"]
        name = layer.get("name", layer_config.get("name"))
        if kind == "InputLayer":
            shape = start
        else:
            if functional:
                shape = outputs[_source(layer, outputs)]
            received = shape
            shape, params, macs = _through(kind, layer_config, shape, limits)
            totals.add(shape, params, macs)
            build = layer.get("build_config")
            saved = (
                _shape(build.get("input_shape"), f"{kind} layer's build shape") if build else None
            )
            if built_here and saved is not None and not _compatible(saved, received):
                raise ArchiveError(
                    f"the model's {kind} layer was saved as built for inputs of shape "
                    f"{_shown(saved)}, but it receives {_shown(received)}"
                )
        if functional:
            if not isinstance(name, str) or name in outputs:
                raise ArchiveError(
                    f"the model's layer names are missing or repeated ({_text(name)})"
                )
            outputs[name] = shape
    if functional:
        for end in (inner.get("input_layers"), inner.get("output_layers")):
            _only_reference(end, outputs)
    return totals


def _source(layer: dict, outputs: dict[str, Shape]) -> str:
    """The layer whose output a functional layer receives: exactly one tensor, from a layer
    listed before it."""
    nodes = layer.get("inbound_nodes")
    kind = _text(layer.get("class_name"))
    if not isinstance(nodes, list) or len(nodes) != 1:
        raise ArchiveError(f"the model's {kind} layer must be used exactly once")
    node = nodes[0]
    if not isinstance(node, dict) or set(node) - {"args", "kwargs"}:
        raise _refuse_object(f"{kind} layer", "inbound_nodes", node)
    args, kwargs = node.get("args"), node.get("kwargs", {})
    if not isinstance(kwargs, dict) or not all(_plain_scalar(v) for v in kwargs.values()):
        raise _refuse_object(f"{kind} layer", "inbound_nodes", kwargs)
    if not isinstance(args, list) or len(args) != 1:
        raise ArchiveError(f"the model's {kind} layer must take exactly one input")
    tensor = args[0]
    inner = tensor.get("config") if isinstance(tensor, dict) else None
    if (
        not isinstance(inner, dict)
        or set(tensor) != {"class_name", "config"}
        or tensor.get("class_name") != "__keras_tensor__"
        or set(inner) - {"shape", "dtype", "keras_history"}
        or not _json_list_of_plain(inner.get("shape"))
        or not _plain_scalar(inner.get("dtype"))
    ):
        raise _refuse_object(f"{kind} layer", "inbound_nodes", tensor)
    history = inner.get("keras_history")
    if (
        not isinstance(history, list)
        or len(history) != 3
        or history[0] not in outputs
        or history[1:] != [0, 0]
    ):
        raise ArchiveError(f"the model's {kind} layer takes an input the grader cannot follow")
    return history[0]


def _only_reference(value: Any, outputs: dict[str, Shape]) -> None:
    """A functional model's input_layers or output_layers: one known layer's first output."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if not (
        isinstance(value, list) and len(value) == 3 and value[0] in outputs and value[1:] == [0, 0]
    ):
        raise ArchiveError("the functional model must have exactly one input and one output")


def vet_config(config: dict[str, Any], limits: ModelLimits) -> Sized:
    """Refuse a model the grader must not load or run (ArchiveError says why); else what it
    computed: the input shape to build the model on, its parameters, width and work."""
    if not isinstance(config, dict):
        raise ArchiveError("the saved model is not an object")
    _check_tree(config)
    inner = config["config"]
    layers = inner.get("layers")
    if not isinstance(layers, list):
        raise ArchiveError("the model's config lists no layers")
    if len(layers) > limits.max_layers:
        raise ArchiveError(f"the model has {len(layers)} layers (at most {limits.max_layers})")
    functional = config["class_name"] == "Functional"
    for layer in layers:
        kind, layer_config = _check_layer_entry(layer, functional)
        if kind not in limits.layers:
            allowed = ", ".join(sorted(limits.layers - {"InputLayer"}))
            raise ArchiveError(
                f"the model uses a {kind[:100]} layer; this exercise grades models made of "
                f"{allowed}"
            )
        _check_layer_config(kind, layer_config, f"{kind} layer")
    start, also = _start_shapes(_declared_input(config, layers, functional), limits.input_shape)
    totals = _walk(config, start, limits, built_here=True)
    if also is not None:
        # Keras builds the weights on `start` but would run the layers on the exercise's
        # examples: that run must fit the bounds too.
        _walk(config, also, limits, built_here=False)
    return Sized(tuple(start), totals.params, totals.width, totals.macs)


# -- one layer ---------------------------------------------------------------------------------------
def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _int(config: dict, key: str, default: int | None = None) -> int:
    value = config.get(key, default)
    if not _positive(value):
        raise ArchiveError(f"the model's config has {key}={str(value)[:50]}")
    return value


def _pair(config: dict, key: str, default: list[int] | None = None) -> list[int]:
    """A 2-D size such as kernel_size or strides: an int or two positive ints."""
    value = config.get(key)
    if value is None:
        value = default
    if _positive(value):
        return [value, value]
    if isinstance(value, list) and len(value) == 2 and all(_positive(v) for v in value):
        return list(value)
    raise ArchiveError(f"the model's config has {key}={str(value)[:50]}")


def _axes(config: dict, shape: Shape, kind: str) -> list[int]:
    """The axes (of one example) a normalisation's weights span."""
    axis = config.get("axis", -1)
    axes = axis if isinstance(axis, list) else [axis]
    rank = len(shape) + 1  # Keras counts the batch axis
    result = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank or a % rank == 0:
            raise ArchiveError(f"the model's {kind} layer has axis={_text(axis)}")
        result.append(a % rank - 1)
    return result


def _channels_last(config: dict, kind: str) -> None:
    if config.get("data_format") not in (None, "channels_last"):
        raise ArchiveError(
            f"the model's {kind} layer has data_format={_text(config.get('data_format'))}; the "
            "grader's images are channels_last"
        )


def _image(shape: Shape, kind: str) -> None:
    if len(shape) != 3:
        raise ArchiveError(
            f"the model's {kind} layer receives inputs of shape {_shown(shape)}, not "
            "(height, width, channels)"
        )


def _window(size: int, kernel: int, stride: int, padding: Any, kind: str) -> int:
    if padding == "same":
        out = -(-size // stride)
    elif padding in (None, "valid"):
        out = (size - kernel) // stride + 1
    else:
        raise ArchiveError(f"the model's {kind} layer has padding={_text(padding)}")
    if out < 1:
        raise ArchiveError(f"the model's {kind} layer has a window larger than its input")
    return out


ELEMENTWISE = frozenset({"Dropout", "Activation", "ReLU", "Softmax", "Rescaling", "LeakyReLU"})


def _through(kind: str, config: dict, shape: Shape, limits: ModelLimits) -> tuple[Shape, int, int]:
    """One layer on inputs of `shape` (one example): its output shape, the parameters it
    builds and its multiply-adds per example."""
    values = math.prod(shape)
    if kind == "Dense":
        units = _int(config, "units")
        if units > limits.max_width:
            raise ArchiveError(f"a Dense layer has {units:,} units (at most {limits.max_width:,})")
        features = shape[-1]
        weights = (features + 1) * units
        return [*shape[:-1], units], weights, values * units
    if kind == "Flatten":
        return [values], 0, values
    if kind == "Reshape":
        return _reshape(config, shape, values), 0, values
    if kind in {"BatchNormalization", "LayerNormalization"}:
        axes = _axes(config, shape, kind)
        spanned = math.prod(shape[a] for a in set(axes))
        return shape, (4 if kind == "BatchNormalization" else 2) * spanned, 4 * values
    if kind == "Conv2D":
        return _conv2d(config, shape, limits)
    if kind in {"MaxPooling2D", "AveragePooling2D"}:
        _channels_last(config, kind)
        _image(shape, kind)
        pool = _pair(config, "pool_size", [2, 2])
        strides = _pair(config, "strides", pool)  # Keras' default strides are the pool size
        padding = config.get("padding", "valid")
        out = [
            _window(shape[0], pool[0], strides[0], padding, kind),
            _window(shape[1], pool[1], strides[1], padding, kind),
            shape[2],
        ]
        return out, 0, math.prod(out) * pool[0] * pool[1]
    if kind in {"GlobalAveragePooling2D", "GlobalMaxPooling2D"}:
        _channels_last(config, kind)
        _image(shape, kind)
        out = [1, 1, shape[2]] if config.get("keepdims") else [shape[2]]
        return out, 0, values
    if kind in ELEMENTWISE:
        return shape, 0, values
    # A layer the exercise allows but the grader cannot bound: refuse rather than guess.
    raise ArchiveError(f"the grader cannot bound the size of a {kind[:100]} layer")


def _reshape(config: dict, shape: Shape, values: int) -> Shape:
    target = config.get("target_shape")
    if (
        not isinstance(target, list)
        or not 1 <= len(target) <= MAX_RANK
        or not all(_positive(d) or d == -1 for d in target)
        or target.count(-1) > 1
    ):
        raise ArchiveError(f"the model's Reshape layer has target_shape={_text(target)}")
    known = math.prod(d for d in target if d != -1)
    out = [values // known if d == -1 else d for d in target]
    if math.prod(out) != values:
        raise ArchiveError(
            f"the model's Reshape layer cannot make {_shown(shape)} into {_shown(target)}"
        )
    return out


def _conv2d(config: dict, shape: Shape, limits: ModelLimits) -> tuple[Shape, int, int]:
    """Conv2D: (kh x kw x channels / groups + 1) x filters weights, applied at every output
    position."""
    filters = _int(config, "filters")
    kernel = _pair(config, "kernel_size")
    strides = _pair(config, "strides", [1, 1])
    dilation = _pair(config, "dilation_rate", [1, 1])
    groups = _int(config, "groups", 1)
    if filters > limits.max_width:
        raise ArchiveError(f"a Conv2D layer has {filters:,} filters (at most {limits.max_width:,})")
    _channels_last(config, "Conv2D")
    _image(shape, "Conv2D")
    channels = shape[2]
    if channels % groups or filters % groups:
        raise ArchiveError(f"the model's Conv2D layer has groups={groups} for {channels} channels")
    padding = config.get("padding", "valid")
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    if max(dilation) > 1 and max(strides) > 1:
        raise ArchiveError("the model's Conv2D layer has both strides and dilation_rate above 1")
    out = [
        _window(shape[0], span[0], strides[0], padding, "Conv2D"),
        _window(shape[1], span[1], strides[1], padding, "Conv2D"),
        filters,
    ]
    per_position = kernel[0] * kernel[1] * (channels // groups) * filters
    weights = per_position + filters
    return out, weights, out[0] * out[1] * per_position


def model_cost(layers: list[tuple[str, int, list[int] | None, list[int] | None]]) -> int:
    """Multiply-adds per example of a built model, from each layer's `(class name, weights,
    input shape, output shape)` as the built graph has them (per example, None when unknown):
    a Dense layer applies its weights at every position of its input but the last axis, a
    convolution at every output position, any other layer touches each value about once."""
    total = 0
    for kind, weights, before, after in layers:
        if kind == "Dense":
            total += (math.prod(before[:-1]) if before else 1) * weights
        elif kind == "Conv2D":
            total += (math.prod(after[:2]) if after else 1) * weights
        else:
            total += (
                weights + (math.prod(before) if before else 0) + (math.prod(after) if after else 0)
            )
    return total

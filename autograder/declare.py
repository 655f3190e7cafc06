"""Declared parts: "call the student's function with these inputs and record what comes back".

Every part of a Keras exercise is one or a few calls. An exercise declares them on its `Part`
(a part without calls is refused); the engine runs the calls in the sandboxed child
(autograder/child/declared.py), records each result by its kind, and derives the schema the
graders read.

    Part("predict_price", timeout=60, calls=(
        Call("predict_price", StartModel(weights="predict_weights"), Setting("bedrooms"),
             returns="number"),
    ))

The arguments are the grader's: an array the setup drew (`Input`), a value of the grading's
config (`Setting`), the grader's start model with drawn weights (`StartModel`), a model of the
grader's built in the child from its drawn config (`BuiltModel`), what an earlier call of the
same part returned (`Returned`), or a plain JSON value. Every value the child is
given is an input; what it should return is known to the graders alone (`ctx`).

What each kind of result records, under the call's `key` (default "result"):

| returns   | keys                                                    | graders read it with       |
|-----------|---------------------------------------------------------|----------------------------|
| "array"   | `key` (array)                                           | `obs.array(key)`           |
| "arrays"  | `key` (info: what came back), `key_item_0`, ... (array) | `obs.array(f"{key}_item_0")` |
| "number"  | `key` (info), `key_number` (a float, when it is one)    | `obs.get(f"{key}_number")` |
| "model"   | `key` (model file), `key_type` (info)                   | `model_for(obs, key, call)`|
| "history" | `key` (info), `key_is_history`, `key_epochs`, `key_curves` | `obs.get(f"{key}_epochs")` |
| "shapes"  | `key` (info), `key_shapes` (lists of ints or None, when it is a list of shapes) | `checks.returned_shapes` |
| "value"   | `key` (info: type, shape, dtype, repr)                  | `obs.get(key)`             |

"arrays" also saves the items of a nested tuple or list one level down (`key_item_0_1` for
`return (xs, ys), (test_xs, test_ys)`). The info under `key` also says, for a History of a
call with a model argument, `of_model_argument` (it is that model's own `model.history`, of
its last fit).

Two more arguments: `DataSet("train_images")`, an array of the exercise's data set read in
the child from its files (a whole training set, not sent per grading), and `EpochLog()`, a list
of one grader's callback for a `callbacks=` argument (records `key_callback_epochs` and
`key_callback_inside_fit`: were the callbacks passed on to `model.fit`?). A constant is read,
not called, with `Value("CLASS_NAMES")` (records `value`, and `value_items` for a list of
strings).

The grader reads a returned array only when it holds at most the call's `max_elements` values:
by default the values of the call's `Input` arrays, or DEFAULT_MAX_ELEMENTS when more (a
function of no arrays returns a few values). A call that returns more declares it
(`Call("load_data", returns="arrays", max_elements=70_000 * 784)`); an array over its bound is
refused before it is read, so what a student returns cannot make the grader's memory grow.

Every call also records `key_changed` (the `Input` arrays it modified in place), `key_reshaped`
(those whose shape it changed in place: `images.shape = ...`) and, with
`training=True` (the call runs inside `fast_training`, seeded with the config's `seed`),
`key_seconds`. A model argument with `save_as="name"` is saved after the call as model `name`
(its trained weights and optimizer steps, for the graders). An exception is recorded under
`key` in `errors` (the harness's `h.call`).

A training call that builds its own model keeps it for the grader with `keep_model="name"`: the
model of the History it returns is saved as model `name`, and the graders judge that file
(its optimizer steps give the epochs, its outputs on the grader's data the accuracy), never the
curves the child reports:

    Call("train_mnist", Input("images"), Input("labels"), returns="history", training=True,
         keep_model="trained", references=(Reference("myCallback"),))

`references`: during the call the student's name (here the class `myCallback`) is the grader's
own definition, the solution notebook's (`Reference(name)`), so a wrong callback fails its own
part only.

`Method("fit", Returned("build_model"), ...)` calls a method of an argument (here the model an
earlier call returned) instead of a student's function: a pipeline that trains the student's
own model on the student's own data, the model saved for the grader with `save_as`:

    Call("reshape_images", Input("train_images"), key="reshape_images"),
    Call("build_model", key="build_model"),
    Method("fit", Returned("build_model", save_as="model"), Returned("reshape_images"),
           Input("train_labels"), epochs=Setting("epochs"), verbose=0, key="fit", training=True)

A callback part drives the student's `keras.callbacks.Callback` class (`DriveCallback`): made
with each drawn case's arguments, `on_epoch_end` is called once with the case's logs on a
stand-in model, and whether it set `model.stop_training` is recorded (`cases`); then each drawn
fit runs `model.fit` from the grader's start model with the callback, and the trained model is
saved as `fit_<id>` (the grader counts the epochs from its optimizer steps). The right decisions
stay in the grader (autograder.drawn: `draw()` returns the cases, the child gets their inputs):

    Part("myCallback", timeout=120, calls=(DriveCallback("myCallback", "cases", "fits"),))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RETURNS = ("array", "arrays", "number", "model", "history", "shapes", "value")
# The values a returned array may hold when its call declares no bound and its inputs are
# smaller: 8 MB as float64, a few hundred thousand times what a small exercise returns.
DEFAULT_MAX_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class Input:
    """An array this grading's setup drew (`GradingInputs.arrays[name]`)."""

    name: str

    def to_json(self) -> dict[str, Any]:
        return {"input": self.name}


@dataclass(frozen=True)
class Setting:
    """A value of this grading's config (`GradingInputs.config[name]`)."""

    name: str

    def to_json(self) -> dict[str, Any]:
        return {"setting": self.name}


@dataclass(frozen=True)
class StartModel:
    """The grader's start model (config `start_model`, a model file the setup wrote), given the
    weights named by config `weights` (a list of input arrays) when set; saved after the call
    as model `save_as` when set."""

    weights: str | None = None
    save_as: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"start_model": self.weights, "save_as": self.save_as}


@dataclass(frozen=True)
class Returned:
    """What the call `key` of the same part returned (its item `index` when set); saved after
    the call as model `save_as` when set."""

    key: str
    index: int | None = None
    save_as: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"returned": self.key, "index": self.index, "save_as": self.save_as}


@dataclass(frozen=True)
class BuiltModel:
    """A Keras model built (untrained) in the child from the config value `name`: a serialized
    model of the grader's (`keras.saving.serialize_keras_object(model)`), e.g. of sizes drawn
    per grading, so an answer about the model must be computed from it."""

    name: str

    def to_json(self) -> dict[str, Any]:
        return {"built_model": self.name}


@dataclass(frozen=True)
class DataSet:
    """An array of the exercise's own data set (`dataset_files` name, e.g. "train_images"),
    read in the child from the data set's files themselves (never through Keras' loader, which
    a student may have patched), rather than sent as a drawn input."""

    name: str

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.name}


@dataclass(frozen=True)
class EpochLog:
    """A list of one grader's Keras callback, for a `callbacks=` argument: it notes each epoch
    it sees and whether a fit began, recorded as `<key>_callback_epochs` and
    `<key>_callback_inside_fit` (did the function pass its callbacks on to `model.fit`?)."""

    def to_json(self) -> dict[str, Any]:
        return {"epoch_log": True}


Argument = Input | Setting | StartModel | Returned | BuiltModel | DataSet | EpochLog


@dataclass(frozen=True)
class Reference:
    """The grader's own definition of the student's name `name`, used in the child in place of
    the student's definition for the length of one call (`Call(..., references=(Reference(...),))`).

    Without `source` (the usual form) the definition is the instructor's solution's: the
    top-level definition of `name` in `solutions/<exercise>/<exercise>.ipynb`, read in the
    grader's process when it builds the grading's config (autograder.solution_definitions), so
    no answer sits in the kit students install. Where the solution is not available (a
    student's own check, the self-check in a kernel) the call runs with the student's own
    definition, and a failed check of the part says so. `source` (Python text defining `name`;
    `keras` and `np` are imported for it) is for a definition that is no part's answer: it
    ships with the kit.

    Example: a training part judged with the solution's callback, so that a wrong callback
    costs the callback part alone:
        Reference("myCallback")
    """

    name: str
    source: str | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"Reference name must be a Python identifier, received {self.name!r}")
        if self.source is None:
            return
        try:
            compile(self.source, f"<reference {self.name}>", "exec")
        except SyntaxError as exc:
            raise ValueError(f"Reference {self.name!r}: its source does not parse: {exc}") from None


def _argument_json(value: Any) -> dict[str, Any]:
    if hasattr(value, "to_json"):
        return value.to_json()
    return {"value": value}  # a plain JSON value, the same at every grading


class Call:
    """One call of a student's function: `Call("train_model", StartModel(), Input("xs"),
    Input("ys"), epochs=Setting("epochs"), returns="history")`."""

    def __init__(
        self,
        function: str,
        *args: Any,
        returns: str = "value",
        key: str = "result",
        training: bool = False,
        max_elements: int | None = None,
        keep_model: str | None = None,
        references: tuple[Reference, ...] = (),
        **kwargs: Any,
    ) -> None:
        if returns not in RETURNS:
            raise ValueError(f"returns must be one of {RETURNS}, received {returns!r}")
        if max_elements is not None and (type(max_elements) is not int or max_elements < 1):
            raise ValueError(f"max_elements must be a positive int, received {max_elements!r}")
        if not key.isidentifier():
            raise ValueError(f"key must be a Python identifier, received {key!r}")
        if keep_model is not None and (returns != "history" or not keep_model.isidentifier()):
            raise ValueError(
                f"keep_model names the model of a returned History (returns='history'), "
                f"received keep_model={keep_model!r} with returns={returns!r}"
            )
        if not all(isinstance(r, Reference) for r in references):
            raise ValueError(f"references must be Reference objects, received {references!r}")
        self.keep_model = keep_model
        self.references = tuple(references)
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.returns = returns
        self.key = key
        self.training = training
        self.max_elements = max_elements

    def __repr__(self) -> str:
        return f"Call({self.function!r}, returns={self.returns!r}, key={self.key!r})"

    def arguments(self) -> list[Any]:
        return [*self.args, *self.kwargs.values()]

    def array_bound(self, input_sizes: Mapping[str, int]) -> int:
        """The most values an array this call returns may hold: `max_elements` when declared,
        else its `Input` arrays' values in all (`input_sizes`: name -> values) or
        DEFAULT_MAX_ELEMENTS, whichever is more."""
        if self.max_elements is not None:
            return self.max_elements
        given = sum(
            int(input_sizes.get(a.name, 0)) for a in self.arguments() if isinstance(a, Input)
        )
        return max(DEFAULT_MAX_ELEMENTS, given)

    def to_json(self) -> dict[str, Any]:
        """What the child is told (autograder/child/declared.py): plain JSON."""
        return {
            "function": self.function,
            "args": [_argument_json(a) for a in self.args],
            "kwargs": {name: _argument_json(a) for name, a in self.kwargs.items()},
            "returns": self.returns,
            "key": self.key,
            "training": self.training,
            "max_elements": self.max_elements,
            "default_max_elements": DEFAULT_MAX_ELEMENTS,
            "keep_model": self.keep_model,
            # None: the solution's definition, filled in by the grader (or left out: see Reference)
            "references": {r.name: r.source for r in self.references},
        }

    def schema(self) -> dict[str, str]:
        """The keys this call records and their kinds (autograder.child.schema)."""
        k = self.key
        keys = {
            "array": {k: "array"},
            "arrays": {k: "info", f"{k}_item_*": "array"},
            "number": {k: "info", f"{k}_number": "number"},
            "model": {k: "model", f"{k}_type": "info"},
            "history": {
                k: "info",
                f"{k}_is_history": "bool",
                f"{k}_epochs": "list",
                f"{k}_curves": "dict",
            },
            "shapes": {k: "info", f"{k}_shapes": "list"},
            "value": {k: "info"},
        }[self.returns]
        keys[f"{k}_changed"] = "list"
        keys[f"{k}_reshaped"] = "list"
        if self.training:
            keys[f"{k}_seconds"] = "number"
        if self.keep_model:
            keys[self.keep_model] = "model"
        if any(isinstance(a, EpochLog) for a in self.arguments()):
            keys[f"{k}_callback_epochs"] = "list"
            keys[f"{k}_callback_inside_fit"] = "bool"
        for argument in self.arguments():
            saved = getattr(argument, "save_as", None)
            if saved:
                keys[saved] = "model"
        return keys


class Method(Call):
    """A call of the method `name` of its first argument (e.g. the model an earlier call
    returned), not of a student's function; otherwise a `Call`.

    Example (the student's model trained on the student's reshaped images):
        Method("fit", Returned("build_model", save_as="model"), Returned("reshape_images"),
               Input("labels"), epochs=3, verbose=0, key="fit", returns="history", training=True)
    """

    def __init__(self, name: str, target: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, target, *args, **kwargs)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "method": True}


class DriveCallback(Call):
    """A callback part: drive the student's Callback class `class_name` in the child with the
    drawn cases (config `cases`: [{id, kwargs, logs}]) and real fits (config `fits`: [{id,
    kwargs, epochs, images, labels, weights}], from the grader's start model).

    Records `cases` (per case: `id`, `model_stop_training`, `self_stop_training` or `error`),
    `fits` (per fit: `id`, `epochs_run` or `error`) and the model of each fit, `fit_<id>`.
    `draw()` returns the cases and fits with their right decisions
    (autograder.inputs.CallbackCase, DrawnFit): the child receives their inputs only, the
    graders judge them with autograder.scoring.callbacks.check_drawn_decisions / check_drawn_fits.

    Example:
        DriveCallback("myCallback", cases="cases", fits="fits")
    """

    def __init__(self, class_name: str, cases: str, fits: str | None = None) -> None:
        super().__init__(class_name, key="cases")
        self.cases, self.fits = cases, fits

    def __repr__(self) -> str:
        return f"DriveCallback({self.function!r}, cases={self.cases!r}, fits={self.fits!r})"

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "drive_callback": {"cases": self.cases, "fits": self.fits}}

    def schema(self) -> dict[str, str]:
        return {"cases": "list", "fits": "list", "fit_*": "model"}


class Value(Call):
    """The student's top-level value `name` (a constant such as a list of class names), read,
    not called: records `key` (info: type, shape, repr) and, when it is a list or tuple of
    strings, `<key>_items` (its first MAX_VALUE_ITEMS strings).

    Example:
        Part("CLASS_NAMES", timeout=30, calls=(Value("CLASS_NAMES"),))
    """

    def __init__(self, name: str, key: str = "value") -> None:
        super().__init__(name, key=key)

    def __repr__(self) -> str:
        return f"Value({self.function!r}, key={self.key!r})"

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "value_of": True}

    def schema(self) -> dict[str, str]:
        return {self.key: "info", f"{self.key}_items": "list"}


def check_calls(part: str, calls: tuple[Call, ...]) -> None:
    """A declared part's calls make sense: distinct keys, and every `Returned` names a call made
    before it. ValueError naming the part, the call and the value otherwise."""
    made: list[str] = []
    for call in calls:
        if not isinstance(call, Call):
            raise ValueError(f"part {part!r}: calls must be Call objects, received {call!r}")
        for argument in call.arguments():
            if isinstance(argument, Returned) and argument.key not in made:
                raise ValueError(
                    f"part {part!r}, call {call.function!r}: Returned({argument.key!r}) names no "
                    f"earlier call of the part (they are {made})"
                )
        if call.key in made:
            raise ValueError(f"part {part!r}: two calls record under key {call.key!r}")
        made.append(call.key)


def part_schema(calls: tuple[Call, ...]) -> dict[str, str]:
    """The schema of a declared part: every key its calls record, and `calls` (the key and
    function of each call made, in order: feedback names the call that failed)."""
    schema: dict[str, str] = {"calls": "list"}
    for call in calls:
        schema.update(call.schema())
    return schema


def array_bounds(calls: tuple[Call, ...], input_sizes: Mapping[str, int]) -> dict[str, int]:
    """Array key (or `<key>_item_*` family) -> the most values it may hold, for every array the
    calls record (the reader refuses a larger one before reading it)."""
    bounds: dict[str, int] = {}
    for call in calls:
        if call.returns == "array":
            bounds[call.key] = call.array_bound(input_sizes)
        elif call.returns == "arrays":
            bounds[f"{call.key}_item_*"] = call.array_bound(input_sizes)
    return bounds


def student_names(calls: tuple[Call, ...]) -> tuple[str, ...]:
    """The student's names a declared part calls, in order, once each."""
    return tuple(dict.fromkeys(c.function for c in calls if not isinstance(c, Method)))

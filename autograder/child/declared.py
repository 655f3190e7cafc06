"""The child's side of declared parts (autograder/declare.py): run the calls, record the results.

`run_calls(h, rec, calls)` receives the harness (`h`), the part's recorder and the part's calls
as the grader wrote them (plain JSON). It decides nothing: what the results should be is known
to the graders alone. Copied into the child next to the harness: it imports nothing from the
grader.
"""

from __future__ import annotations

from .bindings import bind_builtins

bind_builtins(globals())
_isinstance = isinstance
_type = type
_float = float
_BaseException = BaseException
MAX_ITEMS = 8  # items of a returned tuple or list saved one by one ("arrays")
MAX_EPOCHS = 10_000
MAX_SHAPES = 64  # shapes of a returned list of shapes ("shapes"), each of at most MAX_DIMS
MAX_DIMS = 8
MAX_VALUE_ITEMS = 50  # strings of a Value's list recorded as `<key>_items`


def _resolve(h, returned: dict, spec: dict, inputs: list):
    """The value of one declared argument; an `Input` array is remembered with a copy, to tell
    whether the call modified it in place."""
    if "input" in spec:
        value = h.load_input(spec["input"])
        inputs.append((spec["input"], value, value.copy()))
        return value
    if "setting" in spec:
        return h.config[spec["setting"]]
    if "start_model" in spec:
        model = h.start_model()
        if spec["start_model"]:
            model.set_weights([h.load_input(name) for name in h.config[spec["start_model"]]])
        return model
    if "dataset" in spec:
        return h.dataset_arrays(spec["dataset"])[0]
    if "epoch_log" in spec:
        recorder = h.epoch_recorder()
        inputs.append((None, recorder, None))  # kept here: the student may empty the list
        return [recorder]
    if "returned" in spec:
        value = returned[spec["returned"]]
        return value if spec.get("index") is None else value[spec["index"]]
    if "built_model" in spec:  # a serialized Keras model of the grader's (config), untrained
        return h.k["keras"].saving.deserialize_keras_object(h.config[spec["built_model"]])
    return spec["value"]


def _array_bound(call: dict, inputs: list) -> int:
    """The most values an array the call returns may hold (autograder.declare's
    `Call.array_bound`, from what the grader wrote: its bound, else its inputs' values)."""
    declared = call.get("max_elements")
    if _type(declared) is int:
        return declared
    given = 0
    for _, _, original in inputs:  # the copy of each input, which the call never saw
        given += int(original.size)
    default = call.get("default_max_elements")
    return max(default if _type(default) is int else 0, given)


def _save_array(h, rec, key: str, value, bound: int) -> None:
    """Save a returned array, unless it holds more values than the grader reads: then only
    its description, so an honest mistake costs no disk and says why (the grader refuses a
    larger file by its header anyway)."""
    try:
        size = getattr(value, "size", None)  # a property of the student's may run, or raise
    except _BaseException:
        h.guard()
        size = None
    if _type(size) is int and size > bound:
        info = h.describe(value)
        info["saved"] = False
        info["over_bound"] = bound
        rec.data[key] = info
        return
    rec.save_array(key, value)


def _record(h, rec, key: str, kind: str, value, bound: int) -> None:
    """Record what a call returned, by the kind it was declared to return."""
    if kind == "array":
        _save_array(h, rec, key, value, bound)
        return
    if kind == "model":
        rec.data[f"{key}_type"] = h.describe(value)
        h.build_on_input(value)
        h.save_model(rec, key, value)
        return
    rec.data[key] = h.describe(value)
    if kind == "arrays" and _isinstance(value, (tuple, list)):
        room = MAX_ITEMS  # arrays saved in all, nested ones included: never 8 x 8 of them
        for index, item in enumerate(value[:MAX_ITEMS]):
            if _isinstance(item, (tuple, list)):  # one level down: ((xs, ys), (test_xs, test_ys))
                rec.data[f"{key}_item_{index}"] = {**h.describe(item), "saved": False}
                for inner, sub in enumerate(item[:room]):
                    _save_array(h, rec, f"{key}_item_{index}_{inner}", sub, bound)
                    room -= 1
            elif room:
                _save_array(h, rec, f"{key}_item_{index}", item, bound)
                room -= 1
    elif kind == "shapes":
        shapes = _plain_shapes(value)
        if shapes is not None:
            rec.data[f"{key}_shapes"] = shapes
    elif kind == "number":
        number = _as_number(h, value)
        if number is not None:
            rec.data[f"{key}_number"] = number
    elif kind == "history":
        rec.data[f"{key}_is_history"] = _isinstance(value, h.k["History"])
        epochs = getattr(value, "epoch", None)
        if _isinstance(epochs, list):
            rec.data[f"{key}_epochs"] = [int(e) for e in epochs[:MAX_EPOCHS] if _type(e) is int]
        curves = h.history_curves(value)
        if curves is not None:
            rec.data[f"{key}_curves"] = curves


def _record_value(h, rec, key: str, value) -> None:
    """A `Value`: its description, and its strings when it is a list or tuple of strings."""
    rec.data[key] = h.describe(value)
    if _isinstance(value, (list, tuple)) and all(_type(v) is str for v in value):
        rec.data[f"{key}_items"] = [str(v) for v in value[:MAX_VALUE_ITEMS]]


def _record_epoch_log(rec, key: str, recorders: list) -> None:
    """What an `EpochLog` callback saw: the epochs, and whether a fit began."""
    for recorder in recorders[:1]:
        rec.data[f"{key}_callback_epochs"] = [int(e) for e in recorder.epochs[:MAX_EPOCHS]]
        rec.data[f"{key}_callback_inside_fit"] = bool(recorder.inside_fit)


def _as_number(h, value):
    """`value` as a float when it holds exactly one real number (a Python number, a NumPy scalar
    or a one-element array: the graders say which it was, from the recorded type), else None."""
    if _type(value) is bool:
        return None
    try:
        if getattr(value, "size", 1) != 1:
            return None
        number = _float(value.item() if hasattr(value, "item") else value)
    except _BaseException:
        h.guard()
        return None
    return number if number == number else None  # NaN is not an answer


def _plain_shapes(value):
    """A returned list of shapes as lists of ints (None kept), or None when it is not one: at
    most MAX_SHAPES shapes of at most MAX_DIMS entries, each None or int-convertible (a NumPy
    int, a Keras dimension), never a bool. Plain data only crosses back."""
    if not _isinstance(value, (list, tuple)) or len(value) > MAX_SHAPES:
        return None
    shapes = []
    for shape in value:
        try:
            dims = list(shape)
        except _BaseException:
            return None
        if len(dims) > MAX_DIMS:
            return None
        plain = []
        for d in dims:
            if d is None:
                plain.append(None)
                continue
            if _type(d) is bool:
                return None
            try:
                plain.append(int(d))
            except _BaseException:
                return None
        shapes.append(plain)
    return shapes


def _model_argument(h, args: list):
    model_class = h.k["Model"]
    return next((a for a in args if _isinstance(a, model_class)), None)


def _reference(h, name: str, source: str):
    """The grader's definition of `name`, made from its source (with `keras` and `np`)."""
    import numpy

    namespace = {"__name__": "grader_reference", "keras": h.k["keras"], "np": numpy}
    exec(compile(source, f"<reference {name}>", "exec"), namespace)  # the grader's own text
    return namespace[name]


def _call_with_references(h, rec, key: str, references: dict, function, args, kwargs):
    """`h.call`, with the student's names in `references` bound to the grader's definitions
    for the length of the call (their own are put back after). A name without a definition
    (the solution was not available to the grader) keeps the student's own."""
    references = {name: text for name, text in references.items() if _type(text) is str}
    saved = {name: h.namespace.get(name, _MISSING) for name in references}
    try:
        for name, source in references.items():
            h.namespace[name] = _reference(h, name, source)
        return h.call(rec, key, function, *args, **kwargs)
    finally:
        for name, before in saved.items():
            if before is _MISSING:
                h.namespace.pop(name, None)
            else:
                h.namespace[name] = before


_MISSING = object()


def _keep_model(h, rec, name: str, value) -> None:
    """Save the model of a returned History as model `name` (the graders vet and judge it)."""
    if _isinstance(value, h.k["History"]):
        model = getattr(value, "model", None)
        if _isinstance(model, h.k["Model"]):
            h.save_model(rec, name, model)


def drive_callback(h, rec, class_name: str, cases: list, fits: list) -> None:
    """Drive the student's Callback class: `on_epoch_end(0, logs)` once per case on a stand-in
    model (records `cases`), then a real `model.fit` from the start model per fit (records
    `fits` and saves each fit's model as `fit_<id>`). Decides nothing."""
    k = h.k
    callback_class = h.student(class_name)
    stand_in = k["Sequential"]([k["Input"]((1,)), k["Dense"](1)])
    results = []
    for case in cases:
        outcome: dict = {"id": case["id"]}
        ok, callback = h.call(rec, f"init {case['id']}", callback_class, **case["kwargs"])
        if ok:
            stand_in.stop_training = False
            try:
                callback.set_model(stand_in)
                callback.on_epoch_end(0, dict(case["logs"]))  # positional, as Keras calls it
                outcome["model_stop_training"] = bool(stand_in.stop_training is True)
                outcome["self_stop_training"] = bool(
                    getattr(callback, "stop_training", False) is True
                )
            except _BaseException as exc:
                outcome["error"] = h.error_info(exc)
        else:
            outcome["error"] = rec.data["errors"][f"init {case['id']}"]
        results.append(outcome)
    rec.data["cases"] = results
    records = []
    for fit in fits:
        record: dict = {"id": fit["id"]}
        ok, callback = h.call(rec, f"fit {fit['id']}", callback_class, **fit["kwargs"])
        if ok:
            model = h.start_model()
            if fit.get("weights"):
                model.set_weights([h.load_input(name) for name in h.config[fit["weights"]]])
            images, labels = h.load_input(fit["images"]), h.load_input(fit["labels"])
            try:
                history = model.fit(
                    images, labels, epochs=fit["epochs"], callbacks=[callback], verbose=0
                )
                record["epochs_run"] = len(history.epoch)
            except _BaseException as exc:
                record["error"] = h.error_info(exc)
            else:
                h.save_model(rec, f"fit_{fit['id']}", model)
        records.append(record)
    rec.data["fits"] = records


def run_calls(h, rec, calls: list) -> None:
    """Run a declared part's calls in order; each records under its key. A call that raises is
    recorded under its key (`errors`) and the part's later calls, which may need its result,
    are not run. A part with a training call is seeded (config `seed`, op determinism) first."""
    returned: dict = {}
    if any(call["training"] for call in calls):
        # Before the first call: a model the part builds starts from the same weights each time.
        h.deterministic(h.config["seed"])
    for call in calls:
        key = call["key"]
        drive = call.get("drive_callback")
        if drive:
            rec.data.setdefault("calls", []).append({"key": key, "function": call["function"]})
            fits = h.config[drive["fits"]] if drive["fits"] else []
            drive_callback(h, rec, call["function"], h.config[drive["cases"]], fits)
            continue
        if call.get("value_of"):
            rec.data.setdefault("calls", []).append({"key": key, "function": call["function"]})
            _record_value(h, rec, key, h.student(call["function"]))
            continue
        inputs: list = []
        args = [_resolve(h, returned, spec, inputs) for spec in call["args"]]
        kwargs = {
            name: _resolve(h, returned, spec, inputs) for name, spec in call["kwargs"].items()
        }
        rec.data.setdefault("calls", []).append({"key": key, "function": call["function"]})
        given = [*args, *kwargs.values()]
        if call.get("method"):  # a method of the first argument, e.g. a returned model's fit
            ok, function = h.call(rec, key, getattr, args[0], call["function"])
            if not ok:
                return
            args = args[1:]
        else:
            function = h.student(call["function"])
        references = call.get("references") or {}
        model = _model_argument(h, given)
        started = h.clock()
        if call["training"]:
            if model is not None and h.refused(model):
                # The grader refuses it when it reads it back, and says why: not trained first.
                ok, value = False, None
                rec.data[f"{key}_seconds"] = 0.0
            else:
                with h.fast_training(model):
                    ok, value = _call_with_references(
                        h, rec, key, references, function, args, kwargs
                    )
                rec.data[f"{key}_seconds"] = round(h.clock() - started, 3)
        else:
            ok, value = _call_with_references(h, rec, key, references, function, args, kwargs)
        _record_epoch_log(rec, key, [log for name, log, _ in inputs if name is None])
        inputs = [entry for entry in inputs if entry[0] is not None]
        rec.data[f"{key}_changed"] = [
            name for name, now, before in inputs if not h.same_array(now, before)
        ]
        rec.data[f"{key}_reshaped"] = [
            name for name, now, before in inputs if now.shape != before.shape
        ]
        for spec, argument in zip([*call["args"], *call["kwargs"].values()], given, strict=True):
            if spec.get("save_as"):
                h.save_model(rec, spec["save_as"], argument)
        if not ok:
            return
        returned[key] = value
        _record(h, rec, key, call["returns"], value, _array_bound(call, inputs))
        info = rec.data.get(key)
        if _isinstance(info, dict) and call["returns"] == "history" and model is not None:
            info["of_model_argument"] = value is getattr(model, "history", None)
        if call.get("keep_model"):
            _keep_model(h, rec, call["keep_model"], value)

"""Runs inside the sandboxed child: executes the submission and records what it does.

This file is copied alone into the child's working directory and run as a script, so it imports
nothing from the grader. It computes no score: it calls the student's functions on inputs the
grader prepared and writes plain observations (JSON, `.npy`, `.keras`) for the trusted parent.

Usage (the grader builds this command):
    python probe.py CONFIG_JSON
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import numpy

# Bind what the probe needs before student code can monkeypatch anything.
_open = open
_json_dump = json.dump
_isinstance = isinstance
_type = type
_repr = repr
_time = time.perf_counter
_BaseException = BaseException
_np_save = numpy.save

SUBMISSION_MODULE = "submission"


class Recorder:
    """Writes observations for one part into the output directory."""

    def __init__(self, out_dir: str, part: str) -> None:
        self.out_dir = out_dir
        self.part = part
        self.data: dict = {"part": part}

    def path(self, name: str) -> str:
        return os.path.join(self.out_dir, f"{self.part}.{name}")

    def save_array(self, key: str, value) -> dict:
        """Save `value` as .npy if it is a real numeric array; describe it either way."""
        import numpy as np

        info = describe(value)
        array = None
        if _isinstance(value, np.ndarray):
            array = np.array(value, copy=True)
        elif _type(value).__module__.startswith(("tensorflow", "keras")) and hasattr(value, "numpy"):
            try:
                array = np.asarray(value.numpy())
                info["converted_from"] = _type(value).__name__
            except Exception:
                array = None
        if array is not None and array.dtype.kind in "biuf":
            _np_save(self.path(f"{key}.npy"), array)
            info["saved"] = True
        else:
            info["saved"] = False
        self.data[key] = info
        return info

    def finish(self) -> None:
        with _open(os.path.join(self.out_dir, f"{self.part}.json"), "w") as handle:
            _json_dump(self.data, handle, default=_repr)


def describe(value) -> dict:
    """A plain, size-limited description of any object, for feedback."""
    info: dict = {"type": f"{_type(value).__module__}.{_type(value).__qualname__}"}
    try:
        shape = getattr(value, "shape", None)
        if shape is not None:
            info["shape"] = [None if d is None else int(d) for d in shape]
        dtype = getattr(value, "dtype", None)
        if dtype is not None:
            info["dtype"] = str(dtype)
    except Exception:
        pass
    try:
        info["repr"] = _repr(value)[:300]
    except Exception:
        info["repr"] = "<unprintable>"
    return info


def error_info(exc: BaseException, source_names: set[str]) -> dict:
    """The exception with its traceback trimmed to the student's own lines."""
    frames = [
        {"file": f.filename, "line": f.lineno, "function": f.name, "code": (f.line or "")[:200]}
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename in source_names
    ]
    message = str(exc)
    if _isinstance(exc, SystemExit):
        message = f"the submission called sys.exit({exc.code!r})"
    return {"type": _type(exc).__name__, "message": message[:1000], "frames": frames[-8:]}


class Probe:
    """Loads the submission and runs one probe per part."""

    def __init__(self, config: dict, namespace: dict | None = None) -> None:
        self.config = config
        self.out_dir = config["out_dir"]
        self.inputs = config["inputs_dir"]
        self.preloaded = namespace is not None
        self.namespace: dict = namespace if namespace is not None else {"__name__": SUBMISSION_MODULE}
        self.source_names: set[str] = set(config.get("source_names", []))
        self.progress = os.open(
            os.path.join(self.out_dir, "progress"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
        )

    def watch_network(self) -> None:
        """Record every attempt to open a network connection (an audit hook cannot be removed)."""
        log = os.open(
            os.path.join(self.out_dir, "network.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
        )

        def hook(event: str, args: tuple) -> None:
            if event == "socket.connect" or event == "socket.getaddrinfo":
                address = args[1] if event == "socket.connect" else args[:2]
                if _isinstance(address, str):  # AF_UNIX paths are local
                    return
                os.write(log, f"{event} {_repr(address)[:200]}\n".encode())

        sys.addaudithook(hook)

    def say(self, line: str) -> None:
        os.write(self.progress, (line + "\n").encode())

    # -- loading the submission ------------------------------------------------------------
    def load_submission(self) -> None:
        """Execute each chunk (notebook cell or top-level statement) on its own, like a notebook.

        A chunk that raises does not stop the others, so a stub for one part costs only that part.
        """
        import types

        module = types.ModuleType(SUBMISSION_MODULE)
        sys.modules[SUBMISSION_MODULE] = module
        self.namespace = module.__dict__
        with _open(self.config["chunks"]) as handle:
            chunks = json.load(handle)
        errors = []
        for chunk in chunks:
            filename = chunk["filename"]
            self.source_names.add(filename)
            source = "\n" * (chunk["first_line"] - 1) + chunk["source"]
            try:
                code = compile(source, filename, "exec")
                exec(code, self.namespace)
            except _BaseException as exc:
                errors.append({"label": chunk["label"], **error_info(exc, self.source_names)})
        with _open(os.path.join(self.out_dir, "import.json"), "w") as handle:
            _json_dump({"errors": errors, "defined": sorted(self.namespace)}, handle)

    def student(self, name: str):
        if name not in self.namespace:
            raise LookupError(name)
        return self.namespace[name]

    def call(self, rec: Recorder, key: str, function, *args, **kwargs):
        """Call student code; record an error under `key` instead of raising."""
        try:
            return True, function(*args, **kwargs)
        except _BaseException as exc:
            rec.data.setdefault("errors", {})[key] = error_info(exc, self.source_names)
            return False, None

    # -- shared helpers ------------------------------------------------------------------------
    def load_input(self, name: str):
        import numpy as np

        return np.load(os.path.join(self.inputs, name), allow_pickle=False)

    def reference_model(self):
        """A freshly seeded copy of the reference architecture (the grader's own input)."""
        import keras

        keras.utils.set_random_seed(self.config["seed"])
        model = keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.Flatten(),
                keras.layers.Dense(self.config["hidden_units"], activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    def subset(self):
        return self.load_input("subset_images.npy"), self.load_input("subset_labels.npy")

    # -- one probe per part ----------------------------------------------------------------------
    def probe_CLASS_NAMES(self, rec: Recorder) -> None:
        value = self.student("CLASS_NAMES")
        info = describe(value)
        if _isinstance(value, (list, tuple)) and all(_type(v) is str for v in value):
            info["items"] = [str(v) for v in value][:50]
        rec.data["value"] = info

    def probe_load_data(self, rec: Recorder) -> None:
        ok, result = self.call(rec, "call", self.student("load_data"))
        if not ok:
            return
        rec.data["result"] = describe(result)
        try:
            (train_x, train_y), (test_x, test_y) = result
        except Exception as exc:
            rec.data["structure_error"] = str(exc)[:300]
            return
        for key, value in [
            ("train_images", train_x),
            ("train_labels", train_y),
            ("test_images", test_x),
            ("test_labels", test_y),
        ]:
            rec.save_array(key, value)

    def probe_scale_images(self, rec: Recorder) -> None:
        import numpy as np

        scale = self.student("scale_images")
        images = self.load_input("sample_images.npy")
        before = images.copy()
        ok, result = self.call(rec, "call", scale, images)
        rec.data["input_modified"] = not np.array_equal(images, before)
        rec.data["input_dtype_after"] = str(images.dtype)
        if ok:
            rec.data["returned_input_object"] = result is images
            rec.save_array("result", result)

    def probe_add_batch_dimension(self, rec: Recorder) -> None:
        import numpy as np

        image = self.load_input("sample_images.npy")[0].astype(np.float32) / 255.0
        ok, result = self.call(rec, "call", self.student("add_batch_dimension"), image)
        if ok:
            rec.save_array("result", result)

    def probe_build_model(self, rec: Recorder) -> None:
        build = self.student("build_model")
        for key, kwargs in [("default", {}), ("small", {"hidden_units": 128})]:
            ok, model = self.call(rec, key, build, **kwargs)
            if not ok:
                continue
            rec.data[f"{key}_type"] = describe(model)
            self.save_model(rec, key, model)

    def save_model(self, rec: Recorder, key: str, model) -> None:
        path = rec.path(f"{key}.keras")
        try:
            model.save(path)
            rec.data[f"{key}_saved"] = True
        except Exception as exc:
            rec.data[f"{key}_saved"] = False
            rec.data[f"{key}_save_error"] = f"{_type(exc).__name__}: {exc}"[:500]

    def probe_callback(self, rec: Recorder, class_name: str, cases: list[dict]) -> None:
        """Drive a callback with synthetic logs on a stand-in model, then in a real short fit."""
        import keras

        callback_class = self.student(class_name)
        stand_in = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        results = []
        for case in cases:
            outcome: dict = {"case": case}
            ok, callback = self.call(rec, f"init {case['id']}", callback_class, **case["kwargs"])
            if ok:
                stand_in.stop_training = False
                try:
                    callback.set_model(stand_in)
                    callback.on_epoch_end(0, logs=dict(case["logs"]))
                    outcome["model_stop_training"] = bool(stand_in.stop_training is True)
                    outcome["self_stop_training"] = bool(
                        getattr(callback, "stop_training", False) is True
                    )
                except _BaseException as exc:
                    outcome["error"] = error_info(exc, self.source_names)
            else:
                outcome["error"] = rec.data["errors"][f"init {case['id']}"]
            results.append(outcome)
        rec.data["cases"] = results

        images, labels = self.subset()
        images = images.astype("float32") / 255.0
        fits = []
        for fit in self.config["callback_fits"][class_name]:
            model = self.reference_model()
            ok, callback = self.call(rec, f"fit {fit['id']}", callback_class, **fit["kwargs"])
            record: dict = {"fit": fit}
            if ok:
                try:
                    history = model.fit(
                        images, labels, epochs=fit["epochs"], callbacks=[callback], verbose=0
                    )
                    record["epochs_run"] = len(history.epoch)
                except _BaseException as exc:
                    record["error"] = error_info(exc, self.source_names)
            fits.append(record)
        rec.data["fits"] = fits

    def probe_StopOnLoss(self, rec: Recorder) -> None:
        self.probe_callback(rec, "StopOnLoss", self.config["callback_cases"]["StopOnLoss"])

    def probe_StopOnAccuracy(self, rec: Recorder) -> None:
        self.probe_callback(rec, "StopOnAccuracy", self.config["callback_cases"]["StopOnAccuracy"])

    def probe_train_model(self, rec: Recorder) -> None:
        import keras
        import numpy as np

        train = self.student("train_model")
        images, labels = self.subset()
        images = images.astype("float32") / 255.0

        class EpochRecorder(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.epochs: list[int] = []
                self.inside_fit = False

            def on_train_begin(self, logs=None) -> None:
                self.inside_fit = True

            def on_epoch_end(self, epoch, logs=None) -> None:
                self.epochs.append(int(epoch))

        for key, epochs in [("explicit", 2), ("default", None)]:
            model = self.reference_model()
            before = [w.copy() for w in model.get_weights()]
            recorder = EpochRecorder()
            kwargs = {"callbacks": [recorder]}
            if epochs is not None:
                kwargs["epochs"] = epochs
            ok, history = self.call(rec, key, train, model, images, labels, **kwargs)
            if not ok:
                continue
            after = model.get_weights()
            changed = len(after) == len(before) and any(
                not np.array_equal(a, b) for a, b in zip(after, before, strict=True)
            )
            rec.data[key] = {
                "requested_epochs": epochs,
                "returned": describe(history),
                "is_history": _isinstance(history, keras.callbacks.History),
                "is_fit_history": history is getattr(model, "history", None),
                "history_epochs": list(getattr(history, "epoch", []) or [])[:100],
                "history_keys": sorted(getattr(history, "history", {}) or {})[:20],
                "callback_epochs": recorder.epochs[:100],
                "callback_inside_fit": recorder.inside_fit,
                "weights_changed": bool(changed),
            }

    def probe_predict_classes(self, rec: Recorder) -> None:
        import keras

        predict = self.student("predict_classes")
        model = keras.saving.load_model(os.path.join(self.inputs, "reference_model.keras"))
        images = self.load_input("predict_images.npy")
        ok, result = self.call(rec, "call", predict, model, images)
        if ok:
            rec.save_array("result", result)

    def probe_pipeline(self, rec: Recorder) -> None:
        import keras
        import tensorflow as tf

        scale = self.student("scale_images")
        build = self.student("build_model")
        train = self.student("train_model")
        (train_x, train_y), _ = keras.datasets.fashion_mnist.load_data()
        keras.utils.set_random_seed(self.config["seed"])
        tf.config.experimental.enable_op_determinism()
        ok, scaled = self.call(rec, "scale_images", scale, train_x)
        if not ok:
            return
        ok, model = self.call(rec, "build_model", build)
        if not ok:
            return
        started = _time()
        ok, history = self.call(
            rec, "train_model", train, model, scaled, train_y, epochs=self.config["pipeline_epochs"]
        )
        rec.data["training_seconds"] = round(_time() - started, 2)
        if not ok:
            return
        logs = getattr(history, "history", None)
        if _isinstance(logs, dict):
            rec.data["history"] = {
                str(k): [float(v) for v in values][:100]
                for k, values in logs.items()
                if _isinstance(values, list)
            }
        self.save_model(rec, "model", model)

    # -- driver ----------------------------------------------------------------------------------
    def run(self) -> None:
        if not self.preloaded:
            self.watch_network()
            self.say("begin import")
            self.load_submission()
            self.say("end import")
        for part in self.config["parts"]:
            self.say(f"begin {part}")
            rec = Recorder(self.out_dir, part)
            started = _time()
            try:
                getattr(self, f"probe_{part}")(rec)
            except LookupError as exc:
                rec.data["missing"] = str(exc.args[0]) if exc.args else part
            except _BaseException as exc:
                rec.data.setdefault("errors", {})["probe"] = error_info(exc, self.source_names)
            rec.data["seconds"] = round(_time() - started, 3)
            rec.finish()
            self.say(f"end {part}")
        os.close(self.progress)


def run_in_process(config: dict, namespace: dict) -> None:
    """Probe objects that already exist (a student's own kernel, for self-checks).

    The student's code runs in the caller's process here; grading always uses the sandbox.
    """
    Probe(config, namespace).run()


def main() -> None:
    with _open(sys.argv[1]) as handle:
        config = json.load(handle)
    Probe(config).run()
    sys.stdout.flush()
    # Skip interpreter teardown: student threads or atexit hooks must not change the outcome.
    os._exit(0)


if __name__ == "__main__":
    main()

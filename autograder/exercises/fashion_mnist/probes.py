"""Fashion-MNIST's probes: inside the sandboxed child, call the student's code on the grader's
inputs and record what comes back. No probe decides anything: the graders do, in the grader.

The declared parts (add_batch_dimension, build_model, predict_classes: see __init__.py) have no
probe here: the engine runs their calls. Each `probe_<part>(h, rec)` receives the harness (`h`, see autograder/child/harness.py and
keras_tools.py) and the part's recorder (`rec`), whose keys `schema.py` declares. Copied into the
child and loaded by the harness: it imports nothing from the grader.
"""

LOAD_KEYS = ("train_images", "train_labels", "test_images", "test_labels")


def probe_CLASS_NAMES(h, rec) -> None:
    value = h.student("CLASS_NAMES")
    info = h.describe(value)
    if isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
        info["items"] = [str(v) for v in value][:50]
    rec.data["value"] = info


def probe_load_data(h, rec) -> None:
    ok, result = h.call(rec, "call", h.student("load_data"))
    if not ok:
        return
    rec.data["result"] = h.describe(result)
    try:
        (train_x, train_y), (test_x, test_y) = result
    except Exception as exc:
        rec.data["structure_error"] = str(exc)[:300]
        return
    for key, value in zip(LOAD_KEYS, (train_x, train_y, test_x, test_y), strict=True):
        rec.save_array(key, value)


def probe_scale_images(h, rec) -> None:
    scale = h.student("scale_images")
    images = h.load_input("sample_images")
    before = images.copy()
    ok, result = h.call(rec, "call", scale, images)
    rec.data["input_modified"] = not h.same_array(images, before)
    rec.data["input_shape_changed"] = getattr(images, "shape", None) != before.shape
    rec.data["input_dtype_after"] = str(images.dtype)
    if ok:
        rec.data["returned_input_object"] = result is images
        rec.save_array("result", result)


def probe_StopOnLoss(h, rec) -> None:
    h.drive_callback(rec, "StopOnLoss")


def probe_StopOnAccuracy(h, rec) -> None:
    h.drive_callback(rec, "StopOnAccuracy")


def probe_train_model(h, rec) -> None:
    train = h.student("train_model")
    for key, epochs in [("explicit", h.config["train_epochs"]), ("default", None)]:
        # Each call starts from weights and images drawn for it alone (never seen by an
        # earlier part), so a training cannot be replayed from another part's fits.
        start = h.config["train_starts"][key]
        model = h.start_model()
        model.set_weights([h.load_input(name) for name in start["weights"]])
        images = h.load_input(start["images"]).astype("float32") / 255.0
        labels = h.load_input(start["labels"])
        recorder = h.epoch_recorder()
        kwargs = {"callbacks": [recorder]}
        if epochs is not None:
            kwargs["epochs"] = epochs
        ok, history = h.call(rec, key, train, model, images, labels, **kwargs)
        if not ok:
            continue
        rec.data[key] = {
            "returned": h.describe(history),
            "is_history": isinstance(history, h.k["History"]),
            "is_fit_history": history is getattr(model, "history", None),
            "history_epochs": list(getattr(history, "epoch", []) or [])[:100],
            "history_keys": sorted(getattr(history, "history", {}) or {})[:20],
            "callback_epochs": recorder.epochs[:100],
            "callback_inside_fit": recorder.inside_fit,
        }
        # The grader reads the optimizer's steps and the weights from this file itself.
        h.save_model(rec, f"{key}_model", model)


def probe_pipeline(h, rec) -> None:
    """The student's scale_images, build_model and train_model, end to end on the real
    training set; the grader evaluates the saved model on the test set itself."""
    scale = h.student("scale_images")
    build = h.student("build_model")
    train = h.student("train_model")
    train_x, train_y = h.dataset_arrays("train_images", "train_labels")
    h.deterministic(h.config["seed"])
    ok, scaled = h.call(rec, "scale_images", scale, train_x)
    if not ok:
        return
    rec.data["scaled"] = h.describe(scaled)
    ok, model = h.call(rec, "build_model", build)
    if not ok:
        return
    epochs = h.config["pipeline_epochs"]
    h.train_and_record(rec, "train_model", model, train, model, scaled, train_y, epochs=epochs)

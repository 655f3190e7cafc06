"""The convolutional exercise's probes: inside the sandboxed child, call the student's code on
the grader's inputs and record what comes back (see autograder/child/harness.py). Copied into
the child and loaded by the harness: it imports nothing from the grader.
"""

MAX_SHAPES = 64


def probe_reshape_images(h, rec) -> None:
    reshape = h.student("reshape_images")
    images = h.load_input("sample_images")
    before = images.copy()
    ok, result = h.call(rec, "call", reshape, images)
    rec.data["input_modified"] = not h.same_array(images, before)
    rec.data["input_shape_changed"] = getattr(images, "shape", None) != before.shape
    if ok:
        rec.data["returned_input_object"] = result is images
        rec.save_array("result", result)


def _shape_model(h, spec):
    """A CNN of the sizes the grader drew, built here with Keras (bound before the submission)."""
    layers = h.k["keras"].layers
    (f1, f2), (k1, k2) = spec["filters"], spec["kernels"]
    return h.k["Sequential"](
        [
            h.k["Input"]((28, 28, 1)),
            layers.Conv2D(f1, (k1, k1), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(f2, (k2, k2), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Flatten(),
            layers.Dense(spec["dense"], activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def _plain_shapes(value):
    """The returned shapes as lists of ints (None entries kept), or None when not a list of
    shapes: plain data only crosses back."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_SHAPES:
        return None
    shapes = []
    for shape in value:
        try:
            dims = list(shape)
        except TypeError:
            return None
        if len(dims) > 8:
            return None
        plain = []
        for d in dims:
            if d is None:
                plain.append(None)
            elif type(d) is bool:
                return None
            else:
                try:
                    plain.append(int(d))
                except (TypeError, ValueError, OverflowError):
                    return None
        shapes.append(plain)
    return shapes


def probe_layer_output_shapes(h, rec) -> None:
    shapes_of = h.student("layer_output_shapes")
    results = []
    for spec in h.config["shape_models"]:
        model = _shape_model(h, spec)
        ok, value = h.call(rec, spec["id"], shapes_of, model)
        record = {"id": spec["id"]}
        if ok:
            record["returned"] = h.describe(value)
            record["shapes"] = _plain_shapes(value)
        results.append(record)
    rec.data["results"] = results


def probe_StopAtAccuracy(h, rec) -> None:
    h.drive_callback(rec, "StopAtAccuracy")


def probe_pipeline(h, rec) -> None:
    """The student's reshape_images and build_model, trained on the first training images; the
    grader evaluates the saved model on the whole test set itself."""
    reshape = h.student("reshape_images")
    build = h.student("build_model")
    count = h.config["pipeline_images"]
    images, labels = h.dataset_arrays("train_images", "train_labels")
    images, labels = images[:count], labels[:count]
    h.deterministic(h.config["seed"])
    ok, shaped = h.call(rec, "reshape_images", reshape, images)
    if not ok:
        return
    ok, model = h.call(rec, "build_model", build)
    if not ok:
        return
    epochs = h.config["pipeline_epochs"]
    h.train_and_record(rec, "fit", model, model.fit, shaped, labels, epochs=epochs, verbose=0)

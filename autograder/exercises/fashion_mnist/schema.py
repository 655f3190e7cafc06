"""What each hand-written probe records (declared parts derive theirs, see __init__.py) (see autograder/child/schema.py for the kinds).

Read by the probe in the child and by the graders' reader in the grader: a key used on one side
and not declared here fails the part. Plain literals only (copied into the child).
"""

OBSERVATIONS = {
    "CLASS_NAMES": {"value": "info"},
    "load_data": {
        "result": "info",
        "structure_error": "text",
        "train_images": "array",
        "train_labels": "array",
        "test_images": "array",
        "test_labels": "array",
    },
    "scale_images": {
        "result": "array",
        "input_modified": "bool",
        "input_shape_changed": "bool",
        "input_dtype_after": "text",
        "returned_input_object": "bool",
    },
    "StopOnLoss": {"cases": "list", "fits": "list", "fit_*": "model"},
    "StopOnAccuracy": {"cases": "list", "fits": "list", "fit_*": "model"},
    "train_model": {
        "explicit": "dict",
        "default": "dict",
        "explicit_model": "model",
        "default_model": "model",
    },
    "pipeline": {
        "scaled": "info",
        "training_seconds": "number",
        "history": "dict",
        "model": "model",
    },
}

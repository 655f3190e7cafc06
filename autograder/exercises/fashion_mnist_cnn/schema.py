"""What each part's probe records (see autograder/child/schema.py for the kinds).

Read by the probe in the child and by the graders' reader in the grader. Plain literals only.
"""

OBSERVATIONS = {
    "reshape_images": {
        "result": "array",
        "input_modified": "bool",
        "input_shape_changed": "bool",
        "returned_input_object": "bool",
    },
    "layer_output_shapes": {"results": "list"},
    "StopAtAccuracy": {"cases": "list", "fits": "list", "fit_*": "model"},
    "pipeline": {"training_seconds": "number", "history": "dict", "model": "model"},
}

"""A student's notebook with one plausible mistake per part, and what each self-check must say.

Used by tests/test_student_notebook.py (executed with `jupyter nbconvert --execute`, as a student
would run it) and by hand on the real data for the record.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import mutate
import nbformat
from nbgrader_course import answered, read

# part -> (correct code, the student's mistake, what the self-check must point at)
MISTAKES: dict[str, tuple[str, str, str]] = {
    "CLASS_NAMES": ('"Shirt",\n    "Sneaker",', '"Sneaker",\n    "Shirt",', "out of order"),
    "load_data": (
        "return (train_images, train_labels), (test_images, test_labels)",
        "return (test_images, test_labels), (train_images, train_labels)",
        "swapped",
    ),
    "scale_images": ("return images / 255.0", "return images // 255", "integer division"),
    "add_batch_dimension": ("np.expand_dims(image, 0)", "np.expand_dims(image, -1)", "goes first"),
    "build_model": (
        'keras.layers.Dense(hidden_units, activation="relu")',
        'keras.layers.Dense(128, activation="relu")',
        "128 hidden units instead of 512",
    ),
    "StopOnLoss": (
        "self.model.stop_training = True",
        "self.stop_training = True",
        "set self.model.stop_training = True",
    ),
    "StopOnAccuracy": ('logs.get("accuracy")', 'logs.get("acc")', "not 'acc'"),
    "train_model": ("epochs=epochs, ", "", "epochs is not passed to model.fit"),
    "predict_classes": ("axis=1)", "axis=0)", "wrong axis"),
}


def mistaken_notebook(release: Path, solution: Path) -> nbformat.NotebookNode:
    """The release answered as in the solution, with each part's mistake written into the cell
    that defines the part."""
    notebook = copy.deepcopy(answered(read(release), read(solution)))
    edits = [mutate.Edit(part, right, wrong) for part, (right, wrong, _) in MISTAKES.items()]
    return mutate.edit_notebook(notebook, *edits, label="the answered release")


def execute(notebook: Path, env: dict[str, str], timeout: int = 1800) -> Path:
    """Run the notebook top to bottom as a student would; errors do not stop the run."""
    out = notebook.with_name(notebook.stem + ".executed.ipynb")
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook",
         "--execute", "--allow-errors", f"--ExecutePreprocessor.timeout={timeout}",
         "--output", out.name, str(notebook)],
        check=True, env=env, capture_output=True, text=True, timeout=timeout + 120,
    )  # fmt: skip
    return out


def run_as_student(notebook: nbformat.NotebookNode, work: Path, data_dir: Path) -> Path:
    """Save `notebook` in `work` and run it top to bottom in a fresh kernel, every cell, as a
    student does in Jupyter (which tells the kernel the notebook's path: the self-check reads
    the saved file to see what grading will see)."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "fashion_mnist.ipynb"
    nbformat.write(notebook, str(path))
    env = student_env(work / "home", data_dir)
    env["JPY_SESSION_NAME"] = str(path)
    return execute(path, env)


def output_lines(executed: Path) -> list[tuple[str, str, str]]:
    """Every line the page shows under the code cells: (the cell's first line, the kind of
    output, the line); an error is shown as its name and message."""
    found = []
    for cell in json.loads(executed.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        first = "".join(cell["source"]).split("\n", 1)[0]
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "stream":
                text, kind = "".join(output["text"]), output["name"]
            elif kind == "error":
                text = f"{output['ename']}: {output['evalue']}"
            else:
                text = "".join(output.get("data", {}).get("text/plain", ""))
            found += [(first, kind, line) for line in text.splitlines()]
    return found


def self_check_outputs(executed: Path) -> dict[str, str]:
    """part -> the text each `check(...)` cell printed."""
    outputs = {}
    for cell in json.loads(executed.read_text())["cells"]:
        if "self-check" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"])
        part = source.split('check("', 1)[1].split('"', 1)[0]
        outputs[part] = "".join(
            "".join(o.get("text", ""))
            if o["output_type"] == "stream"
            # the slow check's progress line, updated in place
            else "".join(o.get("data", {}).get("text/plain", "")) + "\n"
            for o in cell.get("outputs", [])
            if o["output_type"] in ("stream", "display_data")
        )
    return outputs


def student_env(home: Path, data_dir: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "JPY_SESSION_NAME")}
    env.update(HOME=str(home), FASHION_MNIST_DIR=str(data_dir), TF_CPP_MIN_LOG_LEVEL="2")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


if __name__ == "__main__":  # python tests/student_run.py DATA_DIR WORKDIR
    sys.path.insert(0, str(Path(__file__).parent))
    from fashion import RELEASE, SOLUTION

    data_dir, work = Path(sys.argv[1]), Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    path = work / "fashion_mnist.ipynb"
    nbformat.write(mistaken_notebook(RELEASE, SOLUTION), str(path))
    executed = execute(path, student_env(work / "home", data_dir))
    print(f"executed notebook: {executed} ({executed.stat().st_size / 1024:.0f} KiB)")
    for part, text in self_check_outputs(executed).items():
        print(f"===== check({part!r})\n{text}")

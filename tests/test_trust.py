"""Grades no submission can forge, and a grader no submission can take down.

Each test is a submission (or a file in the child's output) that tries one attack from the
security review, and shows it contained: forged points are 0, the bombs and hangs cost at most one
part's limit plus a fixed overhead, the grading process's memory stays near what grading the
reference takes, and grading always ends with a report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mutate
import pytest
from fashion import RELEASE, fast_options, reference_source
from hostile_submissions import body, grade, hostile
from nbgrader_course import edited_release

from autograder import cli
from autograder.exporters import csv_export, text
from autograder.grader import Grader
from autograder.inputs import grading_seed
from autograder.results import GradingReport
from autograder.sandbox.progress import ProgressProtocol, ProtocolViolation
from autograder.submission import load_submission

CALLBACKS_AND_TRAINING = ("StopOnLoss", "StopOnAccuracy", "train_model")


@pytest.fixture(scope="module")
def trusted(synthetic_dir: Path):
    options = fast_options(synthetic_dir)
    options.timeouts.update({"import": 60.0, "between": 30.0})
    with Grader(options) as instance:
        yield instance


def _score(report: GradingReport, parts) -> float:
    return sum(report.part_score(p)[0] for p in parts)


# -- 2. The child receives inputs, never expected answers -------------------------------------------
def test_the_child_is_sent_inputs_and_never_the_expected_outcomes(trusted: Grader) -> None:
    inputs = trusted.setup.draw(grading_seed(b"k", b"code"))
    sent = json.dumps(trusted.child_config(inputs))
    assert '"stop"' not in sent and '"expect"' not in sent and "boundary" not in sent
    cases = inputs.context.expectations.cases["StopOnLoss"]
    # Both decisions and the exact boundary are among the cases, with opaque ids.
    assert {c.stop for c in cases} == {True, False}
    assert any(c.logs["loss"] == c.kwargs.get("threshold", 0.4) for c in cases)
    assert all(c.id.startswith("c") for c in cases)


def test_inputs_are_the_same_for_a_submission_and_unpredictable_without_the_secret(
    trusted: Grader,
) -> None:
    def drawn(secret: bytes, code: bytes) -> str:
        inputs = trusted.setup.draw(grading_seed(secret, code))
        return json.dumps(inputs.config) + str(inputs.arrays["subset_images"].sum())

    assert drawn(b"secret", b"same code") == drawn(b"secret", b"same code")
    assert drawn(b"secret", b"same code") != drawn(b"other secret", b"same code")
    assert drawn(b"secret", b"same code") != drawn(b"secret", b"other code")


def _probe_forger(strategy: str) -> str:
    """Stubs for the callbacks and train_model, and a patch of the harness's declared-part
    runner (reachable from the harness's Probe, found in sys.modules["__main__"]) that writes
    the observations a passing submission would, echoing whatever the grader sent."""
    forge = f"""
    import gc as _gc, sys as _sys
    STRATEGY = {strategy!r}

    def _decide(case):
        if STRATEGY == "echo":
            return bool(case.get("stop", case.get("expect", True)))
        return STRATEGY == "always"

    def _callbacks(h, rec, rule):
        rec.data["cases"] = [
            {{"id": c["id"], "model_stop_training": _decide(c), "self_stop_training": False}}
            for c in h.config[rule + "_cases"]
        ]
        rec.data["fits"] = [
            {{"id": f["id"], "epochs_run": f.get("expect", 1 if STRATEGY == "always" else f["epochs"])}}
            for f in h.config[rule + "_fits"]
        ]

    def _train(h, rec):
        for key, epochs in (("explicit", h.config.get("train_epochs", 2)), ("default", 5)):
            if STRATEGY == "fabricate":  # a "trained" model without training: steps, new weights
                import numpy as _np
                model = h.load_model_input(h.config["start_model"])
                model.optimizer.build(model.trainable_variables)
                model.optimizer.iterations.assign(16 * epochs)
                rng = _np.random.default_rng(0)
                model.set_weights([w + rng.normal(0, 0.01, w.shape).astype(w.dtype)
                                   for w in model.get_weights()])
                h.save_model(rec, key + "_model", model)
            rec.data[key] = {{"type": "keras.src.callbacks.history.History",
                              "of_model_argument": True}}
            rec.data[key + "_is_history"] = True
            rec.data[key + "_epochs"] = list(range(epochs))
            rec.data[key + "_callback_epochs"] = list(range(epochs))
            rec.data[key + "_callback_inside_fit"] = True

    _FORGED = {{
        "StopOnLoss": lambda h, rec: _callbacks(h, rec, "loss"),
        "StopOnAccuracy": lambda h, rec: _callbacks(h, rec, "accuracy"),
        "train_model": _train,
    }}
    for _h in [o for o in _gc.get_objects() if type(o).__name__ == "Probe"]:
        _module = _sys.modules[type(_h).__module__]
        _run_calls = _module.run_calls
        _module.run_calls = lambda h, rec, calls, _run=_run_calls: (
            _FORGED[h.current](h, rec) if h.current in _FORGED else _run(h, rec, calls)
        )
    """
    stub = body("raise NotImplementedError()")
    return hostile(
        (
            "        super().__init__()\n        self.threshold = threshold\n",
            stub.replace("    ", "        ", 1),
        ),
        (
            "        super().__init__()\n        self.target = target\n",
            stub.replace("    ", "        ", 1),
        ),
        ("    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n", stub),
        suffix="\n" + textwrap.dedent(forge),
    )


@pytest.mark.parametrize("strategy", ["echo", "always", "never", "fabricate"])
def test_a_patched_probe_echoing_or_guessing_earns_nothing(trusted, tmp_path, strategy) -> None:
    report = grade(trusted, tmp_path, _probe_forger(strategy), parts=CALLBACKS_AND_TRAINING)
    details = "\n".join(f"{t.name}: {t.score} {t.output[:200]}" for t in report.tests if t.score)
    assert _score(report, CALLBACKS_AND_TRAINING) == 0, details
    # The forgery took effect: the patched probes ran instead of the stubs' (which would only
    # say "not implemented yet").
    assert not any("not implemented" in t.output for t in report.tests), report.tests


ON_EPOCH_END = "    def on_epoch_end(self, epoch, logs=None):\n        ### BEGIN SOLUTION\n"
REPLAY_CALLBACK = (
    ON_EPOCH_END + '        _KEPT["weights"] = self.model.get_weights()  # what real fits trained\n'
)
REPLAY_TRAIN = """
if "weights" not in _KEPT:
    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)
model.set_weights(_KEPT["weights"])  # no training: another part's trained weights
steps = epochs * -(-len(images) // 32)
model.optimizer.iterations.assign(steps)
history = keras.callbacks.History()
everyone = [*(callbacks or []), history]
for callback in everyone:
    callback.set_model(model)
    callback.on_train_begin()
for epoch in range(epochs):
    for callback in everyone:
        callback.on_epoch_end(epoch, {"loss": 0.3, "accuracy": 0.9})
model.history = history
return history
"""


def test_a_training_replayed_from_another_parts_fits_earns_nothing(trusted, tmp_path) -> None:
    """The callbacks' real fits once trained the very start model and images train_model was
    judged on: a callback kept those weights and train_model put them back with a forged step
    counter, hand-called callbacks and a hand-made History (10/10 without training). Each
    train_model call now starts from weights and images drawn for it alone, and weights that
    did not start from them are refused."""
    source = hostile(
        mutate.Edit("StopOnLoss", ON_EPOCH_END, REPLAY_CALLBACK),
        ("    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n", body(REPLAY_TRAIN)),
        prefix="_KEPT = {}\n",
    )  # fmt: skip
    report = grade(trusted, tmp_path, source, parts=("StopOnLoss", "train_model"))
    assert report.part_score("StopOnLoss")[0] > 0  # the callback itself still works
    assert report.part_score("train_model") == (0, 10), [t.output for t in report.tests]
    assert "did not start from the ones it was given" in report.tests[-1].output


# -- 3. The progress channel cannot be forged usefully ----------------------------------------------
def test_progress_protocol_accepts_only_the_probes_order() -> None:
    good = ["begin import", "end import", "begin a", "end a", "begin b", "end b", "done"]
    protocol = ProgressProtocol(["a", "b"])
    assert [protocol.feed(line).verb for line in good] == [
        "begin", "end", "begin", "end", "begin", "end", "done"
    ]  # fmt: skip
    early_stop = ProgressProtocol(["a", "b"])
    for line in ["begin import", "end import", "begin a", "end a", "done"]:
        early_stop.feed(line)
    for forged in (
        ["begin import", "begin b"],  # a part begun during import
        ["begin import", "end import", "begin b"],  # out of order
        ["begin import", "end import", "begin a", "begin a"],  # a clock reset
        ["begin import", "end import", "begin a", "end a", "done", "begin b"],  # after done
        ["begin import", "done"],  # done inside a phase
    ):
        protocol = ProgressProtocol(["a", "b"])
        with pytest.raises(ProtocolViolation):
            for line in forged:
                protocol.feed(line)


PLANTED = """
import json as _json, os as _os
_os.makedirs("out", exist_ok=True)
with open("out/train_model.json", "w") as _f:
    _json.dump({"part": "train_model", "explicit": {"is_history": True, "trained_steps": 32}}, _f)
with open("out/progress", "a") as _f:
    _f.write("begin train_model\\nend train_model\\n")
_os._exit(0)
"""

CLOCK_RESET = """
import threading as _threading, time as _time
def _reset():
    while True:
        with open("out/progress", "a") as _f:
            _f.write("begin scale_images\\n")
        _time.sleep(0.5)
_threading.Thread(target=_reset, daemon=True).start()
"""


def test_a_planted_result_and_progress_lines_earn_nothing(trusted, tmp_path) -> None:
    source = hostile(
        (
            "    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n",
            body("raise NotImplementedError()"),
        ),
        prefix=PLANTED,
    )
    report = grade(trusted, tmp_path, source, parts=("train_model",))
    assert _score(report, ["train_model"]) == 0
    assert "progress file" in report.part_notes.get("grader", "") or all(
        not t.passed for t in report.tests
    )


def test_resetting_a_parts_clock_is_stopped_at_once(trusted, tmp_path) -> None:
    source = hostile(
        ("    return images / 255.0\n", body("while True:\n    pass")), prefix=CLOCK_RESET
    )
    started = time.monotonic()
    report = grade(
        trusted, tmp_path, source, parts=("CLASS_NAMES", "scale_images"),
        timeouts={"scale_images": 5.0},
    )  # fmt: skip
    assert time.monotonic() - started < 60
    assert report.score == 0
    assert "progress file" in report.part_notes["grader"]
    assert "interfered" in report.tests[0].output


# -- 4, 5. Bombs: bounded before they are inflated or run ---------------------------------------------
ZIP_BOMB = '''
import sys as _sys


class _BombZip:
    """In place of the probe's zip writer (a student can reach the harness's modules): every
    model file becomes a 1 GiB config.json deflated to about 1 MiB."""
    def __init__(self, handle, mode, compression):
        import zipfile as _zipfile
        with _zipfile.ZipFile(handle, "w", _zipfile.ZIP_DEFLATED) as archive:
            with archive.open("config.json", "w", force_zip64=True) as member:
                chunk = b" " * 2**20
                for _ in range(1024):
                    member.write(chunk)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False
    def writestr(self, *args):
        pass
    def open(self, *args, **kwargs):
        import io as _io
        return _io.BytesIO()


_sys.modules["child.model_file"]._ZipFile = _BombZip
'''

EVAL_BOMB_MODEL = """
model = keras.Sequential([
    keras.Input((28, 28)),
    keras.layers.Reshape((28, 28, 1)),
    keras.layers.UpSampling2D((16, 16)),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
return model
"""


def _replace_build_model(new_body: str) -> tuple[str, str]:
    start = "    model = keras.Sequential(\n        [\n            keras.Input(shape=(28, 28)),"
    source = reference_source()
    old = source[source.index(start) : source.index("    return model\n", source.index(start))]
    return old + "    return model\n", body(new_body)


def zip_bomb_source() -> str:
    return hostile(prefix=ZIP_BOMB)


def eval_bomb_source() -> str:
    return hostile(
        _replace_build_model(EVAL_BOMB_MODEL),
        ("    return model.fit(images, labels, epochs=epochs, callbacks=callbacks)\n",
         body("return model.fit(images[:64], labels[:64], epochs=1, verbose=0)")),
    )  # fmt: skip


HANG_SOURCE = hostile(_replace_build_model("while True:\n    pass"))

MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {tests!r})
from fashion import fast_options
from autograder.grader import Grader
options = fast_options({data!r}, parts={parts!r})
options.timeouts.update({timeouts!r})
with Grader(options) as grader:
    started = time.monotonic()
    report = grader.grade({path!r})
print(json.dumps({{
    "score": report.score,
    "seconds": time.monotonic() - started,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "notes": report.part_notes,
    "outputs": [t.output for t in report.tests],
}}))
"""


def grade_in_own_process(source: str, tmp_path: Path, data: Path, parts, timeouts=None) -> dict:
    """Grade in a fresh process and measure that process's own peak memory (not its child's)."""
    path = tmp_path / f"submission-{abs(hash(source))}.py"
    path.write_text(source)
    script = MEASURE.format(
        tests=str(Path(__file__).parent), data=str(data), parts=tuple(parts),
        timeouts=timeouts or {}, path=str(path),
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reference_grading(tmp_path_factory, synthetic_dir) -> dict:
    tmp = tmp_path_factory.mktemp("reference-measure")
    measured = grade_in_own_process(
        reference_source(), tmp, synthetic_dir, ("build_model", "pipeline")
    )
    assert measured["score"] == 38
    return measured


@pytest.mark.slow
def test_bombs_and_hangs_cost_one_limit_and_no_memory(
    tmp_path, synthetic_dir, reference_grading
) -> None:
    """Zip bomb, evaluation bomb, hang: each fails its part, the grading process's own peak
    memory stays within 25% of grading the reference, and the time within the part's limit plus
    a fixed overhead (the reference's time)."""
    parts = ("build_model", "pipeline")
    limit = 15.0
    overhead = reference_grading["seconds"] + 30
    figures = {"reference": reference_grading}
    for name, source in (
        ("zip bomb", zip_bomb_source()),
        ("evaluation bomb", eval_bomb_source()),
        ("hang", HANG_SOURCE),
        # 14,000 statements on one 56 KB line: once 749 MiB of chunks and 132 s.
        ("one-line statements", reference_source() + "_=0;" * 14000 + "\n"),
    ):
        measured = grade_in_own_process(
            source, tmp_path, synthetic_dir, parts, {"build_model": limit}
        )
        figures[name] = measured
        assert measured["score"] == 0, (name, measured["outputs"])
        assert measured["peak_mib"] <= 1.25 * reference_grading["peak_mib"], (name, figures)
        assert measured["seconds"] <= limit + overhead, (name, figures)
    outputs = {name: "\n".join(f["outputs"]) for name, f in figures.items()}
    assert "config.json" in outputs["zip bomb"]
    assert "UpSampling2D" in outputs["evaluation bomb"]
    assert "was not run: it calls build_model, which timed out" in outputs["hang"]
    assert "top-level statements or cells" in outputs["one-line statements"]
    print(
        "peak MiB / seconds: "
        + ", ".join(f"{n} {f['peak_mib']:.0f}/{f['seconds']:.1f}" for n, f in figures.items())
    )


# -- 6. Malformed data never crashes grading ---------------------------------------------------------
def test_huge_integers_and_deep_nesting_in_observations_fail_only_that_part(
    trusted, tmp_path
) -> None:
    # scale_images, which runs after CLASS_NAMES, overwrites CLASS_NAMES' observations with a
    # 5,000-digit integer and import.json with 100,000 nested lists.
    planting = """
import os
for name, data in (("CLASS_NAMES.json", '{"value": ' + "9" * 5000 + "}"),
                   ("import.json", "[" * 100000 + "]" * 100000)):
    os.unlink("out/" + name)
    with open("out/" + name, "w") as handle:
        handle.write(data)
return images / 255.0
"""
    source = hostile(("    return images / 255.0\n", body(planting)))
    report = grade(trusted, tmp_path, source, parts=("CLASS_NAMES", "scale_images"))
    assert report.part_score("scale_images") == (9, 9)
    assert report.part_score("CLASS_NAMES")[0] == 0
    assert "not valid JSON" in report.tests[0].output


def test_a_malformed_notebook_is_not_graded_with_exit_0_and_a_results_file(
    tmp_path, synthetic_dir
) -> None:
    notebook = {"cells": [{"cell_type": "code", "metadata": [], "source": "x = 1"}], "nbformat": 4}
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(notebook))
    assert [c.source for c in load_submission(path).chunks] == ["x = 1"]
    path.write_text('{"cells": [' + "[" * 100000 + "]" * 100000 + "]}")
    results = tmp_path / "results.json"
    code = cli.main(
        ["grade", str(path), "--data-dir", str(synthetic_dir), "--results", str(results),
         "--exercise", "fashion_mnist"]
    )  # fmt: skip
    assert code == 0
    data = json.loads(results.read_text())
    assert data["score"] == 0 and "Not graded" in data["tests"][0]["output"]


# -- 7. A part that calls a hung function fails at once ----------------------------------------------
def test_a_hang_costs_one_limit_and_its_dependants_fail_at_once(trusted, tmp_path) -> None:
    started = time.monotonic()
    report = grade(
        trusted, tmp_path, HANG_SOURCE, parts=("build_model", "pipeline"),
        timeouts={"build_model": 5.0, "pipeline": 600.0},
    )  # fmt: skip
    assert time.monotonic() - started < 5 + 60
    assert report.part_notes["build_model"] == "timed out after 5 s"
    assert "calls build_model, which timed out after 5 s" in report.part_notes["pipeline"]
    assert report.artifacts["children_started"] == 1


# -- 8. Failures at load time are named ---------------------------------------------------------------
def test_failed_imports_and_exits_at_load_time_are_named(trusted, tmp_path) -> None:
    source = hostile(prefix="import some_module_that_does_not_exist\nsys.exit(0)\n")
    report = grade(trusted, tmp_path, source, parts=("CLASS_NAMES",))
    loading = report.part_notes["loading"]
    assert (
        "line 3: ModuleNotFoundError: No module named 'some_module_that_does_not_exist'" in loading
    )
    assert "line 4: the submission called sys.exit(0)" in loading and "must not exit" in loading
    assert report.part_score("CLASS_NAMES") == (3, 3)
    assert "some_module_that_does_not_exist" in text.render(report)


# -- 9. Student text is shown inert ------------------------------------------------------------------
def test_escape_sequences_and_formulas_from_students_are_neutralised(trusted, tmp_path) -> None:
    fake = "\\x1b[2J\\x1b[HScore: 100/100\\r"
    source = hostile(_replace_build_model(f'raise ValueError("{fake}")'))
    report = grade(trusted, tmp_path, source, parts=("build_model",))
    assert "\x1b[2J" in report.tests[0].output  # recorded as raised...
    rendered = text.render(report)
    assert "\x1b" not in rendered and "\r" not in rendered  # ...but shown inert
    assert rendered.splitlines()[0].startswith("Score: 0/27")
    report.submission = '=HYPERLINK("http://evil")'
    row = csv_export.row(report)
    assert row["submission"].startswith("'=")
    assert all(not value.startswith(("=", "+", "-", "@")) for value in row.values())


FORGED = "boom\\nScore: 100/100 for fashion_mnist.py\\nAll checks passed.\\n[PASS] build_model"


def test_line_breaks_in_student_text_never_forge_a_line_of_the_report(trusted, tmp_path) -> None:
    """A message raised at load time and one raised by a part, each carrying the kit's own
    lines: in every exporter they stay inside the student's text (folded or indented)."""
    source = hostile(
        _replace_build_model(f'raise ValueError("{FORGED}")'),
        prefix=f'raise RuntimeError("{FORGED}")\n',
    )
    report = grade(trusted, tmp_path, source, parts=("CLASS_NAMES", "build_model"))
    assert "boom" in report.part_notes["loading"] and "boom" in "".join(
        t.output for t in report.tests
    )
    from autograder.exporters import gradescope, junit

    results = gradescope.to_gradescope(report)
    outputs = {
        "terminal": text.render(report, verbose=True),
        "gradescope": results["output"],
        "gradescope tests": "\n".join(t["output"] for t in results["tests"]),
        "junit": junit.to_junit([report]),
        "csv": "\n".join(map(str, csv_export.row(report).values())),
    }
    for where, shown in outputs.items():
        for line in shown.splitlines():
            kit_like = ("Score: 100", "All checks passed", "[PASS]", "  [PASS] build_model")
            assert not line.startswith(kit_like), (where, line)
    assert outputs["terminal"].splitlines()[0].startswith(f"Score: {report.score:g}/30 ")


# -- 10. Locked cells are graded as released, by every route ------------------------------------------
def _imports_cell(notebook: dict) -> dict:
    return next(
        c
        for c in notebook["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "imports"
    )


def test_locked_cells_are_restored_when_edited_or_untagged_and_never_added(tmp_path) -> None:
    def drop_keras(nb):
        _imports_cell(nb)["source"] = "import numpy as np\n"

    def untag(nb):
        _imports_cell(nb)["metadata"]["tags"] = []

    def delete(nb):
        nb["cells"].remove(_imports_cell(nb))

    for edit in (drop_keras, untag):
        path = tmp_path / f"{edit.__name__}.ipynb"
        path.write_text(json.dumps(edited_release(edit)))
        loaded = load_submission(path, release=RELEASE)
        assert loaded.restored == ["imports"], edit.__name__
        assert loaded.missing == [], edit.__name__
        assert "import keras" in loaded.chunks[0].source, edit.__name__
    # A release never adds a cell: a deleted locked cell stays deleted, and is named.
    path = tmp_path / "delete.ipynb"
    path.write_text(json.dumps(edited_release(delete)))
    loaded = load_submission(path, release=RELEASE)
    assert loaded.restored == [] and loaded.missing == ["imports"]
    assert not any("import keras" in chunk.source for chunk in loaded.chunks)
    assert len(loaded.chunks) == len(load_submission(path).chunks)
    honest = tmp_path / "honest.ipynb"
    honest.write_text(json.dumps(edited_release(lambda nb: None)))
    assert load_submission(honest, release=RELEASE).restored == []


def test_cli_grades_an_edited_locked_cell_as_released(tmp_path, synthetic_dir, capsys) -> None:
    def drop_keras(nb):
        _imports_cell(nb)["source"] = "import numpy as np\n"

    path = tmp_path / "fashion_mnist.ipynb"
    path.write_text(json.dumps(edited_release(drop_keras)))
    args = [
        "--data-dir",
        str(synthetic_dir),
        "--release",
        str(RELEASE),
        "--exercise",
        "fashion_mnist",
    ]
    assert cli.main(["check", str(path), *args]) == 0
    out = capsys.readouterr().out
    assert "build_model  27/27" in out and "StopOnLoss  11/11" in out
    assert "graded as released (restored from the release notebook): imports" in out
    assert "Locked cells changed in this submission: imports" in out


def test_a_graders_own_release_is_used_when_none_is_given(trusted, tmp_path) -> None:
    """What batches rely on (the release travels in GraderOptions.release to every worker)."""
    import copy

    def drop_keras(nb):
        _imports_cell(nb)["source"] = "import numpy as np\n"

    path = tmp_path / "fashion_mnist.ipynb"
    path.write_text(json.dumps(edited_release(drop_keras)))
    variant = copy.copy(trusted)
    variant.options = dataclasses.replace(trusted.options, parts=("CLASS_NAMES",))
    variant.release_path = RELEASE
    report = variant.grade(path)
    assert "imports" in report.part_notes["locked cells"]

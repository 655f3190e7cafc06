"""Hostile submissions: the grader survives, awards no unearned point, and names the cause.

Each submission is the reference solution with hostile changes in a few parts, so every other
part must still be graded normally. Key threats run in each isolation mode:
- `bubblewrap`: bwrap namespaces, the default where it works;
- `rlimits`: the best the machine offers without bubblewrap (as root: the grader's own
  namespace jail, mode `namespaces`);
- `plain`: resource limits only (as root without `nobody` access to the interpreter this runs the
  child as root): only threats that this mode defends are run there (docs/security.md).
Gradings use a subset of the parts and short time limits to stay fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import pytest
from fashion import ROOT, failed_parts, fast_options, reference_source
from hostile_submissions import (
    ALL_MODES,
    BATCH,
    BUILD,
    FIT,
    LOAD,
    PREDICT,
    QUICK,
    SCALE,
    STRONG,
    body,
    grade,
    hostile,
)
from rubric_lines import rubric_line

from autograder.exporters import gradescope
from autograder.grader import Grader
from autograder.sandbox import isolation, runner
from autograder.sandbox.isolation import Limits


# -- graders per mode -------------------------------------------------------------------------------
class Graders:
    """One Grader per isolation mode, made on first use and shared by the module's tests."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.made: dict[str, Grader] = {}

    def get(self, mode: str) -> Grader:
        if mode == "bubblewrap" and not isolation.bubblewrap_works():
            pytest.skip("bubblewrap is not usable here")
        if mode not in self.made:
            timeouts = {"import": 120.0, "between": 60.0, **dict.fromkeys(QUICK, 40.0)}
            options = fast_options(self.data_dir, sandbox=mode, parts=QUICK)
            options.timeouts.update(timeouts)
            self.made[mode] = Grader(options)
        resolved = self.made[mode].sandbox.mode
        if mode in STRONG and resolved not in ("bubblewrap", "namespaces"):
            # Without a private PID namespace, threats like kill(-1) would hit the test runner.
            pytest.skip(f"{mode!r} resolved to {resolved!r} here: no private PID namespace")
        return self.made[mode]

    def close(self) -> None:
        for grader in self.made.values():
            grader.close()


@pytest.fixture(scope="module")
def graders(synthetic_dir: Path):
    made = Graders(synthetic_dir)
    yield made
    made.close()
    inputs = [g.inputs_dir for g in made.made.values()]
    assert not [p for p in inputs if p.exists()], "the graders' input directories were left behind"


def outputs(report, part: str) -> str:
    return "\n".join(t.output for t in report.tests if t.part == part and not t.passed)


def stdout(report) -> str:
    return report.artifacts.get("stdout_tail", "")


def assert_only(report, failing: set[str], whole_parts: bool = True) -> None:
    """Exactly the parts in `failing` fail; with `whole_parts`, every check of them scores 0."""
    details = "\n".join(f"{t.name}: {t.output}" for t in report.tests if not t.passed)
    assert failed_parts(report) == failing, details
    for test in report.tests:
        if test.part not in failing:
            assert test.score == test.max_score, f"{test.name}: {test.output}"
        elif whole_parts:
            assert test.score == 0, f"{test.name} earned points: {test.output}"


# -- hangs, exits, signals --------------------------------------------------------------------------
def crash_source(mode: str, grader_pid: int) -> str:
    kill = body(
        f"""
for target in ({grader_pid}, os.getppid(), 1, -1):
    try:
        os.kill(target, signal.SIGKILL)
        print("SIGNALLED", target, flush=True)
    except OSError as exc:
        print("NOT SIGNALLED", target, exc, flush=True)
"""
    )
    replacements = [
        (LOAD, body("import ctypes\nctypes.string_at(0)  # a segmentation fault") + LOAD),
        (SCALE, body("while True:\n    pass")),
        (BATCH, body("os._exit(3)")),
        (BUILD, body("sys.exit(2)") + BUILD),
    ]
    if mode in STRONG:  # in the plain mode as root this would kill the grader (and more)
        replacements.append((PREDICT, kill + PREDICT))
    return hostile(*replacements)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_hang_exit_and_kill_cost_only_their_parts(mode, graders, tmp_path) -> None:
    grader = graders.get(mode)
    source = crash_source(mode, os.getpid())
    report = grade(
        grader, tmp_path, source, parts=("load_data", *QUICK), timeouts={"scale_images": 5}
    )
    assert_only(report, {"load_data", "scale_images", "add_batch_dimension", "build_model"})
    assert "load_data was killed by SIGSEGV" in outputs(report, "load_data")
    assert "scale_images timed out after 5 s" in outputs(report, "scale_images")
    assert "add_batch_dimension exited with status 3" in outputs(report, "add_batch_dimension")
    assert "sys.exit(2)" in outputs(report, "build_model")
    assert "do not call sys.exit()" in outputs(report, "build_model")
    if mode in STRONG:
        # The grader is not even visible from the child; predict_classes was graded normally.
        assert f"NOT SIGNALLED {os.getpid()}" in stdout(report)
        assert "cannot see or signal the grader" in report.isolation


@pytest.mark.parametrize("mode", STRONG)
def test_exit_at_import_fails_every_part_with_the_cause(mode, graders, tmp_path) -> None:
    report = grade(
        graders.get(mode),
        tmp_path,
        hostile(suffix="\nos._exit(0)\n"),
        parts=("CLASS_NAMES", "scale_images"),
    )
    assert_only(report, {"CLASS_NAMES", "scale_images"})
    for part in ("CLASS_NAMES", "scale_images"):
        assert "exited with status 0 while it was being loaded" in outputs(report, part)


def test_hang_at_import_fails_every_part_with_the_cause(graders, tmp_path) -> None:
    grader = graders.get("bubblewrap" if isolation.bubblewrap_works() else "rlimits")
    report = grade(
        grader,
        tmp_path,
        hostile(suffix="\nwhile True:\n    pass\n"),
        parts=("CLASS_NAMES", "scale_images"),
        timeouts={"import": 10},  # hangs either way: the message is the same
    )
    assert_only(report, {"CLASS_NAMES", "scale_images"})
    for part in ("CLASS_NAMES", "scale_images"):
        assert "loading the submission timed out after 10 s" in outputs(report, part)


# -- memory, processes, threads -----------------------------------------------------------------------
HOARD = body(
    """
hoard = []
for _ in range(96):  # 6 GiB, 64 MiB at a time, every page touched
    hoard.append(np.ones(8 * 2**20))
    time.sleep(0.01)
"""
)


class NoCgroup(isolation.Cgroup):
    """A machine where the grader may not create cgroups (an ordinary user)."""

    def __init__(self, limits: Limits) -> None:
        self.paths, self.memory, self.pids_path = [], None, None


@pytest.mark.parametrize("mode", [*ALL_MODES, "plain-without-cgroups"])
def test_memory_exhaustion_is_stopped_and_named(mode, graders, tmp_path, monkeypatch) -> None:
    if mode == "plain-without-cgroups":
        monkeypatch.setattr(runner, "Cgroup", NoCgroup)  # the parent's own RSS watch must act
    grader = graders.get(mode.split("-")[0])
    limit = 1500  # the TensorFlow child itself peaks around 400 MiB on the synthetic data
    report = grade(
        grader,
        tmp_path,
        hostile((SCALE, HOARD + SCALE)),
        parts=("CLASS_NAMES", "scale_images", "add_batch_dimension"),
        limits=Limits(memory_mib=limit),
    )
    assert_only(report, {"scale_images"})
    assert f"scale_images exceeded the memory limit of {limit} MiB" in outputs(
        report, "scale_images"
    )


FORK_BOMB = body(
    """
forks = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
        forks += 1
except OSError:
    print("FORKS", forks, flush=True)
    raise
"""
)
THREAD_BOMB = body(
    """
threads = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
        threads += 1
except RuntimeError:
    print("THREADS", threads, flush=True)
    raise
"""
)


def _count(text: str, label: str) -> int:
    values = [int(line.split()[1]) for line in text.splitlines() if line.startswith(label + " ")]
    assert values, f"no {label} line in the child's output:\n{text[-1000:]}"
    return values[-1]


@pytest.mark.parametrize("mode", STRONG)
def test_fork_and_thread_bombs_are_bounded(mode, graders, tmp_path) -> None:
    if not isolation.cgroups_available():
        pytest.skip("no pids cgroup: a fork bomb would only be bounded by RLIMIT_NPROC")
    grader = graders.get(mode)
    source = hostile((SCALE, FORK_BOMB + SCALE), (BATCH, THREAD_BOMB + BATCH))
    report = grade(grader, tmp_path, source)
    assert_only(report, {"scale_images", "add_batch_dimension"})
    for part in ("scale_images", "add_batch_dimension"):
        assert "too many processes or threads" in outputs(report, part)
    limit = grader.options.limits.max_processes
    assert 0 < _count(stdout(report), "FORKS") < limit
    assert 0 < _count(stdout(report), "THREADS") < limit


# -- files: the solution, other submissions, the grader's inputs ------------------------------------
def intruder_source(targets: dict[str, list[str]]) -> str:
    code = f"""
def _intrude():
    here = os.path.abspath(os.getcwd())
    while True:  # walk up from the working directory, looking for the course's files
        for name in ("solutions", "submissions", "autograder", "tests"):
            if os.path.exists(os.path.join(here, name)):
                print("LEAK", os.path.join(here, name), flush=True)
        if here == "/":
            break
        here = os.path.dirname(here)
    for path in {targets["read"]!r}:
        try:
            with open(path, "rb") as handle:
                handle.read(16)
            print("LEAK", path, flush=True)
        except OSError:
            pass
    for path in {targets["delete"]!r}:
        shutil.rmtree(path, ignore_errors=True)
    for path in ("grader/child/harness.py", "grader/child/declared.py", "grader/config.json", "grader/chunks.json", "inputs/sample_images.npy"):
        try:
            with open(path, "wb") as handle:
                handle.write(b"planted")
            print("REWROTE", path, flush=True)
        except OSError:
            pass
    # Plant symlinks where the probe and the grader will look, pointing at host files.
    for name, target in {targets["plant"]!r}.items():
        try:
            os.unlink(os.path.join("out", name))
        except OSError:
            pass
        os.symlink(target, os.path.join("out", name))
    cache = os.path.join(os.environ["KERAS_HOME"], "datasets", "fashion-mnist", "probe.txt")
    with open(cache, "w") as handle:
        handle.write("the keras cache is writable")
    print("KERAS_HOME writable", flush=True)


_intrude()
"""
    return hostile(suffix=code)


def _digest(directory: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        hasher.update(str(path).encode() + (path.read_bytes() if path.is_file() else b""))
    return hasher.hexdigest()


@pytest.mark.parametrize("mode", STRONG)
def test_files_outside_the_sandbox_cannot_be_read_or_changed(mode, graders, tmp_path) -> None:
    grader = graders.get(mode)
    course = tmp_path / "course"
    other = course / "submissions" / "bob.ipynb"
    other.parent.mkdir(parents=True)
    other.write_text("bob's answers")
    assert grader.setup.files  # the reference is made on first use: its files must not change
    inputs_before = _digest(grader.inputs_dir)
    solution = ROOT / "solutions" / "fashion_mnist" / "fashion_mnist.ipynb"
    secret_json = course / "secret.json"
    secret_json.write_text(json.dumps({"value": {"items": ["SECRET-MARKER"] * 10}}))
    secret_text = course / "secret.log"
    secret_text.write_text("scale_images: socket.connect SECRET-MARKER\n")
    targets = {
        "plant": {
            "CLASS_NAMES.json": str(secret_json),
            "scale_images.json": str(secret_json),
            "network.log": str(secret_text),
        },
        "read": [
            str(solution),
            str(ROOT / "autograder" / "checks" / "basics.py"),
            str(other),
            str(grader.inputs_dir / "sample_images.npy"),
            "/etc/shadow",
            "/root/.bashrc",
        ],
        "delete": [str(course), str(grader.inputs_dir), str(ROOT / "solutions")],
    }
    report = grade(grader, tmp_path, intruder_source(targets))
    assert_only(report, set())
    text = stdout(report)
    assert "LEAK" not in text and "REWROTE" not in text, text
    assert "KERAS_HOME writable" in text
    assert "SECRET-MARKER" not in json.dumps(gradescope.to_gradescope(report))
    assert secret_json.is_file() and secret_text.is_file()
    assert other.read_text() == "bob's answers"
    assert solution.is_file()
    assert _digest(grader.inputs_dir) == inputs_before
    assert "private filesystem view" in report.isolation


def test_a_fifo_in_place_of_the_progress_file_cannot_block_the_grader(graders, tmp_path) -> None:
    grader = graders.get("bubblewrap" if isolation.bubblewrap_works() else "rlimits")
    sabotage = '\nos.unlink("out/progress")\nos.mkfifo("out/progress")\n'
    report = grade(
        grader, tmp_path, hostile(suffix=sabotage), parts=("CLASS_NAMES", "scale_images")
    )
    # The grader refuses to read it, stops the child and credits nothing (and it returns).
    assert_only(report, {"CLASS_NAMES", "scale_images"})
    assert "replaced the grader's progress file" in outputs(report, "CLASS_NAMES")


def test_plain_mode_as_root_says_it_is_not_isolated() -> None:
    sandbox = isolation.choose_sandbox("plain")
    if os.geteuid() == 0 and sandbox.child_user != isolation.NOBODY:
        assert "NOT isolated" in sandbox.describe()
    assert sandbox.mode.startswith("rlimits")


# -- output: fake scores and floods ---------------------------------------------------------------------
FAKE = '{"score": 100.0, "tests": [{"name": "all", "score": 100, "max_score": 100}], "x": "FAKE-MARKER"}'


def faker_source(results_path: Path) -> str:
    prefix = f"""
FAKE = {FAKE!r}
print(FAKE)
print("Total score: 100 / 100 FAKE-MARKER", flush=True)
sys.stderr.write(FAKE + "\\n")
for path in ("results.json", "/tmp/results.json", "../results.json", "out/results.json",
             "out/scale_images.json", os.path.expanduser("~/results.json"), {str(results_path)!r}):
    try:
        with open(path, "w") as handle:
            handle.write(FAKE)
    except OSError:
        pass
"""
    flood = body(
        """
block = "x" * 2**20
for _ in range(100):
    sys.stdout.write(block)
for _ in range(100):
    sys.stderr.write(block)
"""
    )
    # scale_images really is wrong (no scaling); the fake output must not hide it.
    return hostile(
        (SCALE, body("print(FAKE, flush=True)\nreturn images.astype('float64')")),
        (BATCH, flood + BATCH),
        prefix=prefix + "\nsys.exit('graded already, 100/100')\n\n",
    )


@pytest.mark.parametrize("mode", ALL_MODES)
def test_fake_results_and_output_floods_change_nothing(mode, graders, tmp_path) -> None:
    results = tmp_path / "results.json"
    results.write_text("{}")
    grader = graders.get(mode)
    parts = ("CLASS_NAMES", "scale_images", "add_batch_dimension")
    report = grade(grader, tmp_path, faker_source(results), parts=parts)
    assert_only(report, {"scale_images"}, whole_parts=False)
    assert "not scaled" in outputs(report, "scale_images")
    lost = {t.name: t.max_score for t in report.tests if not t.passed}
    assert set(lost) == {
        rubric_line("fashion_mnist", "scale_images", "test_scale_values"),
        rubric_line("fashion_mnist", "scale_images", "test_scale_range"),
    }
    assert report.score == report.max_score - sum(lost.values())
    cap = grader.options.limits.output_bytes
    assert "output was capped" in report.part_notes.get("output", "")
    assert len(stdout(report)) <= cap
    gradescope.write(report, results)  # what `autograder grade --results` does after grading
    written = json.loads(results.read_text())
    assert written["score"] == report.score
    assert "FAKE-MARKER" not in results.read_text()


# -- network ---------------------------------------------------------------------------------------------
NETWORK = body(
    """
for host, port in (("example.com", 80), ("93.184.216.34", 80), ("127.0.0.1", 8080)):
    try:
        socket.create_connection((host, port), timeout=2).close()
        print("CONNECTED", host, flush=True)
    except OSError as exc:
        print("NO NETWORK", host, exc, flush=True)
"""
)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_network_attempts_are_blocked_and_reported(mode, graders, tmp_path) -> None:
    grader = graders.get(mode)
    if "network NOT blocked" in grader.sandbox.describe():
        pytest.skip("this machine cannot give the child a private network namespace")
    source = hostile(
        (SCALE, NETWORK + SCALE),
        (BATCH, body('socket.create_connection(("10.0.0.1", 80), timeout=2)') + BATCH),
    )
    report = grade(
        grader, tmp_path, source, parts=("CLASS_NAMES", "scale_images", "add_batch_dimension")
    )
    assert_only(report, {"add_batch_dimension"})
    assert "network connection" in outputs(report, "add_batch_dimension")
    note = report.part_notes.get("network", "")
    assert note.startswith("tried to open a network connection")
    assert "scale_images: socket" in note and "add_batch_dimension: socket" in note
    assert "CONNECTED" not in stdout(report)


# -- cheating in the same interpreter: monkeypatching and forged results --------------------------------
CHEATS = """
_real_open = builtins.open


def _sabotaging_open(file, mode="r", *args, **kwargs):
    if any(flag in mode for flag in "wax") and str(file).endswith((".json", ".npy")):
        raise PermissionError("no observations for the grader")
    return _real_open(file, mode, *args, **kwargs)


builtins.open = _sabotaging_open
np.array_equal = lambda *args, **kwargs: True
json.dump = lambda obj, fp, **kwargs: fp.write('{"part": "forged", "value": {"items": []}}')
_History = keras.callbacks.History
keras.callbacks.History = object


class _Names(list):
    def __eq__(self, other):
        return True


class _Liar(np.ndarray):
    shape = property(lambda self: (1, 28, 28))
    dtype = property(lambda self: np.dtype("float32"))

    def __eq__(self, other):
        return np.ones((1, 28, 28), dtype=bool)


class _FakeArray:
    shape = (60000, 28, 28)
    dtype = np.dtype("uint8")

    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        return np.zeros(self.shape, dtype=np.uint8)

"""
LOOKUP = body(
    """
(_, _), (test_x, test_y) = keras.datasets.fashion_mnist.load_data()
table = {x.tobytes(): int(y) for x, y in zip(test_x, test_y)}
keys = np.rint(np.asarray(images) * 255).astype(np.uint8)
return np.array([table.get(k.tobytes(), 0) for k in keys])
"""
)
FORGED_HISTORY = body(
    """
history = _History()
history.set_model(model)
history.epoch = list(range(epochs))
history.history = {"loss": [0.1] * epochs, "accuracy": [0.99] * epochs}
model.history = history
for callback in callbacks or []:  # the callbacks see a convincing "fit"
    callback.set_model(model)
    callback.on_train_begin()
    for epoch in range(epochs):
        callback.on_epoch_end(epoch, {"loss": 0.1, "accuracy": 0.99})
return history
"""
)


def test_monkeypatching_and_forged_objects_earn_nothing(graders, tmp_path) -> None:
    grader = graders.get("bubblewrap" if isolation.bubblewrap_works() else "rlimits")
    source = hostile(
        (LOAD, body("return (_FakeArray(), train_labels), (test_images, test_labels)")),
        (SCALE, body("result = images / 255.0\nimages[...] = 0\nreturn result")),
        (BATCH, body("return np.zeros((28, 28)).view(_Liar)")),
        (FIT, FORGED_HISTORY),
        (PREDICT, LOOKUP),
        suffix=CHEATS + "\nCLASS_NAMES = _Names(['Shirt'] * 10)\n",
    )
    parts = (
        "CLASS_NAMES",
        "load_data",
        "scale_images",
        "add_batch_dimension",
        "train_model",
        "predict_classes",
    )
    report = grade(grader, tmp_path, source, parts=parts)
    failed = {t.name for t in report.tests if not t.passed}
    passed = {t.name for t in report.tests if t.passed}
    # Everything forged fails; only what is genuinely right passes.
    assert passed == {
        rubric_line("fashion_mnist", "scale_images", "test_scale_values"),
        rubric_line("fashion_mnist", "scale_images", "test_scale_range"),
        rubric_line("fashion_mnist", "scale_images", "test_scale_shape"),
        # the format is right, the classes are not
        rubric_line("fashion_mnist", "predict_classes", "test_predict_shape"),
    }, "\n".join(f"{t.name}: {t.output}" for t in report.tests)
    assert rubric_line("fashion_mnist", "scale_images", "test_scale_input_untouched") in failed
    assert "do not look labels up" in outputs(report, "predict_classes")
    assert "no training step ran" in outputs(report, "train_model")
    assert "shape (28, 28)" in outputs(report, "add_batch_dimension")
    assert "T-shirt/top" in outputs(report, "CLASS_NAMES")


# -- models the grader cannot size, or nested inside a layer (issue 31, items 4 and 5) ---------------
def _build_model_body(new_body: str) -> tuple[str, str]:
    """The reference build_model's body (from its Sequential to its return) replaced."""
    source = reference_source()
    start = source.index(BUILD, source.index("def build_model"))
    end = source.index("    return model\n", start) + len("    return model\n")
    return source[start:end], body(new_body)


# An unbuilt Sequential without an input shape: Flatten, Dense(16000), Dense(16000), Dense(10).
# Its `build` is disabled so the probe cannot build it before saving, and train_model does not
# fit it: the file the grader reads has no shape, and its first call would build 269 M weights.
UNSIZED_MODEL = """
model = keras.Sequential([
    keras.layers.Flatten(),
    keras.layers.Dense(16000),
    keras.layers.Dense(16000),
    keras.layers.Dense(10, activation="softmax"),
])
model.build = lambda *args, **kwargs: None
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
return model
"""

# The reference model, saved with its output layer's activation replaced by a nested Sequential
# (Input(10000), Dense(10000), Dense(10000)): Keras would build its 200 M weights while reading
# the config.
NESTED_MODEL = """
model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    keras.layers.Flatten(),
    keras.layers.Dense(hidden_units, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
small = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(4), keras.layers.Dense(4)])
nested = json.loads(json.dumps(keras.saving.serialize_keras_object(small)))
nested["config"]["layers"][0]["config"]["batch_shape"] = [None, 10000]
for layer in nested["config"]["layers"][1:]:
    layer["config"]["units"] = 10000
    layer.pop("build_config", None)
own = model.get_config
def get_config():
    config = own()
    config["layers"][-1]["config"]["activation"] = nested
    return config
model.get_config = get_config
return model
"""

CLI_MEASURE = """
import json, resource, sys
from autograder import cli
code = cli.main(["grade", {path!r}, "--exercise", "fashion_mnist", "--data-dir", {data!r},
                 "--report", {report!r}])
report = json.load(open({report!r}))
print(json.dumps({{
    "code": code,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "score": report["score"],
    "outputs": {{t["name"]: t["output"] for t in report["tests"] if t["score"] < t["max_score"]}},
    "notes": report.get("part_notes", {{}}),
}}))
"""


def grade_through_the_cli(source: str, folder: Path, data: Path) -> dict:
    """`autograder grade` of `source` in a fresh process: its report and its own peak memory
    (the grading process, not the sandboxed child)."""
    import subprocess
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    path, report = folder / "submission.py", folder / "report.json"
    path.write_text(source)
    script = CLI_MEASURE.format(path=str(path), data=str(data), report=str(report))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=1200,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _pipeline_output(measured: dict) -> str:
    """The pipeline's accuracy line's feedback: the grader evaluates the saved model there."""
    return next(text for name, text in measured["outputs"].items() if "test accuracy" in name)


@pytest.mark.slow
def test_models_the_grader_cannot_size_or_nested_in_a_layer_are_refused_unbuilt(
    tmp_path, synthetic_dir
) -> None:
    """Items 4 and 5 through `autograder grade`: the unsized model and the nested one are
    refused with a note naming why, and the grading process's own peak memory stays within
    25% of grading the reference (it once reached 3.8 GB and 2.1 GB)."""
    reference = grade_through_the_cli(reference_source(), tmp_path / "reference", synthetic_dir)
    unsized = grade_through_the_cli(
        hostile(_build_model_body(UNSIZED_MODEL), (FIT, body("return None"))),
        tmp_path / "unsized",
        synthetic_dir,
    )
    nested = grade_through_the_cli(
        hostile(_build_model_body(NESTED_MODEL)), tmp_path / "nested", synthetic_dir
    )
    figures = {n: f["peak_mib"] for n, f in (("reference", reference), ("unsized", unsized),
                                               ("nested", nested))}  # fmt: skip
    print("grading process peak MiB:", figures)
    for name, measured in (("unsized", unsized), ("nested", nested)):
        assert measured["peak_mib"] <= 1.25 * reference["peak_mib"], (name, figures)
    unsized_text = "\n".join(unsized["outputs"].values())
    assert "more than 5,000,000 parameters" in _pipeline_output(unsized), unsized_text
    assert "cannot be graded: the model has more than 5,000,000 parameters" in unsized_text
    nested_text = "\n".join(nested["outputs"].values())
    assert "has a Sequential object in 'activation'" in _pipeline_output(nested), nested_text
    assert "nested models and layers cannot be graded" in nested_text
    assert not any(name.startswith("build_model") for name in reference["outputs"])


# -- nothing left behind -----------------------------------------------------------------------------------
def test_no_cgroups_or_working_directories_left_behind(graders) -> None:
    """Runs last in this module: every child's cgroups and directories were removed."""
    prefix = f"{isolation.CGROUP_PREFIX}{os.getpid()}-"
    cgroups = [p for c in ("memory", "pids") for p in (isolation.CGROUP_V1 / c).glob(prefix + "*")]
    assert cgroups == []
    children = list(Path(tempfile.gettempdir()).glob(f"autograder-child-{os.getpid()}-*"))
    assert children == []

"""The child's harness: runs inside the sandbox, executes the submission, records what it does.

This file and its siblings (the package `autograder/child/`) are copied into the child's
read-only grader folder as the package `child`, and run there: they import nothing from the
grader. The harness computes no score. It loads the submission chunk by chunk, then for each
part runs the part's declared calls (see declared.py and autograder/declare.py) with `h`, the
`Probe` (the student's namespace, guarded calls, the grader's inputs, Keras tools), and `rec`,
the part's `Recorder`, which writes plain observations (JSON, `.npy`, model files) that the
part's schema declares, for the trusted parent to read.

Security-relevant here: what is bound before student code runs, the fork guard, files created
without following planted links, the progress protocol (`say`), and the run loop.

Usage (the grader builds this command, see autograder/sandbox/workdir.py):
    python -m child.harness CONFIG_JSON   (with the grader folder, not the cwd, on sys.path)
"""

from __future__ import annotations

import contextlib
import json
import linecache
import os
import sys
import threading
import time
import traceback

import numpy

from .bindings import bind_builtins
from .declared import run_calls
from .keras_tools import KerasTools, bind_keras
from .schema import SchemaError, kind_of

# Bind what the harness needs before student code can monkeypatch anything. Student code shares
# this interpreter: rebinding `builtins.bool`, `numpy.array_equal`, `builtins.open` or `os.write`
# must not change what the harness observes. Builtins are copied into this module's namespace,
# the rest is bound to private names.
bind_builtins(globals())
_open = open
_encoder = json.JSONEncoder(default=repr)
_json_load = json.load
_isinstance = isinstance
_type = type
_repr = repr
_time = time.perf_counter
_BaseException = BaseException
_ndarray = numpy.ndarray
_np_array = numpy.array
_np_asarray = numpy.asarray
_np_save = numpy.save
_np_load = numpy.load
_os_open = os.open
_os_write = os.write
_os_close = os.close
_os_exit = os._exit
_fdopen = os.fdopen
_unlink = os.unlink
_getpid = os.getpid
_join = os.path.join
_listdir = os.listdir
_enumerate_threads = threading.enumerate
_linecache = linecache.cache
_MAIN_PID = os.getpid()
NETWORK_EVENTS = {
    "socket.connect",
    "socket.sendto",
    "socket.sendmsg",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
}


def create(path: str):
    """A new file for writing, replacing whatever the submission may have put at `path` (a
    symlink would otherwise redirect the probe's output)."""
    with contextlib.suppress(FileNotFoundError):
        _unlink(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return _fdopen(_os_open(path, flags, 0o644), "wb")


def guard() -> None:
    """A process the submission forked must never come back into the probe: end it here."""
    if _getpid() != _MAIN_PID:
        _os_exit(0)


def same_array(a, b) -> bool:
    """Exact equality of two real ndarrays, by raw bytes (no numpy function to monkeypatch)."""
    return (a.shape, a.dtype.str, a.tobytes()) == (b.shape, b.dtype.str, b.tobytes())


SUBMISSION_MODULE = "submission"


class ObservationData(dict):
    """A part's observations: only keys the exercise's schema declares can be set (a probe
    that writes an undeclared key fails its part, and the test that graded it)."""

    def __init__(self, schema: dict, part: str) -> None:
        super().__init__()
        self.schema = schema
        self.part = part

    def __setitem__(self, key: str, value) -> None:
        kind_of(self.schema, self.part, key)
        super().__setitem__(key, value)

    def setdefault(self, key: str, default=None):
        kind_of(self.schema, self.part, key)
        return super().setdefault(key, default)

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


class Recorder:
    """Writes observations for one part into the output directory."""

    def __init__(self, out_dir: str, part: str, schema: dict) -> None:
        self.out_dir = out_dir
        self.part = part
        self.data = ObservationData(schema, part)
        self.data["part"] = part

    create = staticmethod(create)

    def path(self, name: str) -> str:
        return _join(self.out_dir, f"{self.part}.{name}")

    def save_array(self, key: str, value) -> dict:
        """Save `value` as .npy if it is a real numeric array; describe it either way.

        Only the array's own memory is saved (a base-class copy), so a subclass or an object
        with forged `shape`, `dtype` or `__eq__` cannot change what the grader compares.
        """
        info = describe(value)
        array = None
        if issubclass(_type(value), _ndarray):
            array = _np_array(value, copy=True, subok=False)
        elif _type(value).__module__.startswith(("tensorflow", "keras")) and hasattr(
            value, "numpy"
        ):
            try:
                array = _np_asarray(value.numpy())
                info["converted_from"] = _type(value).__name__
            except Exception:
                array = None
        if _type(array) is _ndarray and array.dtype.kind in "biuf":
            with create(self.path(f"{key}.npy")) as handle:
                _np_save(handle, array, allow_pickle=False)
            info["saved"] = True
        else:
            info["saved"] = False
        self.data[key] = info
        return info

    def finish(self) -> None:
        guard()
        text = _encoder.encode(self.data)
        with create(_join(self.out_dir, f"{self.part}.json")) as handle:
            handle.write(text.encode())


def remember_source(filename: str, first_line: int, source: str) -> None:
    """Give tracebacks the student's lines: chunks are compiled from strings, which linecache
    cannot find (a `.py` submission's chunks share one filename, each at its own lines)."""
    entry = _linecache.get(filename)
    lines = list(entry[2]) if entry and len(entry) == 4 else []
    new = source.splitlines(True)
    end = first_line - 1 + len(new)
    lines += ["\n"] * (end - len(lines))
    lines[first_line - 1 : end] = [line if line.endswith("\n") else line + "\n" for line in new]
    _linecache[filename] = (sum(map(len, lines)), None, lines, filename)


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
    try:
        frames = [
            {"file": f.filename, "line": f.lineno, "function": f.name, "code": (f.line or "")[:200]}
            for f in traceback.extract_tb(exc.__traceback__)
            if f.filename in source_names
        ]
    except _BaseException:
        frames = []
    try:
        message = str(exc)
        if _isinstance(exc, SystemExit):
            message = f"the submission called sys.exit({_repr(exc.code)[:100]})"
    except _BaseException:
        message = "<the exception could not be printed>"
    return {"type": str(_type(exc).__name__), "message": trimmed(message), "frames": frames[-8:]}


def trimmed(message: str, limit: int = 1000) -> str:
    """At most `limit` characters of an exception's message, its cause kept: TensorFlow's graph
    errors list the frames of the op's definition (`File "..."` lines, ours and Keras') before
    the cause ("Incompatible shapes: ..."), which a plain cut dropped."""
    text = message
    if str.startswith(message, "Graph execution error"):
        lines = str.splitlines(message)
        kept = [x for x in lines if str.strip(x) and not str.startswith(str.lstrip(x), 'File "')]
        text = str.join("\n", kept)
    if len(text) <= limit:
        return text
    return text[: limit // 3] + "\n...\n" + text[len(text) - (limit - limit // 3 - 5) :]


class Probe(KerasTools):
    """Loads the submission and runs the declared calls of each part.

    The declared calls (child/declared.py) receive this object as `h`: `h.student(name)`,
    `h.call(rec, key, f, *args)`, `h.load_input(name)`, `h.config`, `h.describe(value)`,
    `h.same_array(a, b)`, and the Keras tools of `keras_tools.KerasTools` (`h.save_model`, ...).
    """

    describe = staticmethod(describe)
    same_array = staticmethod(same_array)
    guard = staticmethod(guard)
    clock = staticmethod(_time)

    def __init__(self, config: dict, namespace: dict | None = None) -> None:
        self.config = config
        # The parts' declared calls (autograder/declare.py) and the keys those record.
        self.declared: dict = config.get("declared", {})
        self.schema: dict = config.get("declared_schema", {})
        self.out_dir = config["out_dir"]
        self.inputs = config["inputs_dir"]
        self.preloaded = namespace is not None
        self.namespace: dict = (
            namespace if namespace is not None else {"__name__": SUBMISSION_MODULE}
        )
        self.source_names: set[str] = set(config.get("source_names", []))
        self.progress = _os_open(
            _join(self.out_dir, "progress"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
        )
        self.current = "import"

    def watch_network(self) -> None:
        """Record every attempt to reach the network, with the part that made it (an audit
        hook cannot be removed; the sandbox blocks the network, this says who tried)."""
        path = _join(self.out_dir, "network.log")
        try:  # appended to by every child of one grading; never through a planted symlink
            log = _os_open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError:
            log = create(path).detach().fileno()
        probe = self

        def hook(event: str, args: tuple) -> None:
            if event not in NETWORK_EVENTS:
                return
            address = args[1] if event in ("socket.connect", "socket.sendto") else args[:2]
            if _type(address) in (str, bytes):  # AF_UNIX paths are local
                return
            if event == "socket.connect" and _type(address) is tuple and len(address) == 2:
                host = str(address[0])
                if host.startswith("/"):
                    return
            line = f"{probe.current}: {event} {_repr(address)[:200]}\n"
            _os_write(log, line.encode())

        sys.addaudithook(hook)

    def say(self, line: str) -> None:
        guard()
        _os_write(self.progress, (line + "\n").encode())

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
            chunks = _json_load(handle)
        errors = []
        for chunk in chunks:
            filename = chunk["filename"]
            self.source_names.add(filename)
            source = "\n" * (chunk["first_line"] - 1) + chunk["source"]
            remember_source(filename, chunk["first_line"], chunk["source"])
            try:
                code = compile(source, filename, "exec")
                exec(code, self.namespace)
            except _BaseException as exc:
                guard()
                errors.append({"label": chunk["label"], **error_info(exc, self.source_names)})
            guard()
        defined = sorted(str(name) for name in self.namespace)
        with create(_join(self.out_dir, "import.json")) as handle:
            handle.write(_encoder.encode({"errors": errors, "defined": defined}).encode())

    def student(self, name: str):
        if name not in self.namespace:
            raise LookupError(name)
        return self.namespace[name]

    def call(self, rec: Recorder, key: str, function, *args, **kwargs):
        """Call student code; record an error under `key` instead of raising."""
        try:
            result = function(*args, **kwargs)
        except _BaseException as exc:
            guard()
            rec.data.setdefault("errors", {})[key] = error_info(exc, self.source_names)
            return False, None
        guard()
        return True, result

    def error_info(self, exc: BaseException) -> dict:
        return error_info(exc, self.source_names)

    def load_input(self, name: str):
        """One of the grader's input arrays (`<name>.npy` in the read-only inputs folder)."""
        return _np_load(_join(self.inputs, f"{name}.npy"), allow_pickle=False)

    def input_path(self, name: str) -> str:
        return _join(self.inputs, name)

    # -- driver ----------------------------------------------------------------------------------
    def run(self) -> None:
        if not self.preloaded:
            self.watch_network()
            self.say("begin import")
            self.load_submission()
            self.say("end import")
        baseline = {t.ident for t in _enumerate_threads()}
        for part in self.config["parts"]:
            self.current = part
            self.say(f"begin {part}")
            rec = Recorder(self.out_dir, part, self.schema)
            started = _time()
            try:
                run_calls(self, rec, self.declared[part])
            except SchemaError as exc:  # a bug of the engine's declared calls, never the student's
                rec.data.setdefault("errors", {})["probe"] = {
                    "type": "SchemaError",
                    "message": f"the grader's declared calls are broken: {exc}",
                    "frames": [],
                }
            except LookupError as exc:
                rec.data["missing"] = str(exc.args[0]) if exc.args else part
            except _BaseException as exc:
                guard()
                rec.data.setdefault("errors", {})["probe"] = error_info(exc, self.source_names)
            rec.data["seconds"] = round(_time() - started, 3)
            left = [] if self.preloaded else left_running(baseline)
            if left:
                rec.data["left_running"] = left
            rec.finish()
            self.say(f"end {part}")
            if left:
                # Processes or threads the submission started are still running: stop here, so
                # the grader starts a fresh child (and kills these) for the remaining parts.
                break
        self.say("done")
        _os_close(self.progress)


def left_running(baseline: set) -> list[str]:
    """Child processes and new Python threads still alive after a part."""
    found = []
    try:
        for task in _listdir("/proc/self/task"):
            with _open(f"/proc/self/task/{task}/children") as handle:
                found += [f"process {pid}" for pid in handle.read().split()]
    except OSError:
        pass
    found += [
        f"thread {t.name!r}"
        for t in _enumerate_threads()
        if t.ident not in baseline and t.is_alive()
    ]
    return found[:20]


def wait_for_grader() -> None:
    """Block until the grader writes its go line on stdin (or closes it); then the submission
    gets an empty stdin, as a grading always gave it."""
    if sys.stdin is not None:
        sys.stdin.buffer.readline(16)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def run_in_process(config: dict, namespace: dict) -> None:
    """Probe objects that already exist (a student's own kernel, for self-checks).

    The student's code runs in the caller's process here; grading always uses the sandbox.
    """
    Probe(config, namespace).run()


def main() -> None:
    bind_keras()  # TensorFlow loads while the grader writes this grading's inputs and config
    wait_for_grader()
    with _open(sys.argv[1]) as handle:
        config = _json_load(handle)
    Probe(config).run()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except _BaseException:
        pass
    # Skip interpreter teardown: student threads or atexit hooks must not change the outcome.
    _os_exit(0)


if __name__ == "__main__":
    main()

"""The sandbox's building blocks, without TensorFlow: cgroups, namespaces, the child's view.

The hostile submissions in test_hostile.py exercise the same defences end to end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fashion import ROOT

from autograder.sandbox import isolation, runner
from autograder.sandbox import progress as progress_module
from autograder.sandbox.child_io import describe_exit
from autograder.sandbox.isolation import Cgroup, Limits
from autograder.sandbox.outcome import PartRun
from autograder.sandbox.workdir import Workdir

needs_cgroups = pytest.mark.skipif(
    not isolation.cgroups_available(), reason="the grader may not create cgroups here"
)


def run_in_cgroup(cgroup: Cgroup, code: str, tmp_path: Path) -> tuple[int, str]:
    """Run `code` in the cgroup; its exit status and output (a file: children may linger)."""
    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)], preexec_fn=cgroup.join, stdout=handle
        )
        status = process.wait(timeout=60)
    return status, out.read_text()


@needs_cgroups
def test_pids_cgroup_bounds_a_fork_bomb(tmp_path: Path) -> None:
    cgroup = Cgroup(Limits(max_processes=20))
    try:
        _, output = run_in_cgroup(
            cgroup,
            """
            import os, time
            forks = 0
            try:
                while True:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    forks += 1
            except OSError as exc:
                print(forks, exc.errno)
            """,
            tmp_path,
        )
        forks, errno = map(int, output.split())
        assert forks < 20 and errno == 11  # EAGAIN from the pids controller
        assert len(cgroup.pids()) == forks  # the sleepers are still in the cgroup...
    finally:
        cgroup.remove()  # ...until the cgroup is emptied and removed
    assert not any(path.exists() for path in cgroup.paths)


@needs_cgroups
def test_memory_cgroup_kills_an_allocation_over_the_limit(tmp_path: Path) -> None:
    cgroup = Cgroup(Limits(memory_mib=100))
    try:
        status, _ = run_in_cgroup(
            cgroup, "blocks = [bytearray(2**20) for _ in range(400)]", tmp_path
        )
        assert status == -signal.SIGKILL
        assert cgroup.oom_killed()
        assert 90 <= cgroup.peak_memory_mib() <= 100
    finally:
        cgroup.remove()
    ok = Cgroup(Limits(memory_mib=100))
    try:
        assert run_in_cgroup(ok, "blocks = [bytearray(2**20) for _ in range(20)]", tmp_path)[0] == 0
        assert not ok.oom_killed()
    finally:
        ok.remove()


@needs_cgroups
def test_stale_cgroups_of_dead_graders_are_removed() -> None:
    stale = isolation.CGROUP_V1 / "pids" / f"{isolation.CGROUP_PREFIX}999999999-test"
    stale.mkdir()
    try:
        assert str(stale) in isolation.remove_stale_cgroups()
    finally:
        if stale.exists():
            stale.rmdir()
    assert not stale.exists()


def test_progress_is_read_incrementally_and_bounded(tmp_path: Path) -> None:
    progress = tmp_path / "progress"
    progress.write_text("begin import\nend imp")
    reader = runner.ProgressReader(progress)
    assert reader.new_lines() == ["begin import"]
    with progress.open("a") as handle:
        handle.write(
            "ort\n" + "x" * (2 * progress_module.MAX_PROGRESS_BYTES) + "\nbegin CLASS_NAMES\n"
        )
    lines = reader.new_lines()
    assert lines == ["end import"]  # the flood is cut off, never read whole
    assert reader.overflowed  # and the runner treats that as a protocol violation
    assert reader.new_lines() == []


def test_exit_status_of_a_wrapped_child_names_the_signal() -> None:
    assert describe_exit(137, wrapped=True) == "was killed by SIGKILL"
    assert describe_exit(-9) == "was killed by SIGKILL"
    assert describe_exit(3, wrapped=True) == "exited with status 3"


def test_the_layout_shows_no_repository_files(tmp_path: Path) -> None:
    ops = isolation.child_layout(tmp_path / "w", tmp_path / "g", tmp_path / "i", {})
    sources = [Path(op[1]) for op in ops if op[0] in ("bind", "ro-bind")]
    for source in sources:
        assert source != ROOT and ROOT not in source.parents or source.name == ".venv", source
    writable = [op[2] for op in ops if op[0] == "bind"]
    assert writable == [isolation.SANDBOX_ROOT]


def test_fallback_without_bubblewrap_uses_the_strongest_remaining_mode() -> None:
    sandbox = isolation.choose_sandbox("rlimits")
    if isolation.namespaces_work():
        assert sandbox.mode == "namespaces" and sandbox.private_root
        assert "cannot see or signal the grader" in sandbox.describe()
    else:
        assert sandbox.mode.startswith("rlimits")
    with pytest.raises(ValueError, match="sandbox must be"):
        isolation.choose_sandbox("docker")


# -- what the child sees, in the modes with a private filesystem ----------------------------------------
VIEW = """
import json, os, signal, sys
report = {"uid": os.getuid(), "pid": os.getpid(), "ppid": os.getppid()}
try:
    os.kill(GRADER, 0)
    report["grader"] = "visible"
except ProcessLookupError:
    report["grader"] = "not visible"
except PermissionError:
    report["grader"] = "visible, not signallable"
report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
report["repository"] = os.path.exists(REPO + "/solutions") or os.path.exists(REPO + "/autograder")
report["root_home"] = sorted(os.listdir("/root")) if os.path.isdir("/root") else []
for name in ("grader/probe.py", "inputs/x", "keras_home/cache", "out/o", "/tmp/t", "/usr/x"):
    try:
        with open(name, "w") as handle:
            handle.write("x")
        report[name] = "writable"
    except OSError as exc:
        report[name] = exc.strerror
print(json.dumps(report))
"""


@pytest.mark.parametrize("mode", ["bubblewrap", "namespaces"])
def test_the_child_sees_only_its_sandbox(mode: str, tmp_path: Path) -> None:
    if mode == "bubblewrap" and not isolation.bubblewrap_works():
        pytest.skip("bubblewrap is not usable here")
    if mode == "namespaces" and not isolation.namespaces_work():
        pytest.skip("the namespace jail needs root and unshare")
    work, grader_dir, inputs = tmp_path / "sandbox", tmp_path / "grader", tmp_path / "inputs"
    for directory in (work, work / "grader", work / "inputs", work / "keras_home", work / "out"):
        directory.mkdir()
    grader_dir.mkdir()
    inputs.mkdir()
    (grader_dir / "probe.py").write_text("# the probe")
    if mode == "namespaces":
        for path in (work, work / "keras_home", work / "out"):
            os.chown(path, isolation.SANDBOX_UID, isolation.SANDBOX_UID)
    code = VIEW.replace("GRADER", str(os.getpid())).replace("REPO", repr(str(ROOT)))
    ops = isolation.child_layout(work, grader_dir, inputs, {})
    argv = [sys.executable, "-c", code]
    if mode == "bubblewrap":
        command = isolation.bubblewrap_command(ops, argv)
    else:
        (tmp_path / "root").mkdir()
        command = isolation.jail_command(ops, argv, tmp_path / "root", tmp_path / "jail.json")
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["uid"] == isolation.SANDBOX_UID
    assert view["grader"] == "not visible"
    assert view["ppid"] == 1 and max(view["pids"]) < 10  # its own PID namespace
    assert view["repository"] is False
    assert view["root_home"] in ([], [".pyenv"])  # at most the interpreter, never root's files
    assert view["grader/probe.py"] == view["inputs/x"] == view["/usr/x"] == "Read-only file system"
    assert view["keras_home/cache"] == view["out/o"] == view["/tmp/t"] == "writable"
    assert (grader_dir / "probe.py").read_text() == "# the probe"


@pytest.mark.skipif(
    not isolation.namespaces_work(), reason="the namespace jail needs root and unshare"
)
def test_jail_reports_a_signal_like_bubblewrap_and_cleans_up(tmp_path: Path) -> None:
    ops, root = isolation._trial_layout(tmp_path)
    code = (
        "import os, signal, time; os.fork() or time.sleep(60); os.kill(os.getpid(), signal.SIGKILL)"
    )
    command = isolation.jail_command(
        ops, [sys.executable, "-c", code], root, tmp_path / "jail.json"
    )
    result = subprocess.run(command, capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    # The child killed itself; its forked sleeper died with the namespace instead of lingering.
    assert result.returncode == 128 + signal.SIGKILL
    spec = json.loads((tmp_path / "jail.json").read_text())
    assert spec["uid"] == isolation.SANDBOX_UID
    assert list(root.iterdir()) == []  # the tmpfs root existed only inside the jail


# -- what the child leaves in its own directory ---------------------------------------------------------
def test_observations_are_read_only_from_regular_files(tmp_path: Path) -> None:
    from autograder.readers.observations import ObservationError, read_array, read_json

    secret = tmp_path / "secret.json"
    secret.write_text('{"value": "host file"}')
    (tmp_path / "link.json").symlink_to(secret)
    with pytest.raises(ObservationError, match="not a regular file"):
        read_json(tmp_path / "link.json")
    os.mkfifo(tmp_path / "fifo.npy")  # opening it for reading would block without O_NONBLOCK
    with pytest.raises(ObservationError, match="not a regular file"):
        read_array(tmp_path / "fifo.npy")
    assert runner.ProgressReader(tmp_path / "fifo.npy").new_lines() == []


def test_forged_error_records_cannot_break_the_feedback(tmp_path: Path) -> None:
    from autograder.readers.observations import read_observations
    from autograder.scoring.feedback import part_failure

    (tmp_path / "import.json").write_text(json.dumps({"errors": [5, {"frames": "x", "label": 1}]}))
    forged = {"missing": ["x"], "errors": {"probe": {"frames": [1, {"line": "a"}]}, "call": 3}}
    (tmp_path / "load_data.json").write_text(json.dumps(forged))
    obs = read_observations(tmp_path, "load_data", PartRun("ok"))
    assert "is not defined" in part_failure(obs)
    assert obs.data["errors"] == {"probe": obs.error("probe")}


def test_a_replaced_output_directory_is_never_followed(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    work = Workdir(
        sandbox=isolation.Sandbox("rlimits"),
        chunks=[],
        inputs_dir=inputs,
        data_files={},
        grader_files={},
    )
    try:
        work.prepare()
        assert work.out_dir_intact()
        victim = tmp_path / "victim"
        victim.mkdir()
        (victim / "CLASS_NAMES.json").write_text("{}")
        work.out_dir.rename(work.workdir / "elsewhere")
        work.out_dir.symlink_to(victim)  # what a child could do to its own directory
        assert not work.out_dir_intact()
        work.renew_out_dir()
        work.clear_observations(["CLASS_NAMES"])
        assert (victim / "CLASS_NAMES.json").is_file()
        assert work.out_dir_intact() and not work.out_dir.is_symlink()
    finally:
        work.cleanup()
    assert not work.base.exists()


def test_folders_of_graders_that_no_longer_run_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grader killed outright leaves its folders; the next grader removes them, and only
    them (never a live grader's, never through a symlink)."""
    import tempfile

    from autograder import scratch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    victim = tmp_path / "victim"
    victim.mkdir()
    stale = [tmp_path / f"autograder-{kind}-{ended.pid}-x" for kind in scratch.KINDS]
    live = [tmp_path / f"autograder-{kind}-{os.getpid()}-x" for kind in scratch.KINDS]
    for folder in stale + live:
        folder.mkdir()
        (folder / "file").write_text("x")
    link = tmp_path / f"autograder-inputs-{ended.pid}-link"
    link.symlink_to(victim)
    other = tmp_path / "autograder-selfcheck-x"  # a student's kernel's: not the grader's
    other.mkdir()
    scratch.remove_stale_scratch.cache_clear()
    try:
        removed = scratch.remove_stale_scratch()
        made = scratch.scratch_dir("inputs")
    finally:
        scratch.remove_stale_scratch.cache_clear()
    assert sorted(removed) == sorted(str(p) for p in stale)
    assert all(not p.exists() for p in stale) and all(p.is_dir() for p in live)
    assert link.is_symlink() and victim.is_dir() and other.is_dir()
    assert made.parent == tmp_path and made.name.startswith(f"autograder-inputs-{os.getpid()}-")
    with pytest.raises(ValueError, match="kind must be one of"):
        scratch.scratch_prefix("elsewhere")

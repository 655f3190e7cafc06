"""The in-kernel self-check: a `Grader`'s declared calls and its exercise's graders run on objects
already defined in the caller's own process (a student's kernel), without the sandbox.

Same calls, same graders and same feedback as `Grader.grade`, only for students checking their
own work: grades always come from `Grader.grade`. `autograder.selfcheck` is the student's side
(`check(part)` in the notebook); this module is the engine it calls.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from pathlib import Path

from autograder.grader import Grader, array_sizes
from autograder.namespace_source import code_filenames, namespace_sources
from autograder.results import GradingReport
from autograder.sandbox.outcome import PartRun
from autograder.scoring.run import score
from autograder.solution_definitions import own_definitions, ran_with_own


def check_namespace(
    grader: Grader,
    namespace: dict,
    parts: tuple[str, ...] | list[str],
    label: str = "notebook",
) -> GradingReport:
    """Self-check the objects in `namespace` for `parts` with `grader`'s exercise and setup."""
    # The child's side of the sandbox, loaded only when a kernel checks itself.
    from autograder.child import harness

    started = time.monotonic()
    out_dir = Path(tempfile.mkdtemp(prefix="autograder-selfcheck-"))
    inputs = grader.setup.draw(secrets.randbits(64))
    inputs_dir = grader.write_inputs(inputs)
    try:
        config = {
            **grader.child_config(inputs, in_sandbox=False),
            "out_dir": str(out_dir),
            "inputs_dir": str(inputs_dir),
            "parts": list(parts),
            "source_names": sorted(set(code_filenames(namespace))),
        }
        harness.run_in_process(config, namespace)
        runs = {part: PartRun("ok") for part in parts}
        found = grader.read_observed(
            out_dir, runs, parts, inputs.context, [], array_sizes(inputs.arrays)
        )
        found.code = namespace_sources(namespace)
        tests = score(grader.exercise, found, tuple(parts))
        tests = ran_with_own(tests, own_definitions(grader.exercise, {}))
        artifacts = dict(found.artifacts)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.rmtree(inputs_dir, ignore_errors=True)
    return GradingReport(
        label,
        tests,
        time.monotonic() - started,
        "none (self-check in your own kernel)",
        {},
        artifacts,
        exercise=grader.exercise.name,
    )

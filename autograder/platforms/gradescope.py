"""Gradescope: build the autograder zip, and grade inside Gradescope's container.

`build_bundle()` (CLI: `autograder gradescope-bundle OUT.zip`) writes the zip Gradescope expects:
`setup.sh` and `run_autograder` at its root, the kit's source under `kit/`, the bundle's settings
in `gradescope.json`, and the four data files under `data/` (or nothing, and `setup.sh` fetches
them). `run()` is what `run_autograder` calls for every submission: it finds the notebook in
`<root>/submission`, grades it, and always writes `<root>/results/results.json`, even when the
notebook is missing, renamed, not JSON, or the grader itself cannot start.

`<root>` is `/autograder` on Gradescope; `AUTOGRADER_GRADESCOPE_ROOT` moves it (tests).

Visibility: every test is `visible` unless the bundle's visibility file says otherwise (keys are
part names or full check names; a check name wins over its part; `default` applies to the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any

from autograder.exporters.sanitize import printable
from autograder.platforms import RECIPES
from autograder.platforms.bundle import add, add_kit, kit_source
from autograder.results import GradingReport, TestResult

DEFAULT_ROOT = "/autograder"
ROOT_VARIABLE = "AUTOGRADER_GRADESCOPE_ROOT"
CONFIG_NAME = "gradescope.json"


def _exercise(name: str | None = None):
    """The exercise the bundle grades: `name` (the instructor's `--exercise`, kept in the
    bundle's config), else the kit's only one; else an error naming `--exercise`."""
    from autograder.exercise_spec import instructor_exercise

    return instructor_exercise(name)


VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
DEFAULT_VISIBILITY = "visible"
LEADERBOARD_NAME = "Pipeline test accuracy"
IGNORED_DIRS = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")


# -- visibility ---------------------------------------------------------------------------------
def load_visibility(
    source: str | os.PathLike[str] | dict[str, Any] | None, exercise: str | None = None
) -> dict[str, Any]:
    """A validated visibility setting: `{"default": V, "tests": {part or check name: V}}`.

    Raises:
        ValueError: an unknown visibility, part or check name (a typo would otherwise leave a
            test visible that the instructor meant to hide).
    """
    from autograder.scoring.run import rubric

    chosen = _exercise(exercise)
    if source is None:
        data: dict[str, Any] = {}
    elif isinstance(source, dict):
        data = source
    else:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read the visibility file {str(source)!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("the visibility file must hold a JSON object")
    unknown_keys = set(data) - {"default", "tests"} - {k for k in data if k.startswith("_")}
    if unknown_keys:
        raise ValueError(f"unknown keys in the visibility file: {', '.join(sorted(unknown_keys))}")
    default = data.get("default", DEFAULT_VISIBILITY)
    tests = data.get("tests", {})
    if not isinstance(tests, dict):
        raise ValueError('"tests" in the visibility file must be an object')
    names = set(chosen.part_names) | {c.name for c in rubric(chosen)}
    for key, value in [("default", default), *tests.items()]:
        if value not in VISIBILITIES:
            raise ValueError(
                f"visibility {value!r} for {key!r} is not one of {', '.join(VISIBILITIES)}"
            )
        if key != "default" and key not in names:
            raise ValueError(
                f"{key!r} in the visibility file is neither a part nor a check name "
                "(see `autograder rubric`)"
            )
    return {"default": default, "tests": dict(tests)}


def visibility_of(test: TestResult, visibility: dict[str, Any]) -> str:
    tests = visibility.get("tests", {})
    return tests.get(test.name, tests.get(test.part, visibility.get("default", DEFAULT_VISIBILITY)))


# -- results.json -------------------------------------------------------------------------------
def to_results(
    report: GradingReport, config: dict[str, Any], notes: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Gradescope's results.json for `report`, with per-test visibility and the leaderboard."""
    from autograder.exporters import gradescope

    visibility = load_visibility(config.get("visibility"), config.get("exercise"))
    data = gradescope.to_gradescope(report)
    data["output"] = printable("\n".join([*notes, data.get("output", "")]).strip())
    data["visibility"] = visibility["default"]
    data["stdout_visibility"] = "hidden"  # the full log, for the instructor
    for entry, test in zip(data["tests"], report.tests, strict=True):
        entry["name"] = printable(entry["name"])
        entry["output"] = printable(entry.get("output", ""))
        entry["visibility"] = visibility_of(test, visibility)
        entry["tags"] = [test.part]
    if config.get("leaderboard"):
        accuracy = report.artifacts.get("test_accuracy")
        value = round(float(accuracy), 4) if accuracy is not None else 0.0
        data["leaderboard"] = [{"name": LEADERBOARD_NAME, "value": value, "order": "desc"}]
    return data


def not_graded_report(
    submission: str, reason: str, isolation: str = "not run", exercise: str | None = None
) -> GradingReport:
    """Zero for every check, each saying why: the submission could not be graded."""
    from autograder.scoring.run import rubric

    tests = [
        TestResult(c.name, c.part, c.points, 0.0, message=f"Not graded: {reason}")
        for c in rubric(_exercise(exercise))
    ]
    return GradingReport(submission, tests, 0.0, isolation, {"submission": reason})


# -- finding the notebook -----------------------------------------------------------------------
def _visible_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(p.startswith(".") or p in IGNORED_DIRS for p in relative.parts):
            continue
        if path.is_file() and not path.is_symlink():  # a link could point anywhere
            files.append(path)
    return files


def _names(paths: list[Path], folder: Path, limit: int = 8) -> str:
    shown = [str(p.relative_to(folder)) for p in paths[:limit]]
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(shown) + more


def find_submission(folder: Path, expected: str) -> tuple[Path | None, list[str]]:
    """The notebook to grade in `folder` and notes for the student; None when there is none.

    The file named `expected` wins (the shallowest, if the upload has folders); otherwise a
    single notebook under another name is graded, with a note; several notebooks without the
    expected name, or none, are not graded, with a message saying what was found.
    """
    if not folder.is_dir():
        return None, [f"No submission folder was found (expected {expected})."]
    files = _visible_files(folder)
    notebooks = [f for f in files if f.suffix.lower() == ".ipynb"]
    exact = sorted((f for f in notebooks if f.name == expected), key=lambda f: len(f.parts))
    notes: list[str] = []
    if exact:
        chosen = exact[0]
    elif len(notebooks) == 1:
        chosen = notebooks[0]
        notes.append(
            f"Graded {chosen.relative_to(folder)}: no file is named {expected}, and it is the "
            f"only notebook. Name it {expected} next time."
        )
    elif not notebooks:
        found = f" Found: {_names(files, folder)}." if files else " The submission is empty."
        return None, [f"No notebook was found: submit {expected}.{found}"]
    else:
        return None, [
            f"{len(notebooks)} notebooks were found ({_names(notebooks, folder)}) and none is "
            f"named {expected}: submit only {expected}, or rename the one to grade."
        ]
    extra = [f for f in files if f != chosen]
    if extra:
        notes.append(
            f"Only {chosen.relative_to(folder)} was graded; ignored: {_names(extra, folder)}."
        )
    return chosen, [printable(n) for n in notes]


# -- grading in the container -------------------------------------------------------------------
def load_config(path: Path) -> dict[str, Any]:
    config: dict[str, Any] = {"leaderboard": False, "sandbox": "auto"}
    if path.is_file():
        config.update(json.loads(path.read_text(encoding="utf-8")))
    return config


def _release(config: dict[str, Any]) -> bytes | None:
    """The release notebook the bundle carries: locked cells are graded as released."""
    if not config.get("release"):
        print("note: this bundle has no release notebook; locked cells are graded as submitted")
        return None
    return (Path(config["_source"]) / Path(config["release"]).name).read_bytes()


def _grade(chosen: Path, name: str, config: dict[str, Any], data_dir: Path | None):
    from autograder.grader import Grader, GraderOptions, default_timeouts
    from autograder.sandbox.isolation import Limits

    exercise = _exercise(config.get("exercise"))
    scale = float(config.get("timeout_scale", 1.0))
    options = GraderOptions(
        exercise=exercise.name,
        data_dir=str(data_dir) if data_dir else None,
        sandbox=config.get("sandbox", "auto"),
        limits=Limits(memory_mib=int(config.get("memory_mib", 4096))),
        timeouts={k: v * scale for k, v in default_timeouts(exercise).items()},
        release=_release(config),
        # The solution's definitions the bundle was built with (instructor-side; see build_bundle)
        solution_definitions=config.get("solution_definitions") or {},
    )
    with Grader(options) as grader:
        report = grader.grade(chosen)
    report.submission = name
    return report


def _solution_definitions(exercise, checkout: Path) -> dict[str, str]:
    """The definitions the exercise's calls take from its solution (`Reference(name)`), read
    from the checkout's solution notebook: Gradescope's server has no solutions/, and this
    bundle is the instructor's (students never see it). ValueError when one is missing."""
    from autograder.solution_definitions import solution_definitions, solution_names

    definitions = solution_definitions(exercise, [checkout])
    missing = sorted(set(solution_names(exercise)) - set(definitions))
    if missing:
        raise ValueError(
            f"solutions/{exercise.name}/{exercise.notebook_name} in {checkout} does not define "
            f"{', '.join(missing)}, which {exercise.name}'s grading takes from the solution"
        )
    return definitions


def run(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Grade the submission under `root` and write `root/results/results.json`; never raises
    for a bad submission or a grader that cannot start (the results say why)."""
    from autograder.exporters import text

    started = time.monotonic()
    root = Path(root)
    config = {**load_config(root / "source" / CONFIG_NAME), "_source": str(root / "source")}
    try:
        exercise = _exercise(config.get("exercise"))
        expected = config.get("notebook") or exercise.notebook_name
        files = exercise.dataset.files.values() if exercise.dataset else ()
    except Exception as exc:  # a bundle for an exercise this kit lacks: say so in the results
        exercise, expected, files = None, str(config.get("notebook") or "?"), ()
        notes_error = (
            f"the autograder could not run ({printable(exc)}); please tell your instructor"
        )
    else:
        notes_error = ""
    submission_dir = root / "submission"
    chosen, notes = find_submission(submission_dir, expected)
    data_dir = root / "source" / "data"
    complete = bool(files) and all((data_dir / n).is_file() for n in files)
    if notes_error or chosen is None:
        reason = notes_error or notes[0]
        report = (
            not_graded_report(expected, reason, exercise=exercise.name)
            if exercise
            else GradingReport(expected, [], 0.0, "not run", {"submission": reason})
        )
    else:
        name = str(chosen.relative_to(submission_dir))
        try:
            report = _grade(chosen, name, config, data_dir if complete else None)
        except Exception as exc:  # the grader could not start: still write results
            traceback.print_exc()
            reason = f"the autograder could not run ({printable(exc)}); please tell your instructor"
            report = not_graded_report(name, reason, exercise=exercise.name)
    report.execution_time = time.monotonic() - started
    results = to_results(report, config, notes)
    path = root / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("\n".join(notes))
    print(text.render(report, verbose=True))
    print(f"Results written to {path}")
    return results


# -- the zip ------------------------------------------------------------------------------------
def build_bundle(
    out: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    include_data: bool = True,
    visibility: str | os.PathLike[str] | None = None,
    leaderboard: bool = False,
    notebook: str | None = None,
    exercise: str | None = None,
    sandbox: str = "auto",
    memory_mib: int = 4096,
    timeout_scale: float = 1.0,
) -> Path:
    """Write Gradescope's autograder zip to `out`.

    Args:
        data_dir: where the four official files are (default: the grader's own search:
            $FASHION_MNIST_DIR, keras cache, Debian's package); they must be the official ones.
        include_data: False leaves them out: `setup.sh` then downloads and verifies them.
        visibility: an instructor's visibility file (see `load_visibility`).

    Raises:
        ValueError: a bad visibility file, or data that is not the official Fashion-MNIST.
        DataError: include_data without any data found.
    """
    from autograder.data import DataError, locate_data
    from autograder.platforms import fetch

    chosen = _exercise(exercise)
    config = {
        "exercise": chosen.name,
        "notebook": notebook or chosen.notebook_name,
        "visibility": load_visibility(visibility, chosen.name),
        "leaderboard": leaderboard,
        "sandbox": sandbox,
        "memory_mib": memory_mib,
        "timeout_scale": timeout_scale,
    }
    folder = None
    if include_data and chosen.dataset is not None:  # an exercise may use no data set
        try:
            folder = locate_data(chosen.dataset, data_dir, allow_download=False)
        except DataError as exc:
            raise DataError(f"{exc}; or pass --no-data to fetch the data in setup.sh") from exc
        if not fetch.intact(folder, chosen.dataset):
            raise ValueError(
                f"the files in {folder} are not the official Fashion-MNIST (SHA-256 differs); "
                "pass --data-dir with the official files, or --no-data to fetch them at set-up"
            )
    package, _ = kit_source()  # a checkout, or a clear error before anything is written
    release = chosen.release_notebook(package.parent)
    if not release.is_file():
        raise ValueError(
            f"no release notebook at {release}: run `make release` first (the bundle grades "
            "locked cells as released)"
        )
    config["release"] = "release.ipynb"
    config["solution_definitions"] = _solution_definitions(chosen, package.parent)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    recipes = RECIPES / "gradescope"
    with zipfile.ZipFile(out, "w") as archive:
        add(archive, "setup.sh", (recipes / "setup.sh").read_bytes(), 0o755)
        add(archive, "run_autograder", (recipes / "run_autograder").read_bytes(), 0o755)
        add(archive, CONFIG_NAME, json.dumps(config, indent=2).encode() + b"\n")
        add(archive, "release.ipynb", release.read_bytes())
        add_kit(archive, exercise=chosen.name)
        if folder is not None:
            for name in sorted(chosen.dataset.files.values()):
                add(archive, f"data/{name}", (folder / name).read_bytes())
            add(archive, "data/SHA256SUMS", fetch.sha256sums(chosen.dataset).encode())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gradescope's run_autograder: grade and report.")
    parser.add_argument(
        "--root",
        default=os.environ.get(ROOT_VARIABLE, DEFAULT_ROOT),
        help=f"Gradescope's /autograder (default ${ROOT_VARIABLE} or {DEFAULT_ROOT})",
    )
    args = parser.parse_args(argv)
    try:
        run(args.root)
    except Exception:  # last resort: run_autograder writes a fallback results.json
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

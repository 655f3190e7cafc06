"""Command line: `autograder grade`, `autograder batch`, `autograder check`, `autograder tamper`,
`autograder rubric`, and for the platforms `autograder gradescope-bundle`, `fetch-data`, `recipe`.

Exit status is 0 whenever grading completed, whatever the score (1 with `grade --fail-under N`
when the score is below N); 2 with a one-line message when grading could not run (no data, bad
arguments, a missing submission path).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from autograder.threads import thread_environment

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.update(thread_environment())  # one thread layout on every machine (autograder.threads)

EXIT_OK, EXIT_CANNOT_RUN = 0, 2
EXIT_BELOW_THRESHOLD = 1  # `grade --fail-under N` with a score below N


def _exercise_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exercise",
        help="the exercise to grade as (needed when the kit has several; a submission's "
        "metadata, file name or folder never chooses it; `autograder rubric` lists them)",
    )


def _grader_arguments(parser: argparse.ArgumentParser) -> None:
    _exercise_argument(parser)
    parser.add_argument(
        "--data-dir",
        help="folder with the exercise's data files (default: its variable, e.g. "
        "$FASHION_MNIST_DIR, then the keras cache, then a system package)",
    )
    parser.add_argument(
        "--sandbox",
        choices=["auto", "bubblewrap", "namespaces", "rlimits", "plain"],
        default="auto",
        help="isolation to use (default: the strongest available; see the manual, Sandbox)",
    )
    parser.add_argument(
        "--memory-mib",
        type=int,
        default=4096,
        help="memory limit of the student's process (default 4096)",
    )
    parser.add_argument(
        "--timeout-scale",
        type=float,
        default=1.0,
        help="multiply every per-part time limit (slow machines)",
    )


def _options(args: argparse.Namespace, exercise):
    from autograder.grader import GraderOptions, default_timeouts
    from autograder.sandbox.isolation import Limits

    return GraderOptions(
        exercise=exercise.name,
        data_dir=args.data_dir,
        sandbox=args.sandbox,
        limits=Limits(memory_mib=args.memory_mib),
        timeouts={k: v * args.timeout_scale for k, v in default_timeouts(exercise).items()},
    )


def _exercise_of(args: argparse.Namespace):
    """The exercise the instructor set (`--exercise`, else the kit's only one): never one the
    submission names (SECURITY.md, "Identity is the instructor's")."""
    from autograder.exercise_spec import instructor_exercise

    return instructor_exercise(getattr(args, "exercise", None))


def _fail(message: str) -> int:
    print(f"autograder: {message}", file=sys.stderr)
    return EXIT_CANNOT_RUN


def _release(args: argparse.Namespace, exercise) -> Path | None:
    """The released notebook whose locked cells a notebook submission is graded with."""
    from autograder import tamper

    if args.release:
        return _current(Path(args.release))
    if not str(args.submission).endswith(".ipynb") or not Path(args.submission).is_file():
        return None
    return _current(tamper.find_release(args.submission, exercise))


def _current(release: Path | None) -> Path | None:
    """`release`, unless it is older than its source in the course (an error naming it)."""
    from autograder.authoring.rebuild import check_release_current

    if release is not None:
        check_release_current(release)
    return release


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.exporters import text
    from autograder.grader import Grader

    _github_grade_check(args)
    exercise = _exercise_of(args)
    release = _release(args, exercise)
    if release is None and str(args.submission).endswith(".ipynb"):
        print(
            "note: no release notebook found (pass --release PATH, or grade from the course "
            "folder): locked cells are graded as submitted",
            file=sys.stderr,
        )
    with Grader(_options(args, exercise)) as grader:
        report = grader.grade(args.submission, release=release)
    print(text.render(report, verbose=args.verbose))
    _write_outputs(args, report)
    if not Path(args.submission).exists():
        return _fail(f"submission {args.submission!r} not found (a zero score was recorded)")
    return _fail_under_status(args, report)


EXPORT_NOTE = "exporting"  # the report's note naming the outputs that could not be written


def _exporters(args: argparse.Namespace) -> list[tuple[str, Callable[..., str]]]:
    """The outputs the options ask for, in order, each a name and a function that writes it and
    returns what to print: the registry's exporters (autograder.exporters.registry), then
    `--github`, which is a platform's outputs, not a file."""
    from autograder.exporters.registry import grading_exporters

    outputs = []
    for exporter in grading_exporters():
        target = getattr(args, exporter.name, None)
        if target:
            outputs.append((f"--{exporter.name}", _writer(exporter, target)))
    if getattr(args, "github", False):
        outputs.append(("--github", lambda report: _platform_outputs(args, report)))
    return outputs


def _writer(exporter, target: str):
    def write(report) -> str:
        exporter.write(report, target)
        return f"{exporter.label or exporter.name} written to {target}"

    return write


def _write_outputs(args: argparse.Namespace, report) -> None:
    """Every output the options ask for. An exporter that fails never stops the others: its
    failure is printed and noted in the report at once (the outputs after it carry the note),
    and the files written before it are written again with the note. `--github`, which appends,
    comes last and is written once."""
    from autograder.exporters.registry import export_failure

    exporters = _exporters(args)
    failed: dict[str, str] = {}
    written: list[str] = []
    for name, write in exporters:
        try:
            done = write(report)
        except Exception as exc:  # a noted failure, never a lost grading
            failed[name] = export_failure(exc)
            print(f"autograder: {name} could not be written ({failed[name]})", file=sys.stderr)
            report.part_notes[EXPORT_NOTE] = "not written: " + "; ".join(
                f"{option} ({reason})" for option, reason in failed.items()
            )
            continue
        written.append(name)
        print(done)
    for name, write in exporters:
        if failed and name in written and name != "--github":
            try:
                write(report)
            except Exception as exc:  # written once already, without the note
                print(f"autograder: {name} could not be rewritten ({exc!s:.300})", file=sys.stderr)


def _platform_outputs(args: argparse.Namespace, report) -> str:
    """`--github`: the grading reporter's outputs and the step summary (GitHub Actions); what
    to print."""
    from autograder.platforms import github

    results = github.write_outputs(
        report, os.environ["GITHUB_OUTPUT"], os.environ.get("GITHUB_STEP_SUMMARY")
    )
    totals = github.reporter_totals(results)
    return (
        f"GitHub Classroom: {totals['classroom_points']:g}/{totals['classroom_max']:g} points "
        f"in {len(results)} runners ({', '.join(results)}) written to $GITHUB_OUTPUT"
    )


def _fail_under_status(args: argparse.Namespace, report) -> int:
    """`--fail-under N`: exit status 1 when the score is below N points (CI pass/fail rule)."""
    threshold = getattr(args, "fail_under", None)
    if threshold is not None and report.score < threshold:
        print(f"Score {report.score:g} is below --fail-under {threshold:g}: exit status 1")
        return EXIT_BELOW_THRESHOLD
    return EXIT_OK


def cmd_student_bundle(args: argparse.Namespace) -> int:
    from autograder.platforms.student import build_student_bundle

    out = build_student_bundle(args.out, args.release, args.exercise)
    print(f"Student bundle written to {out} ({out.stat().st_size / 1e6:.2f} MB, no solutions)")
    return EXIT_OK


def cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    from autograder.exercise_spec import instructor_exercise
    from autograder.platforms import gradescope

    exercise = instructor_exercise(args.exercise)  # a bundle grades the one exercise named
    out = gradescope.build_bundle(
        args.out,
        data_dir=args.data_dir,
        include_data=not args.no_data,
        visibility=args.visibility,
        leaderboard=args.leaderboard,
        notebook=args.notebook,
        exercise=exercise.name,
        sandbox=args.sandbox,
        memory_mib=args.memory_mib,
        timeout_scale=args.timeout_scale,
    )
    data = "fetched by setup.sh" if args.no_data else "included"
    print(
        f"Gradescope autograder written to {out} ({out.stat().st_size / 1e6:.1f} MB, data {data})"
    )
    return EXIT_OK


def cmd_fetch_data(args: argparse.Namespace) -> int:
    from autograder.exercise_spec import common_dataset, datasets_in_use, load_exercise
    from autograder.platforms import fetch

    if args.exercise and load_exercise(args.exercise).dataset is None:
        print(f"{args.exercise} uses no data set (its inputs are generated): nothing to fetch")
        return EXIT_OK
    if not args.exercise and not datasets_in_use():
        print("No exercise uses a data set: nothing to fetch")
        return EXIT_OK
    spec = common_dataset(args.exercise)
    folder = fetch.fetch(args.folder, args.base_url, spec=spec)
    print(f"{spec.title} (official, SHA-256 verified) in {folder}")
    return EXIT_OK


def cmd_new_exercise(args: argparse.Namespace) -> int:
    from autograder.authoring.scaffold import new_exercise

    written = new_exercise(args.name, Path(args.course), title=args.title)
    for path in written:
        print(f"wrote {path}")
    print(
        f"Next: `make release EXERCISES={args.name}` (the students' notebook), then "
        f"`autograder grade {written[-1]} --exercise {args.name}` (full marks), then make it "
        "your exercise."
    )
    return EXIT_OK


def cmd_rebuild_notebooks(args: argparse.Namespace) -> int:
    from autograder.authoring.rebuild import rebuild_notebooks

    for path in rebuild_notebooks(args.name, Path(args.course), release=not args.no_release):
        print(f"wrote {path}")
    return EXIT_OK


def cmd_recipe(args: argparse.Namespace) -> int:
    from autograder.platforms import RECIPE_FILES, recipe_path

    text = recipe_path(args.name).read_text(encoding="utf-8")
    if not args.out:
        print(text, end="")
        return EXIT_OK
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"Wrote {args.out} (usually {RECIPE_FILES[args.name][1]}); edit the settings at its top")
    return EXIT_OK


def _github_grade_check(args: argparse.Namespace) -> None:
    if getattr(args, "github", False) and not os.environ.get("GITHUB_OUTPUT"):
        raise ValueError("--github needs $GITHUB_OUTPUT, which GitHub Actions sets for each step")


def _batch_release(args: argparse.Namespace, exercise) -> Path | None:
    """The release notebook for a batch: --release, else the course's own (see
    `batch.course_release`), never one found inside the submissions."""
    from autograder import batch

    if args.release:
        return _current(Path(args.release))
    return _current(batch.course_release(args.folder, exercise, args.layout))


def _batch_exercise(args: argparse.Namespace):
    """A batch grades the one exercise the instructor set: --exercise, else --assignment when
    it names one (nbgrader), else the only one the course folder's own `assignments/` releases,
    else the kit's only one. Never a vote among the submissions, their metadata or names."""
    from autograder import batch
    from autograder.exercise_spec import ExerciseError, available_exercises, instructor_exercise

    if args.exercise:
        return instructor_exercise(args.exercise)
    if args.assignment in available_exercises():
        return instructor_exercise(args.assignment)
    if args.assignment:
        raise ExerciseError(
            f"--assignment {args.assignment} is not an exercise of the kit: pass --exercise "
            f"(one of {', '.join(available_exercises())})"
        )
    return instructor_exercise(None, batch.course_folders(args.folder, args.layout))


def cmd_batch(args: argparse.Namespace) -> int:
    from autograder import batch

    if not Path(args.folder).is_dir():
        return _fail(f"folder {args.folder!r} not found")
    submissions = batch.find_submissions(args.folder, args.layout, args.assignment)
    if not submissions:
        return _fail(f"no .ipynb or .py submissions in {args.folder!r}")
    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs must be at least 1")
    exercise = _batch_exercise(args)
    jobs = args.jobs or batch.default_jobs()
    options = _options(args, exercise)
    release = _batch_release(args, exercise)
    if release is not None:
        options.release = release.read_bytes()
        print(f"Locked cells are graded as released in {release}", file=sys.stderr)
    else:
        print(
            "note: no release notebook found (pass --release PATH): locked cells are graded "
            "as submitted",
            file=sys.stderr,
        )
    if args.scheduler or jobs > 1:
        if not args.scheduler and exercise.dataset is not None:
            from autograder.data import locate_data

            locate_data(exercise.dataset, options.data_dir)  # fail here, once, not per worker
        reports = batch.grade_folder(
            args.folder,
            out_dir=args.out,
            factory=batch.GraderFactory(options),
            jobs=jobs,
            scheduler=args.scheduler,
            force=args.force,
            layout=args.layout,
            assignment=args.assignment,
        )
    else:
        from autograder.grader import Grader

        with Grader(options) as grader:
            reports = batch.grade_folder(
                args.folder,
                grader,
                args.out,
                force=args.force,
                layout=args.layout,
                assignment=args.assignment,
            )
    errors = sum(batch.is_error(r) for r in reports)
    mean = sum(r.score for r in reports) / len(reports)
    maximum = max(r.max_score for r in reports)
    skipped = getattr(reports, "skipped", 0)
    print(
        f"Graded {len(reports)} submissions: mean score {mean:.2f}/{maximum:g}"
        + (f", {errors} could not be graded" if errors else "")
        + (f" ({skipped} already graded earlier, not regraded)" if skipped else "")
        + f". Results in {args.out}"
    )
    unwritten = getattr(reports, "unwritten", {})
    if unwritten:
        # The grades are safe in the records, but a script must not go on without these files.
        print(
            f"autograder: {len(unwritten)} file(s) could not be written (the grades are recorded; "
            "`autograder batch` again rewrites them without regrading): "
            + "; ".join(f"{path} ({why})" for path, why in unwritten.items()),
            file=sys.stderr,
        )
        return 1
    return EXIT_OK


def cmd_rubric(args: argparse.Namespace) -> int:
    from autograder.exercise_spec import available_exercises, load_exercise
    from autograder.scoring.run import rubric

    names = [args.exercise] if args.exercise else list(available_exercises())
    for index, name in enumerate(names):
        exercise = load_exercise(name)
        lines = rubric(exercise)
        if len(names) > 1:
            print(("\n" if index else "") + f"## {exercise.name}: {exercise.title}\n")
        print("| test | points |\n|---|---:|")
        for line in lines:
            print(f"| `{line.name}` | {line.points:g} |")
        print(f"| **total** | **{sum(line.points for line in lines):g}** |")
    return EXIT_OK


def _tamper_lines(submission: str, release: str | None, exercise=None) -> list[str]:
    from autograder import tamper

    release_path = release or (exercise and tamper.find_release(submission, exercise))
    if not release_path:
        raise ValueError(
            f"no release notebook found for {submission}; pass --release PATH (or --exercise, "
            "to take the course's release of that exercise)"
        )
    try:
        cells = tamper.tampered_cells(submission, release_path)
    except RuntimeError as exc:  # nbgrader's checksums are not installed: say how to get them
        return [str(exc)]
    except Exception as exc:  # a notebook nbformat cannot read: say so, never a traceback
        return [f"The locked cells could not be compared with the release ({type(exc).__name__})."]
    return [tamper.describe(cells)] if cells else []


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.exporters import text
    from autograder.grader import Grader

    exercise = _exercise_of(args)
    options = _options(args, exercise)
    slow = [p.name for p in exercise.parts if p.slow]
    options.parts = tuple(p for p in exercise.part_names if args.slow or p not in slow)
    with Grader(options) as grader:
        report = grader.grade(args.submission, release=_release(args, exercise))
    print(text.render(report, verbose=args.verbose))
    if not args.slow and slow:
        print(f"The slow parts ({', '.join(slow)}: training) were skipped; add --slow to run them.")
    if not Path(args.submission).exists():
        return _fail(f"submission {args.submission!r} not found")
    if args.release:
        print("\n".join(_tamper_lines(args.submission, args.release)))
    return EXIT_OK


def cmd_tamper(args: argparse.Namespace) -> int:
    if not Path(args.submission).is_file():
        return _fail(f"submission {args.submission!r} not found")
    exercise = None
    if not args.release:
        from autograder.exercise_spec import instructor_exercise

        exercise = instructor_exercise(args.exercise)
    lines = _tamper_lines(args.submission, args.release, exercise)
    print("\n".join(lines) if lines else "No locked cell was changed.")
    return 1 if lines else EXIT_OK


def _platform_commands(commands) -> None:
    bundle = commands.add_parser(
        "gradescope-bundle", help="build the autograder zip for Gradescope"
    )
    bundle.add_argument("out", nargs="?", default="gradescope-autograder.zip", help="the zip")
    bundle.add_argument(
        "--data-dir", help="the four official .gz files to include (default: the grader's search)"
    )
    bundle.add_argument(
        "--no-data", action="store_true", help="leave the data out: setup.sh downloads it"
    )
    bundle.add_argument(
        "--visibility", help="JSON file: which checks students see when (manual: LMS and CI)"
    )
    bundle.add_argument(
        "--leaderboard", action="store_true", help="report the pipeline's test accuracy"
    )
    bundle.add_argument(
        "--notebook", help="expected file name (default: the exercise's, e.g. fashion_mnist.ipynb)"
    )
    _exercise_argument(bundle)
    bundle.add_argument(
        "--sandbox",
        choices=["auto", "bubblewrap", "namespaces", "rlimits"],
        default="auto",
        help="isolation in the container (default: the strongest that works there)",
    )
    bundle.add_argument("--memory-mib", type=int, default=4096, help="child memory limit")
    bundle.add_argument("--timeout-scale", type=float, default=1.0, help="scale time limits")
    bundle.set_defaults(handler=cmd_gradescope_bundle)
    fetch = commands.add_parser("fetch-data", help="download and verify the official data files")
    fetch.add_argument("folder", help="where the data files go (kept when already intact)")
    _exercise_argument(fetch)
    fetch.add_argument("--base-url", default=None, help=argparse.SUPPRESS)
    fetch.set_defaults(handler=cmd_fetch_data)
    recipe = commands.add_parser("recipe", help="print or copy a platform template")
    recipe.add_argument("name", choices=["github", "gitlab", "gradescope-visibility"])
    recipe.add_argument("--out", help="write it here instead of printing it")
    recipe.set_defaults(handler=cmd_recipe)
    new = commands.add_parser("new-exercise", help="write a working exercise to start from")
    new.add_argument("name", help="the exercise's name (lower case, digits and _)")
    new.add_argument("--title", help="the notebook's title (default: from the name)")
    new.add_argument(
        "--course", default=".", help="the course folder whose solutions/ gets the notebook"
    )
    new.set_defaults(handler=cmd_new_exercise)
    rebuild = commands.add_parser(
        "rebuild-notebooks",
        help="set an exercise's notebook points from its rubric and write its release again",
    )
    rebuild.add_argument("name", help="the exercise's name")
    rebuild.add_argument(
        "--course", default=".", help="the course folder (solutions/, assignments/)"
    )
    rebuild.add_argument(
        "--no-release", action="store_true", help="update the source notebook only"
    )
    rebuild.set_defaults(handler=cmd_rebuild_notebooks)


def build_parser() -> argparse.ArgumentParser:
    from autograder.exporters.registry import grading_exporters

    parser = argparse.ArgumentParser(
        prog="autograder", description="Grade the course's Keras exercises in a sandbox."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade one .ipynb or .py submission")
    grade.add_argument("submission", help="the student's notebook (.ipynb) or module (.py)")
    for exporter in grading_exporters():
        grade.add_argument(f"--{exporter.name}", dest=exporter.name, help=exporter.help)
    grade.add_argument(
        "--release",
        help="the released notebook: locked cells are graded as released "
        "(default: assignments/<assignment>/<name>.ipynb above the submission or here)",
    )
    grade.add_argument(
        "-v", "--verbose", action="store_true", help="show details for passed checks too"
    )
    grade.add_argument(
        "--github",
        action="store_true",
        help="GitHub Actions: write the Classroom grading reporter's results to $GITHUB_OUTPUT "
        "and the feedback to $GITHUB_STEP_SUMMARY",
    )
    grade.add_argument(
        "--fail-under",
        type=float,
        metavar="N",
        help="exit status 1 when the score is below N points (CI); all reports are still written",
    )
    _grader_arguments(grade)
    grade.set_defaults(handler=cmd_grade)
    _platform_commands(commands)
    batch = commands.add_parser(
        "batch", help="grade a class: a folder, nbgrader's submitted/ or an LMS download"
    )
    batch.add_argument(
        "folder",
        help="submissions: files, nbgrader's submitted/<student>/<assignment>/, an LMS download "
        "(Canvas, Moodle, Blackboard file names) or a folder per student",
    )
    batch.add_argument(
        "--out", default="results/batch", help="output folder (default results/batch)"
    )
    batch.add_argument(
        "--release",
        help="the released notebook: locked cells are graded as released (default: "
        "assignments/<assignment>/<name>.ipynb of the course above FOLDER, or here)",
    )
    batch.add_argument(
        "-j",
        "--jobs",
        type=int,
        help="gradings at once (default: one per core, as many as memory allows at ~2 GiB each)",
    )
    batch.add_argument(
        "--force", action="store_true", help="regrade submissions already graded in --out"
    )
    batch.add_argument(
        "--layout",
        choices=["auto", "files", "nbgrader", "lms", "canvas", "moodle", "blackboard", "folders"],
        default="auto",
        help="how FOLDER names the students (default: recognise it)",
    )
    batch.add_argument("--assignment", help="nbgrader layout: the assignment to grade")
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask cluster, e.g. tcp://HOST:8786 (workers need the kit and the data)",
    )
    _grader_arguments(batch)
    batch.set_defaults(handler=cmd_batch)
    rubric_parser = commands.add_parser(
        "rubric", help="print each exercise's rubric (from its pytest graders) as Markdown"
    )
    _exercise_argument(rubric_parser)
    rubric_parser.set_defaults(handler=cmd_rubric)
    check = commands.add_parser("check", help="quick check of all parts but the slow pipeline")
    check.add_argument("submission", help="the notebook (.ipynb) or module (.py) to check")
    check.add_argument("--slow", action="store_true", help="also run the pipeline part (training)")
    check.add_argument(
        "--release",
        help="the released notebook: locked cells are graded as released, and changed ones named",
    )
    check.add_argument("-v", "--verbose", action="store_true", help="show passed checks' details")
    _grader_arguments(check)
    check.set_defaults(handler=cmd_check)
    tamper = commands.add_parser("tamper", help="name the locked cells a submission changed")
    tamper.add_argument("submission", help="the student's notebook")
    tamper.add_argument(
        "--release", help="the released notebook (default: the course's, of --exercise)"
    )
    _exercise_argument(tamper)
    tamper.set_defaults(handler=cmd_tamper)
    student = commands.add_parser(
        "student-bundle", help="zip the released notebook and the self-checks, without solutions"
    )
    student.add_argument("out", help="the zip to write, e.g. dist/fashion_mnist-student.zip")
    student.add_argument("--release", help="the released notebook (default: under assignments/)")
    _exercise_argument(student)
    student.set_defaults(handler=cmd_student_bundle)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from autograder.data import DataError

    try:
        return args.handler(args)
    except DataError as exc:
        return _fail(str(exc))
    except (ValueError, RuntimeError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except KeyboardInterrupt:
        return _fail("interrupted")


def run() -> NoReturn:
    """The `autograder` command: `main()`, then exit at once.

    Interpreter teardown in a process that imported TensorFlow takes about a second (its thread
    pools and thousands of modules); everything is written and closed when `main` returns.
    """
    # NumPy reads this when it is imported (see Workdir.environment for why).
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(int(status or 0))


if __name__ == "__main__":
    run()

"""Command line: `autograder grade`, `autograder batch`, `autograder check`, `autograder tamper`,
`autograder rubric`.

Exit status is 0 whenever grading completed, whatever the score; 2 with a one-line message when
grading could not run (no data, bad arguments, a missing submission path).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

EXIT_OK, EXIT_CANNOT_RUN = 0, 2


def _grader_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="folder with the four Fashion-MNIST .gz files (default: $FASHION_MNIST_DIR, keras cache, Debian's package)",
    )
    parser.add_argument(
        "--sandbox",
        choices=["auto", "bubblewrap", "namespaces", "rlimits", "plain"],
        default="auto",
        help="isolation to use (default: the strongest available; see README, Security)",
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


def _options(args: argparse.Namespace):
    from autograder.grader import DEFAULT_TIMEOUTS, GraderOptions
    from autograder.sandbox.isolation import Limits

    return GraderOptions(
        data_dir=args.data_dir,
        sandbox=args.sandbox,
        limits=Limits(memory_mib=args.memory_mib),
        timeouts={k: v * args.timeout_scale for k, v in DEFAULT_TIMEOUTS.items()},
    )


def _fail(message: str) -> int:
    print(f"autograder: {message}", file=sys.stderr)
    return EXIT_CANNOT_RUN


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.exporters import gradescope, text
    from autograder.grader import Grader

    with Grader(_options(args)) as grader:
        report = grader.grade(args.submission)
    print(text.render(report, verbose=args.verbose))
    if args.results:
        gradescope.write(report, args.results)
        print(f"Results written to {args.results}")
    for option, module_name in (("junit", "junit"), ("html", "html")):
        target = getattr(args, option, None)
        if target:
            module = __import__(f"autograder.exporters.{module_name}", fromlist=["write"])
            module.write(report, target)
            print(f"{option.upper()} report written to {target}")
    if not Path(args.submission).exists():
        return _fail(f"submission {args.submission!r} not found (a zero score was recorded)")
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from autograder import batch

    if not Path(args.folder).is_dir():
        return _fail(f"folder {args.folder!r} not found")
    if not batch.find_submissions(args.folder, args.layout, args.assignment):
        return _fail(f"no .ipynb or .py submissions in {args.folder!r}")
    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs must be at least 1")
    jobs = args.jobs or batch.default_jobs()
    options = _options(args)
    if args.scheduler or jobs > 1:
        if not args.scheduler:  # fail here, once, rather than in every worker
            from autograder.data import locate_data

            locate_data(options.data_dir)
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
    return EXIT_OK


def cmd_rubric(args: argparse.Namespace) -> int:
    from autograder.checks import rubric

    print("| test | points |\n|---|---:|")
    for item in rubric():
        print(f"| `{item.name}` | {item.points:g} |")
    print(f"| **total** | **{sum(c.points for c in rubric()):g}** |")
    return EXIT_OK


def _tamper_lines(submission: str, release: str | None) -> list[str]:
    from autograder import tamper

    release_path = release or tamper.find_release(submission)
    if release_path is None:
        raise ValueError(f"no release notebook found for {submission}; pass --release PATH")
    cells = tamper.tampered_cells(submission, release_path)
    return [tamper.describe(cells)] if cells else []


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.exporters import text
    from autograder.grader import Grader

    options = _options(args)
    options.parts = tuple(p for p in options.parts if args.slow or p != "pipeline")
    with Grader(options) as grader:
        report = grader.grade(args.submission)
    print(text.render(report, verbose=args.verbose))
    if not args.slow:
        print("The pipeline part (5 epochs of training) was skipped; add --slow to run it.")
    if not Path(args.submission).exists():
        return _fail(f"submission {args.submission!r} not found")
    if args.release:
        print("\n".join(_tamper_lines(args.submission, args.release)))
    return EXIT_OK


def cmd_tamper(args: argparse.Namespace) -> int:
    if not Path(args.submission).is_file():
        return _fail(f"submission {args.submission!r} not found")
    lines = _tamper_lines(args.submission, args.release)
    print("\n".join(lines) if lines else "No locked cell was changed.")
    return 1 if lines else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder", description="Grade the Fashion-MNIST exercise in a sandbox."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade one .ipynb or .py submission")
    grade.add_argument("submission", help="the student's notebook (.ipynb) or module (.py)")
    grade.add_argument("--results", help="write Gradescope results.json here")
    grade.add_argument("--junit", help="write a JUnit XML report here")
    grade.add_argument("--html", help="write an HTML feedback report here")
    grade.add_argument(
        "-v", "--verbose", action="store_true", help="show details for passed checks too"
    )
    _grader_arguments(grade)
    grade.set_defaults(handler=cmd_grade)
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
        choices=["auto", "files", "nbgrader", "lms", "folders"],
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
    rubric_parser = commands.add_parser("rubric", help="print the rubric as a Markdown table")
    rubric_parser.set_defaults(handler=cmd_rubric)
    check = commands.add_parser("check", help="quick check of all parts but the slow pipeline")
    check.add_argument("submission", help="the notebook (.ipynb) or module (.py) to check")
    check.add_argument("--slow", action="store_true", help="also run the pipeline part (training)")
    check.add_argument("--release", help="the released notebook: name locked cells changed since")
    check.add_argument("-v", "--verbose", action="store_true", help="show passed checks' details")
    _grader_arguments(check)
    check.set_defaults(handler=cmd_check)
    tamper = commands.add_parser("tamper", help="name the locked cells a submission changed")
    tamper.add_argument("submission", help="the student's notebook")
    tamper.add_argument("--release", help="the released notebook (default: under assignments/)")
    tamper.set_defaults(handler=cmd_tamper)
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


if __name__ == "__main__":
    sys.exit(main())

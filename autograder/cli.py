"""Command line: `autograder grade`, `autograder batch`, `autograder rubric`.

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
    parser.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files (default: $FASHION_MNIST_DIR, keras cache, Debian's package)")
    parser.add_argument("--sandbox", choices=["auto", "bubblewrap", "rlimits"], default="auto", help="isolation to use (default: the strongest available)")
    parser.add_argument("--memory-mib", type=int, default=4096, help="memory limit of the student's process (default 4096)")
    parser.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every per-part time limit (slow machines)")


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


def cmd_rubric(args: argparse.Namespace) -> int:
    from autograder.checks import rubric

    print("| test | points |\n|---|---:|")
    for item in rubric():
        print(f"| `{item.name}` | {item.points:g} |")
    print(f"| **total** | **{sum(c.points for c in rubric()):g}** |")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description="Grade the Fashion-MNIST exercise in a sandbox.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade one .ipynb or .py submission")
    grade.add_argument("submission", help="the student's notebook (.ipynb) or module (.py)")
    grade.add_argument("--results", help="write Gradescope results.json here")
    grade.add_argument("--junit", help="write a JUnit XML report here")
    grade.add_argument("--html", help="write an HTML feedback report here")
    grade.add_argument("-v", "--verbose", action="store_true", help="show details for passed checks too")
    _grader_arguments(grade)
    grade.set_defaults(handler=cmd_grade)
    rubric_parser = commands.add_parser("rubric", help="print the rubric as a Markdown table")
    rubric_parser.set_defaults(handler=cmd_rubric)
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

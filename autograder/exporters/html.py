"""A self-contained HTML feedback page: scores, feedback per failed check, and plots.

Everything is inline (CSS, PNG images as base64), so the page can be mailed or uploaded alone.

Example:
    >>> page = render(report)
    >>> page.startswith("<!DOCTYPE html>")
    True
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograder.exporters.junit import xml_text
from autograder.exporters.text import to_fix
from autograder.results import GradingReport, TestResult

CSS = r"""
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; overflow-wrap: anywhere; }
.meta { color: #59636e; margin: 0; }
.score { font-size: 2.25rem; font-weight: 700; margin: .75rem 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d1d9e0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { background: #eef1f4; height: .6rem; width: 8rem; border-radius: .3rem; }
.bar span { display: block; height: 100%; border-radius: .3rem; background: #1a7f37; }
.bar span.partial { background: #bf8700; }
.bar span.zero { background: #cf222e; }
.check { border-left: 4px solid #cf222e; background: #fff5f5; padding: .5rem .8rem;
         margin: .6rem 0; }
.check h4 { margin: 0 0 .3rem; font-size: 1rem; overflow-wrap: anywhere; }
.check dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: 0; }
.check dt { font-weight: 600; }
.check dd { margin: 0; }
pre, .check dd, .check p { white-space: pre-wrap; overflow-wrap: anywhere; }
ul.passed { color: #1a7f37; padding-left: 1.2rem; }
ul.passed li::marker { content: "\2713  "; }
.notes { background: #fff8c5; padding: .5rem .8rem; border-left: 4px solid #bf8700; }
img.plot { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
"""

MAX_EPOCHS = 1000  # a history is student data: plot a sane amount of it
MAX_SERIES = 8


def _e(value: object) -> str:
    return html.escape(xml_text(value), quote=True)


def _n(value: float) -> str:
    return f"{value:g}"


def render(report: GradingReport) -> str:
    """The whole feedback page for one report."""
    sections = [
        _header(report),
        _parts_table(report),
        _checks(report),
        _notes(report),
        _plots(report),
        _footer(report),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Feedback: {_e(Path(report.submission).name)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write(report: GradingReport, path: str | Path) -> Path:
    """Write the feedback page of `report` to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path


def _header(report: GradingReport) -> str:
    lines = [
        f"<h1>Feedback: {_e(Path(report.submission).name)}</h1>",
        f'<p class="score">{_n(report.score)} / {_n(report.max_score)}</p>',
        f"<p class='fix'>{_e(to_fix(report))}</p>",
    ]
    accuracy = _test_accuracy(report)
    if accuracy is not None:
        lines.append(
            f'<p class="meta">Test accuracy of your pipeline, measured by the grader: '
            f"<strong>{accuracy:.4f}</strong></p>"
        )
    return "\n".join(lines)


def _footer(report: GradingReport) -> str:
    return (
        f'<p class="meta">Graded in {report.execution_time:.1f} s. '
        f"Isolation: {_e(report.isolation or 'unknown')}</p>"
    )


def _test_accuracy(report: GradingReport) -> float | None:
    value = report.artifacts.get("test_accuracy")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _notes(report: GradingReport) -> str:
    if not report.part_notes:
        return ""
    items = "".join(
        f"<li><strong>{_e(part)}</strong>: <pre>{_e(note)}</pre></li>"
        for part, note in report.part_notes.items()
    )
    return f'<section class="notes"><h2>Notes</h2><ul>{items}</ul></section>'


def _parts_table(report: GradingReport) -> str:
    if not report.tests:
        return "<p>No checks were run.</p>"
    rows = []
    for part in report.parts():
        score, maximum = report.part_score(part)
        fraction = score / maximum if maximum else 1.0
        kind = "" if fraction >= 1 else ("zero" if fraction <= 0 else "partial")
        width = max(0.0, min(1.0, fraction)) * 100
        rows.append(
            f"<tr><td>{_e(part)}</td><td class='num'>{_n(score)} / {_n(maximum)}</td>"
            f"<td><div class='bar'><span class='{kind}' style='width:{width:.0f}%'></span></div>"
            "</td></tr>"
        )
    return (
        "<h2>Parts</h2>\n<table><thead><tr><th>Part</th><th>Score</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _checks(report: GradingReport) -> str:
    sections = []
    for part in report.parts():
        tests = [t for t in report.tests if t.part == part]
        failed = "".join(_failed_check(t) for t in tests if not t.passed)
        passed = "".join(f"<li>{_e(t.name)}</li>" for t in tests if t.passed)
        block = f"<h3>{_e(part)}</h3>{failed}"
        if passed:
            block += f'<ul class="passed">{passed}</ul>'
        sections.append(f"<section>{block}</section>")
    return "<h2>Checks</h2>\n" + "\n".join(sections) if sections else ""


def _failed_check(test: TestResult) -> str:
    rows = [
        (label, value)
        for label, value in (
            ("Expected", test.feedback.expected),
            ("Received", test.feedback.received),
            ("Likely cause", test.feedback.hint),
        )
        if value
    ]
    details = "".join(f"<dt>{label}</dt><dd>{_e(value)}</dd>" for label, value in rows)
    message = f"<p>{_e(test.message)}</p>" if test.message else ""
    return (
        f'<div class="check"><h4>{_e(test.name)} ({_n(test.score)}/{_n(test.max_score)})</h4>'
        f"{message}{f'<dl>{details}</dl>' if details else ''}</div>"
    )


@dataclass(frozen=True)
class Plot:
    """One figure of a report: its PNG and the text that stands for it; `error` says why a
    figure that should be there could not be drawn (then `png` is empty)."""

    alt: str
    png: bytes
    error: str = ""

    def img(self, attributes: str = 'class="plot"') -> str:
        """The figure as an inline `<img>` (a data URI), `attributes` added as they are; a
        figure that could not be drawn is a sentence saying so."""
        if self.error:
            return f"<p class='notes'>{_e(self.alt)}: not drawn ({_e(self.error)}).</p>"
        data = base64.b64encode(self.png).decode("ascii")
        return f'<img {attributes} alt="{_e(self.alt)}" src="data:image/png;base64,{data}">'


# Text in the figures comes from the submission (History keys, class names a grader recorded):
# drawn as plain text, never as matplotlib math text or TeX, whose parser raises on input such
# as `$\undefinedcommand$` (and would render `$x$` as a formula).
PLAIN_TEXT = {"text.parse_math": False, "text.usetex": False}


def _drawn(alt: str, draw, *args) -> Plot:
    """The Plot `draw(*args)` makes; a figure that fails to draw is noted, never raised: the
    page, and every other output of the grading, is still written."""
    from matplotlib import rc_context

    try:
        with rc_context(PLAIN_TEXT):
            return Plot(alt, draw(*args))
    except Exception as exc:  # any failure of a figure leaves the page without it
        return Plot(alt, b"", error=f"{type(exc).__name__}: {xml_text(exc)[:200]}")


def plots(report: GradingReport) -> list[Plot]:
    """The report's figures its artifacts allow: training curves, then the confusion matrix."""
    figures = []
    history = _history(report.artifacts.get("history"))
    if history:
        figures.append(
            _drawn(
                "Training curves from the grader's own 5-epoch run of your pipeline: loss and metrics per epoch",
                _history_png,
                history,
            )
        )
    names = _class_names(report.artifacts.get("class_names"))
    matrix = _confusion(report.artifacts.get("confusion_matrix"), len(names))
    if matrix is not None:
        figures.append(
            _drawn(
                "Confusion matrix of your pipeline's model on the grader's 10,000 test images: true class by predicted class",
                _confusion_png,
                matrix,
                _test_accuracy(report),
                names,
            )
        )
    return figures


def _plots(report: GradingReport) -> str:
    images = [figure.img() for figure in plots(report)]
    return "<h2>Plots</h2>\n" + "\n".join(images) if images else ""


def _history(raw: Any) -> dict[str, list[float]]:
    """The plottable series of a Keras `History.history`: names mapped to finite numbers."""
    if not isinstance(raw, dict):
        return {}
    series = {}
    for key, values in list(raw.items())[:MAX_SERIES]:
        if not isinstance(values, (list, tuple)) or not values:
            continue
        numbers = [
            v
            for v in values[:MAX_EPOCHS]
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        if len(numbers) == len(values[:MAX_EPOCHS]) and all(math.isfinite(v) for v in numbers):
            series[str(key)[:40]] = [float(v) for v in numbers]
    return series


def _class_names(raw: Any) -> list[str]:
    """The class names a grader recorded for the confusion matrix (plain, bounded text)."""
    if not isinstance(raw, list) or not 1 < len(raw) <= 100:
        return []
    return [str(name)[:40] for name in raw]


def _confusion(raw: Any, size: int) -> np.ndarray | None:
    try:
        matrix = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        return None
    if matrix.shape != (size, size) or not np.isfinite(matrix).all():
        return None
    return matrix


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _history_png(history: dict[str, list[float]]) -> bytes:
    return _png(_history_figure(history))


def _history_figure(history: dict[str, list[float]]) -> Any:
    from matplotlib.figure import Figure

    # Loss on its own axes: its scale has nothing to do with accuracy's 0..1.
    groups = [
        [k for k in history if "loss" in k],
        [k for k in history if "loss" not in k],
    ]
    groups = [g for g in groups if g]
    bases = list(dict.fromkeys(k.removeprefix("val_") for k in history))
    figure = Figure(figsize=(5 * len(groups), 3.6))
    for axes, keys in zip(figure.subplots(1, len(groups), squeeze=False)[0], groups, strict=True):
        for key in keys:
            epochs = range(1, len(history[key]) + 1)
            # A metric and its val_ twin share a colour; the validation one is dashed.
            axes.plot(
                epochs,
                history[key],
                "--" if key.startswith("val_") else "-",
                color=f"C{bases.index(key.removeprefix('val_')) % 10}",
                marker="o" if len(epochs) <= 20 else None,
                label=key,
            )
        axes.set_xlabel("epoch")
        axes.set_title(
            ("Loss" if "loss" in keys[0] else "Metrics")
            + " per epoch, grader's run of your pipeline"
        )
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    return figure


def _confusion_png(matrix: np.ndarray, accuracy: float | None, names: list[str]) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 6.5))
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = range(len(names))
    axes.set_xticks(ticks, names, rotation=45, ha="right")
    axes.set_yticks(ticks, names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    title = "Your pipeline's model on the 10,000 test images"
    axes.set_title(title if accuracy is None else f"{title}, accuracy {accuracy:.4f}")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        colour = "white" if count > threshold else "black"
        axes.text(col, row, f"{count:g}", ha="center", va="center", fontsize=8, color=colour)
    figure.tight_layout()
    return _png(figure)

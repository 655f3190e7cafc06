"""nbgrader's `generate_feedback` for the course: hidden tests removed, named table of contents.

The feedback page is nbgrader's own (its `feedback` template) with one change, the kit's
`autograder_feedback` template (autograder/nbgrader_templates/): each autograded test cell's
entry in the table of contents is the title `GradeInSandbox` wrote in the cell's metadata, e.g.
`build_model: all 8 checks passed (Score: 27.0 / 27.0)`, instead of `Test cell` ten times.

Example (nbgrader_config.py; nesting under GenerateFeedback leaves the formgrader's own
HTMLExporter alone and also holds when the formgrader's button generates the feedback):
    c.GenerateFeedback.HTMLExporter.template_name = TEMPLATE_NAME
    c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.GenerateFeedback.HTMLExporter.extra_template_paths = template_paths()
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.nbgrader_feedback.ClearHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
"""

from __future__ import annotations

from pathlib import Path

import nbgrader
from nbgrader.preprocessors import ClearHiddenTests as NbgraderClearHiddenTests
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List

TEMPLATES = Path(__file__).with_name("nbgrader_templates")
TEMPLATE_NAME = "autograder_feedback"
_FORMGRADER = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
# nbgrader's templates: the kit's extends `feedback/index.html.j2` from here (a name the kit's own
# `index.html.j2` cannot shadow).
NBGRADER_TEMPLATES = _FORMGRADER / "templates"
# Where nbgrader's GenerateFeedback points HTMLExporter.extra_template_paths, for the page's
# Bootstrap CSS; setting that option for the kit's template replaces nbgrader's value.
BOOTSTRAP_CSS = _FORMGRADER / "static" / "node_modules" / "bootstrap" / "dist" / "css"


def template_paths() -> list[str]:
    """The feedback exporter's extra template paths: nbgrader's templates and its CSS."""
    return [str(NBGRADER_TEMPLATES), str(BOOTSTRAP_CSS)]


class ClearHiddenTests(NbgraderClearHiddenTests):
    """nbgrader's `ClearHiddenTests`, for the feedback exporter.

    HTMLExporter's defaults configure `display_data_priority` for every nbconvert class, and
    nbgrader's preprocessors declare that trait without `config=True`, so traitlets warned on
    every `generate_feedback` that the option was not recognized by `ClearHiddenTests` (nbgrader's
    `GetGrades` declares it configurable, hence no warning there). The same here; unused.
    """

    display_data_priority = List(
        NbGraderPreprocessor.class_traits()["display_data_priority"].default()
    ).tag(config=True)

"""nbgrader's `generate_feedback` for the course: the hidden tests removed, without warnings.

Example (nbgrader_config.py):
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.nbgrader_feedback.ClearHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests as NbgraderClearHiddenTests
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List


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

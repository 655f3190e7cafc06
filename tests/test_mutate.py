"""The one way tests make submissions from a solution: edits land in the definition they name,
and an edit that no longer applies says which definition and what it now holds."""

from __future__ import annotations

import mutate
import pytest
from fashion import reference_source
from mutate import Edit, EditError

SOLUTION = """import numpy as np

# The scale.
LIMIT = 255.0


def scale(images):
    return images / LIMIT
    ### END SOLUTION


class Stop:
    def on_epoch_end(self, logs):
        return logs / LIMIT
"""


def test_an_edit_changes_only_the_definition_it_names() -> None:
    edited = mutate.apply(SOLUTION, Edit("Stop", "/ LIMIT", "* LIMIT"))
    assert "return images / LIMIT" in edited and "return logs * LIMIT" in edited
    assert edited.replace("logs * LIMIT", "logs / LIMIT") == SOLUTION


def test_an_edit_that_no_longer_applies_names_its_definition_and_shows_it() -> None:
    with pytest.raises(EditError, match="scale no longer holds 'images // 255'") as error:
        mutate.apply(SOLUTION, Edit("scale", "images // 255", "images"), label="the solution")
    assert "def scale(images):" in str(error.value)
    with pytest.raises(EditError, match=r"defines no 'Scale'.*'scale'"):
        mutate.apply(SOLUTION, Edit("Scale", "x", "y"))
    with pytest.raises(EditError, match="found 2"):
        mutate.apply(
            SOLUTION + "\ndef twice():\n    return 1, 1\n", Edit("twice", "1", "2", count=1)
        )


def test_an_unnamed_edit_must_find_exactly_one_definition() -> None:
    assert mutate.locate(SOLUTION, "images / LIMIT") == "scale"
    with pytest.raises(EditError, match=r"in \['scale', 'Stop'\]; name the definition"):
        mutate.apply(SOLUTION, Edit("", "/ LIMIT", "* LIMIT"))
    with pytest.raises(EditError, match="in none of"):
        mutate.apply(SOLUTION, Edit("", "not there", ""))


def test_a_definition_keeps_its_comments_and_edits_may_pass_through_broken_code() -> None:
    spans = mutate.definitions(SOLUTION)
    limit = SOLUTION[spans["LIMIT"].start : spans["LIMIT"].end]
    assert limit == "# The scale.\nLIMIT = 255.0\n"
    assert SOLUTION[spans["scale"].start : spans["scale"].end].endswith("### END SOLUTION\n")
    opened = Edit("scale", "return images / LIMIT", "return (images / LIMIT")
    closed = Edit("scale", "/ LIMIT", "/ LIMIT)")
    assert "return (images / LIMIT)\n" in mutate.apply(SOLUTION, opened, closed)


def test_whole_definitions_literals_and_new_cells() -> None:
    replaced = mutate.replace_definition(SOLUTION, "scale", "def scale(images):\n    return images")
    assert "def scale(images):\n    return images\n\n\nclass Stop" in replaced
    assert "LIMIT = [1, 2]\n" in mutate.set_literal(SOLUTION, "LIMIT", [1, 2])
    with pytest.raises(EditError, match="scale is not assigned a value"):
        mutate.set_literal(SOLUTION, "scale", 1)
    inserted = mutate.insert_after(SOLUTION, "LIMIT", "OTHER = 1")
    assert "LIMIT = 255.0\nOTHER = 1\n" in inserted


def test_notebook_cells_are_edited_where_the_part_is_defined() -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": "def scale(images): ..."},
            {"cell_type": "code", "source": "%matplotlib inline"},
            {"cell_type": "code", "source": ["def scale(images):\n", "    return images / 255\n"]},
        ]
    }
    mutate.edit_notebook(notebook, Edit("scale", "/ 255", "// 255"))
    assert notebook["cells"][2]["source"] == "def scale(images):\n    return images // 255\n"
    assert notebook["cells"][0]["source"] == "def scale(images): ..."
    with pytest.raises(EditError, match="0 code cells define Stop"):
        mutate.edit_notebook(notebook, Edit("Stop", "x", "y"))


def test_every_part_of_the_reference_is_a_definition_edits_can_name() -> None:
    from fashion import PARTS

    defined = set(mutate.definitions(reference_source()))
    assert set(PARTS) - {"pipeline"} <= defined

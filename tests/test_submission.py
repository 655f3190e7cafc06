"""Reading submissions: graded cells only, magics stripped, clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.submission import SubmissionError, load_chunks, python_chunks, strip_ipython


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def code(source: str, tags: list[str] | None = None, grade_id: str | None = None) -> dict:
    metadata: dict = {"tags": tags or []}
    if grade_id:
        metadata["nbgrader"] = {"grade_id": grade_id}
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": []}


def test_only_graded_cells_count(tmp_path: Path) -> None:
    path = tmp_path / "a.ipynb"
    path.write_text(
        json.dumps(
            notebook(
                code("x = 1", ["graded"], "first"),
                code("raise RuntimeError('exploratory')"),
                {"cell_type": "markdown", "metadata": {}, "source": "# text"},
                code(["y = ", "2"], ["graded"]),
            )
        )
    )
    chunks = load_chunks(path)
    assert [c.source for c in chunks] == ["x = 1", "y = 2"]
    assert [c.label for c in chunks] == ["first", "cell 4"]
    assert chunks[0].filename == "<cell first>"


def test_untagged_notebook_uses_every_code_cell(tmp_path: Path) -> None:
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(notebook(code("a = 1"), code("b = 2"))))
    assert [c.source for c in load_chunks(path)] == ["a = 1", "b = 2"]


def test_magics_and_shell_lines_are_blanked_keeping_line_numbers() -> None:
    source = "%matplotlib inline\nx = 1\n  !ls\ny = 2"
    assert strip_ipython(source) == "\nx = 1\n\ny = 2"
    assert strip_ipython("%%time\nx = 1") == ""


def test_python_file_is_split_into_top_level_statements() -> None:
    source = (
        "import os\n\n@decorator\ndef f():\n    return 1\n\nraise NotImplementedError()\nz = 3\n"
    )
    chunks = python_chunks(source)
    assert [c.first_line for c in chunks] == [1, 3, 7, 8]
    assert chunks[1].source.startswith("@decorator")


def test_python_syntax_error_becomes_one_chunk() -> None:
    chunks = python_chunks("def broken(:\n")
    assert len(chunks) == 1 and chunks[0].source == "def broken(:\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.ipynb", "{not json", "not JSON"),
        ("list.ipynb", "[1, 2]", "not an object"),
        ("nocells.ipynb", "{}", "no list of cells"),
        ("sub.txt", "x = 1", "must be a .ipynb or .py"),
    ],
)
def test_bad_submissions_raise_clear_errors(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SubmissionError, match=message):
        load_chunks(path)


def test_missing_submission(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="does not exist"):
        load_chunks(tmp_path / "nope.ipynb")


def test_binary_submission(tmp_path: Path) -> None:
    path = tmp_path / "bin.py"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SubmissionError, match="not UTF-8"):
        load_chunks(path)


def test_syntax_error_is_shown_to_the_student(grader, tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\nthis is not python(\n")
    report = grader.grade(path)
    assert report.score == 0
    first = report.tests[0].output
    assert "could not be parsed" in first and "SyntaxError" in first and "line 3" in first


@pytest.mark.parametrize(
    ("name", "source", "line"),
    [
        # A typo in one function: the rest still tells which exercise this is.
        ("broken.py", None, None),
        # Nothing to recognise at all: the course's default exercise.
        ("untitled.py", "x = (\n", 1),
    ],
)
def test_a_py_that_does_not_parse_is_graded_zero_with_its_syntax_error(
    tmp_path: Path, synthetic_dir: Path, name: str, source: str | None, line: int | None
) -> None:
    import mutate
    from fashion import reference_source

    from autograder import cli

    if source is None:
        reference = reference_source()
        unfinished = "    return images / 255.0 +\n"
        edit = mutate.Edit("scale_images", "    return images / 255.0\n", unfinished)
        source = mutate.apply(reference, edit)
        line = reference[: reference.index("    return images / 255.0\n")].count("\n") + 1
    path = tmp_path / name
    path.write_text(source)
    results = tmp_path / "results.json"
    code = cli.main(
        ["grade", str(path), "--data-dir", str(synthetic_dir), "--results", str(results),
         "--exercise", "fashion_mnist"]
    )  # fmt: skip
    assert code == 0
    written = json.loads(results.read_text())
    assert written["score"] == 0 and len(written["tests"]) > 10
    assert "SyntaxError" in written["tests"][0]["output"]
    assert f"line {line})" in written["tests"][0]["output"]


def test_statements_sharing_a_line_each_carry_only_their_own_text() -> None:
    source = "import numpy as np\n@staticmethod\ndef f():\n    return 1  # kept\nx = 1; y = 'é'; z = (\n  3)\n"
    chunks = python_chunks(source)
    assert [c.source for c in chunks] == [
        "import numpy as np",
        "@staticmethod\ndef f():\n    return 1  # kept",
        "x = 1",
        "y = 'é'",
        "z = (\n  3)",
    ]
    assert [c.first_line for c in chunks] == [1, 2, 5, 5, 5]


def test_the_code_graded_is_bounded_and_linear_in_the_submission(tmp_path: Path) -> None:
    """One 56 KB line of 14,000 statements once made 749 MiB of chunks; now each statement
    carries its own four characters, and a submission past the bounds is refused by name."""
    from autograder.submission import MAX_CHUNKS, load_submission

    line = "_=0;" * (MAX_CHUNKS - 10)
    chunks = python_chunks("x = 1\n" + line + "\n")
    assert sum(len(c.source) for c in chunks) < len(line) + 10
    path = tmp_path / "many.py"
    path.write_text("x = 1\n" + "_=0;" * 14000 + "\n")
    with pytest.raises(SubmissionError, match="14,001 top-level statements or cells"):
        load_submission(path)
    path.write_text("x = 1\n" * 25000)
    with pytest.raises(SubmissionError, match="statements or cells|lines of code"):
        load_submission(path)

"""`make test` hands out the longest test files first (tests/suite_order.py): the list names
real test files, each once, so a renamed file cannot silently fall to the end of the run."""

from __future__ import annotations

from pathlib import Path

from suite_order import LONGEST_FILES

TESTS = Path(__file__).parent


def test_every_file_the_order_names_is_a_test_file_named_once() -> None:
    assert len(set(LONGEST_FILES)) == len(LONGEST_FILES)
    missing = [name for name in LONGEST_FILES if not (TESTS / name).is_file()]
    assert missing == []


def test_make_test_keeps_the_order_instead_of_xdists_most_tests_first() -> None:
    makefile = (TESTS.parent / "Makefile").read_text()
    assert "--dist loadfile --no-loadscope-reorder" in makefile

"""The order in which `make test`'s two workers take the test files.

Under pytest-xdist (`--dist loadfile --no-loadscope-reorder`) each worker takes the next file in
collection order. The files that take minutes go first, longest first (figures from a fresh-clone
CI run), so the many short files fill in at the end and the two workers finish together, instead
of one running a long file alone while the other idles. Only the order depends on this list, never
a result: a file missing from it starts after those in it (tests/test_suite_order.py checks that
every name in it is a test file).
"""

from __future__ import annotations

import pytest

LONGEST_FILES = (
    "test_routes.py", "test_nbgrader.py", "test_defects.py", "test_hostile.py",
    "test_real_data.py", "test_browser.py", "test_trust.py", "test_any_machine.py",
    "test_cluster.py", "test_style_table.py", "test_housing_prices.py",
    "test_digits_callback.py", "test_student_experience.py", "test_cnn_exercise.py",
    "test_graders_direct.py", "test_fuzz.py", "test_model_config_fuzz.py",
)  # fmt: skip
_RANK = {name: index for index, name in enumerate(LONGEST_FILES)}


def file_rank(item: pytest.Item) -> int:
    """Where `item`'s file comes in the order: its place in LONGEST_FILES, else after them."""
    return _RANK.get(item.path.name, len(_RANK))

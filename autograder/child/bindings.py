"""Bind the builtins into a module's namespace before student code runs.

Student code shares the child's interpreter: rebinding `builtins.bool` or `builtins.isinstance`
must not change what the grader's own child-side code observes. Module globals are looked up
before builtins, so copying them in freezes them. Standard library only (copied into the child).
"""

from __future__ import annotations

import builtins


def bind_builtins(namespace: dict) -> None:
    """Copy every public builtin into `namespace` unless it already binds that name."""
    for name in dir(builtins):
        if not name.startswith("__"):
            namespace.setdefault(name, getattr(builtins, name))

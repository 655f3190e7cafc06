"""Rebuild source text from a kernel's namespace: the code a self-check explains failures
with, and the files its tracebacks point into."""

from __future__ import annotations

import inspect
import textwrap


def namespace_sources(namespace: dict) -> list[str]:
    """The source of the functions and classes in a kernel's namespace (for feedback only).

    A class defined in a notebook cell has no source file Python can find, but its methods
    do: the class is rebuilt from them."""
    sources = []
    for name, value in list(namespace.items()):
        try:
            if inspect.isfunction(value):
                sources.append(textwrap.dedent(inspect.getsource(value)))
            elif inspect.isclass(value) and value.__module__ == namespace.get("__name__"):
                methods = [
                    textwrap.indent(textwrap.dedent(inspect.getsource(member)), "    ")
                    for member in vars(value).values()
                    if inspect.isfunction(member)
                ]
                sources.append(f"class {name}:\n" + ("\n".join(methods) or "    pass\n"))
        except (OSError, TypeError):
            continue
    return sources


def code_filenames(namespace: dict) -> list[str]:
    """Filenames of the code objects defined in a namespace, so tracebacks keep the student's lines."""
    names = []
    for value in list(namespace.values()):
        code = getattr(value, "__code__", None)
        if code is None and isinstance(value, type):
            code = next(
                (
                    getattr(v, "__code__", None)
                    for v in vars(value).values()
                    if hasattr(v, "__code__")
                ),
                None,
            )
        if code is not None:
            names.append(code.co_filename)
    return names

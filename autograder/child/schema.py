"""The observation schema: what a part's probe may record, declared once for both sides.

An exercise's `schema.py` maps each part to its keys and their kinds:

    OBSERVATIONS = {
        "scale_images": {"result": "array", "input_modified": "bool"},
        "build_model": {"default": "model", "default_type": "info"},
    }

The child's recorder refuses a key the schema does not declare, and the grader's reader refuses
to look one up, so renaming a key on one side fails a test instead of silently scoring 0. The
reader also drops any value whose type is not the declared kind (the child is not trusted).
A key may end in `*` to declare a family (`"fit_*": "model"`).

This file is copied into the child next to the harness: standard library only.
"""

from __future__ import annotations

# Kind -> the JSON types a value of that kind may have.
KINDS: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "number": (int, float),
    "text": (str,),
    "list": (list,),
    "dict": (dict,),
    "info": (dict,),  # the harness's description of any object (type, shape, dtype, repr)
    "array": (dict,),  # a description whose `saved` flag says a `<key>.npy` file was written
    "model": (bool,),  # `<key>.model` written; the JSON holds `<key>_saved` (and `_save_error`)
}

# Keys the harness itself writes for every part.
COMMON: dict[str, str] = {
    "part": "text",
    "seconds": "number",
    "errors": "dict",
    "missing": "text",
    "left_running": "list",
}


class SchemaError(Exception):
    """A key that the exercise's schema does not declare: a bug in a probe or a grader."""


def kind_of(schema: dict[str, dict[str, str]], part: str, key: str) -> str:
    """The declared kind of `key` in `part`'s observations; SchemaError when undeclared.

    A model key `k` also declares `k_saved` (bool) and `k_save_error` (text)."""
    if key in COMMON:
        return COMMON[key]
    declared = schema.get(part)
    if declared is None:
        raise SchemaError(f"the schema declares no part {part!r} (it has no key {key!r})")
    kind = _lookup(declared, key)
    if kind is not None:
        return kind
    for suffix, suffix_kind in (("_saved", "bool"), ("_save_error", "text")):
        if key.endswith(suffix) and _lookup(declared, key[: -len(suffix)]) == "model":
            return suffix_kind
    raise SchemaError(
        f"{part!r} observations declare no key {key!r} (see the exercise's schema.py)"
    )


def _lookup(declared: dict[str, str], key: str) -> str | None:
    if key in declared:
        return declared[key]
    for pattern, kind in declared.items():
        if pattern.endswith("*") and key.startswith(pattern[:-1]):
            return kind
    return None


def valid(kind: str, value: object) -> bool:
    """Whether `value` (parsed JSON) has the types the kind allows."""
    types = KINDS.get(kind, ())
    if kind == "number" and isinstance(value, bool):
        return False
    return isinstance(value, types)


def check_schema(schema: dict[str, dict[str, str]]) -> None:
    """Raise SchemaError for a malformed schema (unknown kinds, non-string keys)."""
    for part, keys in schema.items():
        if not isinstance(part, str) or not isinstance(keys, dict):
            raise SchemaError(f"schema entry {part!r} must map a part name to a dict")
        for key, kind in keys.items():
            if not isinstance(key, str) or kind not in KINDS:
                raise SchemaError(f"{part}.{key}: unknown kind {kind!r}; kinds are {list(KINDS)}")

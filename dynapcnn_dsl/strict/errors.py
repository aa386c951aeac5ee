"""Turn pydantic validation errors into positioned diagnostics a user can act on.

Pydantic reports a `loc` tuple per error; it may contain union tags (`'long'`, `'xy'`) that are
not part of the file. We walk the loc against the data to recover the real path, then ask the
source map for the position of the key (unknown keys) or the value (wrong values).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.load.source import NodePath, SourceMap
from dynapcnn_dsl.suggest import did_you_mean

_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "finite_number": "a finite number",
}


def describe(value: Any) -> str:
    """How a YAML value reads back to a user: `'abc' (a string)`, `3.5 (a number)`."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value!r} (a number)"  # repr keeps the `.0` the user wrote in `3.0`
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"'{text}' (a string)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_UNION_TAGS = ("int", "xy", "name", "long")
"""Tags of the discriminated unions in `network.py`; pydantic puts them in error locations."""


def data_path(loc: tuple[Any, ...], data: Any) -> tuple[NodePath, tuple[Any, ...]]:
    """Split a pydantic loc into the path that exists in `data` and the remainder."""
    path: list[str | int] = []
    cur = data
    rest = list(loc)
    while rest:
        comp = rest[0]
        in_dict = isinstance(cur, dict) and comp in cur
        in_list = isinstance(cur, list) and isinstance(comp, int) and 0 <= comp < len(cur)
        if in_dict or in_list:
            cur = cur[comp]
        elif isinstance(comp, str) and comp in _UNION_TAGS:
            rest.pop(0)  # a union tag pydantic inserts; not part of the file
            continue
        else:
            break
        path.append(comp)
        rest.pop(0)
    return tuple(path), tuple(rest)


def _candidates(annotation: Any) -> list[Any]:
    """The concrete types an annotation admits (Optional, unions and Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _candidates(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _candidates(arg)]
    return [annotation]


def model_at(root: type[BaseModel], path: NodePath) -> type[BaseModel] | None:
    """The model class that validates the mapping at `path`, if any."""
    current: list[Any] = [root]
    for comp in path:
        nxt: list[Any] = []
        for t in current:
            if isinstance(t, type) and issubclass(t, BaseModel):
                for name, info in t.model_fields.items():
                    if comp in (name, info.alias):
                        nxt.extend(_candidates(info.annotation))
            elif typing.get_origin(t) in (dict, list):
                nxt.extend(_candidates(typing.get_args(t)[-1]))
        current = nxt
    for t in current:
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def dotted(path: NodePath) -> str:
    """`input.to[0]`, `conv.stride.x`: a path as a user would write it."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _where(path: NodePath) -> str:
    """A readable name for the mapping at `path`: "core 'conv1'", "conv of core 'conv1'"."""
    if not path:
        return "the file"
    if path[0] == "cores" and len(path) >= 2:
        core = f"core '{path[1]}'"
        inner = dotted(path[2:])
        return f"{inner} of {core}" if inner else core
    return dotted(path)


def _field(path: NodePath) -> str:
    """The name of the value at `path`: its key, with list indices (`shape[2]`, `to[0]`)."""
    start = len(path)
    while start > 0 and isinstance(path[start - 1], int):
        start -= 1
    return dotted(path[max(start - 1, 0):])


def _to_diagnostic(err: ErrorDetails, data: Any, root: type[BaseModel], smap: SourceMap,
                   prefix: NodePath = ()) -> Diagnostic:
    kind = err["type"]
    path, rest = data_path(err["loc"], data)
    file = smap.file

    def diag(code: str, pos_path: NodePath, message: str, hint: str | None, *, key: bool = False,
             ) -> Diagnostic:
        pos_path = (*prefix, *pos_path)
        pos = smap.key(pos_path) if key else smap.value(pos_path)
        return Diagnostic(file, pos, Severity.ERROR, code, message, hint, smap.notes(pos_path))

    if kind == "extra_forbidden":
        key = path[-1] if path else (rest[0] if rest else "?")
        parent = path[:-1]
        model = model_at(root, parent)
        keys = allowed_keys(model) if model else []
        hint = did_you_mean(str(key), keys)
        listing = f"allowed keys: {', '.join(keys)}" if keys else None
        hint = f"{hint} ({listing})" if hint and listing else hint or listing
        return diag("unknown-key", path, f"unknown key '{key}' in {_where((*prefix, *parent))}", hint,
                    key=True)

    if kind == "missing":
        key = rest[0] if rest else "?"
        return diag("missing-key", path, f"{_where((*prefix, *path))} is missing '{key}'",
                    f"add `{key}:` here (see the schema for its meaning)", key=True)

    value = err.get("input")
    ctx = err.get("ctx") or {}

    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))  # pydantic's own rendering: 'a' or 'b' / 1 or 16
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",")]
        hint = did_you_mean(str(value), [c for c in choices if c]) if isinstance(value, str) else None
        return diag("invalid-choice", path,
                    f"{_where(path[:-1])}: '{_field(path)}' must be {expected}, not {describe(value)}",
                    hint or f"use {expected}")

    if kind == "unknown-chip":
        hint = did_you_mean(str(value), ctx.get("choices", []))
        return diag("unknown-chip", path, err["msg"],
                    hint or "use speck2f, speck2e, speck2b or dynapcnn (or a board name)")

    if kind == "dsl-version":
        return diag("dsl-version", path, err["msg"],
                    "write `dsl: 1`, or upgrade dynapcnn-dsl to read newer files")

    if kind in _TYPE_WORDS:
        where = f"'{_field(path)}'" if path else "the file"
        return diag("wrong-type", path,
                    f"{where} must be {_TYPE_WORDS[kind]}, not {describe(value)}",
                    _type_hint(kind, path))

    return diag("invalid-value", path, f"{_where(path)}: {err['msg']}",
                "see the schema (or docs/reference.md) for what this key takes")


def _type_hint(kind: str, path: NodePath) -> str:
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "write a mapping of `key: value` lines indented under this key"
    if kind == "list_type":
        return "write a list: `[a, b]` or one `- item` per line"
    if kind.startswith("int"):
        return "write a whole number without quotes or a decimal point"
    if kind.startswith("bool"):
        return "write true or false without quotes"
    if kind.startswith("string"):
        return "quote the value if it looks like a number or boolean"
    return "see the schema for the expected type"


def diagnostics_from_error(errors: list[ErrorDetails], data: Any, root: type[BaseModel],
                           smap: SourceMap, prefix: NodePath = ()) -> list[Diagnostic]:
    """One diagnostic per distinct problem.

    Pydantic may report a union failure twice, and a bad value under `defaults:` fails once in
    `defaults` and again in every core that inherits it: all at one position, reported once.
    """
    seen: set[tuple[Any, ...]] = set()
    out: list[Diagnostic] = []
    for err in errors:
        d = _to_diagnostic(err, data, root, smap, prefix)
        key = (d.position, d.code)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out

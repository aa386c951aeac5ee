"""Typed values to the document's tree (dicts, lists, numpy arrays) and back, by walking fields.

`to_tree` is what the writer serializes and what the API hands out (`Document.data`); `from_tree`
types a tree that is already valid JSON of the document's shape (read and checked by
`reader.py`, built by emit, or read back from samna). A tree that does not fit the classes
(an unknown key, a list where an object belongs) is a `TreeError` naming the path: the tree
did not come through the reader, and the caller says what that means for its user.
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from typing import Any

import numpy as np

from dynapcnn_dsl.config.fields import ABSENT, key_of
from dynapcnn_dsl.config.model import CnnLayer, Configuration, unused_layer


class TreeError(ValueError):
    """The tree does not have the document's shape at `path`.

    Not a `DslError`: it is raised for a tree handed to `from_tree` by code, not read from a
    user's file (it knows no file, no position), as a KeyError is; the callers that type a
    user's tree say what it means as a diagnostic (the reader `document-invalid` with the
    position, the samna bridge `samna-rejected`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'document'}: {message}")
        self.path, self.message = path, message


class UnknownField(TreeError, AttributeError):
    """A key that is no field of the document (an attribute samna's class does not have)."""


@cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """(key, field) of a class, in the document's order."""
    return tuple((key_of(f), f) for f in fields(cls))


@cache
def _by_key(cls: type) -> dict[str, Any]:
    return dict(_fields(cls))


# -- writing ----------------------------------------------------------------------------------------

def to_tree(value: Any) -> Any:
    """The tree of a value: a dict per object in field order, keys that are absent left out,
    tensors as the numpy arrays they are (no copy)."""
    items = _written(type(value))
    if items is not None:
        if isinstance(value, CnnLayer) and not value.used:
            # an unused core has always been written `destinations` first: keep the bytes
            items = tuple(sorted(items, key=lambda kf: kf[0] != "destinations"))
        tree: dict[str, Any] = {}
        for key, name, absent_if_none in items:
            item = getattr(value, name)
            if item is ABSENT or (item is None and absent_if_none):
                continue
            tree[key] = to_tree(item)
        return tree
    if isinstance(value, tuple | list):
        return [to_tree(v) for v in value]
    return value


@cache
def _written(cls: type) -> tuple[tuple[str, str, bool], ...] | None:
    """(key, attribute, whether None means absent) of each field of a class of the document;
    None for any other type."""
    if not is_dataclass(cls):
        return None
    return tuple((key, f.name, f.default is None) for key, f in _fields(cls))


def unused_core() -> dict[str, Any]:
    """The tree of an unused core (`unused_layer()`)."""
    return to_tree(unused_layer())


def chip_config_tree(tree: dict[str, Any]) -> dict[str, Any]:
    """The part of a document's tree that samna loads (`Configuration.config`): the tree's own
    dict, so that an edit of it is an edit of the document."""
    return tree["config"]


def structure_only(tree: dict[str, Any]) -> bool:
    """True for a document tree built without weights (`Configuration.structure_only`), read
    without typing the tree."""
    source = tree.get("source")
    return isinstance(source, dict) and source.get("weights", 0) is None


# -- reading ----------------------------------------------------------------------------------------

def from_tree(tree: Any) -> Configuration:
    """The typed configuration of a document's tree (a TreeError where it does not fit)."""
    return typed(Configuration, tree, "")


def typed(cls: type, tree: Any, path: str) -> Any:
    """An instance of `cls` from its tree, the subtrees typed by the fields' metadata."""
    if not isinstance(tree, dict):
        raise TreeError(path, f"must be an object, not {_kind(tree)}")
    by_key = _by_key(cls)
    values: dict[str, Any] = {}
    for key, item in tree.items():
        f = by_key.get(key)
        if f is None:
            raise UnknownField(_at(path, key), "is not a field of the document")
        values[f.name] = _field(f, item, path, key)
    if len(values) < len(by_key):
        for key, name in _required(cls):
            if name not in values:
                raise TreeError(_at(path, key), "missing")
    return cls(**values)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


@cache
def _required(cls: type) -> tuple[tuple[str, str], ...]:
    """(key, attribute) of each field of a class that has no default."""
    return tuple((key, f.name) for key, f in _fields(cls)
                 if f.default is MISSING and f.default_factory is MISSING)


def _field(f: Any, item: Any, path: str, key: str) -> Any:
    meta = f.metadata
    if "node" in meta:
        if item is None and f.default is not MISSING:      # an optional object written null
            return None
        return typed(meta["node"], item, _at(path, key))
    if "nodes" in meta:
        if not isinstance(item, list | tuple):
            raise TreeError(_at(path, key), f"must be a list, not {_kind(item)}")
        where = _at(path, key)
        return tuple(None if v is None and meta["nullable_items"]
                     else typed(meta["nodes"], v, f"{where}[{i}]") for i, v in enumerate(item))
    if meta.get("struct") is not None:
        return None if item is None else typed(meta["struct"], item, _at(path, key))
    if "tensor" in meta:
        return item if isinstance(item, np.ndarray) else np.asarray(item)
    if isinstance(item, list):
        return tuple(item)
    return item


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__

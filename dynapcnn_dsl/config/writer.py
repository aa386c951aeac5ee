"""Writing the configuration document: typed values or their tree as JSON text.

The tree is indented for people; each tensor, and each small object of plain values (`{x, y}`, a
destination slot, a shape), is written on one line, so a configuration with hundreds of
thousands of weights stays a file one can read and diff. The same values always give the same
bytes (the golden files in tests/golden are the proof).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from dynapcnn_dsl.config.model import Configuration
from dynapcnn_dsl.config.tree import to_tree


def write_text(configuration: Configuration) -> str:
    """The document's JSON text."""
    return to_json(to_tree(configuration))


def to_plain(value: Any) -> Any:
    """The same tree with numpy arrays as nested lists and numpy scalars as Python numbers:
    what JSON patches and samna's setters take."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def _tensor_json(arr: np.ndarray) -> str:
    """A tensor as compact JSON; orjson writes numpy arrays in C (~50x faster than tolist)."""
    import orjson

    return orjson.dumps(np.ascontiguousarray(arr), option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def to_json(doc: Any) -> str:
    """The document (or any tree of it, a JSON patch) as JSON text, tensors on one line each."""
    inline: list[str] = []

    def keep(text: str) -> str:
        inline.append(text)
        return f"\0inline{len(inline) - 1}\0"

    def walk(node: Any) -> Any:
        if isinstance(node, np.ndarray):
            return keep(_tensor_json(node))
        if isinstance(node, np.generic):
            return node.item()
        if isinstance(node, dict):
            if node and all(_scalar(v) for v in node.values()):
                return keep(json.dumps(node, separators=(", ", ": ")))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            if all(_scalar(v) for v in node):
                return keep(json.dumps(node, separators=(", ", ": ")))
            return [walk(v) for v in node]
        return node

    text = json.dumps(walk(doc), indent=2)
    return re.sub(r'"\\u0000inline(\d+)\\u0000"', lambda m: inline[int(m.group(1))], text) + "\n"


"""Reading configuration documents: bytes or a file into a checked tree or typed values, with
positioned diagnostics for everything wrong.

A document is a file like any other input: it may be damaged, hand-edited or hostile.
`read_document(path)` reads the file once, parses it with orjson (strict JSON: no NaN, no
infinities, nesting bounded at 1024), then checks it against the schema generated from the
typed values (`schema.py`, published as `schema/document.schema.json`) before anyone looks
inside: the tree's keys and types with jsonschema, each tensor with numpy (its number of axes,
integers or booleans, no ragged rows, the chip's range: `model.tensors()`, from the chip facts).
Every problem is a diagnostic at the file:line:col of the offending JSON value; positions are
searched for only when something is wrong, so a good document costs one parse and one numpy
conversion per tensor. `read_configuration` gives the same document as typed values.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from dynapcnn_dsl.config.fields import tensors
from dynapcnn_dsl.config.model import FORMAT, Configuration
from dynapcnn_dsl.config.schema import document_schema
from dynapcnn_dsl.config.tree import TreeError, from_tree
from dynapcnn_dsl.diagnostics import Diagnostic, Position, error

MAX_ERRORS = 20
"""Schema violations reported per document (the rest are counted)."""


def read_configuration(path: str | Path) -> tuple[Configuration | None, list[Diagnostic]]:
    """The validated document as typed values, or the reasons it is not one."""
    data, problems = read_document(path)
    return (from_tree(data) if data is not None else None), problems


def parse_configuration(raw: bytes, file: str) -> tuple[Configuration | None, list[Diagnostic]]:
    """`read_configuration` on bytes already read."""
    data, problems = parse_document(raw, file)
    return (from_tree(data) if data is not None else None), problems


def check_tree(tree: Any) -> tuple[Configuration | None, list[tuple[str, str]]]:
    """A tree handed over in memory (the API's `Document.data`, a dict built by hand) checked as
    a file is, and typed; a tree has no file positions, so each problem is (document path,
    message), the path written as `config.cnn_layers[0].weights`."""
    if not isinstance(tree, dict):
        return None, [("", f"must be an object, not {type(tree).__name__}")]
    problems = validate(tree)
    if problems:
        return None, [(_path(where), message) for where, message in problems]
    try:
        return from_tree(tree), []
    except TreeError as exc:
        return None, [(exc.path, exc.message)]


def _path(where: tuple[Any, ...]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")


def read_document(path: str | Path) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """The validated document (tensors as numpy arrays), or the reasons it is not one."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [error(file, "document-unreadable", f"cannot read the file: {exc.strerror or exc}",
                            "check the path and its permissions")]
    return parse_document(raw, file)


def from_json(text: str | bytes, file: str = "<document>") -> dict[str, Any]:
    """A document's JSON text as its tree, checked as `read_document` checks a file; ValueError
    with the positioned diagnostics when it is not a valid document."""
    data, problems = parse_document(text.encode() if isinstance(text, str) else text, file)
    if data is None:
        from dynapcnn_dsl.render import format_text

        raise ValueError("\n".join(format_text(d) for d in problems))
    return data


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A document's tensors are a million small lists: Python's cycle collector, triggered by
    every few hundred new containers, would walk them again and again while they are built (3x
    the parse). They hold no cycles, and become numpy arrays right after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_document(raw: bytes, file: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """`read_document` on bytes already read."""
    with _no_cycle_collection():
        return _parse(raw, file)


def _parse(raw: bytes, file: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    import orjson

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [error(file, "document-json", "the file is not UTF-8",
                            "a document is JSON text: write it again",
                            _position(raw.decode("utf-8", "replace"), exc.start))]
    # yyjson (inside orjson) sizes its value buffer from a guess: whitespace right after the
    # root's bracket makes it guess an indented file with few values per byte, and a document's
    # tensors (one compact line, two bytes per value) then outgrow orjson's fixed memory pool
    # ("failed to allocate memory"). Without that whitespace it takes the compact path, whose
    # buffer holds. The offset removed is added back to any error position.
    start = len(text) - len(text.lstrip())
    body = text[start + 1:].lstrip()
    removed = len(text) - start - 1 - len(body)
    try:
        data = orjson.loads(text[:start + 1] + body)
    except orjson.JSONDecodeError as exc:
        at = exc.pos + removed if exc.pos > start else exc.pos
        return None, [error(file, "document-json", f"the document is not valid JSON: {exc.msg}",
                            "the file is truncated or damaged: build it again", _position(text, at))]
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None, [error(file, "document-format",
                            f"not a configuration document (no \"format\": \"{FORMAT}\")",
                            "give a document written by `dynapcnn-dsl build`", _position(text, start))]
    problems = validate(data)
    if problems:
        at = _locate(text, [where for where, _ in problems[:MAX_ERRORS]])
        shown = [error(file, "document-invalid", message,
                       "the document does not match schema/document.schema.json: build it again", at[where])
                 for where, message in problems[:MAX_ERRORS]]
        if len(problems) > MAX_ERRORS:
            shown.append(error(file, "document-invalid",
                               f"{len(problems) - MAX_ERRORS} more problems not shown", "build it again"))
        return None, shown
    return data, []


def validate(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(JSON path, message) for every way the parsed document breaks the schema. Tensors are
    checked with numpy and replaced in `data` by numpy arrays; the rest by jsonschema."""
    from jsonschema import Draft7Validator

    problems: list[tuple[tuple[Any, ...], str]] = []
    layers = data.get("config", {}).get("cnn_layers") if isinstance(data.get("config"), dict) else None
    taken: list[tuple[dict[str, Any], str, Any]] = []
    if isinstance(layers, list):
        specs = tensors()
        for i, layer in enumerate(layers):
            if not isinstance(layer, dict):
                continue
            for name in specs.keys() & layer.keys():
                array, message = _tensor(layer[name], *specs[name][:4])
                if message:
                    problems.append((("config", "cnn_layers", i, name), f"{name}: {message}"))
                taken.append((layer, name, array))
                layer[name] = []   # the schema sees an empty tensor; numpy checked the real one
    validator = Draft7Validator(document_schema())
    for refusal in validator.iter_errors(data):
        problems.append((tuple(refusal.absolute_path), _message(refusal)))
    for layer, name, array in taken:
        layer[name] = array
    return sorted(problems, key=lambda p: [str(k) for k in p[0]])


def _message(error: Any) -> str:
    """jsonschema's message, with the offending value shortened (it can be a whole tensor)."""
    where = ".".join(f"[{k}]" if isinstance(k, int) else str(k) for k in error.absolute_path) or "document"
    where = where.replace(".[", "[")
    text = error.message
    if len(text) > 200:
        text = text[:100] + " ... " + text[-60:]
    return f"{where}: {text}"


def _tensor(value: Any, axes: int, kind: str, lo: int, hi: int) -> tuple[Any, str | None]:
    """The value as a numpy array, or why it is not a tensor of this kind. (A tree built or read
    already holds numpy arrays: `runnable.check` checks those too.)"""
    if isinstance(value, np.ndarray):
        array = value
    elif not isinstance(value, list):
        return value, f"not a tensor of {axes} axes"
    else:
        try:
            array = np.asarray(value)
        except ValueError:   # numpy refuses rows of different lengths, and more than 64 axes
            return value, f"ragged (rows of different lengths) or nested too deep for {axes} axes"
    if array.ndim != axes:
        return value, f"not a tensor of {axes} axes (it has {array.ndim})"
    if array.size == 0:
        return np.zeros(array.shape, bool if kind == "bool" else np.int64), None
    if kind == "bool":
        if array.dtype != bool:
            return value, "holds values that are not true or false"
        return array, None
    if array.dtype.kind not in "iu":
        return value, "holds values that are not integers"
    if array.min() < lo or array.max() > hi:
        return value, f"holds values outside {lo}..{hi}"
    return array.astype(np.int64, copy=False), None



# -- positions, found only for problems -------------------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]|[^\s\[\]{}:,"]+')


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return Position(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


_ESCAPE = re.compile(r"\\.")


def _depths(text: str) -> np.ndarray:
    """The bracket depth after each character of the text (brackets inside strings not
    counted), computed with numpy, to skip whole subtrees."""
    plain = _ESCAPE.sub("__", text)   # same length; no escaped quote is left
    chars = np.frombuffer(plain.encode("utf-32-le"), np.uint32)   # one element per character
    inside = np.cumsum(chars == ord('"')) % 2 == 1
    opens = ((chars == ord("[")) | (chars == ord("{"))) & ~inside
    closes = ((chars == ord("]")) | (chars == ord("}"))) & ~inside
    return np.cumsum(opens.astype(np.int64) - closes)


def _locate(text: str, paths: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Position | None]:
    """Where the value at each JSON path starts (or its deepest enclosing value that exists), in
    one pass over the text that skips every subtree no path goes into (the tensors, mostly)."""
    wanted = {p[:k] for p in paths for k in range(len(p) + 1)}
    best: dict[tuple[Any, ...], int] = {}
    pending = set(paths)
    stack: list[list[Any]] = []   # [is_object, key or index, awaiting a key]
    depths: np.ndarray | None = None
    pos = 0
    while pending:
        m = _TOKEN.search(text, pos)
        if m is None:
            break
        token, pos = m.group(), m.end()
        if token == ",":
            top = stack[-1]
            if top[0]:
                top[2] = True
            else:
                top[1] += 1
        elif token in ("]", "}"):
            stack.pop()
        elif token == ":":
            continue
        elif stack and stack[-1][0] and stack[-1][2]:
            stack[-1][1], stack[-1][2] = json.loads(token), False
        else:
            here = tuple(frame[1] for frame in stack)
            if here not in wanted:
                if token in ("[", "{"):   # skip to where the depth drops below this container's
                    depths = _depths(text) if depths is None else depths
                    inner = depths[m.start()]
                    pos = m.start() + 1 + int(np.argmax(depths[m.start() + 1:] < inner)) + 1
                continue
            for path in paths:
                if path[:len(here)] == here:
                    best[path] = m.start()
            pending.discard(here)
            if token == "{":
                stack.append([True, None, True])
            elif token == "[":
                stack.append([False, 0, False])
    return {p: _position(text, best[p]) if p in best else None for p in paths}

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
from functools import cache
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
    a file is, and typed; a tree has no file positions, so each problem is (document path, what
    is wrong there), the path written as `config.cnn_layers[0].weights` ("document" for the
    whole). The tree itself is left as it was given (its tensors are not replaced)."""
    if not isinstance(tree, dict):
        return None, [("document", f"must be an object, not {type(tree).__name__}")]
    own = _own_layers(tree)
    problems = _problems(own)
    if problems:
        return None, [(_path(where) or "document", detail) for where, _, detail in problems]
    try:
        return from_tree(own), []
    except TreeError as exc:
        return None, [(exc.path, exc.message)]


def _own_layers(tree: dict[str, Any]) -> dict[str, Any]:
    """The tree with its own copies of the objects `validate` writes into (the cnn layers, whose
    tensors become numpy arrays): nothing larger is copied."""
    config = tree.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("cnn_layers"), list):
        return tree
    layers = [dict(layer) if isinstance(layer, dict) else layer for layer in config["cnn_layers"]]
    return {**tree, "config": {**config, "cnn_layers": layers}}


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
    return [(where, f"{label}: {detail}") for where, label, detail in _problems(data)]


def _problems(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    """`validate`'s problems as (JSON path, what the message names, what is wrong): a tensor is
    named by its key, anything else by its dotted path."""
    problems: list[tuple[tuple[Any, ...], str, str]] = []
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
                    problems.append((("config", "cnn_layers", i, name), name, message))
                taken.append((layer, name, array))
                layer[name] = []   # the schema sees an empty tensor; numpy checked the real one
    try:
        problems += _schema_problems(data)
    finally:
        for layer, name, array in taken:
            layer[name] = array
    return sorted(problems, key=lambda p: [str(k) for k in p[0]])


_SCHEMA_CHECKED: dict[bytes, tuple[tuple[tuple[Any, ...], str, str], ...]] = {}
"""The schema's verdict on the last few trees (tensors blanked), by their exact JSON text."""
SCHEMA_CHECKED_MAX = 8


def _schema_problems(data: dict[str, Any]) -> tuple[tuple[tuple[Any, ...], str, str], ...]:
    """What jsonschema finds in the tree (its tensors blanked). jsonschema walks a document's
    few hundred values in milliseconds, more than simulating a short recording takes, and the
    API checks the tree it is handed on every `simulate`: the verdict is kept for the tree's
    exact JSON text (orjson tells 1, 1.0 and true apart; a tree with anything but JSON values
    in it is not kept), so checking the same configuration again costs one serialization."""
    import orjson

    try:
        key: bytes | None = orjson.dumps(data)
    except TypeError:       # numpy scalars, non-string keys, too deep: checked every time
        key = None
    if key is not None and key in _SCHEMA_CHECKED:
        return _SCHEMA_CHECKED[key]
    found = tuple((tuple(error.absolute_path), _where(error), _message(error))
                  for error in _validator().iter_errors(data))
    if key is not None:
        if len(_SCHEMA_CHECKED) >= SCHEMA_CHECKED_MAX:
            del _SCHEMA_CHECKED[next(iter(_SCHEMA_CHECKED))]
        _SCHEMA_CHECKED[key] = found
    return found


@cache
def _validator() -> Any:
    """The document schema's draft-07 validator, made once. A tree handed over in memory may
    hold numpy scalars where the file holds numbers (the writer writes them as such): they are
    the integers, numbers and booleans they stand for, never a bool taken for an integer."""
    from jsonschema import Draft7Validator, validators

    json = Draft7Validator.TYPE_CHECKER

    def integer(checker: Any, value: Any) -> bool:
        return (isinstance(value, np.integer) or json.is_type(value, "integer")) \
            and not isinstance(value, bool | np.bool_)

    def number(checker: Any, value: Any) -> bool:
        return isinstance(value, np.integer | np.floating) or json.is_type(value, "number")

    def boolean(checker: Any, value: Any) -> bool:
        return isinstance(value, bool | np.bool_)

    types = json.redefine_many({"integer": integer, "number": number, "boolean": boolean})
    return validators.extend(Draft7Validator, type_checker=types)(document_schema())


def _where(error: Any) -> str:
    """The dotted path of a jsonschema error's value, "document" for the whole."""
    return _path(tuple(error.absolute_path)) or "document"


def _message(error: Any) -> str:
    """jsonschema's message, with the offending value shortened (it can be a whole tensor)."""
    text = error.message
    if len(text) > 200:
        text = text[:100] + " ... " + text[-60:]
    return text


def _tensor(value: Any, axes: int, kind: str, lo: int, hi: int) -> tuple[Any, str | None]:
    """The value as a numpy array, or why it is not a tensor of this kind. (A tree built or read
    already holds numpy arrays: `check_tree` checks those too.)"""
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

"""Reading configuration documents back: the one reader every consumer of a document uses.

`build` writes a document (emit/); `diff`, `simulate` and the Python API read one, and a document
is a file like any other input: it may be damaged, hand-edited or hostile. `read_document(path)`
reads the file once, parses it with orjson (strict JSON: no NaN, no infinities, nesting bounded
at 1024), then checks it against `document_schema()` (published as
`schema/document.schema.json`, draft-07) before anyone looks inside: the tree's keys and types
with jsonschema, each tensor with numpy (its number of axes, integers or booleans, no ragged
rows, the chip's range). Every problem is a diagnostic at the file:line:col of the offending
JSON value; positions are searched for only when something is wrong, so a good document costs
one parse and one numpy conversion per tensor. The tree it returns holds the tensors as numpy
arrays.

This module imports no phase of the compiler (no network models, no pipeline): diffing two
documents needs only this, chips/ and the diff.
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from dynapcnn_dsl.chips import profiles, shared_limits
from dynapcnn_dsl.diagnostics import Diagnostic, Position, Severity

FORMAT = "dynapcnn-dsl/samna-configuration"
VERSION = 1
DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_ID = "https://dynapcnn-dsl.dev/schema/document.schema.json"
MAX_ERRORS = 20
"""Schema violations reported per document (the rest are counted)."""


WEIGHT_FIELDS = ("weights", "biases", "neurons_initial_value", "threshold_high", "threshold_low",
                 "leak_enable", "weights_kill_bit")
"""Fields that need the weights file: left out of a structure-only document."""


def structure_only(doc: dict[str, Any]) -> bool:
    """True for a document built without weights: no tensors or thresholds in its cores."""
    source = doc.get("source")
    return isinstance(source, dict) and "weights" in source and source["weights"] is None


def unused_core() -> dict[str, Any]:
    """What an unused core sets: no destination, no monitoring; the rest stays samna's default."""
    return {"destinations": [{"enable": False}, {"enable": False}], "monitor_enable": False}


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


# -- the schema, generated from the chip facts ---------------------------------------------------

def _int(lo: int, hi: int, description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi, "description": description}


def _bool(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def _object(description: str, properties: dict[str, Any], *, required: tuple[str, ...] = ()
            ) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "object", "description": description, "properties": properties,
                            "additionalProperties": False}
    if required:
        node["required"] = list(required)
    return node


def _xy(lo: int, hi: int, description: str, *, choices: tuple[int, ...] | None = None) -> dict[str, Any]:
    def axis(name: str) -> dict[str, Any]:
        if choices is not None:
            return {"enum": list(choices), "description": f"{name} axis"}
        return _int(lo, hi, f"{name} axis")
    return _object(description, {"x": axis("x"), "y": axis("y")})


TENSORS = ("weights", "biases", "neurons_initial_value", "weights_kill_bit", "biases_kill_bit",
           "neurons_value_kill_bit")
"""Attributes of a cnn layer that hold tensors (their shapes and ranges: `tensors()`)."""


def tensors() -> dict[str, tuple[int, str, int, int, str]]:
    """The tensors of a cnn layer: name -> (axes, "int" or "bool", lowest, highest, meaning).
    One table for the schema and for the numpy check of every tensor read."""
    limits = shared_limits()
    weight = 2 ** (limits.weight_bits - 1)
    bias = 2 ** (limits.bias_bits - 1)
    state = limits.neuron_state
    return {
        "weights": (4, "int", -weight, weight - 1, "int8 weights [out feature][in feature][x][y]"),
        "biases": (1, "int", -bias, bias - 1, "one bias per output feature"),
        "neurons_initial_value": (3, "int", *state, "initial neuron state [feature][x][y]"),
        "weights_kill_bit": (4, "bool", 0, 1, "legacy chips: disabled weights [f][c][x][y]"),
        "biases_kill_bit": (1, "bool", 0, 1, "legacy chips: disabled biases [f]"),
        "neurons_value_kill_bit": (3, "bool", 0, 1, "legacy chips: disabled neurons [f][x][y]"),
    }


def _tensor_schema(axes: int, kind: str, lo: int, hi: int, description: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "boolean"} if kind == "bool" else {"type": "integer", "minimum": lo,
                                                                       "maximum": hi}
    for _ in range(axes):
        node = {"type": "array", "items": node}
    node["description"] = description
    return node


def _cnn_layer() -> dict[str, Any]:
    limits = shared_limits()
    cores = limits.cores
    size = _xy(1, limits.input_map, "map size")
    shape = _object("features and map size", {"feature_count": _int(*limits.features, "features"),
                                              "size": size})
    destination = _object("a destination slot", {
        "enable": _bool("the slot sends events"),
        "layer": {"enum": [*range(cores), limits.readout_layer],
                  "description": f"the physical core it feeds, or {limits.readout_layer} for the readout"},
        "pooling": {"enum": list(limits.pool), "description": "sum pooling, the same in x and y"},
        "feature_shift": _int(*limits.feature_shift, "added to the feature of every event sent"),
    }, required=("enable",))
    properties: dict[str, Any] = {
        "dimensions": _object("the convolution's shapes", {
            "input_shape": shape, "output_shape": shape,
            "padding": _xy(*limits.padding, "padding per axis"),
            "stride": _xy(1, max(limits.stride), "stride per axis", choices=limits.stride),
            "kernel_size": _int(*limits.kernel, "square kernel size"),
        }),
        "threshold_high": _int(*limits.threshold_high, "a neuron fires when its state reaches it"),
        "threshold_low": _int(limits.neuron_state[0], 0, "the state never goes below it"),
        "return_to_zero": _bool("reset to 0 on a spike (else subtract threshold_high)"),
        "leak_enable": _bool("add the bias once per slow-clock tick"),
        "monitor_enable": _bool("copy the core's output events to the host"),
        "destinations": {"type": "array", "minItems": limits.destinations,
                         "maxItems": limits.destinations, "items": destination,
                         "description": "the core's destination slots"},
        "input_congestion_balancer_enable": _bool("speck2e/2f: the congestion balancer"),
        "output_decimator_enable": _bool("speck2e/2f: pass one output event in N"),
        "output_decimator_interval": _int(0, len(limits.decimator_ratios) - 1,
                                          "speck2e/2f: N = 2, 4, 8, 16, 32, 128, 256, 512"),
    }
    properties.update({name: _tensor_schema(*spec) for name, spec in tensors().items()})
    return _object("one core (CnnLayerConfig), in samna's attribute names", properties,
                   required=("destinations",))


def _dvs_layer() -> dict[str, Any]:
    limits = shared_limits()
    sensor = limits.dvs_sensor_size - 1
    return _object("the DVS (event pre-processing) layer", {
        "pass_sensor_events": _bool("false when events come from the host"),
        "destinations": {"type": "array", "minItems": limits.destinations, "maxItems": limits.destinations,
                         "description": "where the sensor's events go",
                         "items": _object("a DVS destination slot", {
                             "enable": _bool("the slot sends events"),
                             "layer": _int(0, limits.cores - 1, "the physical core it feeds")},
                             required=("enable",))},
        "pooling": _xy(1, max(limits.dvs_pool), "pooling per axis", choices=limits.dvs_pool),
        "origin": _xy(0, sensor, "region of interest: first pixel (pooled coordinates)"),
        "cut": _xy(0, sensor, "region of interest: last pixel, inclusive"),
        "mirror": _object("flips", {"x": _bool("flip x"), "y": _bool("flip y")}),
        "mirror_diagonal": _bool("swap x and y"),
        "merge": _bool("fold both polarities into one channel"),
        "on_channel": _bool("pass on events"),
        "off_channel": _bool("pass off events"),
        "monitor_enable": _bool("copy the layer's output events to the host"),
    })


def _readout() -> dict[str, Any]:
    return _object("the readout (ReadoutConfig)", {
        "enable": _bool("the readout is on"),
        "threshold": _int(-(2 ** 15), 2 ** 16 - 1, "16-bit threshold"),
        "low_pass_filter_disable": _bool("window 1"),
        "low_pass_filter32_not16": _bool("window 32 (else 16)"),
        "monitor_enable": _bool("monitor the readout (hides every other monitored event)"),
    }, required=("enable",))


def _position_fields(description: str, **extra: Any) -> dict[str, Any]:
    return _object(description, {**extra, "file": {"type": ["string", "null"], "description": "network file"},
                                 "line": {"type": ["integer", "null"], "description": "1-based line"},
                                 "col": {"type": ["integer", "null"], "description": "1-based column"}})


def document_schema() -> dict[str, Any]:
    """The draft-07 schema of a configuration document, from the chip facts."""
    limits = shared_limits()
    chips = sorted(profiles())
    string = {"type": "string"}
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "dynapcnn-dsl configuration document",
        **_object("What `dynapcnn-dsl build` writes: a samna configuration as JSON, with samna's own "
                  "attribute names. Generated by `dynapcnn-dsl schema --document`.", {
            "format": {"const": FORMAT, "description": "what the file is"},
            "version": {"const": VERSION, "description": "version of the document format"},
            "chip": {"enum": chips, "description": "the chip the configuration is for"},
            "samna": _object("the samna configuration class it is for", {
                "module": {**string, "description": "samna module"},
                "class": {**string, "description": "configuration class"}}),
            "generator": {**string, "description": "the tool (and version) that wrote it"},
            "source": _object("the files it was built from", {
                "network": {"type": ["string", "null"], "description": "the network file"},
                "weights": {"type": ["string", "null"],
                            "description": "the weights file; null for a structure-only build"}}),
            "input": _object("where input events go", {
                "source": {"enum": ["host", "dvs"], "description": "host events or the sensor"},
                "shape": {"type": "array", "minItems": 3, "maxItems": 3, "description": "[C, H, W]",
                          "items": _int(1, limits.dvs_sensor_size, "size")},
                "layers": {"type": "array", "maxItems": limits.destinations,
                           "description": "cores host events are written to",
                           "items": _int(0, limits.cores - 1, "physical core")}}),
            "config": _object("the configuration tree", {
                "cnn_layers": {"type": "array", "minItems": limits.cores, "maxItems": limits.cores,
                               "items": {"$ref": "#/definitions/cnn_layer"},
                               "description": "one entry per physical core"},
                "dvs_layer": {"$ref": "#/definitions/dvs_layer"},
                "readout": {"$ref": "#/definitions/readout"},
            }, required=("cnn_layers",)),
            "annotations": _object("build --annotate: where each core came from", {
                "cnn_layers": {"type": "array", "maxItems": limits.cores, "description": "per core slot",
                               "items": {"anyOf": [{"type": "null"}, _position_fields(
                                   "a used core", core={**string, "description": "its name"})]}},
                "dvs_layer": _position_fields("the input", input={**string, "description": "host or dvs"}),
            }),
        }, required=("format", "version", "chip", "config")),
        "definitions": {"cnn_layer": _cnn_layer(), "dvs_layer": _dvs_layer(), "readout": _readout()},
    }


def schema_text() -> str:
    return json.dumps(document_schema(), indent=2) + "\n"


# -- writing -------------------------------------------------------------------------------------------

# The tree is indented for people; each tensor, and each small object of plain values (`{x, y}`, a
# destination slot, a shape), is written on one line, so a configuration with hundreds of
# thousands of weights stays a file one can read and diff.

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


# -- reading ---------------------------------------------------------------------------------------

def _error(file: str, position: Position | None, code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(file, position, Severity.ERROR, code, message, hint)


def looks_like_document(head: bytes) -> bool:
    """True when the first bytes of a JSON file carry this tool's `format` header."""
    return json.dumps(FORMAT).encode() in head[:4096]


FIRST_KEY = re.compile(rb'\s*\{\s*"format"\s*:\s*"' + re.escape(FORMAT.encode()) + rb'"')
"""A document that opens with its `format` key (build's layout): told without parsing."""

SNIFF_ONLY_ABOVE = 256 * 1024 * 1024
"""A .json file larger than this is told by its first bytes only (never parsed twice)."""


def is_document_file(path: str | os.PathLike[str]) -> bool:
    """A .json file whose top-level object has this tool's `"format"`: decided by content,
    whatever the order of the keys (`jq -S` sorts `format` after the whole `config`, and a
    network's `name` may hold the header's text). A file that is not valid JSON (a damaged
    document, or a network with YAML in it) is told by the header in its first bytes, so a
    damaged document is still reported as one."""
    import orjson

    if not os.fspath(path).lower().endswith(".json"):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            if FIRST_KEY.match(head):        # as build writes it: `format` first, nothing to parse
                return True
            if os.fstat(fh.fileno()).st_size > SNIFF_ONLY_ABOVE:
                return looks_like_document(head)
            raw = head + fh.read()
    except OSError:
        return False
    body = raw.lstrip()
    try:   # no whitespace after the root's bracket: see _parse on orjson's memory pool
        data = orjson.loads(body[:1] + body[1:].lstrip())
    except orjson.JSONDecodeError:
        return looks_like_document(head)
    return isinstance(data, dict) and data.get("format") == FORMAT


def read_document(path: str | Path) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """The validated document (tensors as numpy arrays), or the reasons it is not one."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [_error(file, None, "document-unreadable", f"cannot read the file: "
                             f"{exc.strerror or exc}", "check the path and its permissions")]
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
        return None, [_error(file, _position(raw.decode("utf-8", "replace"), exc.start), "document-json",
                             "the file is not UTF-8", "a document is JSON text: write it again")]
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
        return None, [_error(file, _position(text, at), "document-json",
                             f"the document is not valid JSON: {exc.msg}",
                             "the file is truncated or damaged: build it again")]
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None, [_error(file, _position(text, start), "document-format",
                             f"not a configuration document (no \"format\": \"{FORMAT}\")",
                             "give a document written by `dynapcnn-dsl build`")]
    problems = validate(data)
    if problems:
        at = _locate(text, [where for where, _ in problems[:MAX_ERRORS]])
        shown = [_error(file, at[where], "document-invalid", message,
                        "the document does not match schema/document.schema.json: build it again")
                 for where, message in problems[:MAX_ERRORS]]
        if len(problems) > MAX_ERRORS:
            shown.append(_error(file, None, "document-invalid",
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
    for error in validator.iter_errors(data):
        problems.append((tuple(error.absolute_path), _message(error)))
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
    """The value as a numpy array, or why it is not a tensor of this kind."""
    if not isinstance(value, list):
        return value, f"not a tensor of {axes} axes"
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

"""Read a network file (YAML or JSON) safely, keeping the position of every key and value.

The loader works on ruamel.yaml's *event* stream (from libyaml when ruamel.yaml.clib is
installed; the pure-Python parser gives the same events, with other wording for syntax errors,
and places an empty value on the next token rather than right after its key) rather than its
constructors, so nothing in the file can choose what gets built:

- explicit tags (`!!python/object`, `!include`, even `!!str`) are refused: nothing is ever
  constructed from a tag;
- aliases are refused at the alias itself, before anything is expanded, so a "billion laughs"
  file costs a few events, not an exponential walk (each alias is reported, up to
  `MAX_LOAD_ERRORS` refusals, then the loader stops);
- duplicate keys, non-scalar keys, nesting deeper than `MAX_DEPTH` and files larger than
  `MAX_BYTES` are refused;
- plain scalars are resolved with the YAML 1.2 core schema (`yes` is a string, `0x10` an int,
  `1_000` and `0b11` strings), integers beyond 64 bits refused where they are written.

Every refusal is a positioned `Diagnostic`; the loader never raises on bad input.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, NamedTuple

from dynapcnn_dsl.chips import language_limits
from dynapcnn_dsl.diagnostics import Diagnostic, Position, Related, error
from dynapcnn_dsl.filekinds import JSON, kinds
from dynapcnn_dsl.load.source import NodePath, SourceDocument, SourceMap

MAX_BYTES = 1024 * 1024
"""Network files are a few kilobytes; a megabyte is far beyond any real chip description."""

MAX_DEPTH = 64
"""The language nests six levels deep; anything far past that is an attack or an accident."""

_BOM = b"\xef\xbb\xbf"

MAX_LOAD_ERRORS = 20
"""Stop collecting refusals after this many: the file is hostile or not a network file."""

try:
    import _ruamel_yaml  # noqa: F401  (the C extension of ruamel.yaml.clib)

    _HAVE_CLIB = True
except ImportError:  # pragma: no cover - the pure-Python parser gives the same events
    _HAVE_CLIB = False

class _Fatal(Exception):
    """Stops the event walk; the diagnostic has already been recorded."""


def _pos(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


# The YAML 1.2 core schema's plain scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
# no underscores in numbers, no binary, no sign on hex or octal; anything else is a string.
_NULL = re.compile(r"null|Null|NULL|~|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"([-+]?)\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")

INT_MAX = language_limits().int_max
"""Integers in a file stay within ±INT_MAX (64 bits): no value the chip or the tool takes is
larger, and a 5000-digit integer is refused at its position instead of costing a conversion."""


class _OutOfRange(NamedTuple):
    """An integer beyond ±INT_MAX, refused where it is written."""

    digits: int


def _resolve_plain(text: str) -> Any:
    """Turn a plain (unquoted) scalar into None, bool, int, float or str (YAML 1.2 core schema),
    or `_OutOfRange` for an integer too large to take. Decided by the schema's own patterns,
    so no `%YAML 1.1` directive and no parser's leniency changes what a scalar means."""
    if _NULL.fullmatch(text):
        return None
    if _BOOL.fullmatch(text):
        return text.lower() == "true"
    if _INT.fullmatch(text):
        base = 16 if text.startswith("0x") else 8 if text.startswith("0o") else 10
        body = text[2:] if base != 10 else text.lstrip("+-")
        if len(body.lstrip("0")) > 64:  # more digits than any 64-bit integer has in these bases
            return _OutOfRange(len(body))
        value = int(body, base) * (-1 if text.startswith("-") else 1)
        return value if abs(value) <= INT_MAX else _OutOfRange(len(body))
    if _FLOAT.fullmatch(text):
        return float(text)
    if match := _INF.fullmatch(text):
        return -math.inf if match.group(1) == "-" else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


def _short_tag(tag: Any) -> str:
    return str(tag).replace("tag:yaml.org,2002:", "!!")


class _Builder:
    """Builds plain data from parser events and records positions as it goes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.source_map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.root: Any = None
        self.documents = 0
        # Each frame: [container, path, pending key or None, key position, seen keys]
        self.stack: list[list[Any]] = []

    def refuse(self, pos: Position | None, code: str, message: str, hint: str,
               related: tuple[Related, ...] = ()) -> None:
        self.diagnostics.append(error(self.file, code, message, hint, pos, related))
        if len(self.diagnostics) >= MAX_LOAD_ERRORS:
            raise _Fatal

    # -- placing a finished node -------------------------------------------------------------
    def _child_path(self, event_pos: Position) -> NodePath | None:
        """The path a new node gets, or None when it is a mapping key (handled by the caller)."""
        if not self.stack:
            return ()
        container, path, pending, _key_pos, _seen = self.stack[-1]
        if isinstance(container, list):
            return (*path, len(container))
        if pending is None:
            return None  # this node is a key
        return (*path, pending)

    def _attach(self, value: Any) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        container = frame[0]
        if isinstance(container, list):
            container.append(value)
        else:
            container[frame[2]] = value
            frame[2] = None

    # -- events -------------------------------------------------------------------------------
    def check_tag(self, event: Any, pos: Position) -> None:
        if event.tag is None:
            return
        self.refuse(
            pos, "yaml-tag", f"the tag '{_short_tag(event.tag)}' is not allowed",
            "network files hold plain data: remove the tag (nothing is ever constructed from one)",
        )

    def scalar(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        self.check_tag(event, pos)
        if self.stack and isinstance(self.stack[-1][0], dict) and self.stack[-1][2] is None:
            self._key(event.value, pos)
            return
        plain = event.implicit[0] if isinstance(event.implicit, tuple) else event.style is None
        value = _resolve_plain(event.value) if plain else event.value
        if isinstance(value, _OutOfRange):
            self.refuse(pos, "number-range", f"an integer of {value.digits} digits, beyond "
                        f"±{INT_MAX} (64 bits), the range of integers in a network file",
                        "no setting takes a number this large: check for a typo")
            value = None
        path = self._child_path(pos)
        assert path is not None
        self.source_map.set_value(path, pos)
        self._attach(value)

    def _key(self, key: str, pos: Position) -> None:
        frame = self.stack[-1]
        seen: dict[str, Position] = frame[4]
        if key in seen:
            first = seen[key]
            self.refuse(
                pos, "yaml-duplicate-key", f"duplicate key '{key}' (first defined at line {first.line})",
                "each key may appear once in a mapping: merge the two entries or rename one",
                (Related(self.file, first, "first defined here"),),
            )
        seen.setdefault(key, pos)
        frame[2] = key
        self.source_map.set_key((*frame[1], key), pos)

    def start(self, event: Any, container: Any) -> None:
        pos = _pos(event.start_mark)
        self.check_tag(event, pos)
        if self.stack and isinstance(self.stack[-1][0], dict) and self.stack[-1][2] is None:
            self.refuse(
                pos, "yaml-complex-key", "a mapping key must be a plain name, not a mapping or list",
                "write the key as a single word such as `conv1:`",
            )
            raise _Fatal
        if len(self.stack) >= MAX_DEPTH:
            self.refuse(
                pos, "yaml-depth", f"nesting deeper than {MAX_DEPTH} levels",
                "a network file nests only a few levels; check for runaway brackets",
            )
            raise _Fatal
        path = self._child_path(pos)
        assert path is not None
        self.source_map.set_value(path, pos)
        self.stack.append([container, path, None, pos, {}])

    def end(self) -> None:
        self._attach(self.stack.pop()[0])

    def alias(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        self.refuse(
            pos, "yaml-alias", f"the alias '*{event.anchor}' is not allowed",
            "aliases are refused (they make 'billion laughs' files possible): "
            "repeat the value, or put shared settings under `defaults:`",
        )
        if self.stack and isinstance(self.stack[-1][0], dict) and self.stack[-1][2] is None:
            self._key(f"*{event.anchor}", pos)
        path = self._child_path(pos)
        if path is not None:
            self.source_map.set_value(path, pos)
        self._attach(None)


def _walk(text: str, file: str) -> tuple[Any, SourceMap | None, list[Diagnostic]]:
    from ruamel.yaml import YAML
    from ruamel.yaml import events as ev
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    # libyaml (ruamel.yaml.clib) when installed: the same events and marks, 15x faster.
    yaml = YAML(typ="safe", pure=not _HAVE_CLIB)
    builder = _Builder(file)
    try:
        for event in yaml.parse(text):
            if isinstance(event, ev.ScalarEvent):
                builder.scalar(event)
            elif isinstance(event, ev.MappingStartEvent):
                builder.start(event, {})
            elif isinstance(event, ev.SequenceStartEvent):
                builder.start(event, [])
            elif isinstance(event, ev.MappingEndEvent | ev.SequenceEndEvent):
                builder.end()
            elif isinstance(event, ev.AliasEvent):
                builder.alias(event)
            elif isinstance(event, ev.DocumentStartEvent):
                builder.documents += 1
                if builder.documents > 1:
                    builder.refuse(
                        _pos(event.start_mark), "yaml-multiple-documents",
                        "the file holds more than one YAML document",
                        "a network file is one document: remove the `---` separator and what follows",
                    )
                    raise _Fatal
    except _Fatal:
        pass
    except MarkedYAMLError as exc:
        builder.diagnostics.append(_syntax_error(exc, file, text))
    except YAMLError as exc:
        builder.diagnostics.append(_reader_error(exc, file, text))
    if builder.diagnostics:
        return None, None, builder.diagnostics
    return builder.root, builder.source_map, []


def _syntax_error(exc: Any, file: str, text: str) -> Diagnostic:
    """Position a YAML syntax error where the user can fix it.

    When the file ends inside a construct (an unclosed quote or bracket), the parser's problem
    mark is the end of the file; the construct's start (the context mark) is the useful place.
    """
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    at_end = mark is not None and mark.line >= len(text.splitlines())
    if exc.context_mark is not None and (mark is None or at_end):
        mark = exc.context_mark
        if exc.context:
            problem = f"{problem} {exc.context}"
    return error(file, "yaml-syntax", f"YAML syntax error: {problem}",
                 "check indentation, colons, quotes and brackets near this position",
                 _pos(mark) if mark else None)


def _offset_position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _reader_error(exc: Any, file: str, text: str) -> Diagnostic:
    """Errors without a mark (a control character the reader refuses) still get a position."""
    offset = getattr(exc, "position", None)
    if isinstance(offset, int) and 0 <= offset <= len(text):
        char = text[offset] if offset < len(text) else ""
        return error(file, "yaml-syntax", f"YAML syntax error: the control character {char!r} is not allowed",
                     "remove the character (files must be printable text)", _offset_position(text, offset))
    return error(file, "yaml-syntax", f"YAML error: {exc}", "the file is not valid YAML")


_JSON_CONSTANT = re.compile(r'"(?:\\.|[^"\\])*"|(-?Infinity|NaN)')
"""A JSON string (skipped) or a bare NaN / Infinity outside strings (group 1)."""


def _json_syntax(text: str, file: str) -> list[Diagnostic]:
    """JSON's own parser gives the clearest message for a broken .json file.

    Python's parser accepts NaN and Infinity, which are not JSON: they are refused here.
    """
    import json

    def refuse_constant(name: str) -> None:
        raise ValueError(name)

    try:  # numbers are left as text here: the event walk below resolves and bounds them
        json.loads(text, parse_constant=refuse_constant, parse_int=len, parse_float=len)
    except json.JSONDecodeError as exc:
        return [error(file, "json-syntax", f"JSON syntax error: {exc.msg}",
                      "check commas, quotes and brackets near here", Position(exc.lineno, exc.colno))]
    except ValueError as exc:
        bare = (m for m in _JSON_CONSTANT.finditer(text) if m.group(1))
        match = next(bare, None)
        pos = _offset_position(text, match.start(1)) if match else None
        return [error(file, "json-syntax", f"JSON syntax error: {exc} is not a JSON value",
                      "write a finite number", pos)]
    except RecursionError:
        return []  # the event walk below reports the depth with its position
    return []


def load_text(text: str, file: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Load network text; returns the document, or None and the reasons it was refused."""
    if JSON in kinds(file):
        problems = _json_syntax(text, file)
        if problems:
            return None, problems
    data, source_map, problems = _walk(text, file)
    if problems:
        return None, problems
    assert source_map is not None
    if data is None:
        return None, [error(file, "empty-document", "the file is empty",
                            "start from `dynapcnn-dsl new NAME`, which writes a starter network",
                            Position(1, 1))]
    source_map.lines = tuple(text.splitlines())
    return SourceDocument(file, data, source_map), []


def load_file(path: str | Path, *, display_name: str | None = None,
              ) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Read and load one file, refusing unreadable, oversized and non-UTF-8 files."""
    name = display_name or str(path)
    text, problems = read_text(path, name)
    return (None, problems) if text is None else load_text(text, name)


def read_text(path: str | Path, name: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of a file (UTF-8, an optional BOM dropped), or why it cannot be had: missing,
    unreadable, over `MAX_BYTES` (refused before a byte is read) or not UTF-8."""
    fs_path = Path(path)
    try:
        size = fs_path.stat().st_size
        if size > MAX_BYTES:
            return None, [error(name, "file-too-large",
                                f"the file is {size} bytes; the limit is {MAX_BYTES}",
                                "a network file is a few kilobytes: is this the right file?")]
        raw = fs_path.read_bytes()
    except FileNotFoundError:
        return None, [error(name, "file-unreadable", "no such file",
                            "check the path (it is relative to the current directory)")]
    except IsADirectoryError:
        return None, [error(name, "file-unreadable", "this is a directory, not a file",
                            "name the network file itself, e.g. network.yaml")]
    except OSError as exc:
        return None, [error(name, "file-unreadable", f"cannot read the file: {exc.strerror}",
                            "check the file's permissions")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        bom = len(_BOM) if raw.startswith(_BOM) else 0
        start = exc.start + bom  # the codec counts from after the BOM
        line = raw[:start].count(b"\n") + 1
        line_start = max(raw.rfind(b"\n", 0, start) + 1, bom)  # the BOM is no column of line 1
        col = len(raw[line_start:start].decode("utf-8", errors="replace")) + 1
        return None, [error(name, "file-encoding", "the file is not valid UTF-8", "save the file as UTF-8",
                            Position(line, col))]

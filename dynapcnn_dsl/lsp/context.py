"""Where the cursor is, for completion, read from the text alone: the file being typed may not
load, so the path of the mapping around the cursor comes from the indentation of the lines
above (block mappings and `- ` items) and the brackets open on the cursor's line (`{...}`,
`[...]`). Plain values in and out; list items are index 0 (the schema does not care which).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

_KEY_LINE = re.compile(r"^(\s*)(-\s+)?(\"[^\"]*\"|'[^']*'|[^\s#:{}\[\],'\"][^:#{}\[\],]*?)\s*:(\s|$)")
_WORD = re.compile(r"[A-Za-z0-9_.\-]*$")


class Context(NamedTuple):
    """Where the cursor is: the path of the mapping (or list) it is in, whether a key or a value
    is being typed, and the word typed so far."""

    path: tuple[str | int, ...]
    wants: str          # "key" | "value"
    word: str


def context(lines: list[str], line: int, char: int) -> Context | None:
    """The completion context at the cursor, from the text alone (the file may not load)."""
    if line >= len(lines):
        return None
    here = lines[line][:char]
    block = _block_path(lines, line, here)
    if block is None:
        return None
    path, rest, wants = block
    flow = _flow(rest, wants)
    if flow is None:
        return None
    sub, wants = flow
    word = _WORD.search(here)
    return Context((*path, *sub), wants, word.group(0) if word else "")


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _key_text(raw: str) -> str:
    return raw[1:-1] if raw[:1] in "\"'" else raw.strip()


def _block_path(lines: list[str], line: int, here: str) -> tuple[list[Any], str, str] | None:
    """The block mappings enclosing the cursor's line (by indentation), what remains of the
    line to read, and whether it starts at a key or a value."""
    stripped = here.lstrip(" ")
    if stripped.startswith("#"):
        return None
    item = re.match(r"-(\s+|$)", stripped)
    indent = _indent(here) if stripped else len(here)
    own: list[Any] = []
    rest, wants = stripped, "key"
    if item:
        rest = stripped[item.end():]
        wants = "value" if not _KEY_LINE.match(rest) else "key"
    match = _KEY_LINE.match(here)
    if match:  # `key: <cursor>`: a value (or a flow collection) of this key
        own.append(_key_text(match.group(3)))
        rest, wants = here[match.end():], "value"
        if match.group(2):
            own.insert(0, 0)
    elif item:
        own.append(0)
    path: list[Any] = []
    limit = indent + (1 if item else 0)  # a list may sit at its key's indentation
    for prev in reversed(lines[:line]):
        if not prev.strip() or prev.lstrip().startswith("#"):
            continue
        ind = _indent(prev)
        if ind >= limit:
            continue
        m = _KEY_LINE.match(prev)
        if m:
            after = prev[m.end():].strip()
            if after and not after.startswith("#"):  # `key: value` on one line: not a parent
                limit = ind
                continue
            path.insert(0, _key_text(m.group(3)))
            if m.group(2):
                path.insert(0, 0)
        elif prev.lstrip().startswith("-"):
            path.insert(0, 0)
        limit = ind
        if ind == 0:
            break
    return [*path, *own], rest, wants


def _flow(rest: str, wants: str) -> tuple[list[Any], str] | None:
    """The keys of the flow collections (`{...}`, `[...]`) open at the cursor."""
    stack: list[tuple[str, Any]] = []
    key: Any = None
    word = ""
    i = 0
    while i < len(rest):
        c = rest[i]
        if c in "\"'":
            end = rest.find(c, i + 1)
            if end < 0:
                return [*_stack_path(stack), *([key] if wants == "value" and key is not None else [])], wants
            word = rest[i + 1:end]
            i = end + 1
            continue
        if c == "#" and (i == 0 or rest[i - 1] == " "):
            return None
        if c == ":" and (i + 1 == len(rest) or rest[i + 1] == " "):
            key, wants, word = word.strip(), "value", ""
        elif c in "{[":
            stack.append((c, key if wants == "value" else None))
            wants, key, word = ("key" if c == "{" else "value"), None, ""
        elif c in "}]":
            if stack:
                stack.pop()
            word = ""
        elif c == ",":
            wants = "key" if stack and stack[-1][0] == "{" else "value"
            key, word = None, ""
        else:
            word += c
        i += 1
    path = _stack_path(stack)
    if wants == "value" and key is not None:
        path.append(key)
    return path, wants


def _stack_path(stack: list[tuple[str, Any]]) -> list[Any]:
    path: list[Any] = []
    for bracket, key in stack:
        if key is not None:
            path.append(key)
        if bracket == "[":
            path.append(0)
    return path

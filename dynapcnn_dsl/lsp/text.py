"""Positions in the text as the editor sees it.

The pipeline's positions are 1-based line and column (code points) of where a key or value
starts. An editor wants ranges: `token_span` finds where the token that starts there ends (a
plain scalar, a quoted string, a bracketed flow collection, a tag). Everything here is 0-based,
in code points; the server converts to the client's units (UTF-16 by default) at the edge.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dynapcnn_dsl.diagnostics import Position

LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""The line breaks of the Language Server Protocol (and of YAML)."""

_PLAIN_END = re.compile(r",|\]|\}|:(?=\s|$)|\s#")
"""Where a plain scalar ends (in a flow collection; a block scalar ends at the line's end)."""


class Span(NamedTuple):
    """A stretch of one line: 0-based line, first and one-past-last character (code points)."""

    line: int
    start: int
    end: int

    def contains(self, line: int, char: int) -> bool:
        """Whether the cursor at (line, char) touches the span (its end included, as editors
        place the cursor after a word)."""
        return line == self.line and self.start <= char <= self.end


def split_lines(text: str) -> list[str]:
    """The lines of `text` without their breaks (a final break gives an empty last line)."""
    return LINE_BREAK.split(text)


def token_span(lines: list[str], pos: Position | None) -> Span:
    """The span of the token starting at `pos` (1-based); the line's start when there is no
    position, an empty span past the end of a line."""
    if pos is None or not 1 <= pos.line <= len(lines):
        return Span(0, 0, 0)
    line, start = pos.line - 1, pos.col - 1
    text = lines[line]
    if start >= len(text):
        return Span(line, min(start, len(text)), min(start, len(text)))
    return Span(line, start, _token_end(text, start))


def _token_end(text: str, start: int) -> int:
    first = text[start]
    if first in "\"'":
        return _quoted_end(text, start)
    if first in "[{":
        return _bracket_end(text, start)
    if first in "!&*":  # a tag, an anchor or an alias: one word
        match = re.compile(r"\S+").match(text, start)
        return match.end() if match else start + 1
    match = _PLAIN_END.search(text, start)
    end = match.start() if match else len(text)
    end = len(text[:end].rstrip())
    return max(end, start + 1)


def _quoted_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1:i + 2] == "'":  # '' is a quote inside single quotes
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def _bracket_end(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = _quoted_end(text, i)
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text.rstrip())


def name_span(lines: list[str], pos: Position | None) -> Span:
    """The span of a name (a key or a scalar) at `pos`, inside its quotes if it has any."""
    span = token_span(lines, pos)
    text = lines[span.line] if span.line < len(lines) else ""
    if span.end - span.start >= 2 and text[span.start] in "\"'" and text[span.end - 1] == text[span.start]:
        return Span(span.line, span.start + 1, span.end - 1)
    return span

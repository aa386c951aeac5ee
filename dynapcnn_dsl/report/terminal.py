"""How a command's text reaches the terminal: colour or not, a rich console that does not wrap
into a pipe, diagnostics with the file's one-line verdict, and the one JSON envelope. Every
printer of report/ writes through these, so all commands look alike.

Imports nothing heavy: rich only when a console is asked for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from dynapcnn_dsl.diagnostics import Diagnostic
    from dynapcnn_dsl.pipeline import Result


def use_color(stream: TextIO) -> bool:
    """Color only on a terminal, and never when NO_COLOR is set (FORCE_COLOR forces it)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def print_diagnostics(diagnostics: Iterable[Diagnostic], stream: TextIO) -> None:
    """Diagnostics without source excerpts: for commands whose diagnostics point into other
    files than a network (events, documents, models)."""
    from dynapcnn_dsl import render

    color = use_color(stream)
    for d in diagnostics:
        stream.write(render.format_text(d, color=color) + "\n")


def write_diagnostics(result: Result, *, no_source: bool = False, summary: bool = True,
                      stream: TextIO | None = None) -> None:
    """Diagnostics as text (with source excerpts), then the file's one-line verdict."""
    from dynapcnn_dsl import render

    out = stream or sys.stdout
    color = use_color(out)
    lines = None if no_source or result.source is None else result.source.source_map.lines
    for d in result.diagnostics:
        # quote a line only from the file it belongs to (not a template's line from the network)
        quoted = lines if d.file == result.file else None
        out.write(render.format_text(d, quoted, color=color) + "\n")
    if summary:
        out.write(render.summary_line(result.file, result.diagnostics, result.ok) + "\n")


def write_json(results: Iterable[tuple[Result, dict[str, object]]], stream: TextIO | None = None,
               ) -> bool:
    """The one JSON envelope, for (result, what the command adds to its entry) pairs, written
    as they come; True when every result is ok."""
    from dynapcnn_dsl import render

    verdicts: list[bool] = []

    def entries() -> Iterator[dict[str, object]]:
        for result, payload in results:
            verdicts.append(result.ok)
            yield render.entry(result.file, result.ok, result.diagnostics, **payload)

    render.write_envelope(stream or sys.stdout, entries())
    return all(verdicts)


def console(stream: TextIO | None = None) -> Console:
    """A rich console that does not wrap tables when writing to a pipe or a file."""
    from rich.console import Console

    out = stream or sys.stdout
    tty = bool(getattr(out, "isatty", lambda: False)())
    return Console(file=out, highlight=False, width=None if tty else 160, soft_wrap=False)

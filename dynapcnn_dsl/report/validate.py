"""What `validate` prints for the files it checked: diagnostics and each file's verdict (with
`--summary`, the linked network as `inspect` shows it), the JSON envelope, or GitHub workflow
annotations. Results arrive one at a time and are printed as they come."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from dynapcnn_dsl.report.terminal import console, write_diagnostics, write_json

if TYPE_CHECKING:
    from dynapcnn_dsl.pipeline import Result


def as_text(results: Iterable[Result], out: TextIO, *, no_source: bool = False,
            summary: bool = False) -> None:
    for r in results:
        write_diagnostics(r, no_source=no_source, stream=out)
        if summary and r.linked is not None:
            from dynapcnn_dsl.report.inspect import print_inspect

            out.flush()
            print_inspect(r.linked, console(out))


def as_json(results: Iterable[Result], out: TextIO, **_: object) -> None:
    write_json(((r, {}) for r in results), out)


def as_github(results: Iterable[Result], out: TextIO, **_: object) -> None:
    from dynapcnn_dsl import render

    for r in results:
        for d in r.diagnostics:
            out.write(render.format_github(d) + "\n")

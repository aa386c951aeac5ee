"""What `check` and `build` print: the diagnostics, the linked network (build), the quantization
report, and where the configuration was written; or all of it in the JSON envelope."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from dynapcnn_dsl.report.inspect import inspect_data, print_inspect
from dynapcnn_dsl.report.quantization import print_quantization, quantization_data
from dynapcnn_dsl.report.terminal import console, write_diagnostics, write_json

if TYPE_CHECKING:
    from dynapcnn_dsl.pipeline import Result


def check_text(result: Result, out: TextIO, *, no_source: bool = False) -> None:
    write_diagnostics(result, no_source=no_source, summary=not result.ok, stream=out)
    if result.quantized is not None:
        print_quantization(result.quantized, console(out))


def check_json(result: Result, out: TextIO, **_: object) -> None:
    quantization = quantization_data(result.quantized) if result.quantized is not None else None
    write_json([(result, {"weights": result.weights, "quantization": quantization})], out)


def build_text(result: Result, out: TextIO, *, output: Path | None, no_source: bool = False,
               quiet: bool = False) -> None:
    """`output` is the file the configuration went to (None: standard output, so `out` is
    standard error); a failed build says nothing was written, `quiet` silences a good one."""
    if not result.ok:
        write_diagnostics(result, no_source=no_source, stream=out)
        out.write("nothing was written\n")
        return
    if quiet:
        return
    assert result.linked is not None and result.quantized is not None and result.emitted is not None
    if result.diagnostics:
        write_diagnostics(result, no_source=True, summary=False, stream=out)
    c = console(out)
    print_inspect(result.linked, c)
    print_quantization(result.quantized, c)
    if output is not None:
        c.print(f"wrote {output} ({result.emitted['chip']}, {len(result.linked.cores)} cores)")


def build_json(result: Result, out: TextIO, *, output: Path | None, **_: object) -> None:
    write_json([(result, {
        "weights": result.weights,
        "output": ("-" if output is None else str(output)) if result.ok else None,
        "network": inspect_data(result.linked) if result.linked is not None else None,
        "quantization": quantization_data(result.quantized) if result.quantized is not None else None,
    })], out)

"""What `import` prints: what mapping the model found, then, once the files are written, what
building them found and the network as `inspect` shows it, with the command to run next."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.link.data import LinkedNetwork
from dynapcnn_dsl.render import plural
from dynapcnn_dsl.report.terminal import console, print_diagnostics


@dataclass(frozen=True)
class ImportReport:
    """How far an import got. `imported` is the importer's Imported (its diagnostics, whether
    it is ok, its plan and tensors: the importer is a later phase than report/, so it is not
    imported here); `network` and `weights` are the files written (None before); `linked` the
    network they build to (None when they do not) and `checked` what building them found."""

    source: str
    imported: Any
    network: Path | None = None
    weights: Path | None = None
    linked: LinkedNetwork | None = None
    checked: tuple[Diagnostic, ...] = ()


def as_text(report: ImportReport, out: TextIO) -> None:
    imported = report.imported
    print_diagnostics(imported.diagnostics, out)
    if not imported.ok:
        out.write(f"{report.source}: cannot be imported; nothing was written\n")
        return
    network, weights = report.network, report.weights
    if network is None:          # not written (the folder could not be written)
        return
    out.write(f"wrote {network} ({plural(len(imported.plan.cores), 'core')}) and {weights} "
              f"({plural(len(imported.tensors), 'tensor')})\n")
    print_diagnostics(report.checked, out)
    linked = report.linked
    if linked is None:
        out.write(f"{network}: does not build as it is (see above); edit it, then "
                  f"`dynapcnn-dsl build {network} {weights}`\n")
        return
    from dynapcnn_dsl.report.inspect import print_inspect

    print_inspect(linked, console(out))
    out.write(f"{network}: builds ({linked.chip.id}, {plural(len(linked.cores), 'core')}); next: "
              f"dynapcnn-dsl build {network} {weights}\n")

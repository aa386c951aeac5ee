"""What `inspect` shows: a linked network as a table per core and chip totals, or as JSON.

The JSON form is the same facts as the table, for scripts; both are computed from the linked
network alone (no re-derivation), so they always agree with what `build` will emit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from dynapcnn_dsl.link.data import Link, LinkedCore, LinkedNetwork
from dynapcnn_dsl.link.memory import ki
from dynapcnn_dsl.report.terminal import console, write_diagnostics, write_json

if TYPE_CHECKING:
    from dynapcnn_dsl.pipeline import Result

KINDS = ("kernel", "neuron", "bias")


def _percent(used: int, available: int) -> float:
    return round(100.0 * used / available, 1) if available else 0.0


def _memory(core: LinkedCore, linked: LinkedNetwork) -> dict[str, dict[str, float]]:
    physical = linked.chip.memory[core.index]
    return {
        kind: {"used": getattr(core.memory, kind), "available": getattr(physical, kind),
               "percent": _percent(getattr(core.memory, kind), getattr(physical, kind))}
        for kind in KINDS
    }


def totals(linked: LinkedNetwork) -> dict[str, dict[str, float]]:
    """Memory used by the placed cores against the whole chip's."""
    out = {}
    for kind in KINDS:
        used = sum(getattr(c.memory, kind) for c in linked.cores)
        available = sum(getattr(m, kind) for m in linked.chip.memory)
        out[kind] = {"used": used, "available": available, "percent": _percent(used, available)}
    return out


def inspect_data(linked: LinkedNetwork) -> dict[str, Any]:
    """The linked network as JSON-ready data."""
    inp = linked.input
    return {
        "name": linked.name,
        "chip": linked.chip.id,
        "cores_used": len(linked.cores),
        "cores_available": linked.chip.limits.cores,
        "input": {
            "source": inp.source,
            "shape": list(inp.shape),
            "output_shape": list(inp.output_shape),
            "destinations": [{"core": d.target, "layer": linked.layer_of(d)} for d in inp.destinations],
        },
        "cores": [
            {
                "name": c.name,
                "index": c.index,
                "pinned": c.pinned,
                "input_shape": list(c.input_shape),
                "output_shape": list(c.output_shape),
                "out_features": c.out_features,
                "kernel": c.kernel,
                "stride": list(c.stride),
                "padding": list(c.padding),
                "merge": c.merge,
                "sources": [{"core": s.source, "feature_shift": s.feature_shift, "pool": s.pool}
                            for s in c.sources],
                "destinations": [
                    {"core": d.target, "layer": linked.layer_of(d), "slot": d.slot, "pool": d.pool,
                     "feature_shift": d.feature_shift}
                    for d in c.destinations
                ],
                "memory": _memory(c, linked),
            }
            for c in linked.cores
        ],
        "readout": None if linked.readout is None else {
            "from": linked.readout.source, "classes": linked.readout.classes,
            "errata_remap": linked.readout.errata_remap,
        },
        "totals": totals(linked),
    }


def _destination(linked: LinkedNetwork, link: Link) -> str:
    extras = []
    if link.pool != 1:
        extras.append(f"pool {link.pool}")
    if link.feature_shift:
        extras.append(f"shift {link.feature_shift}")
    text = f"{link.target}@{linked.layer_of(link)}"
    return text + (f" ({', '.join(extras)})" if extras else "")


def _approx(n: int) -> str:
    """A total, rounded (it is compared with nothing): 276 Ki rather than 282634."""
    return ki(n) if n < 1024 or n % 512 == 0 else f"~{n / 1024:.0f} Ki"


def _use(used: int, available: int) -> str:
    return f"{ki(used)}/{ki(available)} {_percent(used, available):.0f}%"


def _merge(core: LinkedCore) -> str:
    if len(core.sources) < 2:
        return "-"
    return f"{core.merge} of {', '.join(s.source for s in core.sources)}"


def print_inspect(linked: LinkedNetwork, console: Any) -> None:
    """The linked network as a rich table (rich is imported by the caller's console)."""
    from rich.table import Table

    inp = linked.input
    title = linked.name or "network"
    targets = ", ".join(f"{d.target}@{linked.layer_of(d)}" for d in inp.destinations)
    console.print(f"[bold]{title}[/bold] on {linked.chip.id}: {len(linked.cores)} of "
                  f"{linked.chip.limits.cores} cores; input {inp.source} {inp.shape}"
                  + (f" -> {inp.output_shape} after pre-processing" if inp.output_shape != inp.shape
                     else "") + f" -> {targets}")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column, justify in (("core", "left"), ("#", "right"), ("input", "left"),
                            ("conv out", "left"), ("kernel mem", "right"), ("neuron mem", "right"),
                            ("bias mem", "right"), ("to", "left"), ("merge", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for c in sorted(linked.cores, key=lambda c: c.index):
        m = _memory(c, linked)
        table.add_row(
            c.name + (" (pinned)" if c.pinned else ""), str(c.index), str(c.input_shape),
            str(c.output_shape._replace(features=c.out_features)),
            *(_use(int(m[k]["used"]), int(m[k]["available"])) for k in KINDS),
            ", ".join(_destination(linked, d) for d in c.destinations) or "-",
            _merge(c),
        )
    console.print(table)
    t = totals(linked)
    console.print("chip totals: " + "; ".join(
        f"{k} {_approx(int(t[k]['used']))} of {ki(int(t[k]['available']))} ({t[k]['percent']:.0f}%)"
        for k in KINDS))
    if linked.readout is not None:
        r = linked.readout
        remap = ", class k on feature 4(k-1)" if r.errata_remap else ""
        console.print(f"readout: {r.classes} classes from '{r.source}'{remap}")


def as_text(result: Result, out: TextIO, *, no_source: bool = False) -> None:
    """`inspect`: the diagnostics (the verdict line only when the network is invalid), then the
    table of a network that linked."""
    write_diagnostics(result, no_source=no_source, summary=not result.ok, stream=out)
    if result.linked is not None:
        print_inspect(result.linked, console(out))


def as_json(result: Result, out: TextIO, **_: object) -> None:
    network = inspect_data(result.linked) if result.linked is not None else None
    write_json([(result, {"network": network})], out)

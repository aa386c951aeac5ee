"""A readable summary of a validated (not yet linked) network, for `validate --summary`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dynapcnn_dsl.model.network import XY, Core, Destination, Network, axes

if TYPE_CHECKING:
    from dynapcnn_dsl.pipeline import Checked


def _per_axis(value: int | XY) -> str:
    x, y = axes(value)
    return str(x) if x == y else f"{x}x{y}"


def _conv(core: Core) -> str:
    c = core.conv
    parts = [f"{c.in_channels if c.in_channels is not None else '?'}->{c.out_channels}",
             f"k{c.kernel}"]
    if axes(c.stride) != (1, 1):
        parts.append(f"s{_per_axis(c.stride)}")
    if axes(c.padding) != (0, 0):
        parts.append(f"p{_per_axis(c.padding)}")
    if c.bias:
        parts.append("bias")
    return " ".join(parts)


def _neuron(core: Core) -> str:
    n = core.neuron
    low = n.min_v_mem if n.min_v_mem is not None else -n.threshold
    return f"{n.threshold:g} / {low:g} {n.reset}"


def _destinations(name: str, core: Core, network: Network) -> str:
    out = []
    for ref in core.to:
        if isinstance(ref, Destination):
            extras = [f"pool {ref.pool}"] if ref.pool != 1 else []
            if ref.feature_shift is not None:
                extras.append(f"shift {ref.feature_shift}")
            out.append(ref.core + (f" ({', '.join(extras)})" if extras else ""))
        else:
            out.append(ref)
    if network.readout is not None and network.readout.from_ == name and "readout" not in out:
        out.append("readout")
    return ", ".join(out) or "-"


def _input(network: Network) -> str:
    inp = network.input
    c, h, w = ([*inp.shape, 0, 0, 0])[:3]
    targets = ", ".join(t if isinstance(t, str) else t.core for t in inp.to)
    text = f"{inp.source} events [{c}, {h}, {w}] -> {targets}"
    if inp.source == "dvs":
        extras = [f"polarity {inp.polarity}"]
        if inp.pool is not None:
            extras.append(f"pool {_per_axis(inp.pool)}")
        if inp.crop is not None:
            o, s = inp.crop.origin, inp.crop.size
            extras.append(f"crop {s.x}x{s.y} at ({o.x}, {o.y})")
        text += f" ({', '.join(extras)})"
    return text


def print_summary(result: Checked) -> None:
    """Print the network as a table of its cores (rich is imported only here)."""
    from rich.console import Console
    from rich.table import Table

    network = result.network
    assert network is not None and result.chip is not None
    console = Console(highlight=False)
    title = network.name or result.file
    console.print(f"[bold]{title}[/bold] on {result.chip.id}: {len(network.cores)} of "
                  f"{result.chip.limits.cores} cores, input {_input(network)}")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in ("core", "pin", "conv", "neuron", "to", "merge"):
        table.add_column(column, overflow="fold")
    fan_in = _fan_in(network)
    for name, core in network.cores.items():
        merge = "-"
        if core.from_ or fan_in.get(name, 0) > 1 or core.merge != "sum":
            merge = core.merge + (f" of {', '.join(core.from_)}" if core.from_ else "")
        table.add_row(
            name + (" [monitor]" if core.monitor else ""),
            "-" if core.index is None else str(core.index),
            _conv(core), _neuron(core), _destinations(name, core, network), merge,
        )
    console.print(table)
    if network.readout is not None:
        r = network.readout
        console.print(f"readout: {r.classes} classes from '{r.from_}', threshold {r.threshold}")
    console.print("conv: in->out features, kernel k, stride s, padding p ('?' is inferred when "
                  "linking); neuron: threshold / lower bound, reset", style="dim")


def _fan_in(network: Network) -> dict[str, int]:
    """How many cores (and the input) name each core as a destination."""
    counts: dict[str, int] = {}
    sources = [network.input.to, *(core.to for core in network.cores.values())]
    for refs in sources:
        for ref in refs:
            target = ref if isinstance(ref, str) else ref.core
            counts[target] = counts.get(target, 0) + 1
    return counts

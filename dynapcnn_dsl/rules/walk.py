"""Small helpers shared by rules: iterate cores and destinations with their source paths."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.load.source import NodePath
from dynapcnn_dsl.model.network import Core, Destination, Network


def core_path(name: str, *rest: str | int) -> NodePath:
    return ("cores", name, *rest)


def destinations(name: str, core: Core) -> Iterator[tuple[NodePath, Destination]]:
    """Each entry of a core's `to:` list (long form, whatever was written) with its path."""
    for i, d in enumerate(core.to):
        yield core_path(name, "to", i), d


def feeds_readout(network: Network, name: str) -> bool:
    """True when the readout reads from `name` (its implicit destination, layer 12)."""
    return network.readout is not None and network.readout.from_ == name


def fmt_range(lo: int, hi: int) -> str:
    return f"{lo}..{hi}"


def fmt_choices(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values[:-1]) + f" or {values[-1]}"

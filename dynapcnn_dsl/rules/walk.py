"""Small helpers shared by rules: iterate cores and destinations with their source paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from dynapcnn_dsl.load.source import NodePath
from dynapcnn_dsl.model.network import Core, Destination, Network

READOUT = "readout"


class DestinationAt(NamedTuple):
    """One entry of a core's `to:` list, short or long form, with its path."""

    core: str
    pool: int
    feature_shift: int | None
    path: NodePath
    long_form: bool


def core_path(name: str, *rest: str | int) -> NodePath:
    return ("cores", name, *rest)


def destinations(name: str, core: Core) -> Iterator[DestinationAt]:
    for i, ref in enumerate(core.to):
        path = core_path(name, "to", i)
        if isinstance(ref, Destination):
            yield DestinationAt(ref.core, ref.pool, ref.feature_shift, path, True)
        else:
            yield DestinationAt(ref, 1, None, path, False)


def feeds_readout(network: Network, name: str) -> bool:
    """True when the readout reads from `name` (its implicit destination, layer 12)."""
    return network.readout is not None and network.readout.from_ == name


def fmt_range(lo: int, hi: int) -> str:
    return f"{lo}..{hi}"


def fmt_choices(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values[:-1]) + f" or {values[-1]}"

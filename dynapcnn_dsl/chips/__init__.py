"""Chip profiles: the hardware facts, built from `facts.py` (the single source of them).

Validators, the linker and the emitter ask a `ChipProfile` for every limit instead of writing
numbers of their own, so a datasheet correction is a one-line data change.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from dynapcnn_dsl.chips import facts as data

INPUT = "input"
"""The input layer where a core's name could stand (links, `from:` lists): a pseudo core."""

READOUT = "readout"
"""The readout where a core's name could stand (`to:` lists, links): a pseudo core, reached on
destination layer `Limits.readout_layer`."""


class CoreMemory(NamedTuple):
    """Memory of one physical core, in entries."""

    index: int
    kernel: int
    neuron: int
    bias: int


class Limits(NamedTuple):
    """Ranges shared by every 9-core chip (inclusive (lo, hi) pairs or allowed-value tuples)."""

    cores: int
    kernel: tuple[int, int]
    stride: tuple[int, ...]
    padding: tuple[int, int]
    features: tuple[int, int]
    input_map: int
    output_map: int
    pool: tuple[int, ...]
    dvs_pool: tuple[int, ...]
    feature_shift: tuple[int, int]
    destinations: int
    threshold_high: tuple[int, int]
    threshold_low: tuple[int, int]
    neuron_state: tuple[int, int]
    weight_bits: int
    bias_bits: int
    readout_classes: int
    readout_layer: int
    readout_errata_spacing: int     # class k on feature spacing*(k-1) under the errata remap
    readout_threshold: tuple[int, int]
    dvs_monitor_layer: int
    dvs_sensor_size: int
    decimator_ratios: tuple[int, ...]
    leak_unreliable_cores: tuple[int, ...]
    input_preferred_cores: tuple[int, ...]


class LanguageLimits(NamedTuple):
    """Bounds of the language itself (facts.LANGUAGE): what one file may ask of the tool."""

    expanded_cores: int
    template_depth: int
    int_max: int
    float_max: float


class HostLimits(NamedTuple):
    """Bounds of the host tools (facts.HOST): what an events or NIR file, or an option, may ask."""

    events: int
    dense_entries: int
    ticks: int
    slow_clock_hz: tuple[float, float]
    time_us: int
    bin_us: tuple[int, int]
    budget: tuple[int, int]
    nir_nodes: int
    nir_depth: int
    nir_read_seconds: float


class ChipProfile(NamedTuple):
    """Everything the language knows about one chip."""

    id: str
    samna_module: str
    config_class: str
    dvs_sensor: bool
    kill_bits: bool
    readout: str  # "usable" | "unusable" | "unknown"
    readout_errata: bool  # class k read from feature 4*(k-1) (speck2e/2f)
    decimator: bool
    congestion_balancer: bool
    legacy: bool
    boards: tuple[str, ...]
    aliases: tuple[str, ...]
    limits: Limits
    memory: tuple[CoreMemory, ...]


@cache
def profiles() -> dict[str, ChipProfile]:
    """All chip profiles by canonical id."""
    limits = Limits(**data.LIMITS)
    memory = tuple(sorted(
        (CoreMemory(i, m["kernel"], m["neuron"], m["bias"]) for m in data.MEMORY for i in m["cores"]),
        key=lambda m: m.index,
    ))
    return {
        chip_id: ChipProfile(id=chip_id, limits=limits, memory=memory, **fields)
        for chip_id, fields in data.CHIPS.items()
    }


@cache
def chip_names() -> dict[str, str]:
    """Every accepted spelling (ids, board names, aliases; lower-case) -> canonical chip id."""
    names: dict[str, str] = {}
    for chip in profiles().values():
        for name in (chip.id, *chip.aliases, *chip.boards):
            names[name.lower()] = chip.id
    return names


def resolve_chip(name: str) -> ChipProfile | None:
    """The profile for a chip id, board name or alias (case-insensitive), or None."""
    chip_id = chip_names().get(name.lower())
    return profiles()[chip_id] if chip_id else None


@cache
def language_limits() -> LanguageLimits:
    """The bounds of the language itself, the same for every chip."""
    return LanguageLimits(**data.LANGUAGE)


@cache
def host_limits() -> HostLimits:
    """The host tools' bounds on their inputs (events, NIR files, options)."""
    return HostLimits(**data.HOST)


def shared_limits() -> Limits:
    """The limits every chip shares (used where no chip is known yet, e.g. the JSON schema)."""
    return next(iter(profiles().values())).limits

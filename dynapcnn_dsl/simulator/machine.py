"""The configuration read into what the simulator runs: plain immutable values.

The simulator's input is the configuration `build` writes (emit), not a network: what runs is
what would be loaded on the chip. The configuration is checked once, by config's own check
(`config.runnable.check`: for a tree the reader's schema and tensor checks first, then what a
run needs beyond the schema), and the `Machine` is made from its typed fields: per used core its
geometry, thresholds and tensors, where its spikes go, the DVS layer and the readout as the
kernel applies them. What cannot run comes back as diagnostics naming the document file and the
field's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dynapcnn_dsl.chips import ChipProfile, resolve_chip
from dynapcnn_dsl.chips.facts import LIMITS
from dynapcnn_dsl.config import CnnLayer, Configuration, DvsLayer, Readout
from dynapcnn_dsl.config.model import FORMAT, has_header
from dynapcnn_dsl.config.runnable import check
from dynapcnn_dsl.config.tree import structure_only
from dynapcnn_dsl.diagnostics import Diagnostic, Severity

READOUT_LAYER = LIMITS["readout_layer"]


@dataclass(frozen=True)
class Route:
    """An enabled destination slot: a core (with pooling and feature shift) or the readout."""

    layer: int
    pool: int = 1
    feature_shift: int = 0


@dataclass(frozen=True)
class Core:
    """One used core. `weights` is [f][c][kx][ky] and `initial` [f][x][y], as the document."""

    index: int
    name: str
    input_shape: tuple[int, int, int]       # C, H, W
    output_shape: tuple[int, int, int]      # F, H, W (the conv output, before pooling)
    kernel: int
    stride: tuple[int, int]                 # x, y
    padding: tuple[int, int]                # x, y
    weights: np.ndarray
    bias: np.ndarray
    initial: np.ndarray
    threshold_high: int
    threshold_low: int
    reset_to_zero: bool
    leak: bool
    monitor: bool
    destinations: tuple[Route | None, Route | None]
    decimation: int                         # N of a 1/N decimator; 0 without one
    congestion_balancer: bool


@dataclass(frozen=True)
class DvsFilter:
    """The DVS layer as the kernel applies it to sensor events (SIMULATION.md's order)."""

    on: bool
    off: bool
    merge: bool
    pool: tuple[int, int]
    origin: tuple[int, int]
    cut: tuple[int, int]                    # inclusive, in pooled coordinates
    mirror: tuple[bool, bool]
    diagonal: bool
    monitor: bool
    destinations: tuple[int, ...]           # enabled slots' cores, slot 0 first


@dataclass(frozen=True)
class ReadoutTally:
    """How the readout counts events into classes and decides."""

    threshold: int
    window: int                             # low-pass window in slow-clock ticks: 1, 16 or 32
    spacing: int                            # class k is feature spacing*(k-1): 4 under the errata, else 1
    classes: int


@dataclass(frozen=True)
class Machine:
    chip: str
    source: str                             # "host" or "dvs"
    input_shape: tuple[int, int, int]       # C, H, W of the input events
    input_layers: tuple[int, ...]           # host events go to these cores, in this order
    cores: tuple[Core | None, ...]          # by physical index
    dvs: DvsFilter | None
    readout: ReadoutTally | None

    def name(self, index: int) -> str:
        core = self.cores[index]
        return core.name if core is not None else f"core{index}"

    @property
    def used(self) -> tuple[Core, ...]:
        return tuple(c for c in self.cores if c is not None)

    def loops(self) -> list[tuple[int, ...]]:
        """The cycles of the destination graph, each once, as core indices from its lowest."""
        found: list[tuple[int, ...]] = []
        for start in (c.index for c in self.used):
            stack: list[tuple[int, tuple[int, ...]]] = [(start, (start,))]
            while stack:
                node, path = stack.pop()
                for d in self.cores[node].destinations:  # type: ignore[union-attr]
                    if d is None or d.layer == READOUT_LAYER:
                        continue
                    if d.layer == start:
                        found.append(path)
                    elif d.layer > start and d.layer not in path:
                        stack.append((d.layer, (*path, d.layer)))
        return sorted(set(found))


HINT = "was the document edited by hand? `dynapcnn-dsl build` writes a valid one"


def read_machine(document: Any, file: str) -> tuple[Machine | None, list[Diagnostic]]:
    """The machine a configuration (its tree, or its typed values) sets up, or the diagnostics
    saying why it cannot run."""
    def error(code: str, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic(file, None, Severity.ERROR, code, message, hint)

    typed = isinstance(document, Configuration)
    if not typed and not has_header(document):
        return None, [error("simulate-document", f"not a configuration document (no format '{FORMAT}')",
                            "simulate takes the .json that `dynapcnn-dsl build` writes, or a network "
                            "file and its weights")]
    if document.structure_only if typed else structure_only(document):
        return None, [error("simulate-structure-only",
                            "the document was built without weights: there is nothing to compute",
                            "build it with its weights file, or pass NETWORK WEIGHTS to simulate")]
    configuration, problems = check(document)
    if configuration is None:
        return None, [error("simulate-document", f"{where}: {what}", HINT) for where, what in problems]
    machine = _machine(configuration, resolve_chip(configuration.chip))  # type: ignore[arg-type]
    return machine, _warnings(configuration, machine, file)


# -- from the checked configuration's typed fields: `check` made sure what is read here is set --

def _names(configuration: Configuration) -> list[str]:
    """Each slot's YAML name from the annotations, `core<i>` otherwise. Unlike
    `Configuration.core_names`, a name annotated twice stays twice: the results refuse it
    (`simulate-output-names`) rather than rename a core."""
    count = len(configuration.config.cnn_layers)
    notes = configuration.annotations
    noted = notes.core_names(count) if notes is not None else [None] * count
    return [name if name is not None else f"core{i}" for i, name in enumerate(noted)]


def _machine(configuration: Configuration, chip: ChipProfile) -> Machine:
    names = _names(configuration)
    cores = tuple(_core(layer, i, names[i], chip) if layer.used else None
                  for i, layer in enumerate(configuration.config.cnn_layers))
    inp = configuration.input
    c, h, w = (int(v) for v in inp.shape)  # type: ignore[union-attr]
    dvs = None
    if inp.source == "dvs":  # type: ignore[union-attr]
        dvs = _dvs(configuration.config.dvs_layer)  # type: ignore[arg-type]
        targets = dvs.destinations
    else:
        targets = tuple(int(t) for t in inp.layers)  # type: ignore[union-attr]
    readout = _readout(configuration.config.readout, cores, chip)
    return Machine(configuration.chip, str(inp.source), (c, h, w), targets, cores, dvs,  # type: ignore[union-attr]
                   readout)


def _core(layer: CnnLayer, index: int, name: str, chip: ChipProfile) -> Core:
    dims = layer.dimensions
    inp, out = dims.input_shape, dims.output_shape  # type: ignore[union-attr]
    decimation = 0
    if chip.decimator and layer.output_decimator_enable:
        decimation = chip.limits.decimator_ratios[layer.output_decimator_interval]  # type: ignore[index]
    routes = tuple(Route(int(d.layer), int(d.pooling or 1), int(d.feature_shift or 0)) if d.enable else None
                   for d in layer.destinations)
    return Core(
        index=index, name=name,
        input_shape=(inp.feature_count, inp.size.y, inp.size.x),  # type: ignore[union-attr]
        output_shape=(out.feature_count, out.size.y, out.size.x),  # type: ignore[union-attr]
        kernel=dims.kernel_size,  # type: ignore[union-attr]
        stride=(dims.stride.x, dims.stride.y),  # type: ignore[union-attr]
        padding=(dims.padding.x, dims.padding.y),  # type: ignore[union-attr]
        weights=layer.weights, bias=layer.biases, initial=layer.neurons_initial_value,  # type: ignore[arg-type]
        threshold_high=int(layer.threshold_high), threshold_low=int(layer.threshold_low),  # type: ignore[arg-type]
        reset_to_zero=bool(layer.return_to_zero), leak=bool(layer.leak_enable),
        monitor=bool(layer.monitor_enable), destinations=routes,  # type: ignore[arg-type]
        decimation=decimation, congestion_balancer=bool(layer.input_congestion_balancer_enable))


def _dvs(layer: DvsLayer) -> DvsFilter:
    def pair(xy: Any) -> tuple[int, int]:
        return int(xy.x), int(xy.y)

    return DvsFilter(on=bool(layer.on_channel), off=bool(layer.off_channel), merge=bool(layer.merge),
                     pool=pair(layer.pooling), origin=pair(layer.origin), cut=pair(layer.cut),
                     mirror=(bool(layer.mirror.x), bool(layer.mirror.y)),  # type: ignore[union-attr]
                     diagonal=bool(layer.mirror_diagonal), monitor=bool(layer.monitor_enable),
                     destinations=layer.targets())


def _readout(readout: Readout | None, cores: tuple[Core | None, ...],
             chip: ChipProfile) -> ReadoutTally | None:
    if readout is None or not readout.enable:
        return None
    features = max((c.output_shape[0] for c in cores if c is not None
                    and any(d is not None and d.layer == READOUT_LAYER for d in c.destinations)),
                   default=0)
    spacing = chip.limits.readout_errata_spacing if chip.readout_errata else 1
    classes = min(-(-features // spacing), chip.limits.readout_classes)
    return ReadoutTally(int(readout.threshold), readout.window, spacing, classes)  # type: ignore[arg-type]


def _warnings(configuration: Configuration, machine: Machine, file: str) -> list[Diagnostic]:
    out = []
    balanced = [c.name for c in machine.used if c.congestion_balancer]
    if balanced:
        out.append(Diagnostic(file, None, Severity.WARNING, "simulate-congestion-balancer",
                              f"the congestion balancer of {', '.join(balanced)} is not simulated",
                              "it drops events while a core is busy, which depends on timing; "
                              "the simulation delivers every event"))
    killed = [f"core{i}" for i, layer in enumerate(configuration.config.cnn_layers)
              if any(bits is not None and np.any(bits) for bits in
                     (layer.weights_kill_bit, layer.biases_kill_bit, layer.neurons_value_kill_bit))]
    if killed:
        out.append(Diagnostic(file, None, Severity.WARNING, "simulate-kill-bits",
                              f"kill bits set on {', '.join(killed)} are not simulated",
                              "killed features compute as if alive"))
    return out

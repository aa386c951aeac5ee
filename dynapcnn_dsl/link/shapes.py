"""Infer every shape from the input through the cores, and each link's feature shift.

Shapes are computed, never checked, here: the link rules look at the results (a sum merge of
unequal shapes, a map over 64x64, a map that shrinks to nothing) and report them with positions.
Inconsistent inputs still produce a best-effort shape so that one run finds every problem.
"""

from __future__ import annotations

from typing import NamedTuple

from dynapcnn_dsl.chips import INPUT, ChipProfile
from dynapcnn_dsl.chips.facts import LIMITS
from dynapcnn_dsl.link.data import Link, Shape
from dynapcnn_dsl.link.graph import Graph
from dynapcnn_dsl.model.network import Core, Input, Network


class Arrival(NamedTuple):
    """Events arriving at a core over one link, after the source's pooling."""

    link: Link
    shape: Shape          # shape delivered (features of the source, pooled map)
    shift: int            # feature shift, as linked (computed for concat receivers)


class CoreShapes(NamedTuple):
    arrivals: tuple[Arrival, ...]   # in `from:` order for concat, else declaration order
    input_shape: Shape              # features as inferred; map of the first arrival
    output_shape: Shape             # conv output before pooling (dimensions may be <= 0)
    out_features: int               # physical output features (readout errata remap)


class Shapes(NamedTuple):
    input: Shape                    # what the input layer delivers
    cores: dict[str, CoreShapes]    # reachable cores only
    shifts: dict[Link, int]         # the linked feature shift of every link into a reachable core

    def shift(self, link: Link) -> int:
        """The feature shift a link gets once linked: computed with the arrivals for links into
        reachable cores, as written (or 0) for the others (the readout, unreachable cores)."""
        return self.shifts.get(link, link.feature_shift or 0)


def input_output(inp: Input) -> Shape:
    """The DVS pipeline: merge polarities -> pool -> crop -> flip (diagonal swaps x and y)."""
    channels, height, width = [*inp.shape, 1, 1, 1][:3]
    if inp.source != "dvs":
        return Shape(channels, height, width)
    px, py = inp.pooling()
    height = height // py if py >= 1 else 0  # below 1 only with the range rule switched off
    width = width // px if px >= 1 else 0
    if inp.crop is not None:
        width, height = inp.crop.size.x, inp.crop.size.y
    if inp.flip is not None and inp.flip.diagonal:
        height, width = width, height
    return Shape(channels, height, width)


def conv_output(core: Core, in_shape: Shape) -> Shape:
    """floor((in - k + 2*pad) / stride) + 1 per axis; <= 0 when the map shrinks to nothing."""
    k = core.conv.kernel
    sx, sy = core.conv.stride.pair()
    px, py = core.conv.padding.pair()
    # A stride below 1 is possible only with its range rule switched off: no output then.
    h = (in_shape.height - k + 2 * py) // sy + 1 if sy >= 1 else 0
    w = (in_shape.width - k + 2 * px) // sx + 1 if sx >= 1 else 0
    return Shape(core.conv.out_channels, h, w)


def readout_features(network: Network, chip: ChipProfile, name: str) -> int:
    """Output features the core really has: class k on feature 4*(k-1) under the errata remap."""
    core = network.cores[name]
    r = network.readout
    if r is None or r.from_ != name or not errata_remap(network, chip):
        return core.conv.out_channels
    return max(core.conv.out_channels, LIMITS["readout_errata_spacing"] * (r.classes - 1) + 1)


def errata_remap(network: Network, chip: ChipProfile) -> bool:
    """The readout remap is on by default on speck2e/2f, where the router needs it."""
    r = network.readout
    if r is None:
        return False
    if r.errata_remap is not None:
        return r.errata_remap
    return chip.readout_errata


def _ordered(core: Core, links: tuple[Link, ...]) -> list[Link]:
    """Concat receivers take their sources in `from:` order; others in declaration order."""
    if not core.from_:
        return list(links)
    rank = {name: i for i, name in enumerate(core.from_)}
    return sorted(links, key=lambda link: rank.get(link.source, len(rank)))


def _arrivals(core: Core, links: list[Link], out: dict[str, Shape]) -> list[Arrival]:
    arrivals: list[Arrival] = []
    running = 0
    for link in links:
        src = out.get(link.source)
        if src is None:
            continue  # a loop-closing link: its source is not known yet
        shape = src.pooled(link.pool)
        if core.merge == "concat":
            shift = running
            running += shape.features
        else:
            shift = link.feature_shift or 0
        arrivals.append(Arrival(link, shape, shift))
    return arrivals


def _input_shape(core: Core, arrivals: list[Arrival]) -> Shape:
    if not arrivals:
        c = core.conv.in_channels or 1
        return Shape(c, 0, 0)
    features = max(a.shift + a.shape.features for a in arrivals)
    first = arrivals[0].shape
    return Shape(features, first.height, first.width)


def infer(network: Network, chip: ChipProfile, graph: Graph) -> Shapes:
    """Shapes of the input and of every core reachable from it, in topological order."""
    inp = input_output(network.input)
    out: dict[str, Shape] = {INPUT: inp}
    result: dict[str, CoreShapes] = {}
    shifts: dict[Link, int] = {}
    for name in graph.order:
        core = network.cores[name]
        arrivals = _arrivals(core, _ordered(core, graph.incoming[name]), out)
        shifts.update((a.link, a.shift) for a in arrivals)
        in_shape = _input_shape(core, arrivals)
        conv = conv_output(core, in_shape)
        features = readout_features(network, chip, name)
        out[name] = Shape(features, conv.height, conv.width)
        result[name] = CoreShapes(tuple(arrivals), in_shape, conv, features)
    # Loop-closing links deliver events too: add them now that every source is known.
    for name in graph.order:
        core = network.cores[name]
        shapes = result[name]
        if any(link.source not in {a.link.source for a in shapes.arrivals}
               for link in graph.incoming[name] if link.source in out):
            arrivals = _arrivals(core, _ordered(core, graph.incoming[name]), out)
            shifts.update((a.link, a.shift) for a in arrivals)
            features = _input_shape(core, arrivals).features
            result[name] = shapes._replace(
                arrivals=tuple(arrivals), input_shape=shapes.input_shape._replace(features=features))
    return Shapes(inp, result, shifts)

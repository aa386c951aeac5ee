"""Phase 5: the linker. A validated network in, linked facts and a placed network out.

    analyse: graph (names -> links) -> shapes (and feature shifts) -> memory -> placement
             = the facts (`LinkContext`)
    link_network: facts -> LinkedNetwork (plain immutable data)

The linker only computes; it never judges. Between `analyse` and `link_network` the pipeline runs the
link-stage rules (`dynapcnn_dsl.rules.link_*`) on the facts, so every problem in a network is
found in one run, each with its position, and `link_network` runs only on facts without errors.
"""

from __future__ import annotations

from collections.abc import Iterable

from dynapcnn_dsl.chips import INPUT, READOUT, ChipProfile
from dynapcnn_dsl.link.context import LinkContext
from dynapcnn_dsl.link.data import (
    Link,
    LinkedBatchNorm,
    LinkedCore,
    LinkedInput,
    LinkedNetwork,
    LinkedNeuron,
    LinkedReadout,
    MemoryUse,
    Shape,
)
from dynapcnn_dsl.link.graph import resolve
from dynapcnn_dsl.link.memory import memory_use
from dynapcnn_dsl.link.placement import Demand, candidates, place
from dynapcnn_dsl.link.shapes import errata_remap, infer
from dynapcnn_dsl.load.source import SourceMap
from dynapcnn_dsl.model.network import Core, Network

__all__ = ["INPUT", "READOUT", "LinkContext", "LinkedNetwork", "Shape", "analyse", "link_network"]


def analyse(network: Network, chip: ChipProfile, source_map: SourceMap) -> LinkContext:
    """Compute every fact the link rules and the builder need; never fails."""
    graph = resolve(network)
    shapes = infer(network, chip, graph)
    memory: dict[str, MemoryUse] = {}
    for name, s in shapes.cores.items():
        conv = network.cores[name].conv
        memory[name] = memory_use(s.input_shape.features, s.out_features, conv.kernel,
                                  s.output_shape.height, s.output_shape.width,
                                  _has_bias(network.cores[name]))
    input_fed = {link.target for link in graph.outgoing[INPUT]}
    demands = tuple(
        Demand(name, memory[name], core.index, name in input_fed, _has_bias(core))
        for name, core in network.cores.items() if name in memory
    )
    placement = None
    if all(candidates(d, chip.memory) for d in demands):
        placement = place(list(demands), chip.memory, chip.limits)
    return LinkContext(network, chip, source_map, graph, shapes, memory, demands, placement)


def _has_bias(core: Core) -> bool:
    """The chip holds a bias for the convolution's own, or for a folded BatchNorm's shift."""
    return core.conv.bias or core.batchnorm is not None


def _resolved(ctx: LinkContext, links: Iterable[Link]) -> tuple[Link, ...]:
    """Links with their final feature shift, leaving out links from cores left out."""
    return tuple(
        link._replace(feature_shift=ctx.shapes.shift(link)) for link in links
        if link.source == INPUT or link.source in ctx.shapes.cores
    )


def _batchnorm(core: Core) -> LinkedBatchNorm | None:
    bn = core.batchnorm
    return LinkedBatchNorm(bn.weights, bn.eps) if bn is not None else None


def link_network(ctx: LinkContext) -> LinkedNetwork:
    """The linked network from a context whose rules found no errors."""
    network, shapes = ctx.network, ctx.shapes
    assert ctx.placement is not None and ctx.placement.assignment is not None
    assignment = ctx.placement.assignment
    cores = []
    for name, core in network.cores.items():
        s = shapes.cores.get(name)
        if s is None:
            continue  # unreachable: left out (warned by core-unreachable)
        n = core.neuron
        cores.append(LinkedCore(
            name=name,
            index=assignment[name],
            pinned=core.index is not None,
            input_shape=s.input_shape,
            output_shape=s.output_shape,
            out_features=s.out_features,
            kernel=core.conv.kernel,
            stride=core.conv.stride.pair(),
            padding=core.conv.padding.pair(),
            bias=core.conv.bias,
            neuron=LinkedNeuron(n.threshold, n.min_v_mem if n.min_v_mem is not None else -n.threshold,
                                n.reset, n.initial_state, n.weights),
            merge=core.merge,
            sources=tuple(a.link._replace(feature_shift=a.shift) for a in s.arrivals),
            destinations=_resolved(ctx, ctx.graph.outgoing[name]),
            memory=ctx.memory[name],
            weights=core.weights or name,
            monitor=core.monitor,
            decimator=core.decimator,
            congestion_balancer=core.congestion_balancer,
            kill_features=tuple(core.kill_features),
            path=("cores", name),
            batchnorm=_batchnorm(core),
        ))
    inp = network.input
    c, h, w = [*inp.shape, 1, 1, 1][:3]
    flip = inp.flip
    linked_input = LinkedInput(
        source=inp.source,
        shape=Shape(c, h, w),
        output_shape=shapes.input,
        pool=inp.pooling(),
        crop_origin=(inp.crop.origin.x, inp.crop.origin.y) if inp.crop else None,
        crop_size=(inp.crop.size.x, inp.crop.size.y) if inp.crop else None,
        flip=(flip.x, flip.y, flip.diagonal) if flip else (False, False, False),
        polarity=inp.polarity,
        monitor=inp.monitor,
        destinations=_resolved(ctx, ctx.graph.outgoing[INPUT]),
    )
    r = network.readout
    readout = None
    if r is not None:
        readout = LinkedReadout(r.from_, r.classes, r.threshold, errata_remap(network, ctx.chip),
                                r.low_pass_filter, r.monitor)
    return LinkedNetwork(network.name, ctx.chip, network.allow_recurrent, network.quantize,
                         linked_input, tuple(cores), readout)

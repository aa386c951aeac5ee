"""What a link-stage rule may look at: the model, the resolved graph and every derived fact."""

from __future__ import annotations

from typing import NamedTuple

from dynapcnn_dsl.chips import ChipProfile
from dynapcnn_dsl.link.data import MemoryUse
from dynapcnn_dsl.link.graph import Graph
from dynapcnn_dsl.link.placement import Demand, Placement
from dynapcnn_dsl.link.shapes import Shapes
from dynapcnn_dsl.load.source import SourceMap
from dynapcnn_dsl.model.network import Network


class LinkContext(NamedTuple):
    network: Network
    chip: ChipProfile
    source_map: SourceMap
    graph: Graph
    shapes: Shapes
    memory: dict[str, MemoryUse]     # per reachable core
    demands: tuple[Demand, ...]      # what placement was asked
    placement: Placement | None      # None when some core fits nowhere (placement not tried)

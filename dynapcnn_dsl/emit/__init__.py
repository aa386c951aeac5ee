"""Phase 7: emit the samna configuration document from a bound network."""

from __future__ import annotations

from typing import Any

from dynapcnn_dsl.config import TENSORS, Annotations, CoreNote, InputNote
from dynapcnn_dsl.config.reader import from_json
from dynapcnn_dsl.config.writer import to_json, to_plain
from dynapcnn_dsl.emit.configuration import FORMAT, VERSION, emit_configuration, emit_tree
from dynapcnn_dsl.link.data import LinkedNetwork
from dynapcnn_dsl.load.source import SourceMap
from dynapcnn_dsl.weights.quantize import QuantizedNetwork

__all__ = [
    "FORMAT",
    "TENSORS",
    "VERSION",
    "annotations",
    "emit",
    "emit_configuration",
    "emit_tree",
    "from_json",
    "to_json",
    "to_plain",
]


def annotations(linked: LinkedNetwork, source_map: SourceMap) -> Annotations:
    """For each core slot, the YAML name and the position it came from (None when unused)."""
    slots: list[CoreNote | None] = [None] * linked.chip.limits.cores
    for core in linked.cores:
        pos = source_map.key(core.path)
        slots[core.index] = CoreNote(core=core.name, file=source_map.file,
                                     line=pos.line if pos else None, col=pos.col if pos else None)
    pos = source_map.key(("input",))
    return Annotations(cnn_layers=tuple(slots), dvs_layer=InputNote(
        input=linked.input.source, file=source_map.file, line=pos.line if pos else None,
        col=pos.col if pos else None))


def emit(network: QuantizedNetwork | LinkedNetwork, source_map: SourceMap, *,
         annotate: bool = False) -> dict[str, Any]:
    """The document for a quantized network, or structure-only for a linked one (no weights)."""
    linked = network.linked if isinstance(network, QuantizedNetwork) else network
    return emit_tree(network, network_file=source_map.file,
                          annotate=annotations(linked, source_map) if annotate else None)

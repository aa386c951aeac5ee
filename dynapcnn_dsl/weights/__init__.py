"""Phase 6: bind a weights file to a linked network and quantize it.

    read (by content: safetensors / torch / npz) -> bind (names, shapes, checks) -> quantize

torch is imported only to read torch files; safetensors and npz need numpy alone.
"""

from __future__ import annotations

from pathlib import Path

from dynapcnn_dsl.diagnostics import Diagnostic, has_errors
from dynapcnn_dsl.link.data import LinkedNetwork
from dynapcnn_dsl.load.source import SourceMap
from dynapcnn_dsl.weights.bind import BoundCore, BoundNetwork, bind
from dynapcnn_dsl.weights.quantize import QuantReport
from dynapcnn_dsl.weights.readers import WeightsFile, read

__all__ = ["BoundCore", "BoundNetwork", "QuantReport", "WeightsFile", "bind", "load_and_bind", "read"]


def load_and_bind(linked: LinkedNetwork, source_map: SourceMap, weights_path: str | Path, *,
                  key: str | None = None) -> tuple[BoundNetwork | None, list[Diagnostic]]:
    """Read the weights file and bind it; all problems of both steps are returned."""
    weights, problems = read(weights_path, key=key)
    if weights is None or has_errors(problems):
        return None, problems
    bound, more = bind(linked, weights, source_map)
    return bound, problems + more

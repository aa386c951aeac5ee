"""Phase 6: the model's own checkpoint on a linked network, in four steps with plain values between.

    read (by content: safetensors / torch / npz; or tensors already in memory)
      -> bind (names, shapes, reshapes)            BoundNetwork: the file's tensors per core
      -> fold (BatchNorm, average pooling)         FoldedNetwork: float32, as the chip computes
      -> quantize (scales, rounding, survival, errata spread)   QuantizedNetwork: chip integers

Each step holds the linked network, so the emitter needs only the last value. The pipeline
(`dynapcnn_dsl.pipeline`) runs the steps one phase each. torch is
imported only to read torch files or torch tensors; safetensors and npz need numpy alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.weights.bind import BoundCore, BoundNetwork, bind
from dynapcnn_dsl.weights.fold import FoldedCore, FoldedNetwork, fold
from dynapcnn_dsl.weights.quantize import QuantizedCore, QuantizedNetwork, QuantReport, quantize
from dynapcnn_dsl.weights.readers import WeightsFile, read

__all__ = ["BoundCore", "BoundNetwork", "FoldedCore", "FoldedNetwork", "QuantReport", "QuantizedCore",
           "QuantizedNetwork", "WeightsFile", "bind", "fold", "load", "quantize", "read"]


def load(weights: Any, *, key: str | None = None) -> tuple[WeightsFile | None, list[Diagnostic]]:
    """A weights file from a path, or from tensors in memory (a mapping or an nn.Module)."""
    if isinstance(weights, str | Path):
        return read(weights, key=key)
    from dynapcnn_dsl.weights.memory import from_memory

    return from_memory(weights, key=key)

"""What an import writes, as plain data: the network's cores and input, with the comments that
explain where each came from. `mapping.py` fills it from a graph; `writer.py` prints it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Dest:
    """One `to:` entry: the receiving core (or `readout`), its pooling and averaging."""

    core: str
    pool: int = 1
    average: bool = False
    feature_shift: int | None = None


@dataclass(frozen=True)
class PlannedCore:
    """One core of the written network. `neuron` holds the keys of the `neuron:` mapping as
    they are written (`weights:` or explicit values); `extra` holds further keys verbatim."""

    name: str
    conv: Mapping[str, Any]
    weights: str
    neuron: Mapping[str, Any]
    to: tuple[Dest, ...] = ()
    merge: str | None = None             # written when the core has several sources
    from_: tuple[str, ...] = ()          # written for concat
    batchnorm: str | None = None
    batchnorm_eps: float | None = None   # written when not torch's default 1e-5
    index: int | None = None
    monitor: bool = False
    modules: tuple[str, ...] = ()        # the model's modules this core computes (the comment)
    neuron_note: str | None = None       # a comment on the neuron line
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A whole network file: `input` holds the `input:` keys; `tensors` the state_dict names the
    cores bind (written to the weights file)."""

    chip: str
    input: Mapping[str, Any]
    cores: tuple[PlannedCore, ...]
    tensors: tuple[str, ...]
    name: str | None = None
    quantize: str = "auto"
    readout: Mapping[str, Any] | None = None
    header: tuple[str, ...] = ()          # comment lines under the modeline

"""The importers' common intermediate form: a plain, immutable graph of model operations.

Every source (a torch module traced by torch.export, a NIR graph, a configuration document)
is first turned into this graph, and one mapper (`mapping.py`) turns the graph into the
network language. A node is one operation of the model as the model wrote it (a convolution,
a neuron module, a pooling, a `+`, a `torch.cat`), named after the module it came from, so that
every diagnostic and every comment in the written network can name the user's own module.

Tensors are kept by their state_dict names: the network's `weights:` prefixes are those names,
so the model's next checkpoint rebuilds with no new import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

Op = Literal[
    "input",      # params: shape (C, H, W), source host|dvs; dvs: pool (x, y), crop, flip, polarity
    "conv",       # params: out_channels, in_channels, kernel (kh, kw), stride (sy, sx),
                  #         padding (py, px), dilation (dy, dx), groups, bias; tensors: weight, bias
    "linear",     # params: in_features, out_features, bias, in_map (h, w) of the flattened
                  #         input; tensors: weight, bias
    "neuron",     # params: kind iaf|relu, threshold, min_v_mem (None: unbounded), reset
                  #         subtract|zero, explicit_reset, spikes single|multi, note (a comment);
                  #         tensors: spike_threshold, min_v_mem
    "sumpool",    # params: kernel (kh, kw), stride (sy, sx)
    "avgpool",    # params: kernel (kh, kw), stride (sy, sx)
    "batchnorm",  # params: eps; tensors: weight, bias, running_mean, running_var
    "flatten",
    "add",        # inputs in order; a sum of spike tensors
    "cat",        # inputs in cat order; params: dim
    "other",      # what no core can compute; params: what (the operation), why
]


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Node:
    """One operation. `inputs` are node names in the model's order (cat order, `+` order)."""

    name: str
    op: Op
    inputs: tuple[str, ...] = ()
    module: str | None = None           # qualified module name ("layer1.conv1"), when a module did it
    kind: str | None = None             # the module's class name ("Conv2d", "IAFSqueeze"), or the op
    where: str | None = None            # "model.py:23": the source line that called it, where known
    params: Mapping[str, Any] = field(default_factory=dict)
    tensors: Mapping[str, str] = field(default_factory=dict)   # role -> state_dict name

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "tensors", _frozen(self.tensors))

    @property
    def label(self) -> str:
        """How diagnostics name this node: its module and class, or the operation."""
        what = self.kind or self.op
        return f"'{self.module}' ({what})" if self.module else f"'{what}'"

    def prefix(self, role: str = "weight") -> str | None:
        """The state_dict prefix of a tensor role: '0' for '0.weight'."""
        name = self.tensors.get(role)
        if name is None:
            return None
        head, _, tail = name.rpartition(".")
        return head if head and tail == role.rpartition(".")[2] else None


@dataclass(frozen=True)
class Graph:
    """A model as nodes in topological order, with its tensors by their state_dict names.

    `source` names where it came from (a file, or a description) for diagnostics; `outputs`
    are the nodes whose values the model returns; `chip` and `quantize` are set by sources
    that know them (a configuration document).
    """

    nodes: tuple[Node, ...]
    tensors: Mapping[str, np.ndarray]
    outputs: tuple[str, ...]
    source: str
    name: str | None = None
    chip: str | None = None
    quantize: Literal["auto", "none"] = "auto"
    pins: Mapping[str, int] = field(default_factory=dict)        # node name -> physical core
    extras: Mapping[str, Any] = field(default_factory=dict)      # readout, monitors: source-specific

    def __post_init__(self) -> None:
        object.__setattr__(self, "tensors", _frozen(self.tensors))
        object.__setattr__(self, "pins", _frozen(self.pins))
        object.__setattr__(self, "extras", _frozen(self.extras))

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def consumers(self) -> dict[str, list[Node]]:
        """Each node's readers, in graph order."""
        readers: dict[str, list[Node]] = {n.name: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                readers[i].append(n)
        return readers

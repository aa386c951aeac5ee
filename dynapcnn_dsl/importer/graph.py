"""The importers' common intermediate form: a plain, immutable graph of model operations.

Every traced source (a torch module through torch.export, a NIR graph) is first turned into
this graph, and one mapper (`mapping.py`) turns the graph into the network language. A node is
one operation of the model as the model wrote it (a convolution, a neuron module, a pooling, a
`+`, a `torch.cat`), named after the module it came from, so that every diagnostic and every
comment in the written network can name the user's own module.

As in NIR, each kind of operation is its own small frozen value with typed fields (`Conv`,
`Linear`, `IAF`, `SumPool`, ...); a `Node` places one in the graph: its name, its inputs, the
module and source line that did it, and the state_dict names of its tensors.

Tensors are kept by their state_dict names: the network's `weights:` prefixes are those names,
so the model's next checkpoint rebuilds with no new import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import numpy as np

Pair = tuple[int, int]
"""(y, x): a kernel, a stride, a padding, a dilation, or the (h, w) of a map."""


@dataclass(frozen=True)
class Input:
    """The network's input: (C, H, W) events from the host, or from the DVS layer with its
    settings, each as the network file writes it (None: not written)."""

    word: ClassVar[str] = "input"
    shape: tuple[int, int, int]
    source: Literal["host", "dvs"] = "host"
    pool: int | Mapping[str, int] | None = None        # 2, or {x: 2, y: 1}
    crop: Mapping[str, Any] | None = None              # {origin: {x, y}, size: {x, y}}
    flip: Mapping[str, bool] | None = None             # {x, y, diagonal}
    polarity: str | None = None                        # "merge"

    def keys(self) -> dict[str, Any]:
        """The `input:` keys, in the order the network file writes them."""
        keys: dict[str, Any] = {"source": self.source, "shape": list(self.shape)}
        for key in ("pool", "crop", "flip", "polarity"):
            value = getattr(self, key)
            if value is not None:
                keys[key] = value
        return keys


@dataclass(frozen=True)
class Conv:
    """A 2-D convolution; tensors: weight, bias."""

    word: ClassVar[str] = "conv"
    out_channels: int
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = False


@dataclass(frozen=True)
class Linear:
    """A fully connected layer; `in_map` is the (h, w) of the map it reads flattened ((1, 1)
    for a vector). Tensors: weight, bias."""

    word: ClassVar[str] = "linear"
    out_features: int
    in_map: Pair = (1, 1)
    bias: bool = False


@dataclass(frozen=True)
class IAF:
    """An integrate-and-fire neuron, what a chip core's neuron is. `min_v_mem` None: unbounded
    below; `explicit_reset`: the reset is written even when it is the default; `note`: the
    comment on the written `neuron:` line. Tensors (sinabs): spike_threshold, min_v_mem."""

    word: ClassVar[str] = "neuron"
    threshold: float | None
    min_v_mem: float | None = None
    reset: Literal["subtract", "zero"] = "subtract"
    explicit_reset: bool = False
    note: str | None = None


@dataclass(frozen=True)
class ReLU:
    """A ReLU where a neuron goes: an ANN to be converted as sinabs's from_model does."""

    word: ClassVar[str] = "neuron"


Neuron = IAF | ReLU


@dataclass(frozen=True)
class SumPool:
    """A sum pooling (sinabs's SumPool2d, NIR's SumPool2d)."""

    word: ClassVar[str] = "sumpool"
    kernel: Pair
    stride: Pair


@dataclass(frozen=True)
class AvgPool:
    """An average pooling: on the chip a sum pooling that scales the receiving core."""

    word: ClassVar[str] = "avgpool"
    kernel: Pair
    stride: Pair


Pool = SumPool | AvgPool


@dataclass(frozen=True)
class BatchNorm:
    """A batch normalization, folded into the convolution before it. Tensors: weight, bias,
    running_mean, running_var."""

    word: ClassVar[str] = "batchnorm"
    eps: float = 1e-5


@dataclass(frozen=True)
class Flatten:
    word: ClassVar[str] = "flatten"


@dataclass(frozen=True)
class Add:
    """A sum of spike tensors, its inputs in order."""

    word: ClassVar[str] = "add"


@dataclass(frozen=True)
class Cat:
    """A concatenation, its inputs in cat order, along `dim`."""

    word: ClassVar[str] = "cat"
    dim: int


@dataclass(frozen=True)
class Other:
    """What no core can compute: why, and what to do (None: leave it off the chip)."""

    word: ClassVar[str] = "other"
    why: str
    hint: str | None = None


Operation = Input | Conv | Linear | IAF | ReLU | SumPool | AvgPool | BatchNorm | Flatten | Add | Cat | Other
COMPUTE = (Conv, Linear)
"""The operations that start a core."""
LINKS = (SumPool, AvgPool, Add, Cat, Flatten)
"""The operations a destination link can do on the way into a core."""


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Node:
    """One operation in the graph. `inputs` are node names in the model's order (cat order,
    `+` order)."""

    name: str
    op: Operation
    inputs: tuple[str, ...] = ()
    module: str | None = None           # qualified module name ("layer1.conv1"), when a module did it
    kind: str | None = None             # the module's class name ("Conv2d", "IAFSqueeze"), or the op
    where: str | None = None            # "model.py:23": the source line that called it, where known
    tensors: Mapping[str, str] = field(default_factory=dict)   # role -> state_dict name

    def __post_init__(self) -> None:
        object.__setattr__(self, "tensors", _frozen(self.tensors))

    @property
    def label(self) -> str:
        """How diagnostics name this node: its module and class, or the operation."""
        what = self.kind or self.op.word
        return f"'{self.module}' ({what})" if self.module else f"'{what}'"

    def prefix(self, role: str = "weight") -> str | None:
        """The state_dict prefix of a tensor role: '0' for '0.weight'."""
        name = self.tensors.get(role)
        if name is None:
            return None
        head, _, tail = name.rpartition(".")
        return head if head and tail == role.rpartition(".")[2] else None


@dataclass(frozen=True)
class ModelGraph:
    """A model as nodes in topological order, with its tensors by their state_dict names.

    `source` names where it came from (a file, or a description) for diagnostics; `outputs`
    are the nodes whose values the model returns; `name` is the model's (its class, or the
    NIR file's stem), written as the network's `name:`.
    """

    nodes: tuple[Node, ...]
    tensors: Mapping[str, np.ndarray]
    outputs: tuple[str, ...]
    source: str
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tensors", _frozen(self.tensors))

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

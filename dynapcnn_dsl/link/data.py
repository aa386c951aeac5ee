"""The linked network: plain immutable data, the input of the weight loader and the emitter.

Every element keeps the path of the YAML node it came from (`path`), so later phases can point
diagnostics at the source without holding on to pydantic models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol, TypeVar

from dynapcnn_dsl.chips import READOUT, ChipProfile
from dynapcnn_dsl.load.source import NodePath


class _Named(Protocol):
    @property
    def name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=_Named)


def by_name(items: Iterable[NamedT], name: str) -> NamedT:
    """The item called `name`, KeyError when none is: one lookup for a network's cores at every
    stage (linked, bound, quantized)."""
    for item in items:
        if item.name == name:
            return item
    raise KeyError(name)


class Shape(NamedTuple):
    """Features and map size of a tensor of events: [features, height, width]."""

    features: int
    height: int
    width: int

    def __str__(self) -> str:
        return f"[{self.features}, {self.height}, {self.width}]"

    def pooled(self, pool: int) -> Shape:
        """The shape after sum pooling by `pool` in x and y (stride = size, remainder dropped).
        A pool below 1 (possible only with its range rule switched off) leaves nothing."""
        if pool < 1:
            return Shape(self.features, 0, 0)
        return Shape(self.features, self.height // pool, self.width // pool)


class Link(NamedTuple):
    """One destination slot: events from `source` to `target`, pooled and feature-shifted."""

    source: str            # a core name or INPUT
    target: str            # a core name or READOUT
    slot: int              # destination slot at the source (0 or 1)
    pool: int
    feature_shift: int     # as linked (computed for concat receivers)
    path: NodePath             # the `to:` entry that declared it
    average: bool = False  # the model averages here: the receiver's weights are divided by pool^2

    @property
    def weight_factor(self) -> float:
        """What the receiver's weights for this link's features are multiplied by."""
        return 1.0 / (self.pool * self.pool) if self.average else 1.0


class MemoryUse(NamedTuple):
    """Memory entries a core needs (kernel 8-bit, neuron 16-bit, bias 16-bit)."""

    kernel: int
    neuron: int
    bias: int


class LinkedNeuron(NamedTuple):
    threshold: float
    min_v_mem: float       # resolved: minus the threshold when the file gives none
    reset: str             # "subtract" | "zero"
    initial_state: float
    weights: str | None = None   # prefix of the thresholds in the checkpoint (they replace the above)


class LinkedBatchNorm(NamedTuple):
    """A BatchNorm2d to fold into the core's convolution."""

    weights: str           # state-dict prefix
    eps: float


class LinkedCore(NamedTuple):
    """A core with everything known: placement, shapes, links and memory."""

    name: str
    index: int             # physical core 0..8
    pinned: bool
    input_shape: Shape     # what arrives (after each source's pooling)
    output_shape: Shape    # conv output, before any destination pooling
    out_features: int      # physical output features (readout errata remap may widen them)
    kernel: int
    stride: tuple[int, int]    # (x, y)
    padding: tuple[int, int]   # (x, y)
    bias: bool             # the convolution has a bias tensor
    neuron: LinkedNeuron
    merge: str             # "sum" | "concat"
    sources: tuple[Link, ...]      # incoming links, in `from:` order when given
    destinations: tuple[Link, ...]  # outgoing links, by slot
    memory: MemoryUse
    weights: str           # state-dict prefix
    monitor: bool
    decimator: int | None
    congestion_balancer: bool
    kill_features: tuple[int, ...]
    path: NodePath
    batchnorm: LinkedBatchNorm | None = None

    @property
    def has_bias(self) -> bool:
        """Whether the chip gets a bias: the convolution's own, or a folded BatchNorm's shift."""
        return self.bias or self.batchnorm is not None


class LinkedInput(NamedTuple):
    """The input layer: host events, or the DVS with its pre-processing."""

    source: str            # "host" | "dvs"
    shape: Shape           # as declared (the sensor's for a DVS)
    output_shape: Shape    # after polarity, pooling, crop and flips
    pool: tuple[int, int]  # (x, y)
    crop_origin: tuple[int, int] | None
    crop_size: tuple[int, int] | None
    flip: tuple[bool, bool, bool]  # (x, y, diagonal)
    polarity: str
    monitor: bool
    destinations: tuple[Link, ...]


class LinkedReadout(NamedTuple):
    source: str
    classes: int
    threshold: int
    errata_remap: bool     # resolved for the chip
    low_pass_filter: int
    monitor: bool


class LinkedNetwork(NamedTuple):
    """A network placed on a chip, with every shape, shift and memory figure resolved."""

    name: str | None
    chip: ChipProfile
    allow_recurrent: bool
    quantize: str
    input: LinkedInput
    cores: tuple[LinkedCore, ...]     # in declaration order
    readout: LinkedReadout | None

    def core(self, name: str) -> LinkedCore:
        return by_name(self.cores, name)

    def layer_of(self, link: Link) -> int:
        """The destination layer a link programs: the target's physical core, or the readout's."""
        if link.target == READOUT:
            return self.chip.limits.readout_layer
        return self.core(link.target).index

    def logical_out(self, core: LinkedCore) -> int:
        """Output features as trained: the classes of a readout core whose features the errata
        remap spreads out (4*(k-1)), else its physical output features."""
        r = self.readout
        if r is not None and r.source == core.name and r.errata_remap:
            return r.classes
        return core.out_features

    def weight_shape(self, core: LinkedCore) -> tuple[int, int, int, int]:
        """The torch Conv2d weight shape the core binds: [out, in, k, k]."""
        return (self.logical_out(core), core.input_shape.features, core.kernel, core.kernel)

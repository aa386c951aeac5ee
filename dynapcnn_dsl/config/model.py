"""The samna configuration document as frozen typed values: one class per object of the document.

A field's name is the document's key (samna's own attribute name), so the writer, the reader,
the JSON schema and the samna bridge all walk the same fields instead of spelling the keys again.
Each field is made by one of `fields.py`'s kinds, whose metadata says what the schema allows there
(`schema.py` turns it into draft-07), from the chip facts: adding a field to a CNN layer is one
line here and one in the phase that produces it (emit).

What a field left at `None` means is the document's own convention: the key is absent, and samna
keeps its default there (an unused core is only `destinations` and `monitor_enable`; an unused
destination slot only `enable: false`; a structure-only build has no tensors or thresholds). The
few keys whose `null` means something (`source.weights`: built without weights) default to
`ABSENT` instead, so that "absent" and "null" stay apart.

Tensors are numpy integer (or boolean) arrays in the document's layout: weights [out][in][x][y],
initial states [feature][x][y]. Values holding tensors compare by identity (`eq=False`): compare
documents with `dynapcnn_dsl.differ`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from dynapcnn_dsl.chips import Limits, profiles
from dynapcnn_dsl.config.fields import (
    Schema,
    _Absent,
    boolean,
    destination_slots,
    integer,
    node,
    nodes,
    obj,
    one_of,
    shape_schema,
    string,
    tensor,
    value,
    xy,
)

FORMAT: Final = "dynapcnn-dsl/samna-configuration"
VERSION: Final = 1


def has_header(data: Any) -> bool:
    """Whether a parsed JSON value is a configuration document: an object whose `format` is this
    tool's, wherever the key stands (`jq -S` sorts it after the whole `config`)."""
    return isinstance(data, dict) and data.get("format") == FORMAT


# -- the document ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class XY:
    """An `{x, y}` pair (map size, padding, stride, pooling, crop corners)."""

    x: int | None = None
    y: int | None = None


@dataclass(frozen=True, kw_only=True)
class Mirror:
    """The DVS layer's flips."""

    x: bool | None = None
    y: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Shape:
    """Features and map size of a core's input or output."""

    feature_count: int | None = None
    size: XY | None = field(default=None, metadata={"struct": XY})


@dataclass(frozen=True, kw_only=True)
class Dimensions:
    """The convolution's shapes (samna's CNNLayerDimensions, assigned as one nested dict)."""

    input_shape: Shape | None = value(shape_schema, struct=Shape)
    output_shape: Shape | None = value(shape_schema, struct=Shape)
    padding: XY | None = value(xy(lambda lim: lim.padding[0], lambda lim: lim.padding[1], "padding per axis"),
                                struct=XY)
    stride: XY | None = value(xy(lambda _: 1, lambda lim: max(lim.stride), "stride per axis",
                                 choices=lambda lim: lim.stride), struct=XY)
    kernel_size: int | None = value(integer(lambda lim: lim.kernel[0], lambda lim: lim.kernel[1],
                                            "square kernel size"))


@dataclass(frozen=True, kw_only=True)
class Destination:
    """A destination slot of a core: off, or the core it feeds (or the readout) with pooling and
    a feature shift."""

    DESCRIPTION = "a destination slot"

    enable: bool = value(boolean("the slot sends events"), required=True)
    layer: int | None = value(lambda lim: {
        "enum": [*range(lim.cores), lim.readout_layer],
        "description": f"the physical core it feeds, or {lim.readout_layer} for the readout"})
    pooling: int | None = value(one_of(lambda lim: list(lim.pool), "sum pooling, the same in x and y"))
    feature_shift: int | None = value(integer(lambda lim: lim.feature_shift[0],
                                              lambda lim: lim.feature_shift[1],
                                              "added to the feature of every event sent"))


@dataclass(frozen=True, kw_only=True, eq=False)
class CnnLayer:
    """One core (samna's CnnLayerConfig). A core is used when it has `dimensions`."""

    dimensions: Dimensions | None = node(Dimensions, "the convolution's shapes", whole=True)
    weights: np.ndarray | None = tensor("weights")
    biases: np.ndarray | None = tensor("biases")
    neurons_initial_value: np.ndarray | None = tensor("neurons_initial_value")
    threshold_high: int | None = value(integer(lambda lim: lim.threshold_high[0],
                                               lambda lim: lim.threshold_high[1],
                                               "a neuron fires when its state reaches it"))
    threshold_low: int | None = value(integer(lambda lim: lim.neuron_state[0], 0,
                                              "the state never goes below it"))
    return_to_zero: bool | None = value(boolean("reset to 0 on a spike (else subtract threshold_high)"))
    leak_enable: bool | None = value(boolean("add the bias once per slow-clock tick"))
    monitor_enable: bool | None = value(boolean("copy the core's output events to the host"))
    destinations: tuple[Destination, ...] = nodes(Destination, "the core's destination slots",
                                                  destination_slots, required=True)
    input_congestion_balancer_enable: bool | None = value(boolean("speck2e/2f: the congestion balancer"),
                                                          chip="congestion_balancer")
    output_decimator_enable: bool | None = value(boolean("speck2e/2f: pass one output event in N"),
                                                 chip="decimator")
    output_decimator_interval: int | None = value(integer(
        0, lambda lim: len(lim.decimator_ratios) - 1, "speck2e/2f: N = 2, 4, 8, 16, 32, 128, 256, 512"),
        chip="decimator")
    weights_kill_bit: np.ndarray | None = tensor("weights_kill_bit", chip="kill_bits")
    biases_kill_bit: np.ndarray | None = tensor("biases_kill_bit", chip="kill_bits")
    neurons_value_kill_bit: np.ndarray | None = tensor("neurons_value_kill_bit", chip="kill_bits")

    DESCRIPTION = "one core (CnnLayerConfig), in samna's attribute names"

    @property
    def used(self) -> bool:
        return self.dimensions is not None

    def enabled(self) -> tuple[Destination, ...]:
        """The destination slots that send events, slot 0 first."""
        return tuple(d for d in self.destinations if d.enable)


SWITCH: Final = "enable"
"""The key of every object that can be switched off (destination slots, the readout)."""

TARGET: Final = "layer"
"""The key of a destination slot's target: a physical core, or the readout's layer id."""


def core_path(index: int) -> str:
    """The document path of a core slot, as messages and reports name it."""
    return f"cnn_layers[{index}]"


WEIGHT_FIELDS: Final = ("weights", "biases", "neurons_initial_value", "threshold_high", "threshold_low",
                        "leak_enable", "weights_kill_bit")
"""Fields that need the weights file: left out of a structure-only document."""

TENSORS: Final = ("weights", "biases", "neurons_initial_value", "weights_kill_bit", "biases_kill_bit",
                  "neurons_value_kill_bit")
"""Attributes of a cnn layer that hold tensors (their shapes and ranges: `tensors()`)."""


def unused_layer(destinations: int = 2) -> CnnLayer:
    """What an unused core sets: no destination, no monitoring; the rest stays samna's default."""
    return CnnLayer(destinations=(Destination(enable=False),) * destinations, monitor_enable=False)


@dataclass(frozen=True, kw_only=True)
class DvsDestination:
    """A destination slot of the DVS layer: off, or the core the sensor's events go to."""

    DESCRIPTION = "a DVS destination slot"

    enable: bool = value(boolean("the slot sends events"), required=True)
    layer: int | None = value(integer(0, lambda lim: lim.cores - 1, "the physical core it feeds"))


def _sensor(limits: Limits) -> int:
    return limits.dvs_sensor_size - 1


@dataclass(frozen=True, kw_only=True)
class DvsLayer:
    """The DVS (event pre-processing) layer: pooling, crop, flips and polarity of sensor events."""

    pass_sensor_events: bool | None = value(boolean("false when events come from the host"))
    destinations: tuple[DvsDestination, ...] | None = nodes(
        DvsDestination, "where the sensor's events go", destination_slots)
    pooling: XY | None = value(xy(lambda _: 1, lambda lim: max(lim.dvs_pool), "pooling per axis",
                                  choices=lambda lim: lim.dvs_pool), struct=XY)
    origin: XY | None = value(xy(lambda _: 0, _sensor,
                                 "region of interest: first pixel (pooled coordinates)"), struct=XY)
    cut: XY | None = value(xy(lambda _: 0, _sensor, "region of interest: last pixel, inclusive"), struct=XY)
    mirror: Mirror | None = value(lambda lim: obj("flips", {
        "x": {"type": "boolean", "description": "flip x"},
        "y": {"type": "boolean", "description": "flip y"}}), struct=Mirror)
    mirror_diagonal: bool | None = value(boolean("swap x and y"))
    merge: bool | None = value(boolean("fold both polarities into one channel"))
    on_channel: bool | None = value(boolean("pass on events"))
    off_channel: bool | None = value(boolean("pass off events"))
    monitor_enable: bool | None = value(boolean("copy the layer's output events to the host"))

    DESCRIPTION = "the DVS (event pre-processing) layer"

    def targets(self) -> tuple[int, ...]:
        """The cores the enabled slots send to, slot 0 first."""
        return tuple(int(d.layer) for d in self.destinations or () if d.enable and d.layer is not None)


@dataclass(frozen=True, kw_only=True)
class Readout:
    """The readout (samna's ReadoutConfig)."""

    enable: bool = value(boolean("the readout is on"), required=True)
    threshold: int | None = value(integer(lambda lim: lim.readout_threshold[0],
                                         lambda lim: lim.readout_threshold[1], "16-bit threshold"))
    low_pass_filter_disable: bool | None = value(boolean("window 1"))
    low_pass_filter32_not16: bool | None = value(boolean("window 32 (else 16)"))
    monitor_enable: bool | None = value(boolean("monitor the readout (hides every other monitored event)"))

    DESCRIPTION = "the readout (ReadoutConfig)"

    @property
    def window(self) -> int:
        """The low-pass window in slow-clock ticks: 1, 16 or 32."""
        return 1 if self.low_pass_filter_disable else 32 if self.low_pass_filter32_not16 else 16


@dataclass(frozen=True, kw_only=True, eq=False)
class ChipConfig:
    """The configuration tree samna loads (`config`): one CNN layer per physical core, the DVS
    layer and the readout."""

    cnn_layers: tuple[CnnLayer, ...] = nodes(CnnLayer, "one entry per physical core",
                                             lambda lim: (lim.cores, lim.cores), required=True,
                                             ref="cnn_layer")
    dvs_layer: DvsLayer | None = node(DvsLayer, DvsLayer.DESCRIPTION, ref="dvs_layer")
    readout: Readout | None = node(Readout, Readout.DESCRIPTION, ref="readout",
                                   # listed by samna but not usable on speck2b; dynapcnn's undocumented
                                   chip=lambda chip: chip.readout != "unusable")


@dataclass(frozen=True, kw_only=True)
class SamnaClass:
    """The samna configuration class a document is for."""

    module: str | None = value(string("samna module"))
    class_: str | None = value(string("configuration class"), key="class")


@dataclass(frozen=True, kw_only=True)
class Source:
    """The files a document was built from; `weights` is null for a structure-only build."""

    network: str | _Absent | None = value(string("the network file", nullable=True), nullable=True)
    weights: str | _Absent | None = value(string("the weights file; null for a structure-only build",
                                                 nullable=True), nullable=True)


@dataclass(frozen=True, kw_only=True)
class Input:
    """Where input events go: the host writes to `layers`; the DVS through `dvs_layer`."""

    source: str | None = value(lambda lim: {"enum": ["host", "dvs"],
                                            "description": "host events or the sensor"})
    shape: tuple[int, int, int] | None = value(lambda lim: {
        "type": "array", "minItems": 3, "maxItems": 3, "description": "[C, H, W]",
        "items": {"type": "integer", "minimum": 1, "maximum": lim.dvs_sensor_size, "description": "size"}})
    layers: tuple[int, ...] | None = value(lambda lim: {
        "type": "array", "maxItems": lim.destinations, "description": "cores host events are written to",
        "items": {"type": "integer", "minimum": 0, "maximum": lim.cores - 1, "description": "physical core"}})


_POSITION: dict[str, Schema] = {
    "file": string("network file", nullable=True),
    "line": lambda lim: {"type": ["integer", "null"], "description": "1-based line"},
    "col": lambda lim: {"type": ["integer", "null"], "description": "1-based column"},
}


@dataclass(frozen=True, kw_only=True)
class CoreNote:
    """`build --annotate`: the YAML name of the core in a slot and where it is written."""

    DESCRIPTION = "a used core"

    core: str | None = value(string("its name"))
    file: str | _Absent | None = value(_POSITION["file"], nullable=True)
    line: int | _Absent | None = value(_POSITION["line"], nullable=True)
    col: int | _Absent | None = value(_POSITION["col"], nullable=True)


@dataclass(frozen=True, kw_only=True)
class InputNote:
    """`build --annotate`: the network's input and where it is written."""

    input: str | None = value(string("host or dvs"))
    file: str | _Absent | None = value(_POSITION["file"], nullable=True)
    line: int | _Absent | None = value(_POSITION["line"], nullable=True)
    col: int | _Absent | None = value(_POSITION["col"], nullable=True)


@dataclass(frozen=True, kw_only=True)
class Annotations:
    """`build --annotate`: where each core came from. The one place core names are read."""

    cnn_layers: tuple[CoreNote | None, ...] | None = nodes(
        CoreNote, "per core slot", lambda lim: (None, lim.cores), nullable_items=True)
    dvs_layer: InputNote | None = node(InputNote, "the input")

    def core_names(self, cores: int | None = None) -> list[str | None]:
        """The YAML name annotated for each of `cores` slots (default: each annotated slot),
        None where there is none."""
        slots = self.cnn_layers or ()
        count = len(slots) if cores is None else cores
        return [_name(slots[i]) if i < len(slots) else None for i in range(count)]


def _name(note: CoreNote | None) -> str | None:
    return note.core if note is not None and isinstance(note.core, str) else None


@dataclass(frozen=True, kw_only=True, eq=False)
class Configuration:
    """What `dynapcnn-dsl build` writes: a samna configuration as JSON, with samna's own
    attribute names, and the header saying what it is for and where it came from."""

    format: str = value(lambda lim: {"const": FORMAT, "description": "what the file is"}, required=True)
    version: int = value(lambda lim: {"const": VERSION, "description": "version of the document format"},
                         required=True)
    chip: str = value(lambda lim: {"enum": sorted(profiles()), "description":
                                   "the chip the configuration is for"}, required=True)
    samna: SamnaClass | None = node(SamnaClass, "the samna configuration class it is for")
    generator: str | None = value(string("the tool (and version) that wrote it"))
    source: Source | None = node(Source, "the files it was built from")
    input: Input | None = node(Input, "where input events go")
    config: ChipConfig = node(ChipConfig, "the configuration tree", required=True)
    annotations: Annotations | None = node(Annotations, "build --annotate: where each core came from")

    DESCRIPTION = ("What `dynapcnn-dsl build` writes: a samna configuration as JSON, with samna's "
                          "own attribute names. Generated by `dynapcnn-dsl schema --document`.")

    @property
    def structure_only(self) -> bool:
        """Built without weights: no tensors or thresholds in its cores."""
        return self.source is not None and self.source.weights is None

    def core_names(self) -> list[str]:
        """Each core slot's YAML name from the annotations (`build --annotate`), else `core<i>`;
        a name annotated twice is kept by its first slot only."""
        count = len(self.config.cnn_layers)
        noted = self.annotations.core_names(count) if self.annotations is not None else [None] * count
        names: list[str] = []
        for i, name in enumerate(noted):
            names.append(name if isinstance(name, str) and name not in names else f"core{i}")
        return names

    def used(self) -> list[int]:
        """The physical cores in use (those with dimensions), in order."""
        return [i for i, layer in enumerate(self.config.cnn_layers) if layer.used]

"""The samna configuration document as frozen typed values: one class per object of the document.

A field's name is the document's key (samna's own attribute name), so the writer, the reader,
the JSON schema and the samna bridge all walk the same fields instead of spelling the keys again.
Each field's metadata says what the schema allows there (`schema.py` turns it into draft-07),
from the chip facts: adding a field to a CNN layer is one line here and one in the phase that
produces it (emit).

What a field left at `None` means is the document's own convention: the key is absent, and samna
keeps its default there (an unused core is only `destinations` and `monitor_enable`; an unused
destination slot only `enable: false`; a structure-only build has no tensors or thresholds). The
few keys whose `null` means something (`source.weights`: built without weights) default to
`ABSENT` instead, so that "absent" and "null" stay apart.

Tensors are numpy integer (or boolean) arrays in the document's layout: weights [out][in][x][y],
initial states [feature][x][y]. Values holding tensors compare by identity (`eq=False`): compare
documents with `dynapcnn_dsl.diff`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from dynapcnn_dsl.chips import Limits, profiles

FORMAT: Final = "dynapcnn-dsl/samna-configuration"
VERSION: Final = 1


class _Absent:
    """A key that is not in the document, where `None` would mean the JSON `null`."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()

Schema = Callable[[Limits], dict[str, Any]]
"""A field's JSON schema, from the chip limits."""


# -- field kinds: what the schema says about a field, kept as its metadata -------------------------

def value(schema: Schema, *, required: bool = False, key: str | None = None, nullable: bool = False,
          struct: type | None = None, chip: str | Callable[[Any], bool] | None = None) -> Any:
    """A plain value (number, boolean, string), or a small object (`struct`: `{x, y}`, a shape)
    whose schema the field gives, since it depends on where the object is. `chip` names the
    ChipProfile flag of the chips whose configuration has the field (None: every chip)."""
    meta = {"schema": schema, "key": key, "struct": struct, "chip": chip}
    if required:
        return field(metadata=meta)
    return field(default=ABSENT if nullable else None, metadata=meta)


def node(cls: type, description: str, *, required: bool = False, ref: str | None = None,
         whole: bool = False, chip: Callable[[Any], bool] | None = None) -> Any:
    """A nested object of the document, itself a class of this module. `whole`: samna takes it
    as one nested dict (assigned at once), not attribute by attribute; `chip` as for `value`."""
    meta = {"node": cls, "description": description, "ref": ref, "whole": whole, "chip": chip}
    return field(metadata=meta) if required else field(default=None, metadata=meta)


def nodes(cls: type, description: str, count: Callable[[Limits], tuple[int | None, int]], *,
          required: bool = False, ref: str | None = None, nullable_items: bool = False) -> Any:
    """A list of nested objects: `count` gives its (fewest, most) items; `None` items are
    JSON nulls when `nullable_items`."""
    meta = {"nodes": cls, "description": description, "count": count, "ref": ref,
            "nullable_items": nullable_items}
    return field(metadata=meta) if required else field(default=None, metadata=meta)


def tensor(name: str, *, chip: str | None = None) -> Any:
    """A tensor of a CNN layer: its axes and range are `tensors()[name]`; `chip` as for `value`."""
    return field(default=None, metadata={"tensor": name, "chip": chip})


def on_chip(f: Any, chip: Any) -> bool:
    """Whether the configuration of `chip` (a ChipProfile) has the field."""
    flag = f.metadata.get("chip")
    return flag is None or bool(flag(chip) if callable(flag) else getattr(chip, flag))


def key_of(f: Any) -> str:
    """The document's key of a field: its name, unless a Python keyword forced another."""
    return f.metadata.get("key") or f.name


# -- schema fragments -----------------------------------------------------------------------------

def integer(lo: int | Callable[[Limits], int], hi: int | Callable[[Limits], int], description: str
            ) -> Schema:
    def make(limits: Limits) -> dict[str, Any]:
        low = lo(limits) if callable(lo) else lo
        high = hi(limits) if callable(hi) else hi
        return {"type": "integer", "minimum": low, "maximum": high, "description": description}
    return make


def boolean(description: str) -> Schema:
    return lambda limits: {"type": "boolean", "description": description}


def one_of(choices: Callable[[Limits], list[Any]], description: str) -> Schema:
    return lambda limits: {"enum": choices(limits), "description": description}


def string(description: str, *, nullable: bool = False) -> Schema:
    kind: Any = ["string", "null"] if nullable else "string"
    return lambda limits: {"type": kind, "description": description}


def obj(description: str, properties: dict[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    node_: dict[str, Any] = {"type": "object", "description": description, "properties": properties,
                             "additionalProperties": False}
    if required:
        node_["required"] = list(required)
    return node_


def xy(lo: Callable[[Limits], int], hi: Callable[[Limits], int], description: str, *,
       choices: Callable[[Limits], tuple[int, ...]] | None = None) -> Schema:
    """An `{x, y}` pair of integers in a range, or from a list of choices."""
    def make(limits: Limits) -> dict[str, Any]:
        def axis(name: str) -> dict[str, Any]:
            if choices is not None:
                return {"enum": list(choices(limits)), "description": f"{name} axis"}
            return {"type": "integer", "minimum": lo(limits), "maximum": hi(limits),
                    "description": f"{name} axis"}
        return obj(description, {"x": axis("x"), "y": axis("y")})
    return make


def _shape(limits: Limits) -> dict[str, Any]:
    lo, hi = limits.features
    size = xy(lambda _: 1, lambda lim: lim.input_map, "map size")(limits)
    return obj("features and map size", {"feature_count": {
        "type": "integer", "minimum": lo, "maximum": hi, "description": "features"}, "size": size})


def tensors() -> dict[str, tuple[int, str, int, int, str]]:
    """The tensors of a cnn layer: name -> (axes, "int" or "bool", lowest, highest, meaning).
    One table for the schema and for the numpy check of every tensor read. Weights are int8
    (shared/HARDWARE.md: kernel memory is 8-bit), from the chip facts' `weight_bits`."""
    limits = _limits()
    weight = 2 ** (limits.weight_bits - 1)
    bias = 2 ** (limits.bias_bits - 1)
    state = limits.neuron_state
    return {
        "weights": (4, "int", -weight, weight - 1, "int8 weights [out feature][in feature][x][y]"),
        "biases": (1, "int", -bias, bias - 1, "one bias per output feature"),
        "neurons_initial_value": (3, "int", *state, "initial neuron state [feature][x][y]"),
        "weights_kill_bit": (4, "bool", 0, 1, "legacy chips: disabled weights [f][c][x][y]"),
        "biases_kill_bit": (1, "bool", 0, 1, "legacy chips: disabled biases [f]"),
        "neurons_value_kill_bit": (3, "bool", 0, 1, "legacy chips: disabled neurons [f][x][y]"),
    }


def _limits() -> Limits:
    return next(iter(profiles().values())).limits


def _two(limits: Limits) -> tuple[int, int]:
    return limits.destinations, limits.destinations


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

    input_shape: Shape | None = value(_shape, struct=Shape)
    output_shape: Shape | None = value(_shape, struct=Shape)
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
    destinations: tuple[Destination, ...] = nodes(Destination, "the core's destination slots", _two,
                                                  required=True)
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
        DvsDestination, "where the sensor's events go", _two)
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
    threshold: int | None = value(integer(-(2 ** 15), 2 ** 16 - 1, "16-bit threshold"))
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

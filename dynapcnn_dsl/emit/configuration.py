"""Build the samna configuration document from a bound network.

The document's `config` tree uses samna's own snake_case attribute names for the chip
(shared/HARDWARE.md), so loading it into a real configuration object is a plain walk of setattr
calls (`dynapcnn_dsl.samna_bridge`). Conventions, as sinabs writes them:

- weights are stored [out][in][x][y]: torch's [out][in][y][x] with the kernel axes swapped;
- neurons_initial_value is [feature][x][y] over the conv output map;
- leak_enable is on when the core has a bias with any non-zero entry;
- a destination's `layer` is the physical core it feeds, or 12 for the readout;
- the DVS layer's `cut` is inclusive: origin + size - 1, in pooled coordinates.

What the language does not set is left out, so the bridge leaves it at samna's defaults: an
unused core is only `{destinations: both disabled, monitor_enable: false}`, an unused
destination slot only `{enable: false}`. Tensors stay numpy arrays in memory;
`dynapcnn_dsl.config.writer` writes them as JSON lists.

This module builds the typed values of `dynapcnn_dsl.config` (`emit_configuration`); the tree
(`emit_tree`) is what the pipeline and the API hand out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynapcnn_dsl import __version__
from dynapcnn_dsl.config import (
    FORMAT,
    VERSION,
    WEIGHT_FIELDS,
    XY,
    Annotations,
    ChipConfig,
    CnnLayer,
    Configuration,
    Destination,
    Dimensions,
    DvsDestination,
    DvsLayer,
    Input,
    Mirror,
    Readout,
    SamnaClass,
    Shape,
    Source,
    to_tree,
    unused_layer,
)
from dynapcnn_dsl.config.tree import structure_only, unused_core
from dynapcnn_dsl.link.data import Link, LinkedCore, LinkedNetwork
from dynapcnn_dsl.weights.quantize import QuantizedCore, QuantizedNetwork

__all__ = [
    "FORMAT",
    "VERSION",
    "WEIGHT_FIELDS",
    "cnn_layer",
    "dvs_layer",
    "emit_configuration",
    "emit_tree",
    "readout",
    "structure_only",
    "unused_core",
]


def _xy(x: int, y: int) -> XY:
    return XY(x=int(x), y=int(y))


def _shape(features: int, height: int, width: int) -> Shape:
    return Shape(feature_count=int(features), size=_xy(width, height))


def _destination(linked: LinkedNetwork, link: Link) -> Destination:
    return Destination(enable=True, layer=linked.layer_of(link), pooling=link.pool,
                       feature_shift=link.feature_shift)


def _slots(linked: LinkedNetwork, links: tuple[Link, ...]) -> tuple[Destination, ...]:
    slots = [Destination(enable=False)] * linked.chip.limits.destinations
    for n, link in enumerate(sorted(links, key=lambda x: x.slot)):
        slots[n] = _destination(linked, link)
    return tuple(slots)


def _decimator_interval(linked: LinkedNetwork, ratio: int) -> int:
    """output_decimator_interval 0..7 for 1/2 ... 1/512 (there is no 1/64)."""
    return linked.chip.limits.decimator_ratios.index(ratio)


def cnn_layer(linked: LinkedNetwork, core: LinkedCore, bound: QuantizedCore | None) -> CnnLayer:
    """One used core. A field left at None is absent from the document: the weights and
    thresholds without a weights file, the decimator, congestion balancer and kill bits on chips
    whose configuration lacks them."""
    out = core.output_shape
    chip = linked.chip
    f = core.out_features
    killed = None
    if chip.kill_bits:
        killed = np.zeros(f, dtype=bool)
        killed[list(core.kill_features)] = True
    return CnnLayer(
        dimensions=Dimensions(input_shape=_shape(*core.input_shape),
                              output_shape=_shape(f, out.height, out.width),
                              padding=_xy(*core.padding), stride=_xy(*core.stride), kernel_size=core.kernel),
        # torch's [y][x] kernel axes -> the chip's [x][y]
        weights=None if bound is None else np.ascontiguousarray(bound.weights.transpose(0, 1, 3, 2)),
        biases=None if bound is None else bound.bias if bound.bias is not None else np.zeros(f, np.int32),
        neurons_initial_value=None if bound is None else np.full((f, out.width, out.height),
                                                                 bound.initial_state, dtype=np.int32),
        threshold_high=None if bound is None else bound.threshold_high,
        threshold_low=None if bound is None else bound.threshold_low,
        return_to_zero=core.neuron.reset == "zero",
        leak_enable=None if bound is None else bool(bound.bias is not None and np.any(bound.bias)),
        monitor_enable=core.monitor,
        destinations=_slots(linked, core.destinations),
        input_congestion_balancer_enable=core.congestion_balancer if chip.congestion_balancer else None,
        output_decimator_enable=(core.decimator is not None) if chip.decimator else None,
        output_decimator_interval=(
            (_decimator_interval(linked, core.decimator) if core.decimator is not None else 0)
            if chip.decimator else None),
        # shaped as the weights: left out with them (WEIGHT_FIELDS)
        weights_kill_bit=None if killed is None or bound is None else np.broadcast_to(
            killed[:, None, None, None], (f, core.input_shape.features, core.kernel, core.kernel)).copy(),
        biases_kill_bit=None if killed is None else killed.copy(),
        neurons_value_kill_bit=None if killed is None else np.broadcast_to(
            killed[:, None, None], (f, out.width, out.height)).copy(),
    )


def dvs_layer(linked: LinkedNetwork) -> DvsLayer:
    inp = linked.input
    slots = linked.chip.limits.destinations
    if inp.source != "dvs":
        # Host events are written to the cores directly; the sensor's events are dropped.
        return DvsLayer(pass_sensor_events=False, destinations=(DvsDestination(enable=False),) * slots,
                        monitor_enable=False)
    px, py = inp.pool
    pooled_w, pooled_h = inp.shape.width // px, inp.shape.height // py
    origin = inp.crop_origin or (0, 0)
    size = inp.crop_size or (pooled_w, pooled_h)
    flip_x, flip_y, diagonal = inp.flip
    polarity = inp.polarity
    targets = [DvsDestination(enable=True, layer=linked.core(d.target).index) for d in inp.destinations]
    return DvsLayer(
        pass_sensor_events=True,
        destinations=(*targets, *[DvsDestination(enable=False)] * (slots - len(targets))),
        pooling=_xy(px, py),
        origin=_xy(*origin),
        cut=_xy(origin[0] + size[0] - 1, origin[1] + size[1] - 1),
        mirror=Mirror(x=flip_x, y=flip_y),
        mirror_diagonal=diagonal,
        # one channel (merge, on, off): the events the polarity filter keeps become feature 0;
        # without merge an on event would arrive as feature 1, outside a one-channel core
        merge=polarity != "both",
        on_channel=polarity in ("both", "on", "merge"),
        off_channel=polarity in ("both", "off", "merge"),
        monitor_enable=inp.monitor,
    )


def readout(linked: LinkedNetwork) -> Readout:
    """ReadoutConfig: off, or on with its threshold and low-pass window."""
    r = linked.readout
    if r is None:
        return Readout(enable=False)
    return Readout(enable=True, threshold=r.threshold, low_pass_filter_disable=r.low_pass_filter == 1,
                   low_pass_filter32_not16=r.low_pass_filter == 32, monitor_enable=r.monitor)


def emit_configuration(network: QuantizedNetwork | LinkedNetwork, *, network_file: str | None = None,
                        annotate: Annotations | None = None) -> Configuration:
    """The configuration as typed values. From a linked network without weights it is
    structure-only: the fields in WEIGHT_FIELDS are left out."""
    bound = network if isinstance(network, QuantizedNetwork) else None
    linked = network.linked if isinstance(network, QuantizedNetwork) else network
    chip = linked.chip
    layers = [unused_layer(chip.limits.destinations) for _ in range(chip.limits.cores)]
    for core in linked.cores:
        layers[core.index] = cnn_layer(linked, core, bound.core(core.name) if bound else None)
    # (whether dynapcnn's configuration has a readout at all is undocumented: not set there)
    has_readout = linked.readout is not None or chip.readout == "usable"
    return Configuration(
        format=FORMAT, version=VERSION, chip=chip.id,
        samna=SamnaClass(module=f"samna.{chip.samna_module}.configuration", class_=chip.config_class),
        generator=f"dynapcnn-dsl {__version__}",
        source=Source(network=network_file, weights=bound.weights_file if bound else None),
        # host events are written to input.layers; DVS events go through dvs_layer
        input=Input(source=linked.input.source, shape=tuple(linked.input.shape),
                    layers=tuple(linked.core(d.target).index for d in linked.input.destinations)),
        config=ChipConfig(cnn_layers=tuple(layers), dvs_layer=dvs_layer(linked),
                          readout=readout(linked) if has_readout else None),
        annotations=annotate)


def emit_tree(network: QuantizedNetwork | LinkedNetwork, *, network_file: str | None = None,
                   annotate: Annotations | None = None) -> dict[str, Any]:
    """The configuration document's tree (tensors as numpy int arrays): `emit_configuration`'s
    values as the dicts and lists the API hands out."""
    return to_tree(emit_configuration(network, network_file=network_file, annotate=annotate))

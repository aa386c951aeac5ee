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
`dynapcnn_dsl.documents.to_json` writes them as JSON lists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynapcnn_dsl import __version__
from dynapcnn_dsl.documents import FORMAT, VERSION, WEIGHT_FIELDS, structure_only, unused_core
from dynapcnn_dsl.link.data import Link, LinkedCore, LinkedNetwork
from dynapcnn_dsl.weights.quantize import QuantizedCore, QuantizedNetwork

__all__ = ["FORMAT", "VERSION", "WEIGHT_FIELDS", "build_document", "cnn_layer", "dvs_layer", "readout",
           "structure_only", "unused_core"]


def _xy(x: int, y: int) -> dict[str, int]:
    return {"x": int(x), "y": int(y)}


def _shape(features: int, height: int, width: int) -> dict[str, Any]:
    return {"feature_count": int(features), "size": _xy(width, height)}


def _destination(linked: LinkedNetwork, link: Link) -> dict[str, Any]:
    return {"enable": True, "layer": linked.layer_of(link), "pooling": link.pool,
            "feature_shift": link.feature_shift}


def _slots(linked: LinkedNetwork, links: tuple[Link, ...]) -> list[dict[str, Any]]:
    slots: list[dict[str, Any]] = [{"enable": False}, {"enable": False}]
    for n, link in enumerate(sorted(links, key=lambda x: x.slot)):
        slots[n] = _destination(linked, link)
    return slots


def _decimator_interval(linked: LinkedNetwork, ratio: int) -> int:
    """output_decimator_interval 0..7 for 1/2 ... 1/512 (there is no 1/64)."""
    return linked.chip.limits.decimator_ratios.index(ratio)


def cnn_layer(linked: LinkedNetwork, core: LinkedCore, bound: QuantizedCore | None) -> dict[str, Any]:
    out = core.output_shape
    layer: dict[str, Any] = {
        "dimensions": {
            "input_shape": _shape(*core.input_shape),
            "output_shape": _shape(core.out_features, out.height, out.width),
            "padding": _xy(*core.padding),
            "stride": _xy(*core.stride),
            "kernel_size": core.kernel,
        },
    }
    if bound is not None:
        weights = np.ascontiguousarray(bound.weights.transpose(0, 1, 3, 2))  # [y][x] -> [x][y]
        layer["weights"] = weights
        layer["biases"] = bound.bias if bound.bias is not None else np.zeros(core.out_features, np.int32)
        layer["neurons_initial_value"] = np.full((core.out_features, out.width, out.height),
                                                 bound.initial_state, dtype=np.int32)
        layer["threshold_high"] = bound.threshold_high
        layer["threshold_low"] = bound.threshold_low
    layer["return_to_zero"] = core.neuron.reset == "zero"
    if bound is not None:
        layer["leak_enable"] = bool(bound.bias is not None and np.any(bound.bias))
    layer["monitor_enable"] = core.monitor
    layer["destinations"] = _slots(linked, core.destinations)
    chip = linked.chip
    if chip.congestion_balancer:
        layer["input_congestion_balancer_enable"] = core.congestion_balancer
    if chip.decimator:
        layer["output_decimator_enable"] = core.decimator is not None
        layer["output_decimator_interval"] = (
            _decimator_interval(linked, core.decimator) if core.decimator is not None else 0)
    if chip.kill_bits:
        killed = np.zeros(core.out_features, dtype=bool)
        killed[list(core.kill_features)] = True
        c_in, k = core.input_shape.features, core.kernel
        if bound is not None:   # shaped as the weights: left out with them (WEIGHT_FIELDS)
            layer["weights_kill_bit"] = np.broadcast_to(
                killed[:, None, None, None], (core.out_features, c_in, k, k)).copy()
        layer["biases_kill_bit"] = killed.copy()
        layer["neurons_value_kill_bit"] = np.broadcast_to(
            killed[:, None, None], (core.out_features, out.width, out.height)).copy()
    return layer


def dvs_layer(linked: LinkedNetwork) -> dict[str, Any]:
    inp = linked.input
    if inp.source != "dvs":
        # Host events are written to the cores directly; the sensor's events are dropped.
        return {"pass_sensor_events": False, "destinations": [{"enable": False}, {"enable": False}],
                "monitor_enable": False}
    px, py = inp.pool
    pooled_w, pooled_h = inp.shape.width // px, inp.shape.height // py
    origin = inp.crop_origin or (0, 0)
    size = inp.crop_size or (pooled_w, pooled_h)
    flip_x, flip_y, diagonal = inp.flip
    polarity = inp.polarity
    return {
        "pass_sensor_events": True,
        "destinations": [
            {"enable": True, "layer": linked.core(d.target).index} for d in inp.destinations
        ] + [{"enable": False}] * (2 - len(inp.destinations)),
        "pooling": _xy(px, py),
        "origin": _xy(*origin),
        "cut": _xy(origin[0] + size[0] - 1, origin[1] + size[1] - 1),
        "mirror": {"x": flip_x, "y": flip_y},
        "mirror_diagonal": diagonal,
        # one channel (merge, on, off): the events the polarity filter keeps become feature 0;
        # without merge an on event would arrive as feature 1, outside a one-channel core
        "merge": polarity != "both",
        "on_channel": polarity in ("both", "on", "merge"),
        "off_channel": polarity in ("both", "off", "merge"),
        "monitor_enable": inp.monitor,
    }


def readout(linked: LinkedNetwork) -> dict[str, Any]:
    """ReadoutConfig: off, or on with its threshold and low-pass window."""
    r = linked.readout
    if r is None:
        return {"enable": False}
    return {
        "enable": True,
        "threshold": r.threshold,
        "low_pass_filter_disable": r.low_pass_filter == 1,
        "low_pass_filter32_not16": r.low_pass_filter == 32,
        "monitor_enable": r.monitor,
    }


def build_document(network: QuantizedNetwork | LinkedNetwork, *, network_file: str | None = None,
                   annotate: dict[str, Any] | None = None) -> dict[str, Any]:
    """The configuration document (tensors as numpy int arrays). From a linked network without
    weights the document is structure-only: the fields in WEIGHT_FIELDS are left out."""
    bound = network if isinstance(network, QuantizedNetwork) else None
    linked = network.linked if isinstance(network, QuantizedNetwork) else network
    layers: list[dict[str, Any]] = [unused_core() for _ in range(linked.chip.limits.cores)]
    for core in linked.cores:
        layers[core.index] = cnn_layer(linked, core, bound.core(core.name) if bound else None)
    chip = linked.chip
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "chip": chip.id,
        "samna": {"module": f"samna.{chip.samna_module}.configuration", "class": chip.config_class},
        "generator": f"dynapcnn-dsl {__version__}",
        "source": {"network": network_file, "weights": bound.weights_file if bound else None},
        "input": {
            "source": linked.input.source,
            "shape": list(linked.input.shape),
            # host events are written to these cores; DVS events go through dvs_layer
            "layers": [linked.core(d.target).index for d in linked.input.destinations],
        },
        "config": {"cnn_layers": layers, "dvs_layer": dvs_layer(linked)},
    }
    if linked.readout is not None or chip.readout == "usable":
        # (whether dynapcnn's configuration has a readout at all is undocumented: not set there)
        doc["config"]["readout"] = readout(linked)
    if annotate is not None:
        doc["annotations"] = annotate
    return doc

"""A sinabs `DynapcnnNetwork` as a network: the cores sinabs already cut the model into.

A DynapcnnNetwork (sinabs 3.1.3) holds its DynapcnnLayers (a convolution, an IAFSqueeze, one
pooling per destination), the map of each layer's destinations (negative: an exit of the
network), its entry points or DVS layer, and, once `make_config` or `to` ran, the
layer-to-core map. So it is already a network of cores, and it is written as one, no tracing:
each DynapcnnLayer is a core `layer<i>` (sinabs's own index, as `layer2core_map` and
`monitor_layers` speak of it), pinned by `index:` to the core sinabs chose for it.

What sinabs did to the model is kept as it is: AvgPool2d already folded into the receiving
weights (sum pooling remains on the links), and, when the network was made with
`discretize=True` (sinabs's default), weights and thresholds already the chip's integers
(floats holding whole numbers): the network then says `quantize: none`, so it rebuilds to the
configuration sinabs's `make_config` writes. The tensors keep the DynapcnnNetwork's own
state_dict names, so `torch.save(net.state_dict())` rebuilds it too.

sinabs's backend package imports samna: this module never imports it, it reads the object the
user hands over, recognised by its class name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynapcnn_dsl.chips import shared_limits
from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.importer.plan import Dest, Plan, PlannedCore

CLASS = "DynapcnnNetwork"
PACKAGE = "sinabs.backend.dynapcnn"
PREFIX = "_dynapcnn_module._dynapcnn_layers"
UNBOUNDED = shared_limits().threshold_low[0]
"""sinabs's threshold_low for a neuron without min_v_mem: the chip's lowest (-32768)."""


def is_dynapcnn_network(obj: Any) -> bool:
    """Whether `obj` is a sinabs DynapcnnNetwork (or a subclass), known by name: importing its
    package to check would import samna."""
    return any(c.__name__ == CLASS and c.__module__.startswith(PACKAGE) for c in type(obj).__mro__)


def _pool(pool: Any) -> int:
    """sinabs keeps a pooling as [k, k] (square: its DynapcnnLayer refuses others)."""
    values = np.atleast_1d(np.asarray(pool, dtype=int))
    return int(values[0])


class DynapcnnNetworkReader:
    """Reads a sinabs DynapcnnNetwork's layers, destination map and layer-to-core map straight
    into a plan (it is cores already), taking the tensors the cores bind."""

    def __init__(self, net: Any, chip: str, source: str) -> None:
        self.net = net
        self.chip = chip
        self.source = source
        self.layers: dict[int, Any] = dict(net.dynapcnn_layers)
        self.dests: dict[Any, list[int]] = dict(net.layer_destination_map)
        self.cores: dict[int, int] | None = net.layer2core_map
        self.state = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
        self.tensors: dict[str, np.ndarray] = {}
        self.diagnostics: list[Diagnostic] = []
        self.discretized = all(bool(layer.discretize) for layer in self.layers.values())

    def warn(self, message: str, hint: str) -> None:
        self.diagnostics.append(Diagnostic(self.source, None, Severity.WARNING, "import-sinabs",
                                           message, hint))

    @staticmethod
    def name(index: int) -> str:
        return f"layer{index}"

    def take(self, key: str) -> None:
        self.tensors[key] = np.require(np.array(self.state[key], copy=True), requirements="C")

    def sources(self, index: int) -> int:
        return sum(1 for dests in self.dests.values() for d in dests if d == index)

    def neuron(self, index: int, spk: Any) -> tuple[dict[str, Any], str | None]:
        prefix = f"{PREFIX}.{index}.spk"
        reset = {"reset": "zero"} if type(spk.reset_fn).__name__ == "MembraneReset" else {}
        note = None
        if spk.min_v_mem is not None and f"{prefix}.min_v_mem" in self.state:
            keys: dict[str, Any] = {"weights": prefix}
            self.take(f"{prefix}.spike_threshold")
            self.take(f"{prefix}.min_v_mem")
        elif self.discretized:   # integers already: -32768 is what sinabs's config writes
            keys = {"threshold": int(float(spk.spike_threshold)), "min_v_mem": UNBOUNDED}
            note = "min_v_mem None in sinabs: its config writes -32768"
        else:   # floats the compiler quantizes: -32768 would force the scale to 1 (all weights 0)
            threshold = float(spk.spike_threshold)
            keys = {"threshold": threshold, "min_v_mem": -threshold}
            self.diagnostics.append(Diagnostic(
                self.source, None, Severity.WARNING, "import-min-v-mem",
                f"layer {index}'s neuron has no lower bound on its state (min_v_mem=None); the chip "
                f"needs one: min_v_mem {-threshold:g} (minus the threshold) is written",
                "set min_v_mem on the sinabs layer (sinabs would take -32768, which forces the "
                "quantization scale down to 1)"))
            note = "min_v_mem None in sinabs: minus the threshold is written"
        if spk.is_state_initialised() and spk.v_mem.numel() and bool((spk.v_mem != 0).any()):
            self.warn(f"layer {index}'s neurons hold a state (the network ran): sinabs would write it "
                      "as their initial values; the network file starts them at 0",
                      "call net.reset_states() before importing, or set the states on the device")
        return {**keys, **reset}, note

    def core(self, index: int, layer: Any) -> PlannedCore:
        conv, spk = layer.conv_layer, layer.spk_layer
        prefix = f"{PREFIX}.{index}.conv"
        keys: dict[str, Any] = {"out_channels": int(conv.out_channels), "kernel": int(conv.kernel_size[0])}
        # plain ints: a network made by sinabs.from_nir holds numpy integers here
        (sy, sx), (py, px) = ((int(a), int(b)) for a, b in (conv.stride, conv.padding))
        if (sy, sx) != (1, 1):
            keys["stride"] = sx if sx == sy else {"x": sx, "y": sy}
        if (py, px) != (0, 0):
            keys["padding"] = px if px == py else {"x": px, "y": py}
        self.take(f"{prefix}.weight")
        if conv.bias is not None and bool(conv.bias.detach().any()):   # sinabs: leak_enable = any bias
            keys["bias"] = True
            self.take(f"{prefix}.bias")
        neuron, note = self.neuron(index, spk)
        to = tuple(Dest(self.name(d), _pool(p)) for d, p in zip(self.dests.get(index, ()), layer.pool,
                                                                   strict=False) if d >= 0)
        exits = any(d < 0 for d in self.dests.get(index, ()))
        modules = [f"DynapcnnLayer {index}: {type(conv).__name__}, {type(spk).__name__}"]
        if float(layer.rescale_weights) != 1.0:
            modules.append(f"weights x{float(layer.rescale_weights):g} (AvgPool folded by sinabs)")
        return PlannedCore(
            name=self.name(index), conv=keys, weights=prefix, neuron=neuron, to=to,
            merge="sum" if self.sources(index) > 1 else None,
            index=None if self.cores is None else int(self.cores[index]), monitor=exits,
            modules=tuple(modules), neuron_note=note)

    def input(self) -> dict[str, Any]:
        from dynapcnn_dsl.importer.dvs_layer import dvs_input

        dvs = self.net.dvs_layer
        if dvs is None:
            c, h, w = (int(n) for n in self.net.input_shape)
            entries = sorted(self.net.dynapcnn_module.entry_points)
            return {"source": "host", "shape": [c, h, w], "to": [self.name(i) for i in entries]}
        if dvs.disable_pixel_array:
            self.warn("sinabs's DVSLayer has its pixel array disabled (the network was made with "
                      "dvs_input other than True): the network file's DVS input passes the "
                      "sensor's events", "make the DynapcnnNetwork with dvs_input=True, or drop "
                      "the DVSLayer to feed events from the host")
        keys = dvs_input(dvs).keys()
        keys["to"] = [self.name(d) for d in self.dests.get("dvs", ())]
        return keys

    def plan(self) -> Plan:
        if self.cores is None:
            self.warn("the DynapcnnNetwork was never mapped to cores (neither make_config nor to "
                      "ran): the compiler places the cores, no `index:` is written",
                      "call net.make_config(...) before importing to pin sinabs's placement")
        if not self.discretized:
            self.warn("the DynapcnnNetwork was made with discretize=False: its float weights are "
                      "quantized by the compiler (`quantize: auto`), not as sinabs would",
                      "make it with discretize=True (sinabs's default) to keep sinabs's integers")
        inp = self.input()
        cores = tuple(self.core(i, layer) for i, layer in sorted(self.layers.items()))
        return Plan(chip=self.chip, input=inp, cores=cores, tensors=tuple(self.tensors),
                    name=CLASS, quantize="none" if self.discretized else "auto",
                    header=(f"imported from {self.source} (a sinabs DynapcnnNetwork) by "
                            "dynapcnn-dsl import",))


def plan_of(net: Any, chip: str, source: str) -> tuple[Plan, dict[str, np.ndarray], list[Diagnostic]]:
    """The plan of a DynapcnnNetwork, the tensors it binds, and the warnings."""
    reader = DynapcnnNetworkReader(net, chip, source)
    plan = reader.plan()
    return plan, reader.tensors, reader.diagnostics

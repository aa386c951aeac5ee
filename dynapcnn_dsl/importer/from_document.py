"""A configuration document decompiled into a network: a hand-made (or device-read)
configuration comes under version control, and `diff` then speaks of names, not slots.

The document holds the chip's integers, so the network says `quantize: none` and the weights
file holds them as they are (torch's [out][in][y][x] layout, int8 weights and int16 biases);
each core is pinned to its physical core (`index:`) so that a rebuild lands every core where it
was. Core names are the annotations' (`build --annotate`) where the document has them, else
`core<i>`. Rebuilding the written network gives the same document. The document is read as the
typed values of `dynapcnn_dsl.config`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynapcnn_dsl.chips.facts import LIMITS
from dynapcnn_dsl.config import CnnLayer, Configuration, Destination, Readout, from_tree
from dynapcnn_dsl.config.model import core_path
from dynapcnn_dsl.diagnostics import CodedError, Diagnostic, Severity
from dynapcnn_dsl.importer.plan import Dest, Plan, PlannedCore
from dynapcnn_dsl.rules.cores import NAME, RESERVED

READOUT_LAYER = LIMITS["readout_layer"]


class Malformed(CodedError):
    """The document lacks what a built document has."""

    code = "import-source"
    file = "<document>"

    def __init__(self, message: str,
                 hint: str = "give a document written by `dynapcnn-dsl build` with weights") -> None:
        super().__init__(message, hint)


def _incomplete(what: str) -> Malformed:
    return Malformed(f"not a configuration document of this tool: {what}",
                     "give a document written by `dynapcnn-dsl build`")


def _valid(name: Any) -> bool:
    """An annotation usable as a core name (the `core-name` rule's): anything else, a name with
    a newline or a quote included, gives way to `core<i>` rather than a file that does not build."""
    return (isinstance(name, str) and name not in RESERVED
            and all(NAME.match(part) for part in name.split(".")))


def _tiles(shifts: list[tuple[int, int, str]]) -> bool:
    """Whether (shift, features) pairs tile 0, C1, C1+C2, ... as the linker computes them."""
    start = 0
    for shift, features, _ in sorted(shifts):
        if shift != start:
            return False
        start += features
    return True


class _Decompiler:
    def __init__(self, doc: Configuration, source: str) -> None:
        from dynapcnn_dsl.chips import resolve_chip

        self.doc = doc
        self.source = source
        chip = resolve_chip(str(doc.chip))
        if chip is None:
            raise Malformed(f"the document is for an unknown chip '{doc.chip}'")
        self.chip = chip
        self.layers: tuple[CnnLayer, ...] = doc.config.cnn_layers
        self.used = doc.used()
        if not self.used:
            raise Malformed("the document uses no core")
        if any(self.layers[i].weights is None for i in self.used):
            raise Malformed("the document was built without weights (structure only): there are "
                            "no integers to decompile")
        self.names = {i: name if _valid(name) else f"core{i}" for i, name in enumerate(doc.core_names())}
        self.tensors: dict[str, np.ndarray] = {}
        self.diagnostics: list[Diagnostic] = []
        self.readout_core: int | None = None

    def note(self, message: str, hint: str) -> None:
        self.diagnostics.append(Diagnostic(self.source, None, Severity.WARNING, "import-document",
                                           message, hint))

    def destinations(self, i: int) -> tuple[Destination, ...]:
        return self.layers[i].enabled()

    def out_features(self, i: int) -> int:
        return int(self.layers[i].dimensions.output_shape.feature_count)  # type: ignore[union-attr]

    def sources_of(self, target: int) -> list[tuple[int, int, str]]:
        """(feature_shift, features, name) of each core sending to `target`."""
        return [(int(d.feature_shift or 0), self.out_features(i), self.names[i])
                for i in self.used for d in self.destinations(i) if d.layer == target]

    def readout(self) -> tuple[dict[str, Any] | None, int | None]:
        """The readout's keys and its classes (errata remap: class k on feature 4(k-1))."""
        r = self.doc.config.readout or Readout(enable=False)
        feeding = [i for i in self.used if any(d.layer == READOUT_LAYER for d in self.destinations(i))]
        if not r.enable or not feeding:
            return None, None
        i = feeding[0]
        out = self.out_features(i)
        w = np.asarray(self.layers[i].weights)
        spacing = LIMITS["readout_errata_spacing"]
        spread = self.chip.readout == "usable" and (out - 1) % spacing == 0 and not np.any(
            np.delete(w, np.arange(0, out, spacing), axis=0))
        classes = (out - 1) // spacing + 1 if spread else out
        keys: dict[str, Any] = {"from": self.names[i], "classes": classes, "threshold": int(r.threshold or 0)}
        if r.window != 16:
            keys["low_pass_filter"] = r.window
        keys["errata_remap"] = bool(spread)
        if r.monitor_enable:
            keys["monitor"] = True
        self.readout_core = i
        return keys, classes if spread else None

    def core(self, i: int, compact_classes: int | None) -> PlannedCore:
        layer, name = self.layers[i], self.names[i]
        dims = layer.dimensions
        if dims is None or dims.stride is None or dims.padding is None or dims.kernel_size is None:
            raise _incomplete(f"{core_path(i)} is used but does not give its kernel, stride and padding")
        sx, sy = dims.stride.x, dims.stride.y
        px, py = dims.padding.x, dims.padding.y
        conv: dict[str, Any] = {"out_channels": self.out_features(i), "kernel": int(dims.kernel_size)}
        if (sx, sy) != (1, 1):
            conv["stride"] = sx if sx == sy else {"x": sx, "y": sy}
        if (px, py) != (0, 0):
            conv["padding"] = px if px == py else {"x": px, "y": py}
        weights = np.asarray(layer.weights).transpose(0, 1, 3, 2)          # [x][y] -> [y][x]
        bias = np.asarray(layer.biases) if layer.leak_enable else None
        if compact_classes is not None:                                    # undo the errata spread
            conv["out_channels"] = compact_classes
            spacing = LIMITS["readout_errata_spacing"]
            weights = weights[0: spacing * compact_classes: spacing]
            bias = bias[0: spacing * compact_classes: spacing] if bias is not None else None
        self.tensors[f"{name}.weight"] = weights.astype(np.int8)
        if bias is not None:
            conv["bias"] = True
            self.tensors[f"{name}.bias"] = bias.astype(np.int16)
        state = np.asarray(layer.neurons_initial_value)
        neuron: dict[str, Any] = {"threshold": int(layer.threshold_high),  # type: ignore[arg-type]
                                  "min_v_mem": int(layer.threshold_low)}   # type: ignore[arg-type]
        if layer.return_to_zero:
            neuron["reset"] = "zero"
        if state.size and np.any(state != state.flat[0]):
            self.note(f"core '{name}' ({core_path(i)}) starts its neurons at different states; "
                      f"the language has one initial state per core: {int(state.flat[0])} is written",
                      "set the states after loading the configuration, if they matter")
        if state.size and state.flat[0] != 0:
            neuron["initial_state"] = int(state.flat[0])
        return PlannedCore(name=name, conv=conv, weights=name, neuron=neuron, to=self.to(i),
                           index=i, monitor=bool(layer.monitor_enable),
                           modules=(core_path(i),), extra=self.extra(i), **self.merge(i))

    def to(self, i: int) -> tuple[Dest, ...]:
        dests = []
        for d in self.destinations(i):
            if d.layer == READOUT_LAYER:
                continue  # the readout's `from:` says it
            target = int(d.layer)  # type: ignore[arg-type]
            shifts = self.sources_of(target)
            explicit = len(shifts) > 1 and len({s for s, _, _ in shifts}) > 1 and not _tiles(shifts)
            dests.append(Dest(self.names[target], int(d.pooling or 1),
                              feature_shift=int(d.feature_shift or 0) if explicit else None))
        return tuple(dests)

    def merge(self, i: int) -> dict[str, Any]:
        shifts = self.sources_of(i)
        if len(shifts) < 2:
            return {}
        if len({s for s, _, _ in shifts}) == 1:
            return {"merge": "sum"}
        return {"merge": "concat", "from_": tuple(n for _, _, n in sorted(shifts))}

    def extra(self, i: int) -> dict[str, Any]:
        layer, extra = self.layers[i], {}
        if layer.output_decimator_enable:
            extra["decimator"] = self.chip.limits.decimator_ratios[int(layer.output_decimator_interval or 0)]
        if layer.input_congestion_balancer_enable:
            extra["congestion_balancer"] = True
        if layer.biases_kill_bit is not None and np.any(layer.biases_kill_bit):
            extra["kill_features"] = [int(f) for f in np.flatnonzero(layer.biases_kill_bit)]
        return extra

    def input(self) -> dict[str, Any]:
        inp = self.doc.input
        if inp is None or inp.shape is None:
            raise _incomplete("the document does not say where its input goes")
        keys: dict[str, Any] = {"source": inp.source, "shape": [int(n) for n in inp.shape]}
        layer_to_name = {i: self.names[i] for i in self.used}
        if inp.source != "dvs":
            keys["to"] = [layer_to_name[int(n)] for n in inp.layers or ()]
            return keys
        dvs = self.doc.config.dvs_layer
        if dvs is None or dvs.pooling is None or dvs.origin is None or dvs.cut is None:
            raise _incomplete("the input is the DVS, but the DVS layer does not give its pooling and crop")
        px, py = dvs.pooling.x, dvs.pooling.y
        if (px, py) != (1, 1):
            keys["pool"] = px if px == py else {"x": px, "y": py}
        origin, cut = dvs.origin, dvs.cut
        size = {"x": cut.x - origin.x + 1, "y": cut.y - origin.y + 1}  # type: ignore[operator]
        _, h, w = keys["shape"]
        if (origin.x, origin.y) != (0, 0) or (size["x"], size["y"]) != (w // px, h // py):  # type: ignore[operator]
            keys["crop"] = {"origin": {"x": origin.x, "y": origin.y}, "size": size}
        mirror = dvs.mirror
        flip = {"x": bool(mirror.x if mirror else False), "y": bool(mirror.y if mirror else False),
                "diagonal": bool(dvs.mirror_diagonal)}
        if any(flip.values()):
            keys["flip"] = flip
        on = dvs.on_channel if dvs.on_channel is not None else True
        off = dvs.off_channel if dvs.off_channel is not None else True
        # one polarity kept is one channel: build sets merge for it too (the events' feature 0)
        polarity = ("merge" if dvs.merge else "both") if on and off else "on" if on else "off"
        if polarity != "both":
            keys["polarity"] = polarity
        if dvs.monitor_enable:
            keys["monitor"] = True
        keys["to"] = [layer_to_name[t] for t in dvs.targets()]
        return keys

    def plan(self) -> Plan:
        readout, compact = self.readout()
        cores = tuple(self.core(i, compact if i == self.readout_core else None) for i in self.used)
        return Plan(chip=self.chip.id, input=self.input(), cores=cores, tensors=tuple(self.tensors),
                    quantize="none", readout=readout,
                    header=(f"decompiled from {self.source} by dynapcnn-dsl import: the chip's "
                            "integers, each core pinned to its physical core",))


def decompile(doc: dict[str, Any] | Configuration, source: str = "<document>"
              ) -> tuple[Plan | None, dict[str, np.ndarray], list[Diagnostic]]:
    """The plan and integer tensors of a configuration document (its tree or typed values), or
    why there are none."""
    try:
        d = _Decompiler(doc if isinstance(doc, Configuration) else from_tree(doc), source)
        plan = d.plan()
    except Malformed as exc:
        return None, {}, exc.refiled(source).diagnostics
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        return None, {}, [Diagnostic(source, None, Severity.ERROR, "import-source",
                                     f"not a configuration document of this tool: {type(exc).__name__} "
                                     f"{exc}", "give a document written by `dynapcnn-dsl build`")]
    return plan, d.tensors, d.diagnostics

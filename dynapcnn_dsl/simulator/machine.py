"""The configuration document read into what the simulator needs: plain immutable values.

The simulator's input is the document `build` writes (emit/document.py), not a network: what
runs is what would be loaded on the chip. This module reads the document's tree once, checks
every field the simulation uses (types, shapes, chip bounds, so nothing later indexes out of an
array), and returns a `Machine`, or diagnostics naming the document file and the field's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dynapcnn_dsl.chips.facts import CHIPS, LIMITS
from dynapcnn_dsl.diagnostics import Diagnostic, Severity

READOUT_LAYER = LIMITS["readout_layer"]


@dataclass(frozen=True)
class Destination:
    """An enabled destination slot: a core (with pooling and feature shift) or the readout."""

    layer: int
    pool: int = 1
    feature_shift: int = 0


@dataclass(frozen=True)
class Core:
    """One used core. `weights` is [f][c][kx][ky] and `initial` [f][x][y], as the document."""

    index: int
    name: str
    input_shape: tuple[int, int, int]       # C, H, W
    output_shape: tuple[int, int, int]      # F, H, W (the conv output, before pooling)
    kernel: int
    stride: tuple[int, int]                 # x, y
    padding: tuple[int, int]                # x, y
    weights: np.ndarray
    bias: np.ndarray
    initial: np.ndarray
    threshold_high: int
    threshold_low: int
    reset_to_zero: bool
    leak: bool
    monitor: bool
    destinations: tuple[Destination | None, Destination | None]
    decimation: int                         # N of a 1/N decimator; 0 without one
    congestion_balancer: bool


@dataclass(frozen=True)
class DvsLayer:
    on: bool
    off: bool
    merge: bool
    pool: tuple[int, int]
    origin: tuple[int, int]
    cut: tuple[int, int]                    # inclusive, in pooled coordinates
    mirror: tuple[bool, bool]
    diagonal: bool
    monitor: bool
    destinations: tuple[int, ...]           # enabled slots' cores, slot 0 first


@dataclass(frozen=True)
class Readout:
    threshold: int
    window: int                             # low-pass window in slow-clock ticks: 1, 16 or 32
    errata: bool                            # class k is feature 4(k-1)
    classes: int


@dataclass(frozen=True)
class Machine:
    chip: str
    source: str                             # "host" or "dvs"
    input_shape: tuple[int, int, int]       # C, H, W of the input events
    input_layers: tuple[int, ...]           # host events go to these cores, in this order
    cores: tuple[Core | None, ...]          # by physical index
    dvs: DvsLayer | None
    readout: Readout | None

    def name(self, index: int) -> str:
        core = self.cores[index]
        return core.name if core is not None else f"core{index}"

    @property
    def used(self) -> tuple[Core, ...]:
        return tuple(c for c in self.cores if c is not None)

    def loops(self) -> list[tuple[int, ...]]:
        """The cycles of the destination graph, each once, as core indices from its lowest."""
        found: list[tuple[int, ...]] = []
        for start in (c.index for c in self.used):
            stack: list[tuple[int, tuple[int, ...]]] = [(start, (start,))]
            while stack:
                node, path = stack.pop()
                for d in self.cores[node].destinations:  # type: ignore[union-attr]
                    if d is None or d.layer == READOUT_LAYER:
                        continue
                    if d.layer == start:
                        found.append(path)
                    elif d.layer > start and d.layer not in path:
                        stack.append((d.layer, (*path, d.layer)))
        return sorted(set(found))


class _Bad(Exception):
    """A field of the document that the simulation cannot use: its path and what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


def _get(node: Any, key: str | int, path: str) -> Any:
    where = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
    if isinstance(key, str):
        if not isinstance(node, dict) or key not in node:
            raise _Bad(where, "missing")
        return node[key]
    if not isinstance(node, list) or not 0 <= key < len(node):
        raise _Bad(where, "missing")
    return node[key]


def _int(node: Any, key: str | int, path: str, lo: int, hi: int) -> int:
    value = _get(node, key, path)
    where = f"{path}.{key}"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise _Bad(where, f"must be an integer, not {type(value).__name__}")
    if not lo <= int(value) <= hi:
        raise _Bad(where, f"{int(value)} is outside {lo}..{hi}")
    return int(value)


def _bool(node: Any, key: str, path: str, default: bool | None = None) -> bool:
    if default is not None and (not isinstance(node, dict) or key not in node):
        return default
    value = _get(node, key, path)
    if not isinstance(value, bool | np.bool_):
        raise _Bad(f"{path}.{key}", f"must be true or false, not {type(value).__name__}")
    return bool(value)


def _xy(node: Any, key: str, path: str, lo: int, hi: int) -> tuple[int, int]:
    value = _get(node, key, path)
    return _int(value, "x", f"{path}.{key}", lo, hi), _int(value, "y", f"{path}.{key}", lo, hi)


def _tensor(node: Any, key: str, path: str, shape: tuple[int, ...], lo: int, hi: int) -> np.ndarray:
    value = _get(node, key, path)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise _Bad(f"{path}.{key}", f"not a tensor ({exc})") from None
    if arr.shape != shape:
        raise _Bad(f"{path}.{key}", f"has shape {list(arr.shape)}, expected {list(shape)}")
    if arr.size and arr.dtype.kind not in "iub":
        raise _Bad(f"{path}.{key}", f"must hold integers, not {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise _Bad(f"{path}.{key}", f"values must lie in {lo}..{hi}")
    return arr.astype(np.int32)


def _shape(node: Any, path: str) -> tuple[int, int, int]:
    features = _int(node, "feature_count", path, *LIMITS["features"])
    width, height = _xy(node, "size", path, 1, LIMITS["input_map"])
    return features, height, width


def _destination(slot: Any, path: str, cores: int) -> Destination | None:
    if not _bool(slot, "enable", path):
        return None
    layer = _int(slot, "layer", path, 0, READOUT_LAYER)
    if layer >= cores and layer != READOUT_LAYER:
        raise _Bad(f"{path}.layer", f"{layer} is neither a core (0..{cores - 1}) nor the readout (12)")
    pool = _int(slot, "pooling", path, 1, max(LIMITS["pool"])) if "pooling" in slot else 1
    shift = _int(slot, "feature_shift", path, *LIMITS["feature_shift"]) if "feature_shift" in slot else 0
    return Destination(layer, pool, shift)


def _core(layer: Any, index: int, name: str, path: str, chip: dict[str, Any]) -> Core:
    dims = _get(layer, "dimensions", path)
    dpath = f"{path}.dimensions"
    c, h, w = _shape(_get(dims, "input_shape", dpath), f"{dpath}.input_shape")
    f, ho, wo = _shape(_get(dims, "output_shape", dpath), f"{dpath}.output_shape")
    k = _int(dims, "kernel_size", dpath, *LIMITS["kernel"])
    stride = _xy(dims, "stride", dpath, 1, max(LIMITS["stride"]))
    padding = _xy(dims, "padding", dpath, *LIMITS["padding"])
    state = LIMITS["neuron_state"]
    slots = _get(layer, "destinations", path)
    if not isinstance(slots, list) or len(slots) != LIMITS["destinations"]:
        raise _Bad(f"{path}.destinations", f"must be a list of {LIMITS['destinations']} slots")
    destinations = tuple(_destination(s, f"{path}.destinations[{i}]", LIMITS["cores"])
                         for i, s in enumerate(slots))
    decimation = 0
    if chip["decimator"] and _bool(layer, "output_decimator_enable", path, default=False):
        interval = _int(layer, "output_decimator_interval", path, 0, len(LIMITS["decimator_ratios"]) - 1)
        decimation = LIMITS["decimator_ratios"][interval]
    return Core(
        index=index, name=name, input_shape=(c, h, w), output_shape=(f, ho, wo), kernel=k,
        stride=stride, padding=padding,
        weights=_tensor(layer, "weights", path, (f, c, k, k), -(2 ** 15), 2 ** 15 - 1),
        bias=_tensor(layer, "biases", path, (f,), *state),
        initial=_tensor(layer, "neurons_initial_value", path, (f, wo, ho), *state),
        threshold_high=_int(layer, "threshold_high", path, *state),
        threshold_low=_int(layer, "threshold_low", path, *state),
        reset_to_zero=_bool(layer, "return_to_zero", path),
        leak=_bool(layer, "leak_enable", path),
        monitor=_bool(layer, "monitor_enable", path, default=False),
        destinations=destinations,  # type: ignore[arg-type]
        decimation=decimation,
        congestion_balancer=_bool(layer, "input_congestion_balancer_enable", path, default=False),
    )


def _dvs(node: Any, path: str) -> DvsLayer:
    pool = _xy(node, "pooling", path, 1, max(LIMITS["dvs_pool"]))
    origin = _xy(node, "origin", path, 0, LIMITS["dvs_sensor_size"] - 1)
    cut = _xy(node, "cut", path, 0, LIMITS["dvs_sensor_size"] - 1)
    mirror = _get(node, "mirror", path)
    slots = _get(node, "destinations", path)
    if not isinstance(slots, list):
        raise _Bad(f"{path}.destinations", "must be a list of slots")
    targets = tuple(_int(s, "layer", f"{path}.destinations[{i}]", 0, LIMITS["cores"] - 1)
                    for i, s in enumerate(slots) if _bool(s, "enable", f"{path}.destinations[{i}]"))
    return DvsLayer(
        on=_bool(node, "on_channel", path), off=_bool(node, "off_channel", path),
        merge=_bool(node, "merge", path), pool=pool, origin=origin, cut=cut,
        mirror=(_bool(mirror, "x", f"{path}.mirror"), _bool(mirror, "y", f"{path}.mirror")),
        diagonal=_bool(node, "mirror_diagonal", path), monitor=_bool(node, "monitor_enable", path),
        destinations=targets)


def _readout(node: Any, cores: tuple[Core | None, ...], errata: bool) -> Readout | None:
    path = "config.readout"
    if not isinstance(node, dict) or not _bool(node, "enable", path):
        return None
    window = 1 if _bool(node, "low_pass_filter_disable", path, default=False) else (
        32 if _bool(node, "low_pass_filter32_not16", path, default=False) else 16)
    features = max((c.output_shape[0] for c in cores if c is not None
                    and any(d is not None and d.layer == READOUT_LAYER for d in c.destinations)),
                   default=0)
    classes = min((features + 3) // 4 if errata else features, LIMITS["readout_classes"])
    return Readout(_int(node, "threshold", path, 0, 2 ** 16 - 1), window, errata, classes)


def _names(doc: dict[str, Any], cores: int) -> list[str]:
    """Each slot's YAML name from the document's annotations, `core<i>` otherwise."""
    names = [f"core{i}" for i in range(cores)]
    slots = doc.get("annotations", {}).get("cnn_layers") if isinstance(doc.get("annotations"), dict) else None
    if isinstance(slots, list):
        for i, slot in enumerate(slots[:cores]):
            if isinstance(slot, dict) and isinstance(slot.get("core"), str):
                names[i] = slot["core"]
    return names


def read_machine(doc: Any, file: str) -> tuple[Machine | None, list[Diagnostic]]:
    """The machine a document configures, or the diagnostics saying why it cannot run."""
    def error(code: str, message: str, hint: str | None = None) -> list[Diagnostic]:
        return [Diagnostic(file, None, Severity.ERROR, code, message, hint)]

    from dynapcnn_dsl.config.model import FORMAT
    from dynapcnn_dsl.config.tree import structure_only

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None, error("simulate-document", f"not a configuration document (no format '{FORMAT}')",
                           "simulate takes the .json that `dynapcnn-dsl build` writes, or a network "
                           "file and its weights")
    if structure_only(doc):
        return None, error("simulate-structure-only",
                           "the document was built without weights: there is nothing to compute",
                           "build it with its weights file, or pass NETWORK WEIGHTS to simulate")
    try:
        chip = CHIPS.get(doc.get("chip"))  # type: ignore[arg-type]
        if chip is None:
            raise _Bad("chip", f"unknown chip {doc.get('chip')!r}")
        config = _get(doc, "config", "")
        layers = _get(config, "cnn_layers", "config")
        if not isinstance(layers, list) or len(layers) != LIMITS["cores"]:
            raise _Bad("config.cnn_layers", f"must list {LIMITS['cores']} cores")
        names = _names(doc, LIMITS["cores"])
        cores = tuple(
            _core(layer, i, names[i], f"config.cnn_layers[{i}]", chip)
            if isinstance(layer, dict) and "dimensions" in layer else None
            for i, layer in enumerate(layers))
        inp = _get(doc, "input", "")
        source = _get(inp, "source", "input")
        if source not in ("host", "dvs"):
            raise _Bad("input.source", f"must be 'host' or 'dvs', not {source!r}")
        shape = _get(inp, "shape", "input")
        if not isinstance(shape, list) or len(shape) != 3:
            raise _Bad("input.shape", "must be [C, H, W]")
        c = _int(shape, 0, "input.shape", *LIMITS["features"])
        h, w = (_int(shape, i, "input.shape", 1, LIMITS["dvs_sensor_size"]) for i in (1, 2))
        dvs = None
        if source == "dvs":
            dvs = _dvs(_get(config, "dvs_layer", "config"), "config.dvs_layer")
            targets = dvs.destinations
        else:
            raw = _get(inp, "layers", "input")
            if not isinstance(raw, list):
                raise _Bad("input.layers", "must be a list of cores")
            targets = tuple(_int(raw, i, "input.layers", 0, LIMITS["cores"] - 1) for i in range(len(raw)))
        for i, core in enumerate(cores):
            for s, d in enumerate(core.destinations if core else ()):
                if d is not None and d.layer != READOUT_LAYER and cores[d.layer] is None:
                    raise _Bad(f"config.cnn_layers[{i}].destinations[{s}].layer",
                               f"core {d.layer} is not configured")
        for t in targets:
            if cores[t] is None:
                raise _Bad("input", f"events go to core {t}, which is not configured")
        readout = _readout(config.get("readout"), cores, bool(chip["readout_errata"]))
    except _Bad as bad:
        return None, error("simulate-document", f"{bad.path}: {bad.message}",
                           "was the document edited by hand? `dynapcnn-dsl build` writes a valid one")
    machine = Machine(str(doc["chip"]), source, (c, h, w), tuple(targets), cores, dvs, readout)
    return machine, _warnings(machine, doc, file)


def _warnings(machine: Machine, doc: dict[str, Any], file: str) -> list[Diagnostic]:
    out = []
    balanced = [c.name for c in machine.used if c.congestion_balancer]
    if balanced:
        out.append(Diagnostic(file, None, Severity.WARNING, "simulate-congestion-balancer",
                              f"the congestion balancer of {', '.join(balanced)} is not simulated",
                              "it drops events while a core is busy, which depends on timing; "
                              "the simulation delivers every event"))
    killed = [f"core{i}" for i, layer in enumerate(doc["config"]["cnn_layers"])
              if isinstance(layer, dict) and any(np.any(np.asarray(layer.get(k, False)))
                                                 for k in ("weights_kill_bit", "biases_kill_bit",
                                                           "neurons_value_kill_bit"))]
    if killed:
        out.append(Diagnostic(file, None, Severity.WARNING, "simulate-kill-bits",
                              f"kill bits set on {', '.join(killed)} are not simulated",
                              "killed features compute as if alive"))
    return out

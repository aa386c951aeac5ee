"""Compare two configuration documents by attribute path.

Both sides are first normalized: a disabled destination is just `{enable: false}` whatever
else it holds, and a core that sends nowhere, is not monitored and receives from nothing is
unused (only those facts compared), since a configuration read back from a device holds
samna's leftovers there. When both documents carry annotations (`build --annotate`), cores are
matched by their YAML name, so a core the linker placed elsewhere is one change ("moved"), not
nine; destination layers are then compared as the names they point at.

Tensors are summarized: a shape change, or how many entries changed and the largest change.
Normalizing works on the typed configuration (dynapcnn_dsl.config); the comparison then walks the
normalized trees path by path, so it names no key of the document itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from dynapcnn_dsl.chips import resolve_chip, shared_limits
from dynapcnn_dsl.config import (
    TENSORS,
    WEIGHT_FIELDS,
    ChipConfig,
    CnnLayer,
    Configuration,
    Destination,
    DvsDestination,
    DvsLayer,
    Readout,
    from_tree,
    to_tree,
    unused_layer,
)
from dynapcnn_dsl.config.model import SWITCH, TARGET, core_path
from dynapcnn_dsl.config.writer import to_plain

WITH_WEIGHTS = {name: None for name in (*WEIGHT_FIELDS, *TENSORS)}
"""What a structure-only side lacks, cleared on both sides before comparing."""


class Change(NamedTuple):
    path: str          # cnn_layers[3].destinations[1].layer
    old: Any
    new: Any
    text: str          # how it reads: "4 -> 2", "37 of 288 entries changed, largest 5"


def _typed(doc: dict[str, Any] | Configuration) -> Configuration:
    return doc if isinstance(doc, Configuration) else from_tree(doc)


def unused_core() -> dict[str, Any]:
    return to_tree(unused_layer())


def _off(d: Destination) -> Destination:
    return d if d.enable else Destination(enable=False)


def _layer_normalized(layer: CnnLayer, index: int, targeted: set[int], structure_only: bool) -> CnnLayer:
    if not layer.enabled() and not layer.monitor_enable and index not in targeted:
        return unused_layer(len(layer.destinations))
    layer = replace(layer, destinations=tuple(_off(d) for d in layer.destinations))
    return replace(layer, **WITH_WEIGHTS) if structure_only else layer


def _dvs_normalized(dvs: DvsLayer | None) -> DvsLayer | None:
    if dvs is None or dvs.destinations is None:
        return dvs
    slots = tuple(d if d.enable else DvsDestination(enable=False) for d in dvs.destinations)
    if not dvs.pass_sensor_events:
        # no sensor events pass: pooling, crop, flips and polarity have nothing to act on
        return DvsLayer(pass_sensor_events=dvs.pass_sensor_events, destinations=slots,
                        monitor_enable=dvs.monitor_enable)
    return replace(dvs, destinations=slots)


def normalized(doc: dict[str, Any] | Configuration, *, structure_only: bool = False) -> ChipConfig:
    """The configuration with samna's don't-care values removed."""
    configuration = _typed(doc)
    config = configuration.config
    layers = config.cnn_layers
    targeted = {d.layer for layer in layers for d in layer.enabled() if d.layer is not None}
    targeted |= set(config.dvs_layer.targets()) if config.dvs_layer is not None else set()
    targeted |= set(configuration.input.layers or ()) if configuration.input is not None else set()
    readout = config.readout
    if readout is None or not readout.enable:
        # a disabled readout's settings do nothing; a document without one has it disabled
        readout = Readout(enable=False)
    return ChipConfig(
        cnn_layers=tuple(_layer_normalized(layer, i, targeted, structure_only)
                         for i, layer in enumerate(layers)),
        dvs_layer=_dvs_normalized(config.dvs_layer), readout=readout)


def normalize(doc: dict[str, Any] | Configuration, *, structure_only: bool = False) -> dict[str, Any]:
    """The tree of the configuration with samna's don't-care values removed."""
    return to_tree(normalized(doc, structure_only=structure_only))


def _names(doc: Configuration) -> list[str | None] | None:
    if doc.annotations is None or doc.annotations.cnn_layers is None:
        return None
    return doc.annotations.core_names()


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    return str(value).replace("True", "true").replace("False", "false")


def _tensor(path: str, a: np.ndarray, b: np.ndarray, out: list[Change]) -> None:
    if a.shape != b.shape:
        out.append(Change(path, list(a.shape), list(b.shape),
                          f"shape {list(a.shape)} -> {list(b.shape)}"))
        return
    changed = a != b
    n = int(np.count_nonzero(changed))
    if n:
        largest = int(np.max(np.abs(a.astype(np.int64)[changed] - b.astype(np.int64)[changed])))
        out.append(Change(path, None, None,
                          f"{n} of {a.size} entries changed, largest change {largest} "
                          f"(shape {list(a.shape)})"))


def _walk(path: str, a: Any, b: Any, out: list[Change], layer_names: tuple | None = None) -> None:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            _tensor(path, a, b, out)
        else:
            out.append(Change(path, a, b, "tensor on one side only"))
        return
    if isinstance(a, dict) and isinstance(b, dict):
        if SWITCH in a and SWITCH in b and bool(a[SWITCH]) != bool(b[SWITCH]):
            out.append(Change(path, a, b, f"{_slot(a)} -> {_slot(b)}"))  # one line per switch
            return
        for key in [*a, *(k for k in b if k not in a)]:
            sub = f"{path}.{key}" if path else key
            if key not in a:
                out.append(Change(sub, None, b[key], f"added: {_fmt(_short(b[key]))}"))
            elif key not in b:
                out.append(Change(sub, a[key], None, f"removed (was {_fmt(_short(a[key]))})"))
            elif key == TARGET and layer_names is not None:
                _layer(sub, a[key], b[key], out, layer_names)
            else:
                _walk(sub, a[key], b[key], out, layer_names)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(f"{path}[{i}]", x, y, out, layer_names)
        return
    if a != b:
        out.append(Change(path, a, b, f"{_fmt(_short(a))} -> {_fmt(_short(b))}"))


def _slot(value: dict[str, Any]) -> str:
    """A destination (or any enable-able block) as one phrase: 'disabled', 'layer 2, pooling 1'."""
    if not value.get(SWITCH):
        return "disabled"
    return "enabled: " + ", ".join(f"{k} {_fmt(v)}" for k, v in value.items() if k != SWITCH)


def _short(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return f"tensor {list(value.shape)}"
    return "{...}" if isinstance(value, dict) else value


def _readout_layer(doc: Configuration) -> int:
    """The destination layer id of the readout, from the document's chip."""
    chip = resolve_chip(str(doc.chip))
    return (chip.limits if chip else shared_limits()).readout_layer


def _layer(path: str, a: Any, b: Any, out: list[Change], names: tuple) -> None:
    """Compare destination layers as the cores they point at (or the readout)."""
    old_names, new_names, readout = names

    def name(layer: Any, table: list) -> str:
        if layer == readout:
            return "readout"
        if isinstance(layer, int) and 0 <= layer < len(table) and table[layer]:
            return table[layer]
        return f"core {layer}"

    na, nb = name(a, old_names), name(b, new_names)
    if na != nb:
        out.append(Change(path, a, b, f"{a} ({na}) -> {b} ({nb})"))


def compare(old: dict[str, Any] | Configuration, new: dict[str, Any] | Configuration
            ) -> tuple[list[Change], list[str]]:
    """The changes from `old` to `new` (trees or typed configurations), and notes on how they
    were compared."""
    old, new = _typed(old), _typed(new)
    notes: list[str] = []
    out: list[Change] = []
    if old.chip != new.chip:
        out.append(Change("chip", old.chip, new.chip, f"{old.chip} -> {new.chip}"))
    partial = old.structure_only or new.structure_only
    if partial:
        who = "neither side has" if old.structure_only and new.structure_only else "one side has no"
        notes.append(f"{who} weights: tensors and thresholds are not compared")
    a, b = normalized(old, structure_only=partial), normalized(new, structure_only=partial)
    names_a, names_b = _names(old), _names(new)
    la, lb = [to_tree(layer) for layer in a.cnn_layers], [to_tree(layer) for layer in b.cnn_layers]
    if names_a is not None and names_b is not None:
        notes.append("cores matched by their names in the network file")
        _by_name(la, lb, (names_a, names_b, _readout_layer(new)), out)
    else:
        for i in range(max(len(la), len(lb))):
            _walk(core_path(i), la[i] if i < len(la) else unused_core(),
                  lb[i] if i < len(lb) else unused_core(), out)
    rest_a, rest_b = to_tree(replace(a, cnn_layers=())), to_tree(replace(b, cnn_layers=()))
    _walk("", rest_a, rest_b, out, (names_a, names_b, _readout_layer(new)) if names_a and names_b else None)
    return out, notes


def _by_name(la: list, lb: list, names: tuple, out: list[Change]) -> None:
    names_a, names_b, _ = names
    where_a = {n: i for i, n in enumerate(names_a) if n}
    where_b = {n: i for i, n in enumerate(names_b) if n}
    for name in [*where_a, *(n for n in where_b if n not in where_a)]:
        if name not in where_b:
            out.append(Change(core_path(where_a[name]), name, None, f"core '{name}' removed"))
            continue
        if name not in where_a:
            out.append(Change(core_path(where_b[name]), None, name, f"core '{name}' added"))
            continue
        ia, ib = where_a[name], where_b[name]
        label = core_path(ia) if ia == ib else core_path(ia).replace(f"[{ia}]", f"[{ia}->{ib}]")
        if ia != ib:
            out.append(Change(label, ia, ib, f"moved from core {ia} to core {ib} (core '{name}')"))
        found: list[Change] = []
        _walk(label, la[ia], lb[ib], found, names)
        out.extend(c._replace(text=f"{c.text}   (core '{name}')") for c in found)
    # Slots no annotation names (hand edits, leftovers): compared slot by slot, since a live
    # core there sends events whatever its name.
    named_a = {i for i, n in enumerate(names_a) if n}
    named_b = {i for i, n in enumerate(names_b) if n}
    for i in range(max(len(la), len(lb))):
        if i in named_a or i in named_b:
            continue
        x = la[i] if i < len(la) else unused_core()
        y = lb[i] if i < len(lb) else unused_core()
        _walk(core_path(i), x, y, out, names)


def configuration_patch(old: dict[str, Any] | Configuration, new: dict[str, Any] | Configuration, *,
                        plain: bool = True) -> list[dict[str, Any]]:
    """`json_patch` of the chip and the configuration tree: every difference the text format
    reports (the header's other fields, the same on both sides, give no operation)."""
    def view(doc: dict[str, Any] | Configuration) -> dict[str, Any]:
        typed = _typed(doc)
        return to_tree(Configuration(format=typed.format, version=typed.version, chip=typed.chip,
                                     config=typed.config))
    return json_patch(view(old), view(new), plain=plain)


def json_patch(old: dict[str, Any], new: dict[str, Any], *, plain: bool = True) -> list[dict[str, Any]]:
    """RFC 6902 operations turning `old` into `new` (any two trees: whole documents, or their
    `config`; physical core order). A tensor that changed is one `replace` of the whole tensor,
    found with numpy; lists whose lengths differ are replaced whole. With `plain=False` the
    replaced tensors stay numpy arrays, for writing with `emit.to_json` (one line each)."""
    ops: list[dict[str, Any]] = []
    _patch("", old, new, ops)
    if plain:
        for op in ops:
            if "value" in op:
                op["value"] = to_plain(op["value"])
    return ops


def _pointer(path: str, key: Any) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _patch(path: str, a: Any, b: Any, ops: list[dict[str, Any]]) -> None:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        same = (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype.kind == b.dtype.kind and bool(np.array_equal(a, b)))
        if not same:
            ops.append({"op": "replace", "path": path, "value": b})
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            if key not in b:
                ops.append({"op": "remove", "path": _pointer(path, key)})
            else:
                _patch(_pointer(path, key), a[key], b[key], ops)
        ops.extend({"op": "add", "path": _pointer(path, key), "value": b[key]} for key in b if key not in a)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _patch(f"{path}/{i}", x, y, ops)
    elif type(a) is not type(b) or a != b:
        ops.append({"op": "replace", "path": path, "value": b})

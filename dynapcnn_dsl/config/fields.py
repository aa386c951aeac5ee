"""How a field of the configuration's classes says what the document allows there.

Each field of `model.py` is made by one of `value`, `node`, `nodes` or `tensor`, which keep in the
dataclass field's metadata what the JSON schema generator (`schema.py`), the tree conversion
(`tree.py`) and the samna bridge need: the field's schema fragment from the chip limits, the
class of a nested object, whether samna takes it whole, which chips have it. The fragments
(`integer`, `boolean`, `xy`, ...) are draft-07 pieces; `tensors()` is the one table of tensor
shapes and ranges, from the chip facts, for the schema and the reader's numpy check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import Any, Final

from dynapcnn_dsl.chips import Limits, profiles


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


def shape_schema(limits: Limits) -> dict[str, Any]:
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


def destination_slots(limits: Limits) -> tuple[int, int]:
    return limits.destinations, limits.destinations

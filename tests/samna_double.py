"""A strict, hand-written test double of samna's configuration object model.

Written from shared/HARDWARE.md ("samna objects and serialization", the core, destination, DVS
and readout tables), not from dynapcnn_dsl's own description of samna in `samna_bridge.py`, so
it can catch the bridge's mistakes. It is stricter than samna where samna's behaviour is not
documented: that is the point of a test double.

- Setting an attribute an object does not have raises AttributeError.
- A value of the wrong type raises TypeError; a value out of its range (any entry of a tensor
  included) raises ValueError. Booleans are not integers here and integers are not booleans
  (a one-element torch bool tensor is a boolean, as pybind11 converts it and sinabs assigns it).
- Tensors are taken as nested lists or numpy arrays of integers, must be rectangular with the
  field's number of axes, and read back as fresh nested lists (as samna returns std::vectors).
- `dimensions` is assigned as one nested dict holding exactly its keys (or a dimensions
  object); other sub-objects are changed field by field (assigning a dict to them is refused).
- Fixed-size arrays of objects (`cnn_layers`, `destinations`) are read-only attributes whose
  items cannot be replaced; the items are changed in place.
- Sub-objects are returned by reference, as pybind11's def_readwrite does.
- `samna.<chip>.validate_configuration(config)` checks the cross-field facts of a used core
  (shapes against dimensions, destinations against their targets, threshold_low != 0, the
  64 x 64 output limit) and of the DVS layer, and returns (ok, message).

`install(monkeypatch)` puts the modules `samna`, `samna.<chip>` and `samna.<chip>.configuration`
(speck2f, speck2e, speck2b, dynapcnn) into sys.modules for one test.
"""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np

CORES = 9
READOUT_LAYER = 12
INT8 = (-128, 127)
INT16 = (-32768, 32767)


# ------------------------------------------------------------------------------------- fields
class Field:
    """How one attribute is stored: its default, its checks, what reading returns."""

    def default(self) -> Any:
        raise NotImplementedError

    def convert(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def read(self, stored: Any) -> Any:
        return stored

    def copy(self, stored: Any) -> Any:
        return stored

    def plain(self, stored: Any) -> Any:
        """JSON-ready data for to_json."""
        return stored


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


class Int(Field):
    def __init__(self, lo: int, hi: int, default: int = 0, *, choices: tuple[int, ...] | None = None):
        self.lo, self.hi, self.choices, self._default = lo, hi, choices, default

    def default(self) -> int:
        return self._default

    def convert(self, value: Any, where: str) -> int:
        if not _is_int(value):
            raise TypeError(f"{where}: expected an integer, got {type(value).__name__} {value!r}")
        value = int(value)
        if self.choices is not None:
            if value not in self.choices:
                raise ValueError(f"{where}: {value} is not one of {list(self.choices)}")
        elif not self.lo <= value <= self.hi:
            raise ValueError(f"{where}: {value} is out of range {self.lo}..{self.hi}")
        return value


class Bool(Field):
    def __init__(self, default: bool = False):
        self._default = default

    def default(self) -> bool:
        return self._default

    def convert(self, value: Any, where: str) -> bool:
        if isinstance(value, bool | np.bool_) or _boolean_scalar(value):
            return bool(value)
        raise TypeError(f"{where}: expected a bool, got {type(value).__name__} {value!r}")


def _boolean_scalar(value: Any) -> bool:
    """A one-element boolean tensor (torch's `tensor.bool().any()`, which sinabs assigns to
    `leak_enable`): pybind11 converts it through `__bool__`. Integers stay refused."""
    dtype, numel = str(getattr(value, "dtype", "")), getattr(value, "numel", None)
    return dtype == "torch.bool" and callable(numel) and numel() == 1


class Tensor(Field):
    """An integer (or boolean) tensor with a fixed number of axes; stored as a numpy array."""

    def __init__(self, ndim: int, lo: int = 0, hi: int = 1, *, boolean: bool = False):
        self.ndim, self.lo, self.hi, self.boolean = ndim, lo, hi, boolean

    def default(self) -> np.ndarray:
        return np.zeros((0,), dtype=bool if self.boolean else np.int64)

    def convert(self, value: Any, where: str) -> np.ndarray:
        if isinstance(value, np.ndarray):
            arr = value
        elif isinstance(value, list | tuple):
            try:
                arr = np.array(value)
            except (ValueError, OverflowError, TypeError) as exc:
                raise ValueError(f"{where}: not a rectangular tensor of integers ({exc})") from None
        else:
            raise TypeError(f"{where}: expected a nested list or numpy array, got {type(value).__name__}")
        if arr.size == 0:
            if arr.ndim != self.ndim and arr.shape != (0,):
                raise ValueError(f"{where}: an empty tensor of shape {list(arr.shape)}, expected "
                                 f"{self.ndim} axes")
            return np.zeros(arr.shape, dtype=bool if self.boolean else np.int64)
        if arr.ndim != self.ndim:
            raise ValueError(f"{where}: expected {self.ndim} axes, got shape {list(arr.shape)}")
        kind = arr.dtype.kind
        if self.boolean:
            if kind == "b":
                return arr.astype(bool)
            if kind not in "iu":
                raise ValueError(f"{where}: expected booleans, got {arr.dtype} entries")
            bad = np.argwhere((arr != 0) & (arr != 1))
            if bad.size:
                raise ValueError(f"{where}: entry {bad[0].tolist()} is {arr[tuple(bad[0])]}, not 0 or 1")
            return arr.astype(bool)
        if kind not in "iu":
            raise ValueError(f"{where}: expected integer entries, got {arr.dtype}")
        bad = np.argwhere((arr < self.lo) | (arr > self.hi))
        if bad.size:
            index = tuple(bad[0])
            raise ValueError(f"{where}: entry {list(map(int, index))} is {int(arr[index])}, out of "
                             f"range {self.lo}..{self.hi}")
        return arr.astype(np.int64)

    def read(self, stored: np.ndarray) -> list:
        return stored.tolist()

    def copy(self, stored: np.ndarray) -> np.ndarray:
        return stored.copy()

    def plain(self, stored: np.ndarray) -> list:
        return stored.tolist()


class Object(Field):
    """A sub-object: read by reference; assignable only with an object of the same class."""

    def __init__(self, factory: Callable[[], Struct]):
        self.factory = factory

    def default(self) -> Struct:
        return self.factory()

    def convert(self, value: Any, where: str) -> Struct:
        want = type(self.factory())
        if type(value) is not want:
            raise TypeError(f"{where}: expected a {want.__name__} (change its fields one by one), "
                            f"got {type(value).__name__}")
        return value.copy()

    def copy(self, stored: Struct) -> Struct:
        return stored.copy()

    def plain(self, stored: Struct) -> dict[str, Any]:
        return stored.to_dict()


class DictObject(Object):
    """`dimensions`: also assignable as one nested dict holding exactly the object's keys."""

    def convert(self, value: Any, where: str) -> Struct:
        if isinstance(value, dict):
            return self.factory().from_dict(value, where)
        return super().convert(value, where)


class FixedArray(Field):
    """A fixed-size array of objects: read-only; its items are changed in place."""

    def __init__(self, factory: Callable[[], Struct], count: int):
        self.factory, self.count = factory, count

    def default(self) -> ObjectArray:
        return ObjectArray([self.factory() for _ in range(self.count)])

    def convert(self, value: Any, where: str) -> Any:
        raise AttributeError(f"{where} is a fixed-size array of {self.count}: it cannot be assigned; "
                             "change its items in place")

    def copy(self, stored: ObjectArray) -> ObjectArray:
        return ObjectArray([item.copy() for item in stored])

    def plain(self, stored: ObjectArray) -> list[dict[str, Any]]:
        return [item.to_dict() for item in stored]


class ObjectArray:
    """What a FixedArray reads as: indexable, iterable, items not replaceable."""

    def __init__(self, items: list[Struct]):
        self._items = tuple(items)

    def __getitem__(self, index: int) -> Struct:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"array index must be an integer, not {type(index).__name__}")
        return self._items[index]

    def __setitem__(self, index: int, value: Any) -> None:
        raise TypeError("a fixed-size array of configuration objects: change the item in place")

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Struct]:
        return iter(self._items)


# ------------------------------------------------------------------------------------ objects
class Struct:
    """A configuration object with a closed set of typed attributes."""

    FIELDS: ClassVar[dict[str, Field]] = {}

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {n: f.default() for n, f in self.FIELDS.items()})

    def __getattr__(self, name: str) -> Any:  # only for names normal lookup does not find
        values = self.__dict__.get("_values", {})
        if name in values:
            return self.FIELDS[name].read(values[name])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        field = self.FIELDS.get(name)
        if field is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        self._values[name] = field.convert(value, f"{type(self).__name__}.{name}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.FIELDS})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (samna test double)>"

    def copy(self) -> Struct:
        new = type(self)()
        for name, field in self.FIELDS.items():
            new._values[name] = field.copy(self._values[name])
        return new

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data (tensors as nested lists)."""
        return {name: field.plain(self._values[name]) for name, field in self.FIELDS.items()}

    def from_dict(self, data: dict[str, Any], where: str) -> Struct:
        """Set every field from a dict with exactly this object's keys (checked as setattr does)."""
        if not isinstance(data, dict):
            raise TypeError(f"{where}: expected a dict, got {type(data).__name__}")
        unknown = sorted(set(data) - set(self.FIELDS))
        missing = sorted(set(self.FIELDS) - set(data))
        if unknown or missing:
            raise ValueError(f"{where}: keys {sorted(data)} do not match {sorted(self.FIELDS)}")
        for name, field in self.FIELDS.items():
            sub = f"{where}.{name}"
            if isinstance(field, Object) and isinstance(data[name], dict):
                self._values[name] = field.factory().from_dict(data[name], sub)
            else:
                self._values[name] = field.convert(data[name], sub)
        return self

    def load(self, data: dict[str, Any], where: str) -> None:
        """from_json's part: fields present in `data` set in place (arrays item by item)."""
        for name, value in data.items():
            field = self.FIELDS.get(name)
            if field is None:
                raise ValueError(f"{where}: unknown key {name!r}")
            if isinstance(field, FixedArray):
                items = self._values[name]
                if not isinstance(value, list) or len(value) != len(items):
                    raise ValueError(f"{where}.{name}: expected a list of {len(items)} objects")
                for i, item in enumerate(value):
                    items[i].load(item, f"{where}.{name}[{i}]")
            elif isinstance(field, DictObject):
                setattr(self, name, value)
            elif isinstance(field, Object):
                self._values[name].load(value, f"{where}.{name}")
            else:
                setattr(self, name, value)


def _struct(name: str, fields: dict[str, Field]) -> type[Struct]:
    return type(name, (Struct,), {"FIELDS": fields, "__module__": __name__})


def _xy(name: str, make: Callable[[], Field]) -> type[Struct]:
    return _struct(name, {"x": make(), "y": make()})


# Shared by every chip.
Size = _xy("Vec2_uint8_size", lambda: Int(1, 128, 1))
Padding = _xy("Vec2_uint8_padding", lambda: Int(0, 7, 0))
Stride = _xy("Vec2_uint8_stride", lambda: Int(1, 8, 1, choices=(1, 2, 4, 8)))
CNNLayerShape = _struct("CNNLayerShape", {"feature_count": Int(1, 1024, 1), "size": Object(Size)})
CNNLayerDimensions = _struct("CNNLayerDimensions", {
    "input_shape": Object(CNNLayerShape), "output_shape": Object(CNNLayerShape),
    "padding": Object(Padding), "stride": Object(Stride), "kernel_size": Int(1, 16, 1),
})
DvsPooling = _xy("Vec2_dvs_pooling", lambda: Int(1, 4, 1, choices=(1, 2, 4)))
DvsOrigin = _xy("Vec2_dvs_origin", lambda: Int(0, 127, 0))
DvsCut = _xy("Vec2_dvs_cut", lambda: Int(0, 127, 127))
DvsMirror = _xy("Vec2_bool", Bool)
DVSLayerDestination = _struct("DVSLayerDestination", {"enable": Bool(), "layer": Int(0, CORES - 1, 0)})


def _dvs_layer_config(dict_vectors: bool) -> type[Struct]:
    """The DVS layer's class. With `dict_vectors`, its x/y sub-objects also take a dict {x, y}:
    sinabs assigns them so, which samna must accept; the strict double refuses it by default,
    since HARDWARE.md documents dict assignment for `dimensions` only."""
    vector = DictObject if dict_vectors else Object
    return _struct("DVSLayerConfig", {
        "pass_sensor_events": Bool(True),
        "destinations": FixedArray(DVSLayerDestination, 2),
        "pooling": vector(DvsPooling), "origin": vector(DvsOrigin), "cut": vector(DvsCut),
        "mirror": vector(DvsMirror), "mirror_diagonal": Bool(), "merge": Bool(),
        "on_channel": Bool(True), "off_channel": Bool(True),
        "monitor_enable": Bool(), "raw_monitor_enable": Bool(),
    })


DVSLayerConfig = _dvs_layer_config(dict_vectors=False)
ReadoutConfig = _struct("ReadoutConfig", {
    "enable": Bool(), "threshold": Int(-32768, 65535, 0),  # "16-bit": either signedness taken
    "low_pass_filter_disable": Bool(), "low_pass_filter32_not16": Bool(), "monitor_enable": Bool(),
    "readout_configuration_sel": Int(0, 3, 0), "output_mode_sel": Int(0, 3, 0),
    "output_neuron_num": Int(0, 65535, 0), "override_threshold_max": Bool(),
    "readout_pin_monitor_enable": Bool(), "internal_slow_clk": Bool(),
})
DvsFilterConfig = _struct("DvsFilterConfig", {})     # undocumented: opaque, nothing settable
FactoryConfig = _struct("FactoryConfig", {})
DebugConfig = _struct("DebugConfig", {})


def _layer_fields(modern: bool, destination: type[Struct]) -> dict[str, Field]:
    fields: dict[str, Field] = {
        "dimensions": DictObject(CNNLayerDimensions),
        "weights": Tensor(4, *INT8),
        "biases": Tensor(1, *INT16),
        "neurons_initial_value": Tensor(3, *INT16),
        "threshold_high": Int(0, 32767, 0),
        "threshold_low": Int(*INT16, 0),
        "return_to_zero": Bool(), "leak_enable": Bool(), "monitor_enable": Bool(),
        "destinations": FixedArray(destination, 2),
    }
    if modern:  # speck2e / speck2f
        fields.update(input_congestion_balancer_enable=Bool(), output_decimator_enable=Bool(),
                      output_decimator_interval=Int(0, 7, 0))
    else:       # dynapcnn / speck2b: kill bits
        fields.update(weights_kill_bit=Tensor(4, boolean=True), biases_kill_bit=Tensor(1, boolean=True),
                      neurons_value_kill_bit=Tensor(3, boolean=True))
    return fields


def _destination_fields() -> dict[str, Field]:
    return {"enable": Bool(), "layer": Int(0, READOUT_LAYER, 0, choices=(*range(CORES), READOUT_LAYER)),
            "pooling": Int(1, 4, 1, choices=(1, 2, 4)), "feature_shift": Int(0, 1023, 0)}


class Configuration(Struct):
    """Base of the chips' configuration classes: to_json and an in-place from_json."""

    CHIP = ""

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def from_json(self, text: str) -> None:
        self.load(json.loads(text), type(self).__name__)


CHIPS = {  # chip: (configuration class name, layer class, destination class, modern)
    "speck2f": ("SpeckConfiguration", "CnnLayerConfig", "CnnLayerDestination", True),
    "speck2e": ("SpeckConfiguration", "CnnLayerConfig", "CnnLayerDestination", True),
    "speck2b": ("SpeckConfiguration", "CnnLayerConfig", "CnnLayerDestination", False),
    "dynapcnn": ("DynapcnnConfiguration", "CNNLayerConfig", "CNNLayerDestination", False),
}


def _chip_classes(chip: str, dvs_class: type[Struct] = DVSLayerConfig) -> dict[str, type[Struct]]:
    config_name, layer_name, dest_name, modern = CHIPS[chip]
    destination = _struct(dest_name, _destination_fields())
    layer = _struct(layer_name, _layer_fields(modern, destination))
    config = type(config_name, (Configuration,), {"__module__": __name__, "CHIP": chip, "FIELDS": {
        "cnn_layers": FixedArray(layer, CORES),
        "dvs_layer": Object(dvs_class), "readout": Object(ReadoutConfig),
        "dvs_filter": Object(DvsFilterConfig), "factory_config": Object(FactoryConfig),
        "debug_config": Object(DebugConfig),
    }})
    return {config_name: config, layer_name: layer, dest_name: destination,
            "CNNLayerDimensions": CNNLayerDimensions, "DVSLayerConfig": dvs_class,
            "ReadoutConfig": ReadoutConfig}


# ------------------------------------------------------------------------ validate_configuration
def _used(config: Configuration) -> set[int]:
    """Cores that send, are monitored, or receive from an enabled destination."""
    used: set[int] = set()
    for i, layer in enumerate(config.cnn_layers):
        if layer.monitor_enable or any(d.enable for d in layer.destinations):
            used.add(i)
        used |= {d.layer for d in layer.destinations if d.enable and d.layer != READOUT_LAYER}
    used |= {d.layer for d in config.dvs_layer.destinations if d.enable}
    return used


def _layer_problems(i: int, layer: Struct, kill_bits: bool) -> list[str]:
    dims = layer.dimensions
    cin, cout = dims.input_shape.feature_count, dims.output_shape.feature_count
    k = dims.kernel_size
    out, inp = dims.output_shape.size, dims.input_shape.size
    where = f"cnn_layers[{i}]"
    problems = []
    for axis in ("x", "y"):
        o, n = getattr(out, axis), getattr(inp, axis)
        pad, stride = getattr(dims.padding, axis), getattr(dims.stride, axis)
        if o > 64:
            problems.append(f"{where}: output size {axis} {o} is over 64")
        if o != (n - k + 2 * pad) // stride + 1:
            problems.append(f"{where}: output size {axis} {o} does not follow from input {n}, "
                            f"kernel {k}, padding {pad}, stride {stride}")
    shapes = {
        "weights": [cout, cin, k, k],
        "neurons_initial_value": [cout, out.x, out.y],
    }
    if kill_bits:
        shapes.update(weights_kill_bit=[cout, cin, k, k], neurons_value_kill_bit=[cout, out.x, out.y])
    for name, want in shapes.items():
        got = list(layer._values[name].shape)
        if got != want:
            problems.append(f"{where}: {name} has shape {got}, dimensions say {want}")
    for name in ("biases", "biases_kill_bit") if kill_bits else ("biases",):
        got = list(layer._values[name].shape)
        if got not in ([0], [cout]):
            problems.append(f"{where}: {name} has shape {got}, dimensions say [{cout}]")
    if layer.threshold_low == 0:
        problems.append(f"{where}: threshold_low is 0, which the chip does not support")
    return problems


def _route_problems(config: Configuration, i: int, layer: Struct) -> list[str]:
    problems = []
    dims = layer.dimensions
    for j, dest in enumerate(layer.destinations):
        if not dest.enable or dest.layer == READOUT_LAYER:
            continue
        where = f"cnn_layers[{i}].destinations[{j}]"
        target = config.cnn_layers[dest.layer].dimensions
        need = dest.feature_shift + dims.output_shape.feature_count
        if need > target.input_shape.feature_count:
            problems.append(f"{where}: feature_shift {dest.feature_shift} + "
                            f"{dims.output_shape.feature_count} features do not fit layer {dest.layer}'s "
                            f"{target.input_shape.feature_count} input features")
        for axis in ("x", "y"):
            sent = getattr(dims.output_shape.size, axis) // dest.pooling
            got = getattr(target.input_shape.size, axis)
            if sent != got:
                problems.append(f"{where}: sends size {axis} {sent} (after pooling {dest.pooling}) to "
                                f"layer {dest.layer}, whose input size {axis} is {got}")
    return problems


def _dvs_problems(config: Configuration) -> list[str]:
    dvs = config.dvs_layer
    problems = []
    size = {}
    for axis in ("x", "y"):
        origin, cut = getattr(dvs.origin, axis), getattr(dvs.cut, axis)
        pooled = 128 // getattr(dvs.pooling, axis)
        if cut < origin:
            problems.append(f"dvs_layer: cut {axis} {cut} is before origin {axis} {origin}")
        if cut >= pooled:
            problems.append(f"dvs_layer: cut {axis} {cut} is outside the pooled sensor ({pooled})")
        size[axis] = cut - origin + 1
    if dvs.mirror_diagonal:
        size = {"x": size["y"], "y": size["x"]}
    channels = 1 if dvs.merge or not (dvs.on_channel and dvs.off_channel) else 2
    for j, dest in enumerate(dvs.destinations):
        if not dest.enable:
            continue
        target = config.cnn_layers[dest.layer].dimensions
        where = f"dvs_layer.destinations[{j}]"
        if target.input_shape.feature_count < channels:
            problems.append(f"{where}: layer {dest.layer} has {target.input_shape.feature_count} input "
                            f"features, the DVS sends {channels}")
        for axis in ("x", "y"):
            if getattr(target.input_shape.size, axis) != size[axis]:
                problems.append(f"{where}: the DVS sends size {axis} {size[axis]}, layer {dest.layer}'s "
                                f"input size {axis} is {getattr(target.input_shape.size, axis)}")
    return problems


def _validator(chip: str, config_class: type[Configuration]) -> Callable[[Any], tuple[bool, str]]:
    kill_bits = not CHIPS[chip][3]

    def validate_configuration(config: Any) -> tuple[bool, str]:
        if type(config) is not config_class:
            raise TypeError(f"validate_configuration(): incompatible argument: expected samna.{chip}."
                            f"configuration.{config_class.__name__}, got {type(config).__name__}")
        problems: list[str] = []
        for i in sorted(_used(config)):
            layer = config.cnn_layers[i]
            problems += _layer_problems(i, layer, kill_bits)
            problems += _route_problems(config, i, layer)
        if config.dvs_layer.pass_sensor_events or any(d.enable for d in config.dvs_layer.destinations):
            problems += _dvs_problems(config)
        return (not problems, "; ".join(problems))

    return validate_configuration


# ------------------------------------------------------------------------------------ modules
def _module(name: str, package: bool) -> types.ModuleType:
    module = types.ModuleType(name, "samna test double")
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=package)
    if package:
        module.__path__ = []
    return module


def modules(*, dict_vectors: bool = False) -> dict[str, types.ModuleType]:
    """Fresh modules (new classes each call): {"samna": ..., "samna.speck2f": ..., ...}.
    `dict_vectors`: the DVS layer's x/y sub-objects take dicts too (for sinabs)."""
    dvs_class = _dvs_layer_config(dict_vectors)
    root = _module("samna", True)
    root.__version__ = "0.0.0+test-double"
    root.IS_TEST_DOUBLE = True
    out = {"samna": root}
    for chip, (config_name, *_rest) in CHIPS.items():
        chip_module = _module(f"samna.{chip}", True)
        config_module = _module(f"samna.{chip}.configuration", False)
        classes = _chip_classes(chip, dvs_class)
        for name, cls in classes.items():
            setattr(config_module, name, cls)
        chip_module.configuration = config_module
        chip_module.validate_configuration = _validator(chip, classes[config_name])
        setattr(root, chip, chip_module)
        out[f"samna.{chip}"] = chip_module
        out[f"samna.{chip}.configuration"] = config_module
    return out


def install(monkeypatch: Any) -> types.ModuleType:
    """Put the double into sys.modules for one test (monkeypatch undoes it); returns `samna`."""
    for name in [n for n in sys.modules if n == "samna" or n.startswith("samna.")]:
        monkeypatch.delitem(sys.modules, name)
    mods = modules()
    for name, module in mods.items():
        monkeypatch.setitem(sys.modules, name, module)
    return mods["samna"]


def uninstall(monkeypatch: Any) -> None:
    """Make samna look absent: no modules, find_spec None, imports refused."""
    import importlib.util

    for name in [n for n in sys.modules if n == "samna" or n.startswith("samna.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "samna", None)  # `import samna...` raises ImportError
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name == "samna" or name.startswith("samna."):
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)

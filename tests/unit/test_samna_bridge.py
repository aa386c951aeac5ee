"""The samna bridge (`to_samna`, `from_samna`, `Document.to_samna`) against a strict test double.

The double (tests/samna_double.py) is written from shared/HARDWARE.md, independently of the
bridge's own description of samna, and refuses unknown attributes, wrong types, out-of-range
values and ragged tensors, as samna's pybind11 objects do (and more strictly). Documents are
real builds: every example, with weights made here for its linked shapes, plus small networks
written for one fact each (non-square maps with integer weights, a DVS layer, legacy chips).
The real samna package is never installed or imported here; one test uses it when present.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import samna_double as double
from helpers import batchnorm_tensors, neuron_tensors, write
from safetensors.numpy import save_file

import dynapcnn_dsl
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.differ import compare
from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.samna_bridge import SamnaError, available, from_samna, to_samna

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/network.yaml"))
SEED = ROOT / "examples" / "seed-residual" / "network.yaml"


def _host_input(path: Path) -> bool:
    return re.search(r"^\s*source:\s*dvs\b", path.read_text(encoding="utf-8"), re.M) is None


# ------------------------------------------------------------------------------------ networks
ASYM = """\
dsl: 1
name: asym
chip: speck2e
quantize: none              # the file holds the chip's integers: values can be checked exactly
input: {source: host, shape: [2, 12, 20], to: [a, b]}
defaults:
  neuron: {threshold: 10, min_v_mem: -10}
cores:
  a:
    conv: {out_channels: 3, kernel: 3, stride: {x: 1, y: 2}, padding: {x: 1, y: 0}, bias: true}
    decimator: 8
    congestion_balancer: true
    to: [c]
  b:
    conv: {out_channels: 2, kernel: 3, stride: {x: 1, y: 2}, padding: {x: 1, y: 0}}
    neuron: {threshold: 7, min_v_mem: -3, reset: zero, initial_state: 2}
    to: [c]
  c:
    merge: concat
    from: [a, b]
    conv: {out_channels: 4, kernel: 1}
    monitor: true
"""
"""Non-square maps, per-axis stride and padding, a bias, a concat: x and y can't be confused."""

DVS = """\
dsl: 1
name: dvs-roi
chip: speck2e
input:
  source: dvs
  shape: [1, 128, 128]
  pool: {x: 2, y: 4}                                   # 64 (x) by 32 (y)
  crop: {origin: {x: 4, y: 2}, size: {x: 24, y: 16}}   # pooled coordinates
  flip: {x: true, y: false, diagonal: true}            # the core sees 16 (x) by 24 (y)
  polarity: merge
  monitor: true
  to: [a]
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  a:
    conv: {out_channels: 4, kernel: 3}
readout: {from: a, classes: 4, threshold: 5, low_pass_filter: 32, monitor: true}
"""

LEGACY = """\
dsl: 1
name: legacy
chip: {chip}
input: {{source: host, shape: [2, 8, 10], to: [a]}}
defaults:
  neuron: {{threshold: 1.0, min_v_mem: -1.0}}
cores:
  a:
    conv: {{out_channels: 4, kernel: 3, padding: 1}}
    kill_features: [1, 3]
    to: [b]
  b:
    conv: {{out_channels: 2, kernel: 1}}
    monitor: true
"""


def weights_for(network: Path, *, seed: int = 0, integers: bool = False) -> dict[str, np.ndarray]:
    """Random weights (and biases) shaped for the network's linked cores."""
    checked = run_file(network)
    assert checked.ok and checked.linked is not None, [d.message for d in checked.diagnostics]
    linked = checked.linked
    rng = np.random.default_rng(seed)
    tensors = {}
    for core in linked.cores:
        out = core.out_features
        r = linked.readout
        if r is not None and r.source == core.name and r.errata_remap:
            out = r.classes  # the binder spreads class k to feature 4*(k-1)
        shape = (out, core.input_shape.features, core.kernel, core.kernel)
        if integers:
            w = rng.integers(-128, 128, shape).astype(np.float32)
            b = rng.integers(-300, 300, out).astype(np.float32)
        else:
            w = rng.normal(0.0, 0.5, shape).astype(np.float32)
            b = rng.normal(0.0, 0.1, out).astype(np.float32)
        tensors[f"{core.weights}.weight"] = w
        if core.bias:
            tensors[f"{core.weights}.bias"] = b
        tensors |= neuron_tensors(core) | batchnorm_tensors(linked, core)
    return tensors


def build(network: Path, tmp: Path, **kwargs: Any) -> tuple[dynapcnn_dsl.Document, dict[str, np.ndarray]]:
    tensors = weights_for(network, **kwargs)
    path = tmp / f"{network.parent.name}-{network.stem}.safetensors"
    save_file(tensors, str(path))
    return dynapcnn_dsl.build(network, path), tensors


def write_network(tmp: Path, name: str, text: str) -> Path:
    return write(tmp, f"{name}/network.yaml", text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dynapcnn_dsl.Document, dict]]:
    """Every example and hand-written network, built once for the module (never mutate)."""
    tmp = tmp_path_factory.mktemp("samna-bridge")
    out = {p.parent.name: build(p, tmp) for p in EXAMPLES}
    out["asym"] = build(write_network(tmp, "asym", ASYM), tmp, integers=True)
    out["dvs-roi"] = build(write_network(tmp, "dvs-roi", DVS), tmp)
    for chip in ("dynapcnn", "speck2b"):
        out[f"legacy-{chip}"] = build(write_network(tmp, f"legacy-{chip}", LEGACY.format(chip=chip)), tmp)
    return out


@pytest.fixture
def samna_double(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The test double as `samna` in sys.modules (undone after the test)."""
    return double.install(monkeypatch)


@pytest.fixture
def no_samna(monkeypatch: pytest.MonkeyPatch) -> None:
    """No samna at all: no modules, find_spec None, imports refused."""
    double.uninstall(monkeypatch)


ALL = [p.parent.name for p in EXAMPLES] + ["asym", "dvs-roi", "legacy-dynapcnn", "legacy-speck2b"]
HOST = {p.parent.name for p in EXAMPLES if _host_input(p)} | {"asym", "legacy-dynapcnn", "legacy-speck2b"}


def used(doc: dynapcnn_dsl.Document) -> dict[int, str]:
    """Physical core -> core name, for the cores the network uses."""
    return {core.index: core.name for core in doc.linked.cores}


def fresh_layer(samna: Any, chip: str) -> Any:
    module = getattr(samna, chip).configuration
    cls = module.DynapcnnConfiguration if chip == "dynapcnn" else module.SpeckConfiguration
    return cls().cnn_layers[0]


def assert_holds(obj: Any, tree: dict[str, Any], where: str) -> None:
    """Every value of the document's tree is on the object, exactly (no tolerance, no casts)."""
    for key, want in tree.items():
        here = f"{where}.{key}"
        got = getattr(obj, key)
        if isinstance(want, dict):
            assert_holds(got, want, here)
        elif isinstance(want, list) and want and all(isinstance(i, dict) for i in want):
            assert len(got) == len(want), here
            for i, item in enumerate(want):
                assert_holds(got[i], item, f"{here}[{i}]")
        elif isinstance(want, np.ndarray):
            assert isinstance(got, list), here
            assert np.asarray(got).shape == want.shape, here
            assert got == want.tolist(), here
        else:
            assert got == want, f"{here}: {got!r} != {want!r}"
            assert isinstance(got, bool) == isinstance(want, bool | np.bool_), here


# --------------------------------------------------------------------------- the double itself
def test_double_modules_import_as_samna(samna_double):
    import samna.dynapcnn.configuration
    import samna.speck2f.configuration

    assert samna.IS_TEST_DOUBLE
    assert samna.speck2f.configuration is sys.modules["samna.speck2f.configuration"]
    assert importlib.util.find_spec("samna") is not None and available()
    for chip in ("speck2f", "speck2e", "speck2b"):
        cfg = getattr(samna, chip).configuration.SpeckConfiguration()
        assert len(cfg.cnn_layers) == 9 and len(cfg.cnn_layers[0].destinations) == 2
        assert getattr(samna, chip).validate_configuration(cfg) == (True, "")
    cfg = samna.dynapcnn.configuration.DynapcnnConfiguration()
    assert samna.dynapcnn.validate_configuration(cfg) == (True, "")
    with pytest.raises(TypeError):  # another chip's configuration, as pybind11 refuses it
        samna.speck2e.validate_configuration(samna.speck2f.configuration.SpeckConfiguration())


def _set(target: Any, name: str, value: Any) -> None:
    setattr(target, name, value)


STRICT = [  # (what, chip, function of the configuration, error)
    ("unknown attribute", "speck2f", lambda c: _set(c.cnn_layers[0], "colour", 1), AttributeError),
    ("kill bits on speck2f", "speck2f", lambda c: _set(c.cnn_layers[0], "biases_kill_bit", [True]),
     AttributeError),
    ("decimator on dynapcnn", "dynapcnn", lambda c: _set(c.cnn_layers[0], "output_decimator_enable", True),
     AttributeError),
    ("pooling on a DVS destination", "speck2f", lambda c: _set(c.dvs_layer.destinations[0], "pooling", 1),
     AttributeError),
    ("opaque dvs_filter", "speck2f", lambda c: _set(c.dvs_filter, "enable", True), AttributeError),
    ("cnn_layers assigned", "speck2f", lambda c: _set(c, "cnn_layers", []), AttributeError),
    ("a layer replaced", "speck2f", lambda c: c.cnn_layers.__setitem__(0, c.cnn_layers[1]), TypeError),
    ("destinations assigned", "speck2f", lambda c: _set(c.cnn_layers[0], "destinations", [{}]),
     AttributeError),
    ("a dict for a sub-object", "speck2f", lambda c: _set(c.dvs_layer, "pooling", {"x": 1, "y": 1}),
     TypeError),
    ("int for bool", "speck2f", lambda c: _set(c.cnn_layers[0], "monitor_enable", 1), TypeError),
    ("bool for int", "speck2f", lambda c: _set(c.cnn_layers[0], "threshold_high", True), TypeError),
    ("float for int", "speck2f", lambda c: _set(c.cnn_layers[0], "threshold_high", 1.0), TypeError),
    ("threshold_high range", "speck2f", lambda c: _set(c.cnn_layers[0], "threshold_high", 32768), ValueError),
    ("pooling 3", "speck2f", lambda c: _set(c.cnn_layers[0].destinations[0], "pooling", 3), ValueError),
    ("layer 9", "speck2f", lambda c: _set(c.cnn_layers[0].destinations[0], "layer", 9), ValueError),
    ("DVS to the readout", "speck2f", lambda c: _set(c.dvs_layer.destinations[0], "layer", 12), ValueError),
    ("feature_shift 1024", "speck2f", lambda c: _set(c.cnn_layers[0].destinations[0], "feature_shift", 1024),
     ValueError),
    ("decimator interval 8", "speck2e", lambda c: _set(c.cnn_layers[0], "output_decimator_interval", 8),
     ValueError),
    ("cut 128", "speck2f", lambda c: _set(c.dvs_layer.cut, "x", 128), ValueError),
    ("DVS pooling 8", "speck2f", lambda c: _set(c.dvs_layer.pooling, "y", 8), ValueError),
    ("readout sel 4", "speck2f", lambda c: _set(c.readout, "readout_configuration_sel", 4), ValueError),
    ("a weight 200", "speck2f", lambda c: _set(c.cnn_layers[0], "weights", [[[[1, 200]]]]), ValueError),
    ("weights with 3 axes", "speck2f", lambda c: _set(c.cnn_layers[0], "weights", [[[1]]]), ValueError),
    ("ragged weights", "speck2f", lambda c: _set(c.cnn_layers[0], "weights", [[[[1, 2], [3]]]]), ValueError),
    ("float weights", "speck2f", lambda c: _set(c.cnn_layers[0], "weights", [[[[0.5]]]]), ValueError),
    ("neuron state 40000", "speck2f",
     lambda c: _set(c.cnn_layers[0], "neurons_initial_value", np.full((1, 2, 2), 40000)), ValueError),
    ("kill bit 2", "dynapcnn", lambda c: _set(c.cnn_layers[0], "biases_kill_bit", [0, 2]), ValueError),
    ("dimensions key missing", "speck2f", lambda c: _set(c.cnn_layers[0], "dimensions", {"kernel_size": 3}),
     ValueError),
    ("dimensions stride 3", "speck2f", lambda c: _set(c.cnn_layers[0], "dimensions", {
        "input_shape": {"feature_count": 1, "size": {"x": 4, "y": 4}},
        "output_shape": {"feature_count": 1, "size": {"x": 2, "y": 2}},
        "padding": {"x": 0, "y": 0}, "stride": {"x": 3, "y": 1}, "kernel_size": 1}), ValueError),
]


@pytest.mark.parametrize(("what", "chip", "action", "error"), STRICT, ids=[s[0] for s in STRICT])
def test_double_is_strict(samna_double, what, chip, action, error):
    module = getattr(samna_double, chip).configuration
    cfg = module.DynapcnnConfiguration() if chip == "dynapcnn" else module.SpeckConfiguration()
    before = cfg.to_json()
    with pytest.raises(error):
        action(cfg)
    assert cfg.to_json() == before  # a refused value changes nothing


def test_double_reads_back_what_was_set(samna_double):
    cfg = samna_double.speck2f.configuration.SpeckConfiguration()
    layer = cfg.cnn_layers[3]
    dims = {"input_shape": {"feature_count": 2, "size": {"x": 6, "y": 4}},
            "output_shape": {"feature_count": 3, "size": {"x": 4, "y": 2}},
            "padding": {"x": 0, "y": 0}, "stride": {"x": 1, "y": 1}, "kernel_size": 3}
    layer.dimensions = dims
    assert layer.dimensions.output_shape.size.x == 4 and layer.dimensions.kernel_size == 3
    layer.weights = np.arange(54).reshape(3, 2, 3, 3) - 27
    assert layer.weights == (np.arange(54).reshape(3, 2, 3, 3) - 27).tolist()
    got = layer.weights
    got[0][0][0][0] = 99                      # reading gives a copy, as samna's vectors do
    assert layer.weights[0][0][0][0] == -27
    cfg.cnn_layers[3].destinations[1].feature_shift = 7  # items change in place
    assert cfg.cnn_layers[3].destinations[1].feature_shift == 7
    cfg.dvs_layer.mirror.y = True
    assert cfg.dvs_layer.mirror.y is True and cfg.dvs_layer.on_channel is True
    assert [d.enable for d in cfg.cnn_layers[0].destinations] == [False, False]
    assert cfg.cnn_layers[0].weights == [] and cfg.readout.enable is False


def test_double_validate_refuses_threshold_low_zero(samna_double):
    cfg = samna_double.speck2f.configuration.SpeckConfiguration()
    layer = cfg.cnn_layers[0]
    layer.dimensions = {"input_shape": {"feature_count": 1, "size": {"x": 2, "y": 2}},
                        "output_shape": {"feature_count": 1, "size": {"x": 2, "y": 2}},
                        "padding": {"x": 0, "y": 0}, "stride": {"x": 1, "y": 1}, "kernel_size": 1}
    layer.weights, layer.neurons_initial_value = [[[[1]]]], [[[0, 0], [0, 0]]]
    layer.monitor_enable = True
    ok, message = samna_double.speck2f.validate_configuration(cfg)
    assert not ok and "threshold_low is 0" in message
    layer.threshold_low = -1
    assert samna_double.speck2f.validate_configuration(cfg) == (True, "")


# ------------------------------------------------------------------------------- to_samna
@pytest.mark.parametrize("name", ALL)
def test_to_samna_holds_the_document(samna_double, built, name):
    doc, _ = built[name]
    cfg = to_samna(doc.data)
    module = sys.modules[doc.data["samna"]["module"]]
    assert type(cfg) is getattr(module, doc.data["samna"]["class"])
    assert doc.data["samna"]["module"] == f"samna.{doc.chip}.configuration"
    config = doc.config
    for index in used(doc):
        layer = config["cnn_layers"][index]
        # a used core sets every attribute the chip's layer has: nothing is left to chance
        assert set(layer) == set(fresh_layer(samna_double, doc.chip).to_dict()), index
        assert_holds(cfg.cnn_layers[index], layer, f"cnn_layers[{index}]")
    assert_holds(cfg.dvs_layer, config["dvs_layer"], "dvs_layer")
    if "readout" in config:  # not set on chips whose readout is undocumented (dynapcnn)
        assert_holds(cfg.readout, config["readout"], "readout")


@pytest.mark.parametrize("name", ALL)
def test_unused_cores_keep_the_defaults(samna_double, built, name):
    doc, _ = built[name]
    cfg = to_samna(doc.data)
    default = fresh_layer(samna_double, doc.chip).to_dict()
    unused = [i for i in range(9) if i not in used(doc)]
    for index in unused:
        assert cfg.cnn_layers[index].to_dict() == default, index
    for key in ("dvs_filter", "factory_config", "debug_config"):
        assert getattr(cfg, key).to_dict() == {}


def test_to_samna_values_mean_what_the_hardware_says(samna_double, built):
    """x and y, the kernel axis swap, [f][x][y] state, concat shifts, decimator, thresholds."""
    doc, tensors = built["asym"]
    cfg = to_samna(doc.data)
    cores = {name: cfg.cnn_layers[index] for index, name in used(doc).items()}
    idx = {name: index for index, name in used(doc).items()}
    a, b, c = cores["a"], cores["b"], cores["c"]
    dims = a.dimensions
    assert (dims.input_shape.feature_count, dims.input_shape.size.x, dims.input_shape.size.y) == (2, 20, 12)
    assert (dims.output_shape.feature_count, dims.output_shape.size.x, dims.output_shape.size.y) == (3, 20, 5)
    assert (dims.padding.x, dims.padding.y, dims.stride.x, dims.stride.y, dims.kernel_size) == (1, 0, 1, 2, 3)
    torch_w = tensors["a.weight"].astype(int)  # [out][in][y][x], integers as given (quantize: none)
    w = np.asarray(a.weights)
    assert w.shape == (3, 2, 3, 3)
    for o, i, x, y in np.ndindex(w.shape):
        assert w[o, i, x, y] == torch_w[o, i, y, x]
    assert a.biases == tensors["a.bias"].astype(int).tolist() and a.leak_enable is True
    assert np.asarray(a.neurons_initial_value).shape == (3, 20, 5)   # [f][x][y]
    assert (a.threshold_high, a.threshold_low, a.return_to_zero) == (10, -10, False)
    assert (b.threshold_high, b.threshold_low, b.return_to_zero, b.leak_enable) == (7, -3, True, False)
    assert np.all(np.asarray(b.neurons_initial_value) == 2)
    assert (a.output_decimator_enable, a.output_decimator_interval) == (True, 2)  # 1/8
    assert a.input_congestion_balancer_enable is True and b.input_congestion_balancer_enable is False
    assert b.output_decimator_enable is False
    dest = [(d.enable, d.layer, d.pooling, d.feature_shift) for d in (a.destinations[0], b.destinations[0])]
    assert dest == [(True, idx["c"], 1, 0), (True, idx["c"], 1, 3)]   # concat: a at 0, b at 3
    assert [d.enable for d in (a.destinations[1], b.destinations[1], *c.destinations)] == [False] * 4
    assert c.dimensions.input_shape.feature_count == 5 and np.asarray(c.weights).shape == (4, 5, 1, 1)
    assert c.monitor_enable is True
    assert cfg.dvs_layer.pass_sensor_events is False
    assert [d.enable for d in cfg.dvs_layer.destinations] == [False, False]
    assert cfg.readout.enable is False


def test_to_samna_dvs_layer_and_readout(samna_double, built):
    doc, _ = built["dvs-roi"]
    cfg = to_samna(doc.data)
    (index, _name), = used(doc).items()
    dvs = cfg.dvs_layer
    assert dvs.pass_sensor_events is True
    assert (dvs.destinations[0].enable, dvs.destinations[0].layer) == (True, index)
    assert dvs.destinations[1].enable is False
    assert (dvs.pooling.x, dvs.pooling.y) == (2, 4)
    assert (dvs.origin.x, dvs.origin.y) == (4, 2)
    assert (dvs.cut.x, dvs.cut.y) == (4 + 24 - 1, 2 + 16 - 1)   # inclusive
    assert (dvs.mirror.x, dvs.mirror.y, dvs.mirror_diagonal) == (True, False, True)
    assert (dvs.merge, dvs.on_channel, dvs.off_channel, dvs.monitor_enable) == (True, True, True, True)
    size = cfg.cnn_layers[index].dimensions.input_shape.size
    assert (size.x, size.y) == (16, 24)                           # the diagonal swaps x and y
    ro = cfg.readout
    assert (ro.enable, ro.threshold, ro.monitor_enable) == (True, 5, True)
    assert (ro.low_pass_filter_disable, ro.low_pass_filter32_not16) == (False, True)
    layer = cfg.cnn_layers[index]
    assert [(d.enable, d.layer) for d in layer.destinations] == [(True, 12), (False, 0)]
    # readout errata: class k on feature 4*(k-1), the features between are empty
    w = np.asarray(layer.weights)
    assert w.shape[0] == 13 and not w[[f for f in range(13) if f % 4]].any()


@pytest.mark.parametrize("chip", ["dynapcnn", "speck2b"])
def test_legacy_chip_sets_kill_bits(samna_double, built, chip):
    doc, _ = built[f"legacy-{chip}"]
    cfg = to_samna(doc.data)
    names = {"dynapcnn": "DynapcnnConfiguration", "speck2b": "SpeckConfiguration"}
    assert type(cfg) is getattr(getattr(samna_double, chip).configuration, names[chip])
    idx = {name: index for index, name in used(doc).items()}
    a, b = cfg.cnn_layers[idx["a"]], cfg.cnn_layers[idx["b"]]
    killed = [False, True, False, True]
    assert a.biases_kill_bit == killed
    wk = np.asarray(a.weights_kill_bit)
    assert wk.shape == (4, 2, 3, 3) and wk.dtype == bool
    assert [bool(wk[f].all()) for f in range(4)] == killed and [bool(wk[f].any()) for f in range(4)] == killed
    nk = np.asarray(a.neurons_value_kill_bit)
    assert nk.shape == (4, 10, 8)                                   # [f][x][y]: x is the width
    assert [bool(nk[f].all()) for f in range(4)] == killed and [bool(nk[f].any()) for f in range(4)] == killed
    assert not np.asarray(b.weights_kill_bit).any() and b.biases_kill_bit == [False, False]
    with pytest.raises(AttributeError):
        _ = a.output_decimator_enable


# ----------------------------------------------------------------------------- from_samna
def assert_same_slots(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Enabled slots equal in full; a disabled slot is only disabled (its other fields are leftovers)."""
    assert len(got) == len(want) == 2
    for slot, dest in zip(want, got, strict=True):
        assert dest["enable"] == slot["enable"]
        if slot["enable"]:
            assert dest == slot


@pytest.mark.parametrize("name", ALL)
def test_round_trip_used_layers(samna_double, built, name):
    doc, _ = built[name]
    back = from_samna(to_samna(doc.data), doc.chip)
    assert back["chip"] == doc.chip and back["samna"] == doc.data["samna"]
    for index in used(doc):
        want, got = doc.config["cnn_layers"][index], back["config"]["cnn_layers"][index]
        assert set(got) == set(want), index
        for key, value in want.items():
            if isinstance(value, np.ndarray):
                assert isinstance(got[key], np.ndarray), key
                assert got[key].shape == value.shape and np.array_equal(got[key], value), key
            elif key == "destinations":
                assert_same_slots(got[key], value)
            else:
                assert got[key] == value, key
    for part in ("dvs_layer", "readout"):
        for key, value in doc.config.get(part, {}).items():
            if key == "destinations":
                assert_same_slots(back["config"][part][key], value)
            else:
                assert back["config"][part][key] == value, (part, key)


@pytest.mark.parametrize("name", ALL)
def test_round_trip_compare_has_no_changes(samna_double, built, name):
    doc, _ = built[name]
    back = from_samna(to_samna(doc.data), doc.chip)
    changes, _notes = compare(doc.data, back)
    assert [f"{c.path}: {c.text}" for c in changes] == []


def test_round_trip_compare_on_the_parts_the_document_sets(samna_double, built):
    """What the host-input round trip does get right: only the don't-cares above differ."""
    for name in HOST:
        doc, _ = built[name]
        back = from_samna(to_samna(doc.data), doc.chip)
        for part in ("dvs_layer", "readout"):
            if part not in doc.config:
                back["config"].pop(part, None)
                continue
            back["config"][part] = {k: v for k, v in back["config"][part].items() if k in doc.config[part]}
        changes, _notes = compare(doc.data, back)
        assert [f"{c.path}: {c.text}" for c in changes] == [], name


def test_from_samna_reads_a_configuration_filled_by_from_json(samna_double, built):
    doc, _ = built["chip-filling"]
    cfg = to_samna(doc.data)
    other = type(cfg)()
    other.from_json(cfg.to_json())
    changes, _ = compare(from_samna(cfg, doc.chip), from_samna(other, "speck2fdevkit"))
    assert changes == []


# ---------------------------------------------------------------------------- refusals
def _first_used(doc: dynapcnn_dsl.Document) -> int:
    return min(used(doc))


def _layer(config: dict[str, Any], index: int) -> dict[str, Any]:
    return config["cnn_layers"][index]


def _dest(config: dict[str, Any], index: int) -> dict[str, Any]:
    return config["cnn_layers"][index]["destinations"][0]


EDITS = [  # (what, edit of the config tree given the first used core, error, words in the message)
    ("destination pooling 3", lambda c, i: _dest(c, i).update(pooling=3),
     ValueError, "pooling"),
    ("a weight 200", lambda c, i: _layer(c, i)["weights"].flat.__setitem__(0, 200), ValueError, "200"),
    ("feature_shift 1024", lambda c, i: _dest(c, i).update(feature_shift=1024),
     ValueError, "feature_shift"),
    ("threshold_high 40000", lambda c, i: _layer(c, i).update(threshold_high=40000), ValueError,
     "threshold_high"),
    ("destination layer 9", lambda c, i: _dest(c, i).update(layer=9), ValueError,
     "layer"),
    ("kernel_size 17", lambda c, i: _layer(c, i)["dimensions"].update(kernel_size=17), ValueError,
     "kernel_size"),
    ("neuron state 40000", lambda c, i: _layer(c, i)["neurons_initial_value"].flat.__setitem__(0, 40000),
     ValueError, "40000"),
    ("DVS cut 128", lambda c, i: c["dvs_layer"].update(cut={"x": 128, "y": 0}), ValueError, "cut"),
    ("readout threshold 70000", lambda c, i: c["readout"].update(threshold=70000), ValueError, "threshold"),
    ("monitor_enable 1", lambda c, i: _layer(c, i).update(monitor_enable=1), TypeError, "monitor_enable"),
    ("unknown attribute", lambda c, i: _layer(c, i).update(colour="red"), AttributeError, "colour"),
    ("kill bits on speck2f", lambda c, i: _layer(c, i).update(biases_kill_bit=np.zeros(2, bool)),
     AttributeError, "biases_kill_bit"),
]


@pytest.mark.parametrize(("what", "edit", "error", "word"), EDITS, ids=[e[0] for e in EDITS])
def test_out_of_range_value_is_the_doubles_error(samna_double, built, what, edit, error, word):
    # samna's own refusal (here the double's) comes back as a diagnostic, its cause kept
    doc, _ = built["seed-residual"]
    data = copy.deepcopy(doc.data)
    edit(data["config"], _first_used(doc))
    with pytest.raises(SamnaError, match=word) as caught:
        to_samna(data)
    assert caught.value.diagnostic.code == "samna-rejected"
    assert isinstance(caught.value.__cause__, error)


REFUSED = [  # (what, edit, words of the double's message)
    ("threshold_low 0", lambda c, i: _layer(c, i).update(threshold_low=0), "threshold_low is 0"),
    ("weights missing an output", lambda c, i: _layer(c, i).update(weights=_layer(c, i)["weights"][:1]),
     "weights has shape"),
    ("shift beyond the receiver", lambda c, i: _dest(c, i).update(feature_shift=1000),
     "do not fit"),
    ("pooling that breaks the sizes", lambda c, i: _dest(c, i).update(pooling=2),
     "after pooling 2"),
]


@pytest.mark.parametrize(("what", "edit", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_validate_refusal_is_samna_invalid(samna_double, built, what, edit, words):
    doc, _ = built["seed-residual"]
    data = copy.deepcopy(doc.data)
    edit(data["config"], _first_used(doc))
    with pytest.raises(SamnaError) as info:
        to_samna(data)
    diagnostic = info.value.diagnostic
    assert diagnostic.code == "samna-invalid" and diagnostic.severity is Severity.ERROR
    assert words in diagnostic.message and "validate_configuration" in diagnostic.message
    assert diagnostic.hint


def test_structure_only_document_is_refused_by_the_bridge(samna_double, monkeypatch):
    # refused before samna is consulted, even by a samna that would accept it
    monkeypatch.setattr(samna_double.speck2f, "validate_configuration", lambda config: (True, ""))
    doc = dynapcnn_dsl.build(SEED)  # no weights: no tensors, no thresholds
    assert doc.data["source"]["weights"] is None and doc.chip == "speck2f"
    with pytest.raises(SamnaError) as info:
        to_samna(doc.data)
    assert info.value.diagnostic.code == "document-structure-only"


def test_to_samna_leaves_the_document_alone(samna_double, built):
    doc, _ = built["legacy-dynapcnn"]
    before = doc.to_json()
    to_samna(doc.data)
    assert doc.to_json() == before


def test_unknown_chip_in_the_document(samna_double, built):
    data = copy.deepcopy(built["seed-residual"][0].data)
    data["chip"] = "speck9"
    with pytest.raises(SamnaError) as info:
        to_samna(data)
    assert info.value.diagnostic.code == "document-chip"


# --------------------------------------------------------------------------- without samna
def test_without_samna_to_samna_is_samna_missing(no_samna, built):
    assert importlib.util.find_spec("samna") is None and not available()
    doc, _ = built["host-sequential"]
    for call in (lambda: to_samna(doc.data), doc.to_samna):
        with pytest.raises(SamnaError) as info:
            call()
        assert type(info.value) is SamnaError
        diagnostic = info.value.diagnostic
        assert diagnostic.code == "samna-missing" and diagnostic.severity is Severity.ERROR
        assert "\n" not in diagnostic.message and "Traceback" not in diagnostic.message
        assert "pip install" in diagnostic.hint
        assert isinstance(info.value.__cause__, ImportError)


def test_samna_without_the_legacy_chip_is_samna_missing(samna_double, built, monkeypatch):
    """samna >= 0.46 has no speck2b or dynapcnn module."""
    monkeypatch.delitem(sys.modules, "samna.dynapcnn")
    monkeypatch.delitem(sys.modules, "samna.dynapcnn.configuration")
    monkeypatch.delattr(samna_double, "dynapcnn")
    doc, _ = built["legacy-dynapcnn"]
    with pytest.raises(SamnaError) as info:
        to_samna(doc.data)
    assert info.value.diagnostic.code == "samna-missing" and "0.46" in info.value.diagnostic.hint


# ---------------------------------------------------------------------------- Document API
@pytest.mark.parametrize("name", ["dvs-speck2f", "legacy-dynapcnn"])
def test_document_to_samna_is_the_same(samna_double, built, name, tmp_path):
    doc, _ = built[name]
    direct = to_samna(doc.data).to_json()
    assert doc.to_samna().to_json() == direct
    doc.write(tmp_path / "config.json")
    assert dynapcnn_dsl.Document.read(tmp_path / "config.json").to_samna().to_json() == direct


def test_document_to_samna_refusal(samna_double, built):
    data = copy.deepcopy(built["seed-residual"][0].data)
    data["config"]["cnn_layers"][_first_used(built["seed-residual"][0])]["threshold_low"] = 0
    with pytest.raises(SamnaError) as info:
        dynapcnn_dsl.Document(data).to_samna()
    assert info.value.diagnostic.code == "samna-invalid"


# ------------------------------------------------------------------------------- real samna
@pytest.mark.skipif(importlib.util.find_spec("samna") is None,
                    reason="samna is not installed (never installed by the test suite)")
def test_to_samna_on_real_samna(built):
    doc, _ = built["host-sequential"]
    cfg = to_samna(doc.data)
    assert type(cfg).__name__ == "SpeckConfiguration"
    back = from_samna(cfg, doc.chip)
    for index in used(doc):
        want, got = doc.config["cnn_layers"][index], back["config"]["cnn_layers"][index]
        assert np.array_equal(got["weights"], want["weights"])
        assert got["dimensions"] == want["dimensions"]


DYNAPCNN_READOUT = """\
dsl: 1
chip: dynapcnn
input: {source: host, shape: [1, 8, 8], to: [a]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  a: {conv: {out_channels: 4, kernel: 3}}
readout: {from: a, classes: 4, threshold: 3}
"""


def test_a_dynapcnn_readout_round_trips(samna_double, tmp_path):
    """dynapcnn's readout is undocumented, but a network that uses it reads back with it."""
    doc, _ = build(write(tmp_path, "dynapcnn-readout", DYNAPCNN_READOUT), tmp_path)
    assert doc.config["readout"]["enable"] is True
    back = from_samna(to_samna(doc.data), doc.chip)
    assert back["config"]["readout"] == doc.config["readout"]
    assert compare(doc.data, back) == ([], [])

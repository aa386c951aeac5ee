"""The Python API: `dynapcnn_dsl.build`, `Document` and `BuildError`.

Networks are the examples, YAML written to tmp_path, or YAML text; weights are numpy arrays
saved as .npz at test time, the same arrays in memory, or torch tensors and modules (torch is
imported only by the tests that use it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import CHAIN, make_weights, write

import dynapcnn_dsl
from dynapcnn_dsl import BuildError, Differences, Document, build, check, diff, inspect, validate
from dynapcnn_dsl.emit import FORMAT, TENSORS, VERSION
from dynapcnn_dsl.emit.configuration import WEIGHT_FIELDS, unused_core

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MISTAKES = EXAMPLES / "mistakes.yaml"


LEGACY = """\
dsl: 1
chip: dynapcnn
input: {source: host, shape: [2, 8, 8], to: [a]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  a:
    conv: {out_channels: 4, kernel: 3, padding: 1}
    kill_features: [1, 3]
    monitor: true
"""

LEAKY = CHAIN.replace("    conv: {out_channels: 4, kernel: 3, padding: 1}\n    to:",
                      "    index: 0\n    conv: {out_channels: 4, kernel: 3, padding: 1, bias: true}\n    to:")
"""CHAIN with a bias on core 'a', pinned to core 0, where the leak is broken: a warning (7:3)."""


# ------------------------------------------------------------------------------------ helpers
def same(a: Any, b: Any, path: str = "") -> None:
    """Deep equality that requires arrays on both sides where there is one on either."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), path
        assert a.shape == b.shape and np.array_equal(a, b), path
        return
    assert type(a) is type(b) or {type(a), type(b)} <= {int, np.int32, np.int64}, \
        f"{path}: {type(a)} vs {type(b)}"
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def used_layers(doc: Document) -> list[dict[str, Any]]:
    return [layer for layer in doc.config["cnn_layers"] if "dimensions" in layer]


# ---------------------------------------------------------------------------------- build
def test_build_returns_a_document(chain):
    net, weights = chain
    doc = build(net, weights)
    assert isinstance(doc, Document)
    assert doc.chip == "speck2f"
    assert doc.data["format"] == FORMAT and doc.data["version"] == VERSION
    assert doc.config is doc.data["config"]
    assert set(doc.config) == {"cnn_layers", "dvs_layer", "readout"}
    assert len(doc.config["cnn_layers"]) == 9
    assert [c.name for c in doc.linked.cores] == ["a", "b"]
    assert doc.bound is not None and doc.bound.weights_file == str(weights)
    assert doc.data["source"] == {"network": str(net), "weights": str(weights)}
    assert repr(doc) == "<Document speck2f: 2 cores>"


def test_the_package_exports_the_api():
    from dynapcnn_dsl import api

    assert dynapcnn_dsl.build is api.build
    assert dynapcnn_dsl.Document is api.Document
    assert dynapcnn_dsl.BuildError is api.BuildError
    assert set(dynapcnn_dsl.__all__) >= {"build", "Document", "BuildError"}
    for name in ("check", "validate", "inspect", "Differences"):
        assert getattr(dynapcnn_dsl, name) is getattr(api, name)
        assert name in dynapcnn_dsl.__all__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dynapcnn_dsl.nope  # noqa: B018


def test_a_board_alias_builds_for_its_chip():
    doc = build(EXAMPLES / "dvs-speck2f" / "network.yaml")   # chip: speck2fmodule
    assert doc.chip == "speck2f"
    assert doc.data["samna"] == {"module": "samna.speck2f.configuration", "class": "SpeckConfiguration"}
    assert doc.config["readout"]["enable"] is True
    assert doc.config["dvs_layer"]["pass_sensor_events"] is True


def test_used_layers_hold_the_weights_and_unused_ones_only_their_defaults(chain):
    net, weights = chain
    doc = build(net, weights)
    layers = doc.config["cnn_layers"]
    for layer in layers[:2]:
        for field in ("weights", "biases", "neurons_initial_value", "threshold_high",
                      "threshold_low", "leak_enable"):
            assert field in layer
        assert isinstance(layer["weights"], np.ndarray)
        assert layer["weights"].min() >= -128 and layer["weights"].max() <= 127
    assert layers[0]["weights"].shape == (4, 2, 3, 3)
    assert layers[1]["neurons_initial_value"].shape == (4, 8, 8)
    assert layers[0]["destinations"] == [{"enable": True, "layer": 1, "pooling": 2, "feature_shift": 0},
                                         {"enable": False}]
    assert layers[2:] == [unused_core()] * 7


def test_build_without_weights_is_structure_only(chain):
    net, _ = chain
    doc = build(net)
    assert doc.bound is None
    assert doc.data["source"]["weights"] is None
    used = used_layers(doc)
    assert len(used) == 2
    for layer in used:
        assert not set(layer) & set(WEIGHT_FIELDS), sorted(set(layer) & set(WEIGHT_FIELDS))
        assert "weights" not in layer and "threshold_high" not in layer
        assert "threshold_low" not in layer and "biases" not in layer
        assert not set(layer) & set(TENSORS)
        assert {"dimensions", "destinations", "monitor_enable", "return_to_zero"} <= set(layer)


def test_structure_only_and_full_builds_agree_on_the_structure(chain):
    net, weights = chain
    full, structure = build(net, weights), build(net)
    for a, b in zip(full.config["cnn_layers"], structure.config["cnn_layers"], strict=True):
        assert {k: v for k, v in a.items() if k not in WEIGHT_FIELDS} == b


def test_annotations_name_each_core_and_its_position(chain):
    net, weights = chain
    doc = build(net, weights, annotate=True)
    slots = doc.data["annotations"]["cnn_layers"]
    assert slots[0] == {"core": "a", "file": str(net), "line": 7, "col": 3}
    assert slots[1] == {"core": "b", "file": str(net), "line": 10, "col": 3}
    assert slots[2:] == [None] * 7
    assert doc.data["annotations"]["dvs_layer"] == {"input": "host", "file": str(net), "line": 3, "col": 1}
    assert "annotations" not in build(net, weights).data


def test_a_legacy_chip_has_kill_bits(tmp_path):
    net = write(tmp_path, "legacy.yaml", LEGACY)
    doc = build(net, make_weights(net, tmp_path / "w.npz"))
    (layer,) = used_layers(doc)
    assert layer["biases_kill_bit"].tolist() == [False, True, False, True]
    assert layer["weights_kill_bit"].shape == (4, 2, 3, 3)
    assert layer["weights_kill_bit"][1].all() and not layer["weights_kill_bit"][0].any()
    assert "output_decimator_enable" not in layer


def test_build_passes_disabled_rules_on(tmp_path):
    # a core with a bias (a leak) pinned to core 0, where the leak is listed as broken: a warning
    net = write(tmp_path, "leak.yaml", LEAKY)
    assert [d.code for d in build(net).diagnostics] == ["leak-core"]
    assert build(net, disabled=["leak-core"]).diagnostics == ()


# ------------------------------------------------------------------------ JSON and files
def test_to_json_parses_with_the_header_and_tensors_as_lists(chain):
    net, weights = chain
    doc = build(net, weights)
    text = doc.to_json()
    assert text.endswith("\n")
    data = json.loads(text)
    assert data["format"] == FORMAT and data["version"] == VERSION and data["chip"] == "speck2f"
    assert data["config"]["cnn_layers"][0]["weights"] == doc.config["cnn_layers"][0]["weights"].tolist()
    assert data["config"]["cnn_layers"][1]["threshold_high"] == doc.config["cnn_layers"][1]["threshold_high"]


@pytest.mark.parametrize("case", ["chain", "chain-structure", "legacy", "dvs", "chip-filling"])
def test_write_then_read_round_trips(tmp_path, case):
    if case.startswith("chain"):
        net = write(tmp_path, "net.yaml", CHAIN)
    elif case == "legacy":
        net = write(tmp_path, "net.yaml", LEGACY)
    elif case == "dvs":
        net = EXAMPLES / "dvs-speck2f" / "network.yaml"
    else:
        net = EXAMPLES / "chip-filling" / "network.yaml"
    weights = None if case == "chain-structure" else make_weights(net, tmp_path / "w.npz")
    doc = build(net, weights, annotate=True)
    out = tmp_path / "out" / "config.json"
    out.parent.mkdir()
    doc.write(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["config.json"]   # no temporary left
    assert out.read_text(encoding="utf-8") == doc.to_json()
    back = Document.read(out)
    assert isinstance(back, Document)
    same(back.data, doc.data)
    assert back.chip == doc.chip
    for layer in back.config["cnn_layers"]:
        for key in TENSORS:
            if key in layer:
                assert isinstance(layer[key], np.ndarray)
    assert Document.read(str(out)).to_json() == doc.to_json()


def test_write_replaces_an_existing_file(chain, tmp_path):
    net, weights = chain
    out = tmp_path / "config.json"
    out.write_text("old", encoding="utf-8")
    build(net, weights).write(str(out))
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == FORMAT


def test_a_failed_write_leaves_the_old_file_and_no_temporary(chain, tmp_path, monkeypatch):
    net, weights = chain
    doc = build(net, weights)
    out = tmp_path / "config.json"
    out.write_bytes(b"old\x00bytes")
    before = sorted(p.name for p in tmp_path.iterdir())

    def replace(src, dst, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        doc.write(out)
    assert out.read_bytes() == b"old\x00bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---------------------------------------------------------------------------------- errors
def test_build_error_carries_every_diagnostic():
    with pytest.raises(BuildError) as exc:
        build(MISTAKES)
    err = exc.value
    assert [d.code for d in err.diagnostics if d.is_error] == [
        "conv-kernel", "dest-max", "conv-stride", "threshold-low", "concat-needs-from"]
    text = str(err)
    name = str(MISTAKES)
    for pos, code in [("11:37", "conv-kernel"), ("12:5", "dest-max"), ("14:48", "conv-stride"),
                      ("15:41", "threshold-low"), ("18:12", "concat-needs-from")]:
        assert f"{name}:{pos}: error[{code}]: " in text
    assert "hint: " in text


def test_build_error_for_bad_weights(chain, tmp_path):
    net, _ = chain
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"a.weight": np.ones((4, 3, 3, 3), np.float32),
                     "b.weight": np.ones((4, 4, 3, 3), np.float32)})
    with pytest.raises(BuildError) as exc:
        build(net, bad)
    (d,) = exc.value.diagnostics
    assert d.code == "weights-shape"
    assert f"{net}:7:3: error[weights-shape]: core 'a': 'a.weight' is [4, 3, 3, 3], expected " \
        "[4, 2, 3, 3]" in str(exc.value)


def test_build_error_lists_every_weights_problem(chain, tmp_path):
    net, _ = chain
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"a.weight": np.full((4, 2, 3, 3), np.nan, np.float32),
                     "c.weight": np.ones((4, 4, 3, 3), np.float32)})
    with pytest.raises(BuildError) as exc:
        build(net, bad)
    codes = {d.code for d in exc.value.diagnostics if d.is_error}
    assert "weights-missing" in codes and len(codes) >= 2
    for d in exc.value.diagnostics:
        if d.is_error:
            assert f"error[{d.code}]" in str(exc.value)


def test_a_missing_network_is_a_build_error(tmp_path):
    with pytest.raises(BuildError) as exc:
        build(tmp_path / "nope.yaml")
    assert exc.value.diagnostics
    assert "nope.yaml" in str(exc.value)


def test_warnings_do_not_stop_a_build(chain, tmp_path):
    net, _ = chain
    extra = make_weights(net, tmp_path / "extra.npz", head=np.zeros(3, np.float32))
    doc = build(net, extra)
    assert doc.diagnostics and not any(d.is_error for d in doc.diagnostics)
    assert doc.bound is not None


# ----------------------------------------------------------------------------- start-up cost
PROBE = """
import sys
heavy = lambda: ",".join(m for m in ("pydantic", "numpy", "torch") if m in sys.modules)
import dynapcnn_dsl
print("import", heavy())
dynapcnn_dsl.build, dynapcnn_dsl.Document, dynapcnn_dsl.BuildError
print("attributes", heavy())
doc = dynapcnn_dsl.build({network!r}, {weights!r})
print("build", heavy())
"""


def test_importing_the_package_imports_nothing_heavy(chain):
    net, weights = chain
    out = subprocess.run([sys.executable, "-c", PROBE.format(network=str(net), weights=str(weights))],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.splitlines() == ["import ", "attributes ", "build pydantic,numpy"]


# ------------------------------------------------------------- what a notebook has: text, tensors
def arrays(weights: Path) -> dict[str, np.ndarray]:
    with np.load(weights) as npz:
        return {name: npz[name] for name in npz.files}


def test_a_network_as_text_runs_the_same_pipeline_as_its_file(chain):
    net, weights = chain
    from_text, from_file = build(CHAIN, weights), build(net, weights)
    same(from_text.config, from_file.config)
    assert from_text.data["source"]["network"] == "<text>"
    assert [c.name for c in validate(CHAIN).linked.cores] == ["a", "b"]


@pytest.mark.parametrize(("network", "text"), [
    ("dsl: 1", True), ("  {\"dsl\": 1}", True), ("a: 1\nb: 2", True),
    ("network.yaml", False), ("dsl.yaml", False), (Path("dsl: 1"), False)])
def test_text_and_paths_are_told_apart(network, text):
    from dynapcnn_dsl.api import is_text

    assert is_text(network) is text


def test_errors_in_text_are_positioned_in_text():
    with pytest.raises(BuildError) as exc:
        validate(CHAIN.replace("kernel: 3, padding: 1}\n    to:", "kernel: 17, padding: 1}\n    to:"))
    errors = [(str(d.position), d.code) for d in exc.value.diagnostics if d.is_error]
    assert errors == [("8:37", "conv-kernel")]
    assert "<text>:8:37: error[conv-kernel]: " in str(exc.value)


def test_a_path_that_does_not_exist_is_a_file_not_text(tmp_path):
    with pytest.raises(BuildError, match=r"nope\.yaml: error\[file-unreadable\]: no such file"):
        validate(str(tmp_path / "nope.yaml"))


def test_a_numpy_mapping_builds_as_its_file_does(chain):
    net, weights = chain
    doc = build(net, arrays(weights))
    same(doc.config, build(net, weights).config)
    assert doc.data["source"]["weights"] == "<memory>"


def test_a_torch_state_dict_with_a_shared_tensor(chain):
    import torch

    net, weights = chain
    numpy = arrays(weights)
    b = torch.from_numpy(numpy["b.weight"].copy())
    shared = torch.cat([torch.from_numpy(numpy["a.weight"]), b[:, 2:]], dim=1)  # [4, 4, 3, 3]
    state = {"a.weight": shared[:, :2], "b.weight": b, "head.weight": shared[:, :2]}
    assert state["a.weight"].untyped_storage().data_ptr() == state["head.weight"].untyped_storage().data_ptr()
    doc = build(net, state)
    same(doc.config, build(net, weights).config)
    assert [d.code for d in doc.diagnostics] == ["weights-unused"]


def test_an_nn_module_is_its_state_dict(chain):
    import torch
    from torch import nn

    net, weights = chain
    model = nn.ModuleDict({"a": nn.Conv2d(2, 4, 3, padding=1, bias=False),
                           "b": nn.Conv2d(4, 4, 3, padding=1, bias=False)})
    with torch.no_grad():
        for name, array in arrays(weights).items():
            model.get_parameter(name).copy_(torch.from_numpy(array))
    same(build(net, model).config, build(net, weights).config)
    same(build(net, model).config, build(net, model.state_dict()).config)


@pytest.mark.parametrize("call", [
    lambda net: build(42), lambda net: validate(None), lambda net: inspect(["a.yaml"]),
    lambda net: check(b"dsl: 1", net), lambda net: diff(3.5, net)])
def test_a_network_of_the_wrong_type_is_a_build_error(chain, call):
    net, _ = chain
    with pytest.raises(BuildError) as exc:
        call(net)
    (d,) = exc.value.diagnostics
    assert (d.file, d.code) == ("<network>", "file-unreadable")
    assert "neither a path nor YAML text" in d.message and "pass the network file's path" in d.hint


@pytest.mark.parametrize("weights", [42, [1, 2], {"a.weight": "not a tensor"}, {}])
def test_weights_of_the_wrong_type_are_a_build_error(chain, weights):
    net, _ = chain
    with pytest.raises(BuildError) as exc:
        check(net, weights)
    (d,) = exc.value.diagnostics
    assert (d.file, d.code) == ("<memory>", "weights-format")
    assert "<memory>: error[weights-format]: " in str(exc.value)


# ----------------------------------------------------------------- each command as a function
def test_validate_returns_the_linked_network_and_strict_refuses_warnings():
    result = validate(LEAKY)
    assert result.ok and [d.code for d in result.diagnostics] == ["leak-core"]
    assert (result.linked.cores[0].name, result.linked.cores[0].index) == ("a", 0)
    assert validate(LEAKY, disabled=["leak-core"]).diagnostics == ()
    with pytest.raises(BuildError, match=r"<text>:7:3: warning\[leak-core\]: ") as exc:
        validate(LEAKY, strict=True)
    assert [d.code for d in exc.value.diagnostics] == ["leak-core"]


def test_inspect_returns_what_inspect_json_prints(chain, capsys):
    from dynapcnn_dsl.cli import run as cli

    net, _ = chain
    data = inspect(net)
    assert cli(["inspect", str(net), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["network"] == json.loads(json.dumps(data))
    assert [c["name"] for c in data["cores"]] == ["a", "b"] and data["cores_used"] == 2


def test_check_returns_the_quantization_and_fails_as_the_cli_does(chain, tmp_path, capsys):
    from dynapcnn_dsl.cli import run as cli

    net, weights = chain
    result = check(net, weights)
    assert result.ok and result.emitted is None
    assert [(c.name, c.report.scale) for c in result.quantized.cores] == [("a", 127.0), ("b", 127.0)]
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"a.weight": np.ones((4, 3, 3, 3), np.float32)})
    with pytest.raises(BuildError) as exc:
        check(net, bad)
    assert cli(["check", str(net), str(bad), "--no-source"]) == 1
    printed = capsys.readouterr()
    cli_errors = [line for line in (printed.out + printed.err).splitlines() if ": error[" in line]
    assert cli_errors == [line for line in str(exc.value).splitlines() if ": error[" in line]
    assert {d.code for d in exc.value.diagnostics} == {"weights-shape", "weights-missing"}


def test_diff_compares_networks_documents_and_text(chain, tmp_path):
    net, weights = chain
    same_network = diff(net, CHAIN, weights=weights)
    assert isinstance(same_network, Differences) and same_network.changes == []
    doc = tmp_path / "old.json"
    build(net, weights, annotate=True).write(doc)
    raised = CHAIN.replace("threshold: 1.0", "threshold: 2.0")
    changes, _ = diff(doc, raised, new_weights=arrays(weights))
    assert [c.path for c in changes] == ["cnn_layers[0].threshold_high", "cnn_layers[1].threshold_high"]
    assert diff(Document.read(doc), build(net, weights)).changes == []


def test_importing_the_phases_leaves_the_api_functions_in_place(chain):
    import dynapcnn_dsl.differ
    import dynapcnn_dsl.simulator  # the phases have names of their own: the functions stay functions

    net, weights = chain
    assert dynapcnn_dsl.diff is diff and dynapcnn_dsl.simulate is dynapcnn_dsl.api.simulate
    assert dynapcnn_dsl.diff(net, net, weights=weights) == diff(net, net, weights=weights)
    from dynapcnn_dsl.differ.compare import compare

    assert dynapcnn_dsl.differ.compare is compare

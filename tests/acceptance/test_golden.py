"""Golden configuration documents for every example, plus the facts a reviewer checks first.

The goldens in tests/golden/ were reviewed field by field against shared/HARDWARE.md. Weights
are deterministic multiples of 1/16 (exact in float32, so the same on every platform).
Regenerate after an intended change with `pytest tests/acceptance/test_golden.py
--update-golden`, and review the diff before committing it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import batchnorm_tensors, neuron_tensors
from safetensors.numpy import save_file

import dynapcnn_dsl
from dynapcnn_dsl.pipeline import run_file, run_text

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*/network.yaml"))


def deterministic_weights(network: Path | str, tmp: Path, *, text: str | None = None) -> Path:
    """Weights for every core of the network: w[o, i, y, x] = ((7o + 5i + 3y + 11x) % 23 - 11) / 16,
    and the saved neuron parameters and BatchNorm state the cores bind."""
    result = run_text(text, "t.yaml") if text is not None else run_file(network)
    assert result.ok, [d.message for d in result.diagnostics]
    tensors = {}
    for core in result.linked.cores:
        out, c_in, k, _ = result.linked.weight_shape(core)
        o, i, y, x = np.ogrid[:out, :c_in, :k, :k]
        w = ((7 * o + 5 * i + 3 * y + 11 * x) % 23 - 11) / 16
        tensors[f"{core.weights}.weight"] = w.astype(np.float32)
        if core.bias:
            tensors[f"{core.weights}.bias"] = (np.arange(out) % 5 - 2).astype(np.float32) / 8
        tensors |= neuron_tensors(core) | batchnorm_tensors(result.linked, core)
    path = tmp / "weights.safetensors"
    save_file(tensors, str(path))
    return path


def stable(doc: dynapcnn_dsl.Document) -> str:
    """The document as JSON with the parts that depend on where and by what it was built fixed."""
    data = dict(doc.data)
    data["generator"] = "dynapcnn-dsl"
    data["source"] = {"network": Path(data["source"]["network"]).relative_to(ROOT).as_posix(),
                      "weights": "weights.safetensors"}
    return dynapcnn_dsl.Document(data).to_json()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_golden_document(example, tmp_path, request):
    doc = dynapcnn_dsl.build(example, deterministic_weights(example, tmp_path))
    text = stable(doc)
    golden = GOLDEN / f"{example.parent.name}.samna.json"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden for {example}: run with --update-golden and review it"
    assert text == golden.read_text(), f"{golden.name} differs: review, then --update-golden"


def layers(doc: dynapcnn_dsl.Document) -> list[dict]:
    return doc.config["cnn_layers"]


def test_the_seed_network_builds_to_the_destinations_the_faq_patches_by_hand(tmp_path):
    seed = ROOT / "examples" / "seed-residual" / "network.yaml"
    doc = dynapcnn_dsl.build(seed, deterministic_weights(seed, tmp_path))
    cnn = layers(doc)
    # samna_cfg.cnn_layers[0].destinations[0] -> 1, destinations[1] -> 2 (the FAQ's patch)
    assert [(d["enable"], d["layer"]) for d in cnn[0]["destinations"]] == [(True, 1), (True, 2)]
    # cnn_layers[1] -> 2; cnn_layers[2] monitored, sending nowhere
    assert (cnn[1]["destinations"][0]["enable"], cnn[1]["destinations"][0]["layer"]) == (True, 2)
    assert cnn[1]["destinations"][1] == {"enable": False}
    assert cnn[2]["destinations"] == [{"enable": False}, {"enable": False}]
    assert cnn[2]["monitor_enable"] is True
    assert all(layer == {"destinations": [{"enable": False}, {"enable": False}],
                         "monitor_enable": False} for layer in cnn[3:])
    assert doc.config["dvs_layer"]["pass_sensor_events"] is False
    assert doc.data["input"]["layers"] == [0]


ASYMMETRIC = """\
dsl: 1
chip: speck2f
quantize: none
input: {source: host, shape: [1, 8, 8], to: [a]}
cores:
  a: {conv: {out_channels: 2, kernel: 3}, neuron: {threshold: 100, min_v_mem: -100}}
"""


def test_kernel_axes_are_swapped_for_samna(tmp_path):
    # torch stores [out][in][y][x]; samna wants [out][in][x][y]
    o, i, y, x = np.ogrid[:2, :1, :3, :3]
    w = (10 * y + x + 20 * o + 0 * i).astype(np.float32)
    path = tmp_path / "w.safetensors"
    save_file({"a.weight": w}, str(path))
    net = tmp_path / "net.yaml"
    net.write_text(ASYMMETRIC)
    weights = np.asarray(layers(dynapcnn_dsl.build(net, path))[0]["weights"])
    assert weights.shape == (2, 1, 3, 3)
    for xx in range(3):
        for yy in range(3):
            assert weights[1, 0, xx, yy] == 10 * yy + xx + 20
    assert weights[0, 0, 2, 0] == 2 and weights[0, 0, 0, 2] == 20


def test_a_concat_receiver_gets_shifted_destinations(tmp_path):
    example = ROOT / "examples" / "concat" / "network.yaml"
    doc = dynapcnn_dsl.build(example, deterministic_weights(example, tmp_path), annotate=True)
    names = [s["core"] if s else None for s in doc.data["annotations"]["cnn_layers"]]
    cnn = layers(doc)
    at = {n: cnn[i] for i, n in enumerate(names) if n}
    cat = names.index("cat")
    assert at["left"]["destinations"][0] == {"enable": True, "layer": cat, "pooling": 1, "feature_shift": 0}
    assert at["right"]["destinations"][0] == {"enable": True, "layer": cat, "pooling": 1, "feature_shift": 8}
    assert at["cat"]["dimensions"]["input_shape"] == {"feature_count": 12, "size": {"x": 32, "y": 32}}
    assert np.asarray(at["cat"]["weights"]).shape == (10, 12, 3, 3)


def test_dvs_layer_and_readout(tmp_path):
    example = ROOT / "examples" / "dvs-speck2f" / "network.yaml"
    doc = dynapcnn_dsl.build(example, deterministic_weights(example, tmp_path), annotate=True)
    dvs = doc.config["dvs_layer"]
    assert dvs["pass_sensor_events"] is True
    assert dvs["pooling"] == {"x": 2, "y": 2}
    assert (dvs["origin"], dvs["cut"]) == ({"x": 0, "y": 0}, {"x": 63, "y": 63})
    assert dvs["destinations"] == [{"enable": True, "layer": 0}, {"enable": False}]
    assert (dvs["on_channel"], dvs["off_channel"], dvs["merge"]) == (True, True, False)
    assert doc.config["readout"] == {"enable": True, "threshold": 0, "low_pass_filter_disable": False,
                                     "low_pass_filter32_not16": False, "monitor_enable": False}
    names = [s["core"] if s else None for s in doc.data["annotations"]["cnn_layers"]]
    head = layers(doc)[names.index("classifier")]
    assert head["destinations"][0] == {"enable": True, "layer": 12, "pooling": 1, "feature_shift": 0}
    weights = np.asarray(head["weights"])
    # errata remap: class k on feature 4(k-1); 11 classes -> 41 physical features
    assert weights.shape == (41, 32, 4, 4)
    assert head["dimensions"]["output_shape"]["feature_count"] == 41
    assert np.asarray(head["neurons_initial_value"]).shape == (41, 1, 1)
    rows = [f for f in range(41) if np.any(weights[f])]
    assert rows == [4 * k for k in range(11)]


def test_golden_files_are_valid_json_with_the_header():
    for golden in sorted(GOLDEN.glob("*.samna.json")):
        data = json.loads(golden.read_text())
        assert data["format"] == "dynapcnn-dsl/samna-configuration" and data["version"] == 1
        assert len(data["config"]["cnn_layers"]) == 9

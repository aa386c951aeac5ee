"""Templates end to end: every bundled template expanded in a small network and built into a
configuration document, and the DVS ResNet example (all nine cores, every residual a template)
built from its checked-in weights, which its make_weights.py reproduces.

Weights are generated at test time with numpy into .safetensors (conftest.write_weights), keyed
by the `weights` prefix of each linked core (so an instance's `weights:` prefix is what the file
must use).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import assert_remade, make_weights, write, write_weights
from safetensors.numpy import load_file

import dynapcnn_dsl
from dynapcnn_dsl.load import load_file as load_network

ROOT = Path(__file__).resolve().parents[2]
RESNET = ROOT / "examples" / "dvs-resnet"
READOUT_LAYER = 12
OFF = {"enable": False}


# ------------------------------------------------------------------------------------ helpers
def build(tmp_path: Path, text: str) -> dynapcnn_dsl.Document:
    network = tmp_path / "net.yaml"
    network.write_text(textwrap.dedent(text), encoding="utf-8")
    weights = tmp_path / "weights.safetensors"
    write_weights(network, weights)
    return dynapcnn_dsl.build(network, weights)


class Chip:
    """The document's cnn_layers by core name."""

    def __init__(self, doc: dynapcnn_dsl.Document) -> None:
        self.doc = doc
        self.index = {c.name: c.index for c in doc.linked.cores}

    def layer(self, core: str) -> dict[str, Any]:
        return self.doc.config["cnn_layers"][self.index[core]]

    def to(self, core: str, pooling: int = 1, feature_shift: int = 0) -> dict[str, Any]:
        """The enabled destination slot that feeds `core` (or the readout)."""
        layer = READOUT_LAYER if core == "readout" else self.index[core]
        return {"enable": True, "layer": layer, "pooling": pooling, "feature_shift": feature_shift}

    def destinations(self, core: str) -> list[dict[str, Any]]:
        return self.layer(core)["destinations"]

    def weights(self, core: str) -> np.ndarray:
        return np.asarray(self.layer(core)["weights"])


HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [4, 16, 16], to: [stem]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  stem:
    conv: {out_channels: 8, kernel: 3, padding: 1}
    to: [block]
"""

HEAD_OUT = """\
  head:
    conv: {out_channels: 4, kernel: 1}
    monitor: true
"""


# ================================================================ the bundled templates, built
def test_residual_block_builds(tmp_path):
    doc = build(tmp_path, HEAD + """\
  block:
    template: residual_block
    with: {channels: 8, kernel: 5}
    weights: backbone.res1
    to: [head]
""" + HEAD_OUT)
    chip = Chip(doc)
    assert sorted(chip.index) == ["block.a", "block.b", "head", "stem"]
    assert chip.destinations("stem") == [chip.to("block.a"), chip.to("block.b")]
    assert chip.destinations("block.a") == [chip.to("block.b"), OFF]
    assert chip.destinations("block.b") == [chip.to("head"), OFF]
    assert chip.destinations("head") == [OFF, OFF]
    for core in ("block.a", "block.b"):
        dims = chip.layer(core)["dimensions"]
        assert (dims["kernel_size"], dims["padding"]) == (5, {"x": 2, "y": 2})
        assert dims["input_shape"] == dims["output_shape"] == {"feature_count": 8,
                                                               "size": {"x": 16, "y": 16}}
        assert chip.weights(core).shape == (8, 8, 5, 5)
    # the instance's `weights:` prefix is what was bound
    assert [c.weights for c in doc.linked.cores] == ["stem", "backbone.res1.a", "backbone.res1.b", "head"]
    assert [s.source for s in doc.linked.core("block.b").sources] == ["stem", "block.a"]


def test_residual_block_bound_to_the_models_own_names_builds(tmp_path):
    network = write(tmp_path, "net.yaml", HEAD + """\
  block:
    template: residual_block
    with: {channels: 8}
    weights: {a: layer1.conv1, b: layer1.conv2}
    to: [head]
""" + HEAD_OUT)
    weights = tmp_path / "model.safetensors"
    make_weights(network, weights)
    tensors = load_file(str(weights))
    assert sorted(tensors) == ["head.weight", "layer1.conv1.weight", "layer1.conv2.weight", "stem.weight"]
    doc = dynapcnn_dsl.build(network, weights)
    chip = Chip(doc)
    assert [c.weights for c in doc.linked.cores] == ["stem", "layer1.conv1", "layer1.conv2", "head"]
    for core, name in (("block.a", "layer1.conv1"), ("block.b", "layer1.conv2")):
        # make_weights pins every tensor's scale to 127: the chip holds round(127 * w), [x][y]
        expected = np.round(tensors[f"{name}.weight"] * np.float32(127)).transpose(0, 1, 3, 2)
        assert np.array_equal(chip.weights(core), expected), core


def test_residual_block_downsample_builds(tmp_path):
    doc = build(tmp_path, HEAD + """\
  block:
    template: residual_block_downsample
    with: {channels: 16}
    to: [head]
""" + HEAD_OUT)
    chip = Chip(doc)
    assert chip.destinations("stem") == [chip.to("block.a"), chip.to("block.proj")]
    assert chip.destinations("block.a") == [chip.to("block.b"), OFF]
    assert chip.destinations("block.proj") == [chip.to("block.b"), OFF]
    assert chip.destinations("block.b") == [chip.to("head"), OFF]
    a, proj, b = (chip.layer(c)["dimensions"] for c in ("block.a", "block.proj", "block.b"))
    assert (a["kernel_size"], a["stride"], a["padding"]) == (3, {"x": 2, "y": 2}, {"x": 1, "y": 1})
    assert (proj["kernel_size"], proj["stride"]) == (1, {"x": 2, "y": 2})
    half = {"feature_count": 16, "size": {"x": 8, "y": 8}}
    assert a["output_shape"] == proj["output_shape"] == b["input_shape"] == half
    assert chip.weights("block.proj").shape == (16, 8, 1, 1)


def test_concat_block_builds(tmp_path):
    doc = build(tmp_path, HEAD + """\
  block:
    template: concat_block
    with: {narrow: 2, wide: 3, out_channels: 4}
    to: [head]
""" + HEAD_OUT)
    chip = Chip(doc)
    assert chip.destinations("stem") == [chip.to("block.narrow"), chip.to("block.wide")]
    # the linker's shifts: the narrow branch's features first, then the wide one's
    assert chip.destinations("block.narrow") == [chip.to("block.cat", feature_shift=0), OFF]
    assert chip.destinations("block.wide") == [chip.to("block.cat", feature_shift=2), OFF]
    assert chip.destinations("block.cat") == [chip.to("head"), OFF]
    assert chip.layer("block.cat")["dimensions"]["input_shape"]["feature_count"] == 5
    assert chip.weights("block.cat").shape == (4, 5, 1, 1)
    assert chip.layer("block.wide")["dimensions"]["kernel_size"] == 5


@pytest.mark.parametrize("pool", [2, 4])
def test_conv_pool_builds(tmp_path, pool):
    doc = build(tmp_path, HEAD + f"""\
  block:
    template: conv_pool
    with: {{channels: 8, pool: {pool}}}
    to: [head, other]
""" + HEAD_OUT + """\
  other:
    conv: {out_channels: 2, kernel: 1}
""")
    chip = Chip(doc)
    assert chip.destinations("stem") == [chip.to("block.conv"), OFF]
    assert chip.destinations("block.conv") == [chip.to("head", pooling=pool),
                                              chip.to("other", pooling=pool)]
    size = 16 // pool
    assert chip.layer("head")["dimensions"]["input_shape"]["size"] == {"x": size, "y": size}


def test_the_input_layer_feeds_both_entries(tmp_path):
    doc = build(tmp_path, HEAD.replace("to: [stem]", "to: [block]").replace(
        "  stem:\n    conv: {out_channels: 8, kernel: 3, padding: 1}\n    to: [block]\n", "") + """\
  block:
    template: residual_block
    with: {channels: 4}
    to: [head]
""" + HEAD_OUT)
    chip = Chip(doc)
    assert doc.data["input"]["layers"] == [chip.index["block.a"], chip.index["block.b"]]
    assert [s.source for s in doc.linked.core("block.b").sources] == ["input", "block.a"]


def test_instances_chained_into_a_readout(tmp_path):
    doc = build(tmp_path, HEAD + """\
  block:
    template: residual_block
    with: {channels: 8}
    to: [down]
  down:
    template: residual_block_downsample
    with: {channels: 8}
    to: [pool]
  pool:
    template: conv_pool
    with: {channels: 8, kernel: 1, pool: 4}
    to: [classes]
  classes:
    conv: {out_channels: 4, kernel: 2}
readout: {from: classes, classes: 4}
""")
    chip = Chip(doc)
    assert len(chip.index) == 8
    assert chip.destinations("block.b") == [chip.to("down.a"), chip.to("down.proj")]
    assert chip.destinations("down.b") == [chip.to("pool.conv"), OFF]
    assert chip.destinations("pool.conv") == [chip.to("classes", pooling=4), OFF]
    assert chip.destinations("classes") == [chip.to("readout"), OFF]


# ======================================================================= examples/dvs-resnet
def test_dvs_resnet_builds_from_the_command_line(tmp_path):
    out = tmp_path / "config.json"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "DYNAPCNN_DSL_DEBUG")}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "dynapcnn_dsl", "build", "examples/dvs-resnet/network.yaml",
         "examples/dvs-resnet/weights.safetensors", "-o", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error[" not in proc.stdout + proc.stderr and "warning[" not in proc.stdout + proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["chip"] == "speck2f"
    assert all("dimensions" in layer for layer in data["config"]["cnn_layers"])  # 9 of 9 used


@pytest.fixture(scope="module")
def resnet() -> dynapcnn_dsl.Document:
    return dynapcnn_dsl.build(RESNET / "network.yaml", RESNET / "weights.safetensors")


def test_dvs_resnet_places_nine_cores(resnet):
    assert [d for d in resnet.diagnostics if d.is_error] == []
    assert sorted(c.index for c in resnet.linked.cores) == list(range(9))
    assert len(resnet.config["cnn_layers"]) == 9
    assert all("weights" in layer for layer in resnet.config["cnn_layers"])


def test_dvs_resnet_expresses_every_residual_through_templates(resnet):
    doc, problems = load_network(RESNET / "network.yaml")  # as written, before expansion
    assert problems == []
    written = doc.data["cores"]
    assert not any("merge" in core for core in written.values())     # no merge of its own
    instances = {name: core["template"] for name, core in written.items() if "template" in core}
    assert instances == {"block1": "residual_block", "down1": "residual_block_downsample",
                         "block2": "residual_block"}
    summing = {c.name for c in resnet.linked.cores if len(c.sources) > 1}
    assert summing == {"block1.b", "down1.b", "block2.b"}
    assert all(name.split(".")[0] in instances for name in summing)


def test_dvs_resnet_destinations(resnet):
    chip = Chip(resnet)
    assert chip.destinations("stem") == [chip.to("block1.a"), chip.to("block1.b")]
    assert chip.destinations("block1.a") == [chip.to("block1.b"), OFF]
    assert chip.destinations("block1.b") == [chip.to("down1.a"), chip.to("down1.proj")]
    assert chip.destinations("down1.a") == [chip.to("down1.b"), OFF]
    assert chip.destinations("down1.proj") == [chip.to("down1.b"), OFF]
    assert chip.destinations("down1.b") == [chip.to("block2.a"), chip.to("block2.b")]
    assert chip.destinations("block2.a") == [chip.to("block2.b"), OFF]
    assert chip.destinations("block2.b") == [chip.to("classifier", pooling=4), OFF]
    assert chip.destinations("classifier") == [chip.to("readout"), OFF]
    assert resnet.config["dvs_layer"]["destinations"] == [
        {"enable": True, "layer": chip.index["stem"]}, OFF]


def test_dvs_resnet_binds_every_checked_in_tensor(resnet):
    tensors = load_file(str(RESNET / "weights.safetensors"))
    assert sorted(tensors) == sorted([*(f"{c.weights}.weight" for c in resnet.linked.cores), "stem.bias"])
    chip = Chip(resnet)
    for core in resnet.linked.cores:
        tensor = tensors[f"{core.weights}.weight"]
        assert tensor.shape == resnet.linked.weight_shape(core), core.name
        # the readout's source is widened on the chip for the errata remap (class k -> 4(k-1))
        assert chip.weights(core.name).shape == (core.out_features, *tensor.shape[1:])


def test_make_weights_reproduces_the_checked_in_tensors(tmp_path):
    folder = tmp_path / "dvs-resnet"
    folder.mkdir()
    for name in ("make_weights.py", "model.py", "classes.py", "network.yaml"):
        shutil.copy(RESNET / name, folder / name)
    proc = subprocess.run([sys.executable, "make_weights.py"], cwd=folder, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "wrote weights.safetensors: 10 tensors" in proc.stdout
    made = load_file(str(folder / "weights.safetensors"))
    checked_in = load_file(str(RESNET / "weights.safetensors"))
    assert sorted(made) == sorted(checked_in)
    for key, tensor in checked_in.items():
        assert made[key].dtype == tensor.dtype and made[key].shape == tensor.shape, key
        assert_remade(made[key], tensor, key)

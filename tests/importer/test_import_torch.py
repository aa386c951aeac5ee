"""torch models imported through torch.export, written, and built by the ordinary pipeline.

Exporting costs about a second per model: each model of tests/importer/zoo.py is imported once
per session (the `imported` fixture) and its files are written once per test that builds them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build

ZOO = Path(__file__).with_name("zoo.py")
SHAPES = {"Ann": (1, 16, 16), "DvsGesture": None}


@pytest.fixture(scope="session")
def imported():
    cache: dict[str, importer.Imported] = {}

    def get(name: str) -> importer.Imported:
        if name not in cache:
            cache[name] = importer.import_source(
                f"{ZOO}:{name}", input_shape=SHAPES.get(name, (2, 16, 16)),
                dvs=name == "DvsGesture")
        return cache[name]
    return get


def line_of(text: str) -> int:
    """The last line of zoo.py holding `text` (so the tests do not hard-code line numbers)."""
    lines = ZOO.read_text().splitlines()
    return max(n for n, line in enumerate(lines, 1) if text in line)


def built(imported, name: str, tmp_path: Path):
    result = imported(name)
    assert result.ok, [d.message for d in result.diagnostics]
    network, weights = importer.write(result, tmp_path)
    return build(network, weights)


def structure(doc) -> dict[str, tuple]:
    """Per core: (destinations as (core, pool, shift), merge, sources)."""
    return {c.name: (tuple((d.target, d.pool, d.feature_shift) for d in c.destinations), c.merge,
                     tuple(s.source for s in c.sources)) for c in doc.linked.cores}


def test_sequential_with_sum_pooling_and_reset_to_zero(imported, tmp_path):
    doc = built(imported, "SumPoolChain", tmp_path)
    assert structure(doc) == {"seq_0": ((("seq_4", 2, 0),), "sum", ("input",)),
                              "seq_4": ((), "sum", ("seq_0",))}
    text = imported("SumPoolChain").text
    assert "neuron: {weights: seq.5, reset: zero}" in text   # MembraneReset; thresholds from the file
    assert "weights: seq.4" in text                                           # Dropout dropped
    assert doc.config["cnn_layers"][doc.linked.core("seq_4").index]["return_to_zero"] is True


def test_residual_by_plus_and_concat_by_torch_cat(imported, tmp_path):
    doc = built(imported, "ResidualPlus", tmp_path)
    assert structure(doc) == {
        "c1": ((("c2", 1, 0), ("c3", 1, 0)), "sum", ("input",)),
        "c2": ((("c3", 1, 0), ("c4", 1, 4)), "sum", ("c1",)),
        "c3": ((("c4", 1, 0),), "sum", ("c1", "c2")),
        "c4": ((), "concat", ("c3", "c2")),           # torch.cat([c, b]): c's features first
    }
    assert "merge: concat\n    from: [c3, c2]" in imported("ResidualPlus").text


def test_residual_by_merge_with_per_branch_pooling(imported, tmp_path):
    doc = built(imported, "ResidualMerge", tmp_path)
    assert structure(doc)["c1"][0] == (("c2", 2, 0), ("c3", 2, 0))
    assert structure(doc)["c3"][1:] == ("sum", ("c1", "c2"))


def test_fan_in_of_three(imported, tmp_path):
    doc = built(imported, "FanIn3", tmp_path)
    assert set(structure(doc)["c5"][2]) == {"c2", "c3", "c4"}


def test_nested_blocks_keep_their_names(imported, tmp_path):
    doc = built(imported, "Nested", tmp_path)
    cores = {c.name: c.weights for c in doc.linked.cores}
    assert cores == {"stem_0": "stem.0", "layers_0_conv1": "layers.0.conv1",
                     "layers_0_conv2": "layers.0.conv2", "layers_1_conv1": "layers.1.conv1",
                     "layers_1_conv2": "layers.1.conv2"}
    assert structure(doc)["layers_0_conv2"][2] == ("stem_0", "layers_0_conv1")   # the skip


def test_the_weights_file_holds_the_models_tensors_under_their_names(imported, tmp_path):
    from safetensors.numpy import load_file

    from dynapcnn_dsl.importer.model_file import load_module

    result = imported("Nested")
    _, weights = importer.write(result, tmp_path)
    saved = load_file(weights)
    model = load_module(f"{ZOO}:Nested")
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    spiking = ("stem.1", "layers.0.spk1", "layers.0.spk2", "layers.1.spk1", "layers.1.spk2")
    assert set(saved) == {f"{c}.weight" for c in ("stem.0", "layers.0.conv1", "layers.0.conv2",
                                                  "layers.1.conv1", "layers.1.conv2")} | \
        {f"{n}.{p}" for n in spiking for p in ("spike_threshold", "min_v_mem")}  # neuron: {weights}
    for name, value in saved.items():
        np.testing.assert_array_equal(value, state[name])


def test_the_network_file_is_stable_and_explains_itself(imported):
    text = imported("Nested").text
    assert text.startswith("# yaml-language-server: $schema=network.schema.json\n")
    assert "  layers_0_conv1:                                 # layers.0.conv1 (Conv2d), " \
           "layers.0.spk1 (IAFSqueeze)\n" in text
    again = importer.import_source(f"{ZOO}:Nested", input_shape=(2, 16, 16))
    assert again.text == text


def test_a_function_returning_a_module_is_a_source(imported):
    result = importer.import_source(f"{ZOO}:make_residual", input_shape=(2, 16, 16))
    assert result.text.split("\n", 2)[2] == imported("ResidualPlus").text.split("\n", 2)[2]


def test_ann_with_relu_gets_sinabs_conversion_values(imported):
    result = imported("Ann")
    assert result.ok
    assert "ReLU: an ANN converted as sinabs.from_model does" in result.text
    assert [(d.code, d.position.line) for d in result.diagnostics] == [
        ("import-output-neuron", line_of("return self.classifier(self.features(x))"))]
    assert "to: [{core: classifier_1, pool: 2, average: true}]" in result.text
    assert "conv: {out_channels: 10, kernel: 4}" in result.text   # Linear over a 4x4 map


def test_dvs_input_takes_the_input_pooling(imported):
    text = imported("DvsGesture").text
    assert "  source: dvs\n  shape: [2, 32, 32]\n  pool: 2\n  to: [seq_1]\n" in text


@pytest.mark.parametrize("name", ["Ann", "DvsGesture", "WithBatchNorm"])
def test_average_pooling_and_batchnorm_build(imported, tmp_path, name):
    doc = built(imported, name, tmp_path)
    assert doc.linked.cores


def test_batchnorm_is_bound_by_its_own_prefix(imported):
    text = imported("WithBatchNorm").text
    assert "    weights: seq.0\n    batchnorm: seq.1\n" in text


# -- refusals ------------------------------------------------------------------------------------
def test_what_the_chip_cannot_do_is_named_with_the_module_and_line(imported):
    result = importer.import_source(f"{ZOO}:Refused", input_shape=(2, 16, 16))
    assert not result.ok and result.text is None
    pool_line = line_of("y = self.pool(self.wide(x))")
    got = [(d.position.line, d.code, d.message.split(" ", 2)[:2]) for d in result.diagnostics]
    assert got == [
        (pool_line, "import-kernel", ["'wide'", "(Conv2d)"]),
        (pool_line, "import-unsupported", ["'pool'", "(MaxPool2d)"]),
        (pool_line + 1, "import-kernel", ["'c2'", "(Conv2d)"]),
        (pool_line + 1, "import-kernel", ["'c3'", "(Conv2d)"]),
        (pool_line + 1, "import-unsupported", ["'s3'", "(LIFSqueeze)"]),
    ]
    assert "max pooling: the chip's pooling sums" in result.diagnostics[1].message
    assert "groups=2" in result.diagnostics[3].message
    assert "a leaky neuron: the chip's neurons integrate and fire" in result.diagnostics[4].message


def test_a_sum_no_core_reads_and_three_destinations(imported):
    result = importer.import_source(f"{ZOO}:SumAtTheEnd", input_shape=(2, 16, 16))
    a_line = line_of("a = self.s1(self.c1(x))")
    assert [(d.position.line, d.code) for d in result.diagnostics] == [
        (a_line, "import-destinations"), (a_line + 1, "import-dangling")]
    assert "'s1' (IAFSqueeze) is read by 3 cores (c2, c3, c4)" in result.diagnostics[0].message
    assert result.diagnostics[1].message.startswith("'+' is not followed by a convolution")


def test_a_traced_model_is_a_graph_of_typed_operations():
    """Each operation is its own typed value, the module that did it named (no dropout: it is
    nothing on the chip)."""
    from dynapcnn_dsl.importer.from_torch import graph_of
    from dynapcnn_dsl.importer.graph import IAF, Conv, Input, SumPool
    from dynapcnn_dsl.importer.model_file import load_module

    graph = graph_of(load_module(f"{ZOO}:SumPoolChain"), input_shape=(2, 16, 16))
    assert [(type(n.op), n.module) for n in graph.nodes] == [
        (Input, None), (Conv, "seq.0"), (IAF, "seq.1"), (SumPool, "seq.2"), (Conv, "seq.4"), (IAF, "seq.5")]
    inp, conv, spk, pool, _, spk2 = (n.op for n in graph.nodes)
    assert inp == Input((2, 16, 16), "host")
    assert isinstance(conv, Conv) and conv.kernel == (3, 3) and conv.groups == 1
    assert isinstance(pool, SumPool) and pool.kernel == pool.stride == (2, 2)
    assert isinstance(spk, IAF) and isinstance(spk2, IAF)
    assert (spk.reset, spk2.reset) == ("subtract", "zero")
    assert graph.name == "SumPoolChain" and graph.outputs == (graph.nodes[-1].name,)

"""Configuration documents decompiled into networks, and rebuilt to the same document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import EXAMPLES, write_weights

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build
from dynapcnn_dsl.emit import from_json

GOLDEN = sorted((Path(__file__).resolve().parents[1] / "golden").glob("*.samna.json"))


def config_of(text: str) -> dict:
    return json.loads(text)["config"]


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.name.split(".")[0] for g in GOLDEN])
def test_every_example_build_decompiles_and_rebuilds_to_the_same_document(golden, tmp_path):
    result = importer.import_document(golden)
    assert result.ok, [d.message for d in result.diagnostics]
    assert "quantize: none" in result.text
    network, weights = importer.write(result, tmp_path)
    rebuilt = build(network, weights)
    assert config_of(rebuilt.to_json()) == config_of(golden.read_text())


def test_annotated_documents_give_back_the_core_names(tmp_path):
    net = EXAMPLES / "concat" / "network.yaml"
    write_weights(net, tmp_path / "w.npz")
    doc = build(net, tmp_path / "w.npz", annotate=True)
    result = importer.import_document(doc.data)
    original = {c.name: c.index for c in doc.linked.cores}
    assert {c.name: c.index for c in result.plan.cores} == original
    assert "weights: " not in result.text          # each core binds its own name's tensors
    assert set(result.tensors) == {f"{name}.weight" for name in original}
    assert all(t.dtype.name == "int8" for t in result.tensors.values())


def test_the_readout_core_gets_its_classes_back(tmp_path):
    result = importer.import_document(next(g for g in GOLDEN if g.name.startswith("dvs-speck2f")))
    readout = dict(result.plan.readout)
    assert readout == {"from": "core3", "classes": 11, "threshold": 0, "errata_remap": True}
    assert result.plan.cores[3].conv["out_channels"] == 11
    assert result.tensors["core3.weight"].shape[0] == 11


def test_a_structure_only_document_has_nothing_to_decompile():
    doc = build(EXAMPLES / "concat" / "network.yaml")
    result = importer.import_document(doc.data, source="structure.json")
    assert not result.ok
    assert [(d.code, d.message) for d in result.diagnostics] == [(
        "import-source", "the document was built without weights (structure only): there are "
        "no integers to decompile")]


def test_a_document_missing_its_parts_is_refused_without_a_traceback(tmp_path):
    doc = from_json(GOLDEN[0].read_text())
    del doc["config"]["cnn_layers"][0]["dimensions"]["kernel_size"]
    result = importer.import_document(doc, source="broken.json")
    assert [d.code for d in result.diagnostics] == ["import-source"]
    assert result.diagnostics[0].message == ("not a configuration document of this tool: cnn_layers[0] is "
                                             "used but does not give its kernel, stride and padding")
    (tmp_path / "x.json").write_text("{not json")
    result = importer.import_document(tmp_path / "x.json")     # the documents reader's own check
    assert not result.ok
    assert result.diagnostics[0].message.startswith("the document is not valid JSON:")


def test_states_that_differ_per_neuron_keep_one_value_with_a_warning():
    doc = from_json(GOLDEN[0].read_text())
    layer = next(layer for layer in doc["config"]["cnn_layers"] if "dimensions" in layer)
    layer["neurons_initial_value"][0, 0, 0] = 5
    result = importer.import_document(doc, source="config.json")
    assert result.ok
    assert [(d.severity.value, d.code) for d in result.diagnostics] == [("warning", "import-document")]
    assert "starts its neurons at different states" in result.diagnostics[0].message
    assert "initial_state: 5" in result.text


SAMNA_CASES = {  # example: (its checkpoint and key, or None for made-up weights; the host input's cores)
    "dvs-resnet": (("weights.safetensors", None), None),         # DVS, residuals, leak, readout
    "dynapcnn-legacy": (None, [0]),                              # host input, kill bits
    "sinabs-nmnist": (("nmnist_snn.pth", None), [0]),            # host input, Linear head
    "retina-eye-tracking": (("retina.ckpt", "state_dict"), None),  # DVS crop, decimator, leak
}


@pytest.mark.parametrize("example", sorted(SAMNA_CASES))
def test_a_samna_configuration_object_decompiles_and_rebuilds_to_it(example, tmp_path, monkeypatch):
    """A configuration as samna holds it (read from a device, or patched by hand in Python),
    here the strict samna double's object the bridge builds, comes under version control.
    samna does not record the host input: the cores no other core feeds are taken, and said."""
    import samna_double

    from dynapcnn_dsl.samna_bridge import to_samna

    samna_double.install(monkeypatch)
    net = EXAMPLES / example / "network.yaml"
    checkpoint, host = SAMNA_CASES[example]
    if checkpoint is None:
        write_weights(net, tmp_path / "w.npz", biases=True)
        doc = build(net, tmp_path / "w.npz")
    else:
        doc = build(net, net.parent / checkpoint[0], key=checkpoint[1])
    config = to_samna(doc.data)
    result = importer.import_samna(config, doc.data["chip"])
    assert result.ok, [d.message for d in result.diagnostics]
    notes = [d.message for d in result.diagnostics if d.code == "import-host-input"]
    assert notes == ([] if host is None else [
        "a samna configuration does not record where the host writes its events: the cores no "
        f"other core feeds ({', '.join(map(str, host))}) are written as the input's `to:`"])
    rebuilt = build(*importer.write(result, tmp_path / "out"))
    assert to_samna(rebuilt.data).to_dict() == config.to_dict()
    assert config_of(rebuilt.to_json()) == config_of(doc.to_json())

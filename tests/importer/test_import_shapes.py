"""The model shapes users met importing networks written by others (issue 18), each imported,
built and, where sinabs can express it, compared bit for bit with sinabs 3.1.3's configuration
(as tests/importer/test_sinabs_parity.py does); each refused form refused with exactly one
diagnostic per offending module.

The models are ours, in the shapes of sinabs's examples and tests (tests/importer/zoo.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zoo
from sinabs_parity import differences, imported_build, our_config, placement, sinabs_config

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build
from dynapcnn_dsl.diagnostics import Severity

torch = pytest.importorskip("torch")
ZOO = Path(__file__).with_name("zoo.py")
ROOT = Path(__file__).resolve().parents[2]


def errors(result) -> list[tuple[str, str]]:
    return [(d.code, d.message.partition(" cannot")[0].partition(" is ")[0])
            for d in result.diagnostics if d.severity == Severity.ERROR]


# -- a Linear after a sum of flattened maps ---------------------------------------------------
def test_a_linear_after_a_sum_of_flattened_maps_has_the_maps_kernel(backend, tmp_path):
    """sinabs's non-sequential tests: two branches flattened, summed by Merge, then a Linear.
    sinabs numbers its layers c1, c3, c2, fc; it is given our placement in its order."""
    model = zoo.SumOfFlattened()
    result, doc = imported_build(model, tmp_path, input_shape=(2, 8, 8))
    assert "  fc:" in result.text and "conv: {out_channels: 10, kernel: 4}" in result.text
    assert "    merge: sum\n" in result.text
    cores = [doc.linked.core(name).index for name in ("c1", "c3", "c2", "fc")]
    theirs = sinabs_config(backend, model, (2, 8, 8), cores=cores)
    assert differences(our_config(doc), theirs) == []


def test_a_flatten_after_the_sum_is_the_same_network(tmp_path):
    merged, _ = imported_build(zoo.SumOfFlattened(), tmp_path / "a", input_shape=(2, 8, 8))
    plus, _ = imported_build(zoo.FlattenAfterSum(), tmp_path / "b", input_shape=(2, 8, 8))
    assert plus.text.split("cores:")[1] == merged.text.split("cores:")[1].replace(
        "# c1 (Conv2d)", "# c1 (Conv2d)")


# -- BatchNorm1d after a Linear -------------------------------------------------------------------
def test_batchnorm1d_after_a_linear_is_folded_as_sinabs_folds_it(backend, tmp_path):
    model = zoo.BatchNorm1dHead()
    result, doc = imported_build(model, tmp_path, input_shape=(2, 8, 8))
    assert "batchnorm: {weights: seq.6, eps: 0.0}" in result.text
    theirs = sinabs_config(backend, model.seq, (2, 8, 8), cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


# -- a model starting with sinabs's DVSLayer ------------------------------------------------------
def test_a_dvs_layer_model_obeys_input_shape_and_drops_identity_pools(backend, tmp_path):
    """--input-shape 1,H,W merges the polarities (the layer itself does not), and the identity
    poolings (AvgPool2d(1, 1), SumPool2d(1)) are nothing: the same configuration as sinabs's
    for the layer that merges polarities, without the identities."""
    torch.manual_seed(14)
    sensor = backend.DVSLayer(input_shape=(32, 32), pool=(2, 2))
    conv1, spk1, conv2, spk2 = zoo.conv(1, 8), zoo.spk(), zoo.conv(8, 4), zoo.spk()
    model = torch.nn.Sequential(sensor, torch.nn.AvgPool2d(1, 1), conv1, spk1,
                                zoo.sl.SumPool2d(1), torch.nn.AvgPool2d(2), conv2, spk2)
    result, doc = imported_build(model, tmp_path, input_shape=(1, 32, 32))
    assert "  shape: [1, 32, 32]\n  pool: 2\n  polarity: merge\n" in result.text
    merged = backend.DVSLayer(input_shape=(32, 32), pool=(2, 2), merge_polarities=True)
    reference = torch.nn.Sequential(merged, conv1, spk1, torch.nn.AvgPool2d(2), conv2, spk2)
    theirs = sinabs_config(backend, reference, (1, 32, 32), dvs_input=True, cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


def test_an_input_shape_that_does_not_fit_the_dvs_layer_is_one_message(backend):
    model = torch.nn.Sequential(backend.DVSLayer(input_shape=(32, 32)), zoo.conv(2, 4), zoo.spk())
    result = importer.import_torch(model, input_shape=(2, 16, 16))
    assert [(d.code, d.message) for d in result.diagnostics] == [(
        "import-source", "--input-shape 2,16,16 does not fit the model's DVSLayer, made for 32x32 "
        "events")]


# -- a module used twice ----------------------------------------------------------------------
def test_a_shared_convolution_is_a_core_per_call_with_a_warning(tmp_path):
    result, doc = imported_build(zoo.SharedConv(), tmp_path, input_shape=(2, 8, 8))
    assert [(d.severity, d.code, d.message) for d in result.diagnostics] == [(
        Severity.WARNING, "import-shared", "'shared' (Conv2d) is called 2 times (its weights "
        "shared): each call becomes a core of its own, with the same `weights:`")]
    assert [c.name for c in doc.linked.cores] == ["c1", "shared", "shared_2", "c4"]
    assert [c.weights for c in doc.linked.cores] == ["c1", "shared", "shared", "c4"]


def test_sharing_beyond_the_chips_cores_is_refused_naming_the_module():
    result = importer.import_torch(zoo.SharedTooOften(), input_shape=(2, 8, 8))
    assert errors(result) == [("import-shared", "'block' (Conv2d)")]
    assert "is called 10 times: a core computes one call, so the model's 11 calls of " \
           "convolutions need 11 cores, and the chip has 9" in result.diagnostics[0].message


# -- a trace that fails -----------------------------------------------------------------------------
def test_a_model_that_cannot_be_traced_is_one_message_naming_the_module():
    result = importer.import_torch(zoo.FailsToTrace(), input_shape=(2, 8, 8))
    assert len(result.diagnostics) == 1
    message = result.diagnostics[0].message
    assert message.startswith("torch.export could not trace the model in 'inner' (Reshapes): ")
    assert "\n" not in message and "shape '[1, 3, 5, -1]' is invalid" in message
    assert "Traceback" in result.trace and "Reshapes" not in result.diagnostics[0].hint


def run_import(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dynapcnn_dsl", "import", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_the_traceback_only_with_verbose(tmp_path):
    quiet = run_import(f"{ZOO}:FailsToTrace", "--input-shape", "2,8,8", "-o", str(tmp_path / "a"))
    assert quiet.returncode == 1
    assert "Traceback" not in quiet.stdout + quiet.stderr
    assert "in 'inner' (Reshapes)" in quiet.stdout
    loud = run_import(f"{ZOO}:FailsToTrace", "--input-shape", "2,8,8", "-o", str(tmp_path / "b"),
                      "--verbose")
    assert loud.returncode == 1 and "Traceback (most recent call last)" in loud.stderr


# -- checkpoints as they are saved -----------------------------------------------------------------
def test_an_ann_checkpoint_into_the_converted_model_keeps_its_thresholds(tmp_path):
    checkpoint = tmp_path / "ann.pt"
    torch.save(zoo.Ann().state_dict(), checkpoint)
    result = importer.import_source(f"{ZOO}:converted_ann", input_shape=(1, 16, 16),
                                    weights=str(checkpoint))
    assert result.ok, [d.message for d in result.diagnostics]
    notes = [d for d in result.diagnostics if d.code == "import-thresholds"]
    assert len(notes) == 1 and notes[0].severity == Severity.INFO
    assert "holds none of the neurons' parameters (features.1.min_v_mem, " in notes[0].message
    assert "neuron: {threshold: 1.0, min_v_mem: -1.0}" in result.text      # from_model's values
    network, _ = importer.write(result, tmp_path / "net")
    build(network, checkpoint)             # the ANN's checkpoint itself builds the network


def test_a_checkpoint_with_two_models_side_by_side_builds(tmp_path):
    """A model and its twin saved in one file: the twin's BatchNorm, of the right size and next in
    the file after the model's last layer (a Linear), is of another module tree, not that
    layer's."""
    model = zoo.Ann()
    twin = torch.nn.Sequential(torch.nn.BatchNorm1d(10))
    checkpoint = tmp_path / "both.pt"
    torch.save({**{f"snn.{k}": v for k, v in model.state_dict().items()},
                **{f"twin.{k}": v for k, v in twin.state_dict().items()}}, checkpoint)
    assert list(torch.load(checkpoint))[2:4] == ["snn.classifier.1.weight", "twin.0.weight"]
    result = importer.import_source(f"{ZOO}:Ann", input_shape=(1, 16, 16), weights=str(checkpoint))
    assert result.ok, [d.message for d in result.diagnostics]
    assert "weights: snn.classifier.1" in result.text
    network, _ = importer.write(result, tmp_path / "net")
    doc = build(network, checkpoint)          # the checkpoint itself, both models in it
    assert [c.weights for c in doc.linked.cores] == ["snn.features.0", "snn.features.3",
                                                      "snn.classifier.1"]
    assert "weights-batchnorm" not in {d.code for d in doc.diagnostics}


# -- plain values in the written file, from every importer -------------------------------------------
def plain(value, path="plan") -> list[str]:
    """Every value of a plan that is not a plain Python scalar, list or mapping."""
    from dataclasses import fields, is_dataclass

    if is_dataclass(value):
        return [p for f in fields(value) for p in plain(getattr(value, f.name), f"{path}.{f.name}")]
    if isinstance(value, dict) or hasattr(value, "items"):
        return [p for k, v in value.items() for p in plain(k, path) + plain(v, f"{path}.{k}")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in plain(v, f"{path}[{i}]")]
    ok = value is None or type(value) in (bool, int, float, str)
    return [] if ok else [f"{path}: {type(value).__name__}"]


def test_a_dynapcnn_network_with_numpy_integers_imports_plain_values(backend, tmp_path):
    """sinabs.from_nir makes layers whose strides and paddings are numpy integers."""
    torch.manual_seed(15)
    model = torch.nn.Sequential(zoo.conv(2, 4), zoo.spk(), zoo.conv(4, 4), zoo.spk())
    model[2].stride, model[2].padding = (np.int64(2), np.int64(2)), (np.int64(1), np.int64(1))
    net = backend.DynapcnnNetwork(model, input_shape=(2, 16, 16), discretize=True)
    result = importer.import_torch(net)
    assert plain(result.plan) == []
    assert "conv: {out_channels: 4, kernel: 3, stride: 2, padding: 1}" in result.text
    build(*importer.write(result, tmp_path))


@pytest.mark.parametrize("name", ["DvsGesture", "ResidualPlus", "Ann", "BatchNorm1dHead",
                                  "SumOfFlattened"])
def test_torch_imports_write_plain_values(name):
    shape = {"Ann": (1, 16, 16), "DvsGesture": None}.get(name, (2, 8, 8))
    result = importer.import_torch(getattr(zoo, name)(), input_shape=shape, dvs=name == "DvsGesture")
    assert result.ok and plain(result.plan) == []


def test_nir_and_document_imports_write_plain_values(tmp_path):
    import nir

    result = importer.import_torch(zoo.SumPoolChain(), input_shape=(2, 16, 16))
    network, weights = importer.write(result, tmp_path)
    document = build(network, weights)
    assert plain(importer.import_document(document.data).plan) == []
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
        "a": nir.Conv2d(input_shape=None, weight=np.ones((4, 2, 3, 3), np.float32), stride=np.int64(1),
                        padding=np.int64(1), dilation=1, groups=1, bias=np.zeros(4, np.float32)),
        "n": nir.IF(r=np.ones(4), v_threshold=np.full(4, 2.0), v_reset=np.zeros(4)),
        "output": nir.Output(output_type={"output": np.array([4, 8, 8])}),
    }, edges=[("input", "a"), ("a", "n"), ("n", "output")], type_check=False)
    assert plain(importer.import_nir(graph).plan) == []

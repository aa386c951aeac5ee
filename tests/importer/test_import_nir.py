"""NIR graphs imported: a file written by sinabs's to_nir, implicit sums, refusals."""

from __future__ import annotations

import warnings

import nir
import numpy as np
import pytest

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build


@pytest.fixture(scope="module")
def sinabs_nir(tmp_path_factory):
    """A .nir file written by sinabs's own to_nir, from a sequential sinabs model."""
    import sinabs
    import sinabs.layers as sl
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, bias=False), sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0),
        sl.SumPool2d(2), nn.Conv2d(4, 8, 3, padding=1, bias=False),
        sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0), sl.SumPool2d(2),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 10, bias=False), sl.IAFSqueeze(batch_size=1))
    with warnings.catch_warnings():   # nirtorch deprecates the extractor sinabs 3.1.3 calls
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = sinabs.to_nir(model, torch.zeros(1, 2, 16, 16))
    graph.infer_types()                  # sinabs leaves some types unset, which nir.write needs
    path = tmp_path_factory.mktemp("nir") / "model.nir"
    nir.write(str(path), graph)
    return path, {k: v.detach().numpy() for k, v in model.state_dict().items()}


def test_a_nir_file_from_sinabs_imports_and_builds(sinabs_nir, tmp_path):
    path, state = sinabs_nir
    result = importer.import_nir(path)
    assert result.ok
    assert [d.code for d in result.diagnostics] == ["import-nir-value"]
    assert "'1', '4', '8' get `min_v_mem: -threshold`, and `reset: zero`" in \
        result.diagnostics[0].message
    assert "neuron: {threshold: 1.0, min_v_mem: -1.0, reset: zero}" in result.text
    assert "# NIR has no lower bound of the state: minus the threshold" in result.text
    network, weights = importer.write(result, tmp_path)
    doc = build(network, weights)
    assert [(c.name, c.weights, tuple((d.target, d.pool) for d in c.destinations))
            for c in doc.linked.cores] == [("conv0", "0", (("conv3", 2),)),
                                           ("conv3", "3", (("fc7", 2),)), ("fc7", "7", ())]
    for key in ("0.weight", "3.weight", "7.weight"):
        np.testing.assert_array_equal(result.tensors[key], state[key])


def _conv(c_in, c_out, seed):
    w = np.random.default_rng(seed).uniform(-1, 1, (c_out, c_in, 3, 3)).astype(np.float32)
    return nir.Conv2d(input_shape=None, weight=w, stride=1, padding=1, dilation=1, groups=1,
                      bias=np.zeros(c_out, np.float32))


def _if(n):
    return nir.IF(r=np.ones(n, np.float32), v_threshold=np.full(n, 2.0, np.float32),
                  v_reset=np.zeros(n, np.float32))


def test_fan_in_is_an_implicit_sum_and_avg_pooling_averages():
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
        "a": _conv(2, 4, 0), "a_if": _if(4),
        "b": _conv(4, 4, 1), "b_if": _if(4),
        "pool": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                              padding=np.array([0, 0])),
        "c": _conv(4, 4, 2), "c_if": _if(4),
        "output": nir.Output(output_type={"output": np.array([4, 4, 4])}),
    }, edges=[("input", "a"), ("a", "a_if"), ("a_if", "b"), ("b", "b_if"), ("a_if", "pool"),
              ("b_if", "pool"), ("pool", "c"), ("c", "c_if"), ("c_if", "output")],
        type_check=False)
    result = importer.import_nir(graph)
    assert result.ok, result.diagnostics
    assert "to: [b, {core: c, pool: 2, average: true}]" in result.text
    assert "    neuron: {threshold: 2.0, min_v_mem: -2.0, reset: zero}" in result.text
    assert "    merge: sum\n" in result.text


@pytest.mark.parametrize(("node", "why"), [
    (nir.LIF(tau=np.ones(4), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4)),
     "a leaky neuron"),
    (nir.Delay(delay=np.ones(4)), "a delay: the chip delivers each event at once"),
    (nir.Threshold(threshold=np.ones(4)), "a threshold without integration"),
])
def test_what_nir_has_and_the_chip_does_not_is_refused(node, why):
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
        "a": _conv(2, 4, 0), "neuron": node,
        "output": nir.Output(output_type={"output": np.array([4, 8, 8])}),
    }, edges=[("input", "a"), ("a", "neuron"), ("neuron", "output")], type_check=False)
    result = importer.import_nir(graph, source="model.nir")
    assert not result.ok
    codes = {d.code: d.message for d in result.diagnostics}
    assert why in codes["import-unsupported"]
    assert codes["import-unsupported"].startswith(f"'neuron' ({type(node).__name__})")


def test_a_file_that_is_not_nir_is_refused(tmp_path):
    (tmp_path / "x.nir").write_bytes(b"not hdf5")
    result = importer.import_nir(tmp_path / "x.nir")
    assert [d.code for d in result.diagnostics] == ["import-source"]
    assert result.diagnostics[0].message.startswith(f"cannot read {tmp_path / 'x.nir'} as NIR:")


def _one_neuron(node, n=4):
    return nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
        "a": _conv(2, n, 0), "neuron": node,
        "output": nir.Output(output_type={"output": np.array([n, 8, 8])}),
    }, edges=[("input", "a"), ("a", "neuron"), ("neuron", "output")], type_check=False)


def test_an_if_resets_to_v_reset_as_nir_defines_it():
    """NIR's IF resets to v_reset: 0 is the chip's reset to zero, anything else is refused."""
    result = importer.import_nir(_one_neuron(_if(4)))
    assert "neuron: {threshold: 2.0, min_v_mem: -2.0, reset: zero}" in result.text
    node = nir.IF(r=np.ones(4), v_threshold=np.full(4, 2.0), v_reset=np.full(4, -0.5))
    result = importer.import_nir(_one_neuron(node), source="model.nir")
    assert [(d.code, d.message) for d in result.diagnostics] == [(
        "import-unsupported", "'neuron' (IF) cannot run on the chip: it resets to v_reset -0.5; "
        "the chip resets to 0 or subtracts the threshold")]


def test_a_lif_without_leak_is_an_if_and_a_leaky_one_is_refused_once():
    """snnTorch writes Leaky(beta=1) as a LIF with tau = dt / (1 - beta) = inf and r = tau / dt."""
    no_leak = nir.LIF(tau=np.full(4, np.inf), r=np.full(4, np.inf), v_leak=np.zeros(4),
                      v_threshold=np.full(4, 1.5), v_reset=np.zeros(4))
    result = importer.import_nir(_one_neuron(no_leak))
    assert result.ok, result.diagnostics
    assert "neuron: {threshold: 1.5, min_v_mem: -1.5, reset: zero}  # a LIF without leak" in result.text
    leaky = nir.LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4))
    cuba = nir.CubaLIF(tau_syn=np.full(4, np.inf), tau_mem=np.full(4, np.inf), r=np.ones(4),
                       v_leak=np.zeros(4), v_threshold=np.ones(4))
    for node, kind in ((leaky, "LIF"), (cuba, "CubaLIF")):
        result = importer.import_nir(_one_neuron(node), source="model.nir")
        assert [(d.code, d.message.partition(":")[0]) for d in result.diagnostics] == [
            ("import-unsupported", f"'neuron' ({kind}) cannot run on the chip")]


@pytest.mark.parametrize(("version", "ok"), [("1.0.6", True), ("1.0.8", True), ("1.0.5", False),
                                             ("1.1.0", False), ("2.0", False)])
def test_the_supported_nir_versions(version, ok):
    from dynapcnn_dsl.importer.from_nir import NirFailure, check_version

    if ok:
        check_version(version)
    else:
        with pytest.raises(NirFailure, match=f"nir {version} is installed; this tool reads NIR "
                           "with nir 1.0.6 up to"):
            check_version(version)


def test_the_installed_nir_is_supported():
    from dynapcnn_dsl.importer.from_nir import check_version

    check_version(nir.__version__)


def test_an_affine_after_a_sum_of_flattened_maps_has_the_maps_kernel(tmp_path):
    """Two branches flattened and summed (NIR's implicit sum) into an Affine: its kernel is the
    flattened map's size, as for one Flatten."""
    w = np.random.default_rng(3).uniform(-1, 1, (10, 4 * 8 * 8)).astype(np.float32)
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
        "a": _conv(2, 4, 0), "a_if": _if(4), "b": _conv(4, 4, 1), "b_if": _if(4),
        "flat_a": nir.Flatten(input_type={"input": np.array([4, 8, 8])}),
        "flat_b": nir.Flatten(input_type={"input": np.array([4, 8, 8])}),
        "fc": nir.Affine(weight=w, bias=np.zeros(10, np.float32)), "fc_if": _if(10),
        "output": nir.Output(output_type={"output": np.array([10])}),
    }, edges=[("input", "a"), ("a", "a_if"), ("a_if", "b"), ("b", "b_if"), ("a_if", "flat_a"),
              ("b_if", "flat_b"), ("flat_a", "fc"), ("flat_b", "fc"), ("fc", "fc_if"),
              ("fc_if", "output")], type_check=False)
    result = importer.import_nir(graph)
    assert result.ok, result.diagnostics
    assert "conv: {out_channels: 10, kernel: 8}" in result.text and "    merge: sum\n" in result.text
    build(*importer.write(result, tmp_path))

"""A sinabs DynapcnnNetwork imported as the cores it holds, rebuilt to its own make_config.

sinabs's backend runs against the samna stand-in (tests/sinabs_samna.py): the network's
`make_config` is sinabs's real config builder, our side is import -> build -> the samna bridge
into the same stand-in classes, compared field by field, the cores included (`index:` pins from
its layer2core_map).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import zoo
from sinabs_parity import differences, our_config

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build
from dynapcnn_dsl.cli import main

ZOO = Path(__file__).with_name("zoo.py")
CASES = {  # model: (input shape, DVS input)
    "DvsGesture": ((2, 32, 32), True),     # DVS pooling, AvgPool folded into weights, Linear
    "SumPoolChain": ((2, 16, 16), False),  # reset to zero
    "FanIn3Merge": ((2, 16, 16), False),   # two Merges: a sum of three
    "PerBranchPool": ((2, 16, 16), False),  # one layer, two poolings
}


def network(backend, name: str, mapped: bool = True):
    shape, dvs = CASES[name]
    model = getattr(zoo, name)()
    net = backend.DynapcnnNetwork(getattr(model, "seq", model), input_shape=shape, dvs_input=dvs)
    config = None
    if mapped:
        with contextlib.redirect_stdout(io.StringIO()):    # "Network is valid"
            config = net.make_config(device="speck2fmodule")
    return net, config


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_dynapcnn_network_rebuilds_to_its_own_configuration(backend, name, tmp_path):
    net, config = network(backend, name)
    result = importer.import_sinabs(net)
    assert result.ok and result.diagnostics == (), [d.message for d in result.diagnostics]
    doc = build(*importer.write(result, tmp_path))
    assert {c.name: c.index for c in doc.linked.cores} == {
        f"layer{i}": core for i, core in net.layer2core_map.items()}
    assert differences(our_config(doc), config.to_dict()) == []


def test_the_network_file_keeps_sinabs_integers_and_names(backend):
    net, _ = network(backend, "DvsGesture")
    result = importer.import_torch(net)            # the torch entry point hands it on
    text = result.text
    assert "quantize: none\n" in text
    assert ("  layer2:                                         # DynapcnnLayer 2: Conv2d, "
            "IAFSqueeze, weights x0.25 (AvgPool folded by sinabs)\n") in text
    assert "    weights: _dynapcnn_module._dynapcnn_layers.2.conv\n" in text
    assert "    neuron: {weights: _dynapcnn_module._dynapcnn_layers.2.spk}\n" in text
    state = net.state_dict()
    assert set(result.tensors) == {f"_dynapcnn_module._dynapcnn_layers.{i}.{t}" for i in (1, 2, 3)
                                   for t in ("conv.weight", "spk.spike_threshold", "spk.min_v_mem")}
    for key, value in result.tensors.items():
        assert (value == state[key].numpy()).all()


def test_an_unmapped_network_is_placed_by_the_compiler(backend, tmp_path):
    net, _ = network(backend, "SumPoolChain", mapped=False)
    result = importer.import_sinabs(net)
    assert [d.code for d in result.diagnostics] == ["import-sinabs"]
    assert "never mapped to cores" in result.diagnostics[0].message
    assert "index:" not in result.text
    assert build(*importer.write(result, tmp_path)).linked.cores


def test_an_input_that_contradicts_the_network_is_refused(backend):
    net, _ = network(backend, "SumPoolChain", mapped=False)
    wrong = importer.import_sinabs(net, input_shape=(2, 8, 8))
    assert not wrong.ok and "input is [2, 16, 16], not [2, 8, 8]" in wrong.diagnostics[0].message
    assert "no DVS layer" in importer.import_sinabs(net, dvs=True).diagnostics[0].message


def test_the_command_line_imports_a_function_returning_a_dynapcnn_network(backend, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["import", f"{ZOO}:dynapcnn_network", "-o", str(tmp_path / "net")])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "wrote" in out and "(3 cores)" in out
    text = (tmp_path / "net" / "network.yaml").read_text()
    assert "(a sinabs DynapcnnNetwork)" in text and "    index: " in text


def dvs_model(backend):
    """sinabs's DVSLayer (pooling, crop, flip) and a conv with a bias (sinabs: leak_enable)."""
    import torch

    torch.manual_seed(11)
    model = torch.nn.Sequential(
        backend.DVSLayer(input_shape=(32, 32), pool=(2, 2), crop=((1, 15), (0, 14)), flip_y=True),
        torch.nn.Conv2d(2, 8, 3, padding=1), zoo.spk(), torch.nn.AvgPool2d(2), zoo.conv(8, 4), zoo.spk())
    with torch.no_grad():
        model[1].bias.uniform_(-0.05, 0.05)
    return model


def made(backend, model, **kw):
    net = backend.DynapcnnNetwork(model, input_shape=(2, 32, 32), **kw)
    with contextlib.redirect_stdout(io.StringIO()):
        config = net.make_config(device="speck2fmodule")
    return net, config


def test_a_dvs_layer_and_a_bias_rebuild_to_sinabs_configuration(backend, tmp_path):
    net, config = made(backend, dvs_model(backend), dvs_input=True)
    result = importer.import_sinabs(net)
    assert result.diagnostics == () and "    conv: {out_channels: 8, kernel: 3, padding: 1, bias: true}\n" \
        in result.text
    assert differences(our_config(build(*importer.write(result, tmp_path))), config.to_dict()) == []


def test_a_disabled_pixel_array_is_the_one_difference_and_is_said(backend, tmp_path):
    """dvs_input=None keeps the DVSLayer's disable_pixel_array (True by default): sinabs's DVS
    layer then preprocesses events that do not come from the sensor, which the language's DVS
    input does not express."""
    net, config = made(backend, dvs_model(backend), dvs_input=None)
    result = importer.import_sinabs(net)
    assert [d.code for d in result.diagnostics] == ["import-sinabs"]
    assert "pixel array disabled" in result.diagnostics[0].message
    doc = build(*importer.write(result, tmp_path))
    assert differences(our_config(doc), config.to_dict()) == ["dvs_layer.pass_sensor_events: True != False"]


def test_a_network_not_discretized_is_quantized_by_the_compiler(backend, tmp_path):
    net, _ = made(backend, dvs_model(backend), dvs_input=True, discretize=False)
    result = importer.import_sinabs(net)
    assert [d.code for d in result.diagnostics] == ["import-sinabs"]
    assert "discretize=False" in result.diagnostics[0].message and "quantize:" not in result.text
    assert build(*importer.write(result, tmp_path)).linked.cores


def test_a_network_that_ran_says_its_states_are_not_kept(backend):
    """sinabs writes a layer's v_mem as the neurons' initial values; the language has one initial
    state per core, so the import starts them at 0 and says so."""
    import torch

    net, _ = network(backend, "SumPoolChain", mapped=False)
    assert importer.import_sinabs(net).diagnostics[0].message.startswith("the DynapcnnNetwork was never")
    torch.manual_seed(12)
    net(torch.rand(4, 2, 16, 16) * 400)
    messages = [d.message for d in importer.import_sinabs(net).diagnostics]
    assert any(m.startswith("layer 0's neurons hold a state (the network ran)") for m in messages)


def test_compare_runs_an_imported_network_against_itself(backend, tmp_path):
    """sinabs 3.1.3's DynapcnnNetwork.reset_states reads an attribute it no longer has: compare
    resets only the neurons, so the import -> compare path of docs/import.md runs."""
    from test_compare import random_events

    import dynapcnn_dsl

    result = importer.import_source(f"{ZOO}:dynapcnn_network")
    network, weights = importer.write(result, tmp_path)
    verdict = dynapcnn_dsl.compare(network, weights, f"{ZOO}:dynapcnn_network",
                                   random_events((2, 32, 32), n=6000, duration_us=60_000))
    assert verdict.agrees, verdict.cores
    assert sum(row.chip_spikes for row in verdict.cores) > 0


def test_a_lightning_checkpoint_of_a_network_is_read_without_its_prefix(backend, tmp_path):
    import torch

    net, config = network(backend, "DvsGesture")
    checkpoint = tmp_path / "last.ckpt"
    torch.save({"epoch": 3, "state_dict": {f"model.{k}": v for k, v in net.state_dict().items()}},
               checkpoint)
    result = importer.import_source(f"{ZOO}:dynapcnn_network", weights=str(checkpoint), key="state_dict")
    assert [d.code for d in result.diagnostics] == ["import-prefix"], [d.message for d in result.diagnostics]
    assert "read without it" in result.diagnostics[0].message
    doc = build(*importer.write(result, tmp_path / "out"))
    assert differences(our_config(doc), config.to_dict()) == []


def test_a_float_network_without_min_v_mem_gets_minus_the_threshold(backend, tmp_path):
    """sinabs's -32768 for min_v_mem=None would force a float network's scale to 1 and every
    weight to 0: as for a torch model, minus the threshold is written, with the warning."""
    import sinabs.layers as sl
    import torch

    torch.manual_seed(13)
    model = torch.nn.Sequential(zoo.conv(2, 8), sl.IAFSqueeze(batch_size=1, spike_threshold=0.5),
                                sl.SumPool2d(2), zoo.conv(8, 4), zoo.spk())
    net = backend.DynapcnnNetwork(model, input_shape=(2, 16, 16), discretize=False)
    result = importer.import_sinabs(net)
    warned = [d for d in result.diagnostics if d.code == "import-min-v-mem"]
    assert [d.message for d in warned] == [
        "layer 0's neuron has no lower bound on its state (min_v_mem=None); the chip needs one: "
        "min_v_mem -0.5 (minus the threshold) is written"]
    assert "    neuron: {threshold: 0.5, min_v_mem: -0.5}" in result.text
    assert build(*importer.write(result, tmp_path)).quantized is not None

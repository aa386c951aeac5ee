"""`compare`: the simulated chip against the torch model on the same events, core by core.

A correct import agrees; each classic translation mistake, introduced by hand into the network
file, makes the core it touches differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dynapcnn_dsl
from dynapcnn_dsl import importer
from dynapcnn_dsl.cli import main
from dynapcnn_dsl.report.comparison import comparison_text

ZOO = Path(__file__).with_name("zoo.py")


def random_events(shape=(2, 16, 16), n=20000, duration_us=200_000, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c, h, w = shape
    events = np.zeros(n, dtype=[("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
    events["t"] = np.sort(rng.integers(0, duration_us, n))
    events["x"], events["y"] = rng.integers(0, w, n), rng.integers(0, h, n)
    events["p"] = rng.integers(0, c, n)
    return events


@pytest.fixture(scope="module")
def residual(tmp_path_factory):
    folder = tmp_path_factory.mktemp("residual")
    result = importer.import_source(f"{ZOO}:ResidualPlus", input_shape=(2, 16, 16))
    network, weights = importer.write(result, folder)
    events = folder / "events.npy"
    np.save(events, random_events())
    return network, weights, events


def test_a_correct_import_agrees(residual):
    network, weights, events = residual
    result = dynapcnn_dsl.compare(network, weights, f"{ZOO}:ResidualPlus", events)
    assert result.agrees, comparison_text(result)
    assert [(c.core, c.module) for c in result.cores] == [("c1", "s1"), ("c2", "s2"), ("c3", "s3"),
                                                           ("c4", "s4")]
    assert all(c.correlation > 0.9 and c.chip_spikes > 100 for c in result.cores)
    assert comparison_text(result).endswith("20000 events in 200 bins of 1000 us: the chip agrees with the "
                                   "model\n")


def test_a_wrong_from_order_stands_out(residual, tmp_path):
    network, weights, events = residual
    wrong = tmp_path / "network.yaml"
    wrong.write_text(network.read_text().replace("from: [c3, c2]", "from: [c2, c3]"))
    result = dynapcnn_dsl.compare(wrong, weights, f"{ZOO}:ResidualPlus", events)
    verdicts = {c.core: (c.agrees, c.why) for c in result.cores}
    assert verdicts == {"c1": (True, ""), "c2": (True, ""), "c3": (True, ""),
                        "c4": (False, "the per-neuron counts do not correlate")}


def test_the_command_line_exits_1_on_a_difference(residual, tmp_path, capsys):
    network, weights, events = residual
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(network), str(weights), "--model", f"{ZOO}:ResidualPlus",
              "--events", str(events)])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert out.splitlines()[0].split() == ["core", "module", "chip", "spikes", "model", "spikes",
                                           "correlation", "verdict"]
    wrong = tmp_path / "network.yaml"
    wrong.write_text(network.read_text().replace("from: [c3, c2]", "from: [c2, c3]"))
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(wrong), str(weights), "--model", f"{ZOO}:ResidualPlus",
              "--events", str(events)])
    out = capsys.readouterr().out
    assert exc.value.code == 1
    assert "DIFFERS: the per-neuron counts do not correlate" in out
    assert "the chip differs from the model on 1 core(s)" in out
    with pytest.raises(SystemExit) as exc:   # the model of another network: nothing to load
        main(["compare", str(network), str(weights), "--model", f"{ZOO}:SumPoolChain",
              "--events", str(events)])
    out = capsys.readouterr().out
    assert exc.value.code == 1
    assert "error[import-source]: the weights file holds none of the model's tensors" in out
    assert "hint: give the model whose state_dict the network's `weights:` name" in out


def test_a_missing_average_stands_out(tmp_path):
    result = importer.import_source(f"{ZOO}:DvsGesture", dvs=True)
    network, weights = importer.write(result, tmp_path)
    events = random_events((2, 32, 32))
    assert dynapcnn_dsl.compare(network, weights, f"{ZOO}:DvsGesture", events).agrees
    network.write_text(network.read_text().replace("pool: 2, average: true", "pool: 2", 1))
    verdicts = {c.core: c.why for c in dynapcnn_dsl.compare(network, weights, f"{ZOO}:DvsGesture",
                                                               events).cores}
    assert verdicts["seq_1"] == ""
    assert verdicts["seq_4"] == "counts differ by more than 2x"      # 4x too much input


def test_batchnorm_agrees_and_a_dropped_one_is_refused_by_the_build(tmp_path):
    """The folded shift is a bias the chip adds per slow-clock tick: compare ticks once per bin,
    so the model (which adds it per step) and the chip agree. Without `batchnorm:` the build
    itself refuses the file's BatchNorm tensors."""
    from dynapcnn_dsl.api import BuildError

    result = importer.import_source(f"{ZOO}:WithBatchNorm", input_shape=(2, 16, 16))
    network, weights = importer.write(result, tmp_path)
    events = random_events()
    assert dynapcnn_dsl.compare(network, weights, f"{ZOO}:WithBatchNorm", events).agrees
    network.write_text(network.read_text().replace("    batchnorm: seq.1\n", "", 1))
    with pytest.raises(BuildError) as exc:
        dynapcnn_dsl.compare(network, weights, f"{ZOO}:WithBatchNorm", events)
    assert "weights-batchnorm" in {d.code for d in exc.value.diagnostics}


def test_a_dropped_batchnorm_whose_tensors_are_gone_too_stands_out(tmp_path):
    """A hand translation that never bound the BatchNorm (no `batchnorm:`, no BatchNorm tensors in
    its weights file) builds: the comparison then shows the core whose channels it rescaled."""
    from safetensors.numpy import load_file, save_file

    result = importer.import_source(f"{ZOO}:BatchNormMatters", input_shape=(2, 16, 16))
    network, weights = importer.write(result, tmp_path)
    events = random_events()
    assert dynapcnn_dsl.compare(network, weights, f"{ZOO}:BatchNormMatters", events).agrees
    network.write_text(network.read_text().replace("    batchnorm: seq.1\n", "", 1))
    conv_only = tmp_path / "conv-only.safetensors"
    save_file({k: v for k, v in load_file(weights).items() if not k.startswith("seq.1.")}, conv_only)
    verdicts = {c.core: c.why for c in dynapcnn_dsl.compare(network, conv_only, f"{ZOO}:BatchNormMatters",
                                                               events).cores}
    assert verdicts["seq_0"] == "counts differ by more than 2x"     # its channels scaled 0.2x to 3x


def test_a_model_trained_with_a_batch_size_runs_as_one_recording():
    """sinabs's N-MNIST quick start squeezes with batch_size=4: run as it was trained, the
    recording would be cut into 4 samples whose states start over, and the model would seem to
    spike far less than the chip (conv3 differed 8x before). The run takes one sample of all the
    frames, and gives the model back its batch size."""
    from dynapcnn_dsl.importer.model_file import load_module, load_weights
    from dynapcnn_dsl.weights.readers import read

    example = Path(__file__).resolve().parents[2] / "examples" / "sinabs-nmnist"
    model = load_module(f"{example / 'model.py'}:nmnist_snn")
    checkpoint = example / "nmnist_snn.pth"
    load_weights(model, dict(read(checkpoint)[0].tensors))
    result = dynapcnn_dsl.compare(example / "network.yaml", checkpoint, model,
                                  random_events((2, 34, 34), n=8000, duration_us=100_000))
    assert [(row.core, row.agrees) for row in result.cores] == [
        ("conv1", True), ("conv2", True), ("conv3", True), ("classifier", True)]
    assert {(m.batch_size, m.num_timesteps) for m in model.modules() if hasattr(m, "batch_size")} == {(4, -1)}

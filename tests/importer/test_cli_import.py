"""`dynapcnn-dsl import` end to end: files written and built, refusals, usage errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import cli

ZOO = Path(__file__).with_name("zoo.py")


def test_import_writes_a_network_that_builds(capsys, tmp_path):
    code, out = cli(capsys, "import", f"{ZOO}:ResidualPlus", "--input-shape", "2,16,16",
                    "-o", str(tmp_path / "res"))
    assert code == 0, out
    assert f"wrote {tmp_path / 'res' / 'network.yaml'} (4 cores)" in out
    assert "builds (speck2f, 4 cores)" in out
    assert {p.name for p in (tmp_path / "res").iterdir()} == {
        "network.yaml", "weights.safetensors", "network.schema.json"}
    code, out = cli(capsys, "build", str(tmp_path / "res" / "network.yaml"),
                    str(tmp_path / "res" / "weights.safetensors"), "--quiet")
    assert code == 0, out


def test_a_checkpoint_is_loaded_before_the_trace(capsys, tmp_path):
    import torch
    from safetensors.numpy import load_file

    from dynapcnn_dsl.importer.model_file import load_module

    model = load_module(f"{ZOO}:SumPoolChain")
    with torch.no_grad():
        model.seq[0].weight.mul_(-3.0)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "ckpt.pt")
    code, out = cli(capsys, "import", f"{ZOO}:SumPoolChain", "--input-shape", "2,16,16",
                    "--weights", str(tmp_path / "ckpt.pt"), "--key", "state_dict",
                    "-o", str(tmp_path / "out"))
    assert code == 0, out
    saved = load_file(tmp_path / "out" / "weights.safetensors")
    assert (saved["seq.0.weight"] == model.seq[0].weight.detach().numpy()).all()


def test_refusals_exit_1_and_write_nothing(capsys, tmp_path):
    code, out = cli(capsys, "import", f"{ZOO}:Refused", "--input-shape", "2,16,16",
                    "-o", str(tmp_path / "out"))
    assert code == 1
    assert f"{ZOO}:" in out and "error[import-unsupported]: 'pool' (MaxPool2d)" in out
    assert "nothing was written" in out
    assert not (tmp_path / "out").exists()


def test_a_model_whose_code_fails_is_reported_with_its_line(capsys, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\n\nclass Net(torch.nn.Module):\n    def __init__(self):\n"
                   "        super().__init__()\n        raise ValueError('no data')\n")
    code, out = cli(capsys, "import", f"{bad}:Net", "--input-shape", "2,16,16", "-o",
                    str(tmp_path / "out"))
    assert code == 1
    assert f"error[import-source]: running {bad}:Net failed: ValueError: no data (at {bad}:6)" in out
    code, out = cli(capsys, "import", f"{bad}:Other", "--input-shape", "2,16,16", "-o",
                    str(tmp_path / "out"))
    assert code == 1 and f"{bad} defines no 'Other' (its modules: Net)" in out


def test_a_model_needing_a_missing_package_says_which_to_install(capsys, tmp_path):
    """The common case: a file building a sinabs DynapcnnNetwork where samna is not installed."""
    bad = tmp_path / "needs.py"
    bad.write_text("import not_installed_here.backend\n")
    code, out = cli(capsys, "import", f"{bad}:net", "-o", str(tmp_path / "out"))
    assert code == 1
    assert (f"running {bad}:net failed: ModuleNotFoundError: No module named 'not_installed_here' "
            f"(at {bad}:1)") in out
    assert ("hint: 'not_installed_here' is not importable here: install it if it is a package "
            "(sinabs's DynapcnnNetwork needs samna), or check its name if it is a module of your "
            "own") in out


def test_a_model_without_an_input_shape_asks_for_one(capsys, tmp_path):
    code, out = cli(capsys, "import", f"{ZOO}:Nested", "-o", str(tmp_path / "out"))
    assert code == 1 and "give --input-shape C,H,W" in out


@pytest.mark.parametrize(("args", "message"), [
    (["no-such.py:Net"], "no-such.py: no such file"),
    (["model.txt"], "SOURCE 'model.txt' is none of FILE.py:NAME, FILE.nir, FILE.json"),
    ([f"{ZOO}:Nested", "--input-shape", "2,16"], "--input-shape: '2,16' is not C,H,W"),
    ([f"{ZOO}:Nested", "--chip", "speck9"], "--chip: unknown chip 'speck9'"),
    ([f"{ZOO}:Nested", "--weights", "/dev/null"], "/dev/null: is not a regular file (a device or a pipe)"),
])
def test_usage_errors_exit_2(capsys, tmp_path, args, message):
    code, out = cli(capsys, "import", *args, "-o", str(tmp_path))
    assert code == 2 and message in out


def test_an_existing_network_is_not_replaced_without_force(capsys, tmp_path):
    (tmp_path / "network.yaml").write_text("mine\n")
    code, out = cli(capsys, "import", f"{ZOO}:Nested", "--input-shape", "2,16,16", "-o",
                    str(tmp_path))
    assert code == 2 and "exists: choose another -o DIR, or --force" in out
    assert (tmp_path / "network.yaml").read_text() == "mine\n"


def test_a_configuration_document_is_decompiled(capsys, tmp_path):
    golden = Path(__file__).resolve().parents[1] / "golden" / "seed-residual.samna.json"
    code, out = cli(capsys, "import", str(golden), "-o", str(tmp_path / "doc"))
    assert code == 0, out
    assert "builds (speck2f, 3 cores)" in out
    text = (tmp_path / "doc" / "network.yaml").read_text()
    assert "quantize: none" in text and "    index: 0\n" in text


def test_a_model_that_maps_but_does_not_fit_is_written_and_reported(capsys, tmp_path):
    big = tmp_path / "big.py"
    big.write_text("import sinabs.layers as sl\nfrom torch import nn\n\n\ndef Big():\n"
                   "    return nn.Sequential(nn.Conv2d(2, 64, 3, padding=1, bias=False),\n"
                   "                         sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0))\n")
    code, out = cli(capsys, "import", f"{big}:Big", "--input-shape", "2,64,64", "-o",
                    str(tmp_path / "out"))
    assert code == 1
    assert "network.yaml:13:3: error[core-memory]: core 'conv0' needs kernel 2 Ki, neuron 256 Ki" in out
    assert "does not build as it is (see above); edit it, then `dynapcnn-dsl build" in out
    assert (tmp_path / "out" / "network.yaml").is_file()


def test_a_checkpoint_of_another_model_says_what_to_give(capsys, tmp_path):
    weights = tmp_path / "other.npz"
    np.savez(weights, **{"head.weight": np.zeros((2, 2, 1, 1), np.float32)})
    code, out = cli(capsys, "import", f"{ZOO}:SumPoolChain", "--input-shape", "2,16,16",
                    "--weights", str(weights), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "error[import-source]: the weights file lacks 6 of the model's tensors: seq.0.weight" in out
    assert ("hint: give this model's checkpoint (`--key` names the state_dict inside a larger "
            "checkpoint)") in out

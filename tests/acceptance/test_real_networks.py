"""Three real networks' shapes, each built from its checkpoint as it is and compared, bit for bit,
with sinabs 3.1.3's own configuration for the same torch model with the same checkpoint loaded.

The examples (examples/<name>/: network.yaml, model.py, make_checkpoint.py and the checkpoint):
- sinabs-nmnist: sinabs's N-MNIST quick start, host input, AvgPool2d(2) twice, a Linear head,
  the plain `torch.save(snn.state_dict())` with every IAFSqueeze's saved parameters and state;
- sinabs-dvs-gesture: sinabs's gesture network on the DVS, AvgPool2d(2) after five
  convolutions, converted by `from_model` (saved spike_threshold / min_v_mem, `spike_output`);
- retina-eye-tracking: a Lightning checkpoint (the state_dict under "state_dict", names
  prefixed `model.`), BatchNorm2d after six convolutions, int64 thresholds, SumPool2d.

sinabs's config builder runs against the samna stand-in (tests/sinabs_samna.py) and is given
our placement (ours keeps leaky cores off cores 0-1, sinabs's does not). Each example is built
once per module.

BatchNorm: sinabs's `merge_bn` (sinabs.backend.dynapcnn.utils) divides by sqrt(running_var)
without BatchNorm's eps, so for a BatchNorm with eps > 0 (the default 1e-5) the chip sinabs
configures disagrees with the model. Ours folds as torch's `fuse_conv_bn_weights`; the eye
tracker is therefore compared with sinabs given the same model with its BatchNorms fused by
`torch.nn.utils.fusion.fuse_conv_bn_eval` (the model's exact meaning), and a second test shows
that sinabs's own merge of the unfused model differs from that meaning exactly where eps acts.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pytest
from helpers import assert_remade
from sinabs_parity import differences, our_config, placement, sinabs_config

import dynapcnn_dsl
from dynapcnn_dsl.cli import run as cli_run

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


class Example(NamedTuple):
    folder: str
    checkpoint: str
    key: str | None
    device: str                             # sinabs's device name, as the source deploys
    dvs: bool
    monitor: tuple[Any, ...] | None         # sinabs's monitor_layers (None: its default)

    @property
    def path(self) -> Path:
        return EXAMPLES / self.folder


NMNIST = Example("sinabs-nmnist", "nmnist_snn.pth", None, "speck2fdevkit", False, None)
GESTURE = Example("sinabs-dvs-gesture", "gesture_snn.pth", None, "speck2fmodule", True, ("dvs", -1))
RETINA = Example("retina-eye-tracking", "retina.ckpt", "state_dict", "speck2fmodule", True, None)
ALL = (NMNIST, GESTURE, RETINA)


@contextlib.contextmanager
def example_modules(example: Example) -> Iterator[dict[str, ModuleType]]:
    """The example's model.py and make_checkpoint.py, imported from its folder (make_checkpoint
    imports `model` by name: each example's own, not another's)."""
    saved = sys.modules.pop("model", None)
    sys.path.insert(0, str(example.path))
    try:
        loaded = {}
        for name in ("model", "make_checkpoint"):
            spec = importlib.util.spec_from_file_location(name, example.path / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            loaded[name] = module
        yield loaded
    finally:
        sys.path.remove(str(example.path))
        sys.modules.pop("make_checkpoint", None)
        sys.modules.pop("model", None)
        if saved is not None:
            sys.modules["model"] = saved


def state_dict(example: Example) -> dict[str, Any]:
    data = torch.load(example.path / example.checkpoint, map_location="cpu", weights_only=True)
    return data[example.key] if example.key else data


def load(model: torch.nn.Module, example: Example) -> torch.nn.Module:
    """The checkpoint loaded for inference: everything but the neuron states (`v_mem`), which
    are what training left, not an initial state (a fresh model's are not initialised, and
    sinabs would otherwise copy them into the chip's initial neuron values)."""
    saved = {k: v for k, v in state_dict(example).items() if not k.endswith("v_mem")}
    missing, unexpected = model.load_state_dict(saved, strict=False)
    assert not unexpected and all(k.endswith("v_mem") for k in missing), (missing, unexpected)
    return model.eval()


@pytest.fixture(scope="module")
def built() -> dict[str, dynapcnn_dsl.Document]:
    """Each example built once, from its checkpoint file as it is."""
    return {e.folder: dynapcnn_dsl.build(e.path / "network.yaml", e.path / e.checkpoint, key=e.key)
            for e in ALL}


def compare(example: Example, model: Any, doc: dynapcnn_dsl.Document, backend: Any) -> list[str]:
    theirs = sinabs_config(backend, model, tuple(doc.linked.input.shape), dvs_input=example.dvs,
                           cores=placement(doc), device=example.device, monitor=example.monitor)
    return differences(our_config(doc), theirs)


# ------------------------------------------------------------------------------- sinabs parity
def test_nmnist_quick_start_configures_the_chip_as_sinabs_does(built, backend):
    with example_modules(NMNIST) as mods:
        snn = load(mods["model"].nmnist_snn(), NMNIST)
    assert compare(NMNIST, snn, built[NMNIST.folder], backend) == []


def test_dvs_gesture_configures_the_chip_as_sinabs_does(built, backend):
    with example_modules(GESTURE) as mods:
        snn = load(mods["model"].gesture_snn(), GESTURE)
    assert compare(GESTURE, snn, built[GESTURE.folder], backend) == []


def test_a_saved_neuron_state_is_not_the_chips_initial_state(built, backend):
    """The checkpoint's v_mem is what the last training batch left. sinabs copies a model's
    v_mem, once it has run, into the chip's initial neuron values; here it is never bound (the
    model starts each sample from rest): given the model with that state loaded, sinabs's
    configuration differs from ours in neurons_initial_value alone, and ours is all zeros."""
    with example_modules(NMNIST) as mods:
        snn = mods["model"].nmnist_snn()
    with torch.no_grad():  # a batch through the model gives its states their saved shapes
        snn(torch.zeros(mods["model"].BATCH_SIZE, *mods["model"].INPUT_SHAPE))
    snn.load_state_dict(state_dict(NMNIST))
    found = compare(NMNIST, snn.eval(), built[NMNIST.folder], backend)
    assert found and all(re.match(r"cnn_layers\[\d\]\.neurons_initial_value", d) for d in found)
    ours = built[NMNIST.folder].config["cnn_layers"]
    assert all(not np.any(layer["neurons_initial_value"]) for layer in ours if "weights" in layer)


def retina_layers(fuse: bool) -> torch.nn.Sequential:
    """The Retina model with the checkpoint loaded, flattened into the Sequential of layers
    sinabs reads (the DecimationLayer's conv and spk in place of it), each Conv2d + BatchNorm2d
    fused by torch when `fuse` (left for sinabs's own merge otherwise)."""
    with example_modules(RETINA) as mods:
        module = load(mods["model"].EyeTrackingModule(), RETINA)
        decimation = mods["model"].DecimationLayer
    layers: list[torch.nn.Module] = []
    for layer in module.model.seq:
        if isinstance(layer, decimation):
            layers += [layer.conv, layer.spk]
        elif isinstance(layer, torch.nn.BatchNorm2d) and fuse:
            layers[-1] = torch.nn.utils.fusion.fuse_conv_bn_eval(layers[-1], layer)
        else:
            layers.append(layer)
    return torch.nn.Sequential(*layers)


def test_retina_configures_the_chip_as_sinabs_does_for_the_model_with_its_batchnorms_fused(built, backend):
    assert compare(RETINA, retina_layers(fuse=True), built[RETINA.folder], backend) == []


def test_sinabs_merging_the_batchnorms_itself_drops_eps_where_ours_keeps_it(built, backend):
    """Given the unfused model, sinabs's merge_bn divides by sqrt(running_var) without eps: its
    configuration then differs from the model's meaning (and ours) in the folded cores' weights,
    biases and thresholds (the scale moves with them), and nowhere else."""
    found = compare(RETINA, retina_layers(fuse=False), built[RETINA.folder], backend)
    changed = {re.match(r"cnn_layers\[(\d)\]\.(\w+)", d).groups() for d in found}
    folded = {str(i) for i, name in enumerate(placement_names(built[RETINA.folder]))
              if name in {"c1", "c2", "c3", "c4", "c5", "c6"}}
    assert changed and {layer for layer, _ in changed} <= folded
    assert {field for _, field in changed} <= {"weights", "biases", "threshold_high", "threshold_low"}


def placement_names(doc: dynapcnn_dsl.Document) -> list[str | None]:
    """The core name at each physical core."""
    names: list[str | None] = [None] * 9
    for core in doc.linked.cores:
        names[core.index] = core.name
    return names


# ------------------------------------------------------------------------------- the checkpoints
@pytest.mark.parametrize("example", ALL, ids=lambda e: e.folder)
def test_the_committed_checkpoint_is_what_make_checkpoint_writes(example):
    """Same names, dtypes and shapes; the same values up to helpers.REMADE_RTOL (the states and
    the trained eye tracker come from float arithmetic, which another CPU rounds differently)."""
    with example_modules(example) as mods:
        make = mods["make_checkpoint"]
        made = make.train()[0] if example is RETINA else make.make_model()
    want = made.state_dict()
    got = state_dict(example)
    assert list(got) == list(want)
    for name, tensor in want.items():
        assert_remade(got[name].numpy(), tensor.detach().numpy(), name)


@pytest.mark.parametrize("example", ALL, ids=lambda e: e.folder)
def test_the_example_builds_from_the_command_line(example, tmp_path, capsys):
    """`dynapcnn-dsl build examples/X/network.yaml examples/X/<checkpoint>` as the README says."""
    args = ["build", str(example.path / "network.yaml"), str(example.path / example.checkpoint),
            "-o", str(tmp_path / "config.json")]
    if example.key:
        args += ["--key", example.key]
    assert cli_run(args) == 0
    assert (tmp_path / "config.json").is_file()
    assert "error[" not in capsys.readouterr().out


def diagnostic_codes(doc: dynapcnn_dsl.Document) -> list[tuple[str, str]]:
    return sorted({(d.code, d.severity.value) for d in doc.diagnostics})


def test_the_builds_report_what_the_real_models_do(built):
    """Warnings a user of these checkpoints sees, each true of the model: AvgPool2d and
    SumPool2d on odd maps drop a row (pool-remainder), saved neuron states are not bound
    (weights-states, an info: nothing is unused), and each folded BatchNorm's shift goes through the leak."""
    assert diagnostic_codes(built[NMNIST.folder]) == [
        ("pool-remainder", "warning"), ("weights-reshaped", "info"), ("weights-states", "info")]
    assert diagnostic_codes(built[GESTURE.folder]) == [("weights-reshaped", "info"),
                                                       ("weights-states", "info")]
    retina = built[RETINA.folder]
    assert diagnostic_codes(retina) == [
        ("pool-remainder", "warning"), ("weights-batchnorm-leak", "warning"),
        ("weights-reshaped", "info"), ("weights-states", "info")]
    leaks = [d for d in retina.diagnostics if d.code == "weights-batchnorm-leak"]
    assert [re.search(r"core '(\w+)'", d.message)[1] for d in leaks] == ["c1", "c2", "c3", "c4", "c5", "c6"]
    states = [d.message for d in retina.diagnostics if d.code == "weights-states"]
    assert states == ["9 saved neuron states are not bound: model.seq.0.spk.v_mem, model.seq.11.v_mem, "
                      "model.seq.15.v_mem, model.seq.18.v_mem, model.seq.21.v_mem, model.seq.24.v_mem, "
                      "model.seq.26.v_mem, model.seq.3.v_mem and 1 more"]

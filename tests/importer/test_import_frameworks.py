"""snnTorch and Norse models as first-class sources: their integrate-and-fire neurons become
cores' neurons (imported, built and `compare`d with the verdict "agrees"), their leaky neurons are
refused with exactly one diagnostic per module.

The models are ours, in the shapes of snnTorch's convolutional tutorial and Norse's ConvNet
(tests/importer/zoo_snn.py). The compare tests read the per-core verdicts (`Comparison.cores`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.report.comparison import comparison_text

try:
    import snntorch
except ImportError:
    snntorch = None
try:
    with warnings.catch_warnings():   # Norse 1.1 scripts its functions with the deprecated torch.jit
        warnings.simplefilter("ignore", DeprecationWarning)
        import norse
except ImportError:
    norse = None

needs_snntorch = pytest.mark.skipif(snntorch is None, reason="snnTorch is a test dependency "
                                    "(make test installs it)")
needs_norse = pytest.mark.skipif(norse is None, reason="Norse is a test dependency (make test "
                                 "installs it)")

ZOO = Path(__file__).with_name("zoo_snn.py")


def imported(name: str, shape=(2, 16, 16)) -> importer.Imported:
    return importer.import_source(f"{ZOO}:{name}", input_shape=shape)


def refusals(result) -> list[tuple[str, str]]:
    """(code, the offending node as the message names it) of each error."""
    return [(d.code, d.message.partition(" cannot run")[0].partition(" follows")[0])
            for d in result.diagnostics if d.severity == Severity.ERROR]


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(0)
    n = 20000
    table = np.zeros(n, dtype=[("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
    table["t"] = np.sort(rng.integers(0, 200_000, n))
    table["x"], table["y"], table["p"] = rng.integers(0, 16, n), rng.integers(0, 16, n), rng.integers(0, 2, n)
    return table


def compared(name: str, tmp_path: Path, events):
    from dynapcnn_dsl.verify.compare import compare

    result = imported(name)
    assert result.ok, [d.message for d in result.diagnostics]
    network, weights = importer.write(result, tmp_path)
    return result, compare(network, weights, f"{ZOO}:{name}", events)


# -- snnTorch ------------------------------------------------------------------------------------
@needs_snntorch
def test_snntorch_integrate_and_fire_imports_and_the_chip_agrees(tmp_path, events):
    result, comparison = compared("SnnTorchIF", tmp_path, events)
    assert "neuron: {threshold: 1.0, min_v_mem: -1.0, reset: subtract}" in result.text
    assert "neuron: {threshold: 2.0, min_v_mem: -2.0, reset: zero}" in result.text
    assert "# snnTorch Leaky(beta=1), reset_mechanism='zero'" in result.text
    assert "conv: {out_channels: 10, kernel: 8}" in result.text          # Flatten + Linear
    assert [d.code for d in result.diagnostics] == ["import-min-v-mem"] * 3   # snnTorch: unbounded
    assert [(c.core, c.module) for c in comparison.cores] == [("net_0", "net.1"), ("net_3", "net.4"),
                                                              ("net_6", "net.7")]
    assert all(c.agrees and c.model_spikes > 200 for c in comparison.cores), comparison_text(comparison)


@needs_snntorch
def test_snntorch_leaky_returning_its_membrane_agrees(tmp_path, events):
    """Leaky without init_hidden returns (spikes, membrane): the membrane is no node of its own."""
    result, comparison = compared("SnnTorchExplicitState", tmp_path, events)
    assert [c.name for c in result.plan.cores] == ["conv1", "conv2"]
    assert all(c.agrees and c.model_spikes > 200 for c in comparison.cores), comparison_text(comparison)


@needs_snntorch
def test_snntorch_tutorial_csnn_is_refused_once_per_module():
    result = imported("SnnTorchTutorialCSNN", (1, 28, 28))
    assert refusals(result) == [
        ("import-unsupported", "'net.1' (MaxPool2d)"), ("import-unsupported", "'net.2' (Leaky)"),
        ("import-unsupported", "'net.4' (MaxPool2d)"), ("import-unsupported", "'net.5' (Leaky)"),
        ("import-unsupported", "'net.8' (Leaky)")]
    leaky = result.diagnostics[1]
    assert leaky.message == ("'net.2' (Leaky) cannot run on the chip: a leaky neuron (beta=0.5): the "
                             "chip's neurons integrate and fire without a leak of their own (a core's "
                             "bias is added per slow-clock tick, not a decay)")
    assert leaky.hint == "train with beta=1.0 (integrate-and-fire), or keep this layer on the host"


@needs_snntorch
def test_snntorch_without_reset_is_refused_once():
    result = imported("SnnTorchNoReset")
    assert refusals(result) == [("import-unsupported", "'lif1' (Leaky)")]
    assert "reset_mechanism='none' keeps the membrane after a spike" in result.diagnostics[0].message


@needs_snntorch
def test_a_loop_over_time_steps_in_forward_is_refused_naming_the_modules():
    result = imported("SnnTorchTimeLoop")
    assert refusals(result) == [("import-shared", "'conv1' (Conv2d) is called 5 times: a core "
                                 "computes one call, so the model's 10 calls of convolutions need 10 "
                                 "cores, and the chip has 9"),
                                ("import-shared", "'conv2' (Conv2d) is called 5 times: a core "
                                 "computes one call, so the model's 10 calls of convolutions need 10 "
                                 "cores, and the chip has 9")]
    assert "a loop over time steps belongs outside `forward`" in result.diagnostics[0].hint


# -- Norse ---------------------------------------------------------------------------------------
@needs_norse
def test_norse_iaf_cells_import_and_the_chip_agrees(tmp_path, events):
    result, comparison = compared("NorseIF", tmp_path, events)
    assert "neuron: {threshold: 2.0, min_v_mem: -2.0, reset: zero}" in result.text
    assert "# Norse IAFCell: resets to v_reset 0" in result.text
    assert all(c.agrees and c.model_spikes > 200 for c in comparison.cores), comparison_text(comparison)
    build(*importer.write(result, tmp_path / "again"))


@needs_norse
def test_norse_convnet_is_refused_once_per_module():
    result = imported("NorseConvNet", (1, 28, 28))
    assert refusals(result) == [
        ("import-unsupported", "'lif0' (LIFCell)"), ("import-unsupported", "'max_pool2d'"),
        ("import-unsupported", "'mul'"), ("import-unsupported", "'lif1' (LIFCell)"),
        ("import-unsupported", "'max_pool2d'"), ("import-unsupported", "'lif2' (LIFCell)"),
        ("import-unsupported", "'out' (LICell)")]      # (the ReLU reads a refused LIF: no more)
    assert "a leaky neuron (LIFCell: finite time constants)" in result.diagnostics[0].message


@needs_norse
def test_norse_iaf_resetting_elsewhere_than_zero_is_refused_once():
    result = imported("NorseResetTo")
    assert refusals(result) == [("import-unsupported", "'iaf1' (IAFCell)")]
    assert "it resets to v_reset -0.5" in result.diagnostics[0].message


@needs_norse
def test_norses_own_convnet_names_each_neuron_module_once():
    """Norse's packaged ConvNet loops over time inside forward and records voltages: its neuron
    modules (three LIFCells and a LILinearCell readout) are one refusal each, and the time loop's
    indexing and recording say to write one step per call."""
    result = imported("norse_packaged_convnet", (1, 28, 28))
    named = [m for _, m in refusals(result)]
    for module in ("'lif0' (LIFCell)", "'lif1' (LIFCell)", "'lif2' (LIFCell)", "'out' (LILinearCell)"):
        assert named.count(module) == 1, named
    select = next(d for d in result.diagnostics if d.message.startswith("'select'"))
    assert select.hint.startswith("write `forward` for one time step")

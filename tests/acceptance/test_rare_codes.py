"""Diagnostic codes that no test expected when the catalogue was made (tests/unit/test_codes.py
listed them as untested): each produced here for real, through the API or the pipeline a user
goes through, with its severity and message."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import dynapcnn_dsl
from dynapcnn_dsl import importer
from dynapcnn_dsl.config.reader import read_configuration
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.pipeline import Stage, resume, run_text
from dynapcnn_dsl.simulator import SimulationError
from dynapcnn_dsl.weights import read

ZOO = Path(__file__).resolve().parents[1] / "importer" / "zoo.py"

SHARED = textwrap.dedent("""\
    dsl: 1
    chip: speck2f
    input: {source: host, shape: [2, 8, 8], to: [a]}
    cores:
      a: {conv: {out_channels: 2, kernel: 3, padding: 1}, weights: conv, to: [b]}
      b: {conv: {out_channels: 2, kernel: 3, padding: 1}, weights: conv, monitor: true}
    """)


def test_weights_shared_is_said_at_the_second_core(tmp_path):
    result = run_text(SHARED, "net.yaml")
    assert result.ok
    weights = tmp_path / "w.pt"
    torch.save({"conv.weight": torch.full((2, 2, 3, 3), 0.25)}, weights)
    built = resume(result, until=Stage.QUANTIZE, weights=weights)
    (shared,) = [d for d in built.diagnostics if d.code == "weights-shared"]
    assert (str(shared.position), shared.severity) == ("6:55", Severity.WARNING)   # the key `weights`
    assert shared.message == "cores 'a', 'b' all use the tensors 'conv.*'"


def test_a_torch_file_without_torch_is_weights_torch_missing(tmp_path, monkeypatch):
    path = tmp_path / "w.pt"
    torch.save({"conv.weight": torch.ones(2, 2, 3, 3)}, path)
    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` now raises ImportError
    weights, (d,) = read(path)
    assert weights is None
    assert (d.code, d.severity, d.message) == ("weights-torch-missing", Severity.ERROR,
                                               "reading a torch file needs torch")


def test_a_missing_document_is_document_unreadable(tmp_path):
    configuration, (d,) = read_configuration(tmp_path / "config.json")
    assert configuration is None
    assert (d.code, d.file, d.position) == ("document-unreadable", str(tmp_path / "config.json"), None)
    assert d.message == "cannot read the file: No such file or directory"


MODELS = '''
import sinabs.layers as sl
import torch
from torch import nn


def spk():
    return sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0)


class Twice(nn.Module):
    """One convolution called twice: a core per call."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
        self.s1, self.s2 = spk(), spk()

    def forward(self, x):
        return self.s2(self.conv(self.s1(self.conv(x))))


class Once(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
        self.spk = spk()

    def forward(self, x):
        return self.spk(self.conv(x))
'''


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    return path


def test_a_module_called_twice_is_import_shared(models):
    result = importer.import_source(f"{models}:Twice", input_shape=(2, 8, 8))
    (d,) = [d for d in result.diagnostics if d.code == "import-shared"]
    assert (d.file, str(d.position), d.severity) == (str(models), "20:1", Severity.WARNING)   # its forward
    assert d.message == ("'conv' (Conv2d) is called 2 times (its weights shared): each call becomes a "
                         "core of its own, with the same `weights:`")
    assert result.ok


def test_an_ann_checkpoint_is_import_thresholds(models, tmp_path):
    ann = tmp_path / "ann.pt"
    torch.save({"conv.weight": torch.ones(2, 2, 3, 3)}, ann)
    result = importer.import_source(f"{models}:Once", input_shape=(2, 8, 8), weights=str(ann))
    (d,) = [d for d in result.diagnostics if d.code == "import-thresholds"]
    assert (d.file, d.severity) == (str(ann), Severity.INFO)
    assert "(spk.min_v_mem, spk.spike_threshold)" in d.message   # the parameters it lacks
    assert result.ok


# ------------------------------------------------------------------------------ simulate, compare
def events(times: list[int]) -> np.ndarray:
    table = np.zeros(len(times), dtype=[("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
    table["t"] = times
    return table


@pytest.fixture(scope="module")
def residual(tmp_path_factory):
    folder = tmp_path_factory.mktemp("residual")
    network, weights = importer.write(importer.import_source(f"{ZOO}:ResidualPlus", input_shape=(2, 16, 16)),
                                      folder)
    return network, weights


def test_a_sensor_placement_for_host_input_is_simulate_sensor_placement(residual):
    network, weights = residual
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.simulate(network, events([0, 10]), weights=weights, sensor_offset=(4, 4))
    (d,) = exc.value.diagnostics
    assert (d.code, d.severity) == ("simulate-sensor-placement", Severity.ERROR)
    assert d.message == "a sensor placement is for a DVS input; this network's input comes from the host"


def test_too_many_bins_is_compare_bins(residual):
    from dynapcnn_dsl.verify.compare import MAX_BINS

    network, weights = residual
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.compare(network, weights, f"{ZOO}:ResidualPlus", events([0, 2_000_000_000]))
    (d,) = exc.value.diagnostics
    assert (d.code, d.severity) == ("compare-bins", Severity.ERROR)
    assert d.message == f"the events span 2000001 bins of 1000 us: more than {MAX_BINS} model steps"


def test_a_model_that_raises_is_compare_model_failed(residual):
    from dynapcnn_dsl.verify.compare import ModelFailure

    spec = importlib.util.spec_from_file_location("zoo_for_rare_codes", ZOO)
    zoo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(zoo)

    class Broken(zoo.ResidualPlus):   # the imported model, whose forward fails on the bins
        def forward(self, x):
            if x.shape[0] > 1:   # (traced on one step, it works)
                raise RuntimeError("no forward today")
            return super().forward(x)

    network, weights = residual
    with pytest.raises(ModelFailure) as exc:
        dynapcnn_dsl.compare(network, weights, Broken(), events([0, 1000, 2000]))
    assert exc.value.code == "compare-model-failed"
    assert "RuntimeError: no forward today" in str(exc.value)

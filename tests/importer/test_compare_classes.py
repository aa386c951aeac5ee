"""`compare` as a classifier check first: the class chip and model pick, per time window and
over the recording; cores without a spiking counterpart in the model (functional activations,
heads without a neuron) are skipped with the reason, never reported as DIFFERS. Every polarity
mode, bounded dense frames, and a model that fails on the events (its failure, exit 1)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from test_compare import random_events

import dynapcnn_dsl
from dynapcnn_dsl import importer
from dynapcnn_dsl.cli import main
from dynapcnn_dsl.report.comparison import class_lines, comparison_text
from dynapcnn_dsl.simulator import SimulationError
from dynapcnn_dsl.verify.compare import MAX_BINS

MODELS = Path(__file__).with_name("classifiers.py")
ROOT = Path(__file__).resolve().parents[2]
RESNET = ROOT / "examples" / "dvs-resnet"


def imported(name: str, folder: Path) -> tuple[Path, Path]:
    return importer.write(importer.import_source(f"{MODELS}:{name}", input_shape=(2, 8, 8)), folder)


def events_8x8(n: int = 5000) -> np.ndarray:
    return random_events((2, 8, 8), n=n, duration_us=100_000)


def test_a_linear_head_without_a_neuron_is_judged_by_class(tmp_path):
    network, weights = imported("LinearHead", tmp_path)
    result = dynapcnn_dsl.compare(network, weights, f"{MODELS}:LinearHead", events_8x8(), window_us=25_000)
    assert result.agrees, comparison_text(result)
    assert result.classes is not None and result.classes.head == "head" and result.classes.first == 0
    assert result.classes.chip == result.classes.model is not None
    assert len(result.classes.windows) == 4 and all(w.agrees for w in result.classes.windows)
    rows = {c.core: c for c in result.cores}
    assert rows["conv"].module == "spk" and rows["conv"].agrees and not rows["conv"].skipped
    assert rows["head"].skipped == "nothing follows 'head' in the model (a non-spiking head): judged by class"
    table = comparison_text(result)
    assert "whole recording: the chip picks class" in table and "DIFFERS" not in table
    assert table.endswith("the chip classifies as the model does; the 1 core(s) with a spiking "
                          "counterpart agree\n")


def test_a_functional_relu_model_is_skipped_core_by_core_with_the_reason(tmp_path):
    network, weights = imported("FunctionalRelu", tmp_path)
    result = dynapcnn_dsl.compare(network, weights, f"{MODELS}:FunctionalRelu", events_8x8())
    assert result.agrees, comparison_text(result)
    assert result.classes is not None and result.classes.chip == result.classes.model is not None
    assert [(c.core, c.skipped) for c in result.cores] == [
        ("conv", "the activation after 'conv' is a function called in the model's forward "
                 "(FunctionalRelu): no spikes to compare"),
        ("head", "nothing follows 'head' in the model (a non-spiking head): judged by class")]


@pytest.mark.parametrize("polarity, model, channels", [
    ("both", "TwoChannels", 2), ("on", "OneChannel", 1), ("off", "OneChannel", 1),
    ("merge", "OneChannel", 1), ("merge", "SensorMerging", 1)])
def test_every_polarity_mode(tmp_path, polarity, model, channels):
    """The model sees what the DVS layer passes: `on` and `off` only their polarity, `merge`
    both in one channel (this was an IndexError), or in the sensor's two channels for a model
    that merges them itself (sinabs's DVSLayer)."""
    import importlib.util

    from safetensors.torch import save_file

    spec = importlib.util.spec_from_file_location("classifiers_for_polarity", MODELS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    network = tmp_path / "network.yaml"
    network.write_text(f"dsl: 1\nchip: speck2f\ninput: {{source: dvs, shape: [{channels}, 8, 8], "
                       f"polarity: {polarity}, to: [conv]}}\ncores:\n  conv:\n"
                       "    conv: {out_channels: 4, kernel: 3, padding: 1}\n    neuron: {weights: spk}\n")
    save_file({k: v.contiguous() for k, v in getattr(module, model)().state_dict().items()},
              str(tmp_path / "w.safetensors"))
    events = events_8x8()
    assert set(events["p"].tolist()) == {0, 1}
    result = dynapcnn_dsl.compare(network, tmp_path / "w.safetensors", f"{MODELS}:{model}", events)
    ((core),) = result.cores
    assert result.agrees and core.agrees and core.correlation > 0.95, comparison_text(result)
    assert core.chip_spikes == pytest.approx(core.model_spikes, rel=0.05)


def test_the_flagship_example_agrees_by_class():
    """examples/dvs-resnet: a functional-relu model with a leaky stem; on the demo's events both
    pick class 1 (a vertical bar) in every window, and no core is reported as DIFFERS."""
    sys.path.insert(0, str(RESNET))
    try:
        from make_events import bar_events
    finally:
        sys.path.pop(0)
    result = dynapcnn_dsl.compare(RESNET / "network.yaml", RESNET / "weights.safetensors",
                                  f"{RESNET / 'model.py'}:DvsResNet", bar_events(), window_us=20_000)
    assert result.agrees, comparison_text(result)
    assert (result.classes.chip, result.classes.model, result.classes.first) == (1, 1, 1)
    assert [(w.chip, w.model) for w in result.classes.windows] == [(1, 1)] * 5
    assert all(c.skipped and c.agrees for c in result.cores)
    assert "DIFFERS" not in comparison_text(result)


def test_far_apart_events_are_refused_before_any_frame(tmp_path):
    """Two events 10^11 us apart would be 10^8 bins (95 GiB of frames): refused by the bound."""
    network, weights = imported("LinearHead", tmp_path)
    events = events_8x8(2)
    events["t"] = [0, 10 ** 11]
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.compare(network, weights, f"{MODELS}:LinearHead", events)
    (d,) = exc.value.diagnostics
    assert d.code == "compare-bins"
    assert d.message == (f"the events span 100000001 bins of 1000 us: more than {MAX_BINS} model steps")
    # a long sparse recording runs, its empty frames made window by window, never all at once
    events["t"] = [0, (MAX_BINS // 100 - 1) * 1000]
    assert dynapcnn_dsl.compare(network, weights, f"{MODELS}:LinearHead", events).bins == MAX_BINS // 100


def test_class_windows_are_bounded(tmp_path):
    """At most MAX_WINDOWS class windows: an explicit --window-us asking for more is refused,
    the default widens with the recording."""
    from dynapcnn_dsl.verify.compare import MAX_WINDOWS

    network, weights = imported("LinearHead", tmp_path)
    events = events_8x8()                                        # 100 ms
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.compare(network, weights, f"{MODELS}:LinearHead", events, bin_us=1, window_us=5)
    assert exc.value.diagnostics[0].message == f"19999 class windows of 5 us: more than {MAX_WINDOWS}"
    result = dynapcnn_dsl.compare(network, weights, f"{MODELS}:LinearHead", events[::50], bin_us=10)
    assert result.bins > 9_000 and len(result.classes.windows) == 1           # 100 ms by default


def test_frames_are_made_window_by_window(tmp_path, monkeypatch):
    """The model sees the recording in windows of bounded size, its states carried over: the
    same result as one window."""
    from dynapcnn_dsl.verify import compare as module

    network, weights = imported("LinearHead", tmp_path)
    whole = dynapcnn_dsl.compare(network, weights, f"{MODELS}:LinearHead", events_8x8())
    monkeypatch.setattr(module, "WINDOW_BYTES", 7 * 2 * 8 * 8 * 4)      # 7 bins per window
    windowed = dynapcnn_dsl.compare(network, weights, f"{MODELS}:LinearHead", events_8x8())
    assert windowed.cores == whole.cores and windowed.classes == whole.classes


def test_a_model_failing_on_the_events_is_the_models_failure(tmp_path, capsys):
    network, weights = imported("FunctionalRelu", tmp_path)
    np.save(tmp_path / "events.npy", events_8x8())
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(network), str(weights), "--model", f"{MODELS}:FailsOnEvents",
              "--events", str(tmp_path / "events.npy")])
    out = capsys.readouterr().out
    assert exc.value.code == 1
    assert (f"{MODELS}:FailsOnEvents: error[compare-model-failed]: the model failed on the events: "
            "RuntimeError: this model takes one time step at a time\n") in out
    assert "second line" not in out and "Traceback" not in out and "internal error" not in out


@pytest.mark.parametrize("option, value, message", [
    ("--bin-us", "0", "--bin-us must be in 1..1000000000, not 0"),
    ("--bin-us", str(10 ** 20), "--bin-us must be in 1..1000000000"),
    ("--window-us", "-5", "--window-us must be positive, not -5"),
    ("--sensor-offset", "3", "expected X,Y (two integers), not '3'"),
    ("--downsample", "0", "expected a positive integer, not '0'"),
])
def test_bad_options_are_usage_errors(tmp_path, capsys, option, value, message):
    network, weights = imported("LinearHead", tmp_path)
    np.save(tmp_path / "events.npy", events_8x8(10))
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(network), str(weights), "--model", f"{MODELS}:LinearHead",
              "--events", str(tmp_path / "events.npy"), option, value])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_recording_from_another_camera_is_placed_for_both_sides(tmp_path):
    """--sensor-offset / --downsample in compare: the chip and the model see the same placed
    events; what falls off the sensor is counted, what falls outside the network's 8 x 8 window
    is dropped by the DVS layer (and not binned for the model)."""
    from safetensors.torch import save_file

    sys.path.insert(0, str(MODELS.parent))
    try:
        from classifiers import TwoChannels
    finally:
        sys.path.pop(0)
    network = tmp_path / "network.yaml"
    network.write_text("dsl: 1\nchip: speck2f\ninput: {source: dvs, shape: [2, 8, 8], to: [conv]}\n"
                       "cores:\n  conv:\n    conv: {out_channels: 4, kernel: 3, padding: 1}\n"
                       "    neuron: {weights: spk}\n")
    save_file({k: v.contiguous() for k, v in TwoChannels().state_dict().items()},
              str(tmp_path / "w.safetensors"))
    events = random_events((2, 40, 40), n=20_000, duration_us=100_000)      # placed on 0..17
    x, y = events["x"].astype(int) - 4, events["y"].astype(int) - 4
    off = int(((x < 0) | (y < 0) | (x // 2 >= 128) | (y // 2 >= 128)).sum())
    result = dynapcnn_dsl.compare(network, tmp_path / "w.safetensors", f"{MODELS}:TwoChannels", events,
                                  sensor_offset=(4, 4), downsample=2)
    ((core),) = result.cores
    assert result.events == 20_000 and result.off_sensor == off > 0
    assert result.agrees and core.chip_spikes > 100, comparison_text(result)
    assert f"20000 events ({off} off the sensor) in 100 bins" in comparison_text(result)


def test_too_few_output_spikes_on_both_sides_do_not_tell_a_class():
    """As a core with fewer than FEW_SPIKES spikes on both sides is not judged, a spiking head
    that barely fires (the eye tracker's two outputs on 40 ms of noise) tells no class."""
    from dynapcnn_dsl.verify.comparison import ClassComparison, WindowClass

    quiet = ClassComparison("fc2", 0, (WindowClass(0, 40_000, 0, None),), 0, None, 3, 0.0)
    assert not quiet.conclusive and quiet.agrees
    assert class_lines(quiet)[-1] == ("whole recording: the chip picks class 0, the model class -: too few "
                                 "output spikes to tell (3 on the chip, 0 in the model) "
                                 "(0 of 1 windows agree)")
    loud = dataclasses.replace(quiet, chip_spikes=300)
    assert loud.conclusive and not loud.agrees
    logits = dataclasses.replace(quiet, model_spikes=None)                 # a non-spiking head
    assert logits.conclusive and not logits.agrees

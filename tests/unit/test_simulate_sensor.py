"""The sensor as the chip sees it (shared/SIMULATION.md, "Input events"): any event on the
sensor is valid DVS input, what the DVS layer drops is counted, and a recording from another
camera is placed on the sensor (offset window, then integer downsampling) with what falls off
it dropped and counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dynapcnn_dsl
from dynapcnn_dsl.simulator import EVENT, SensorPlacement, SimulationError
from dynapcnn_dsl.simulator.events import place_on_sensor

SHARED = Path(__file__).resolve().parents[3] / "shared"
CROPPED = """\
dsl: 1
chip: speck2f
input:
  source: dvs
  shape: [2, 128, 128]
  crop: {origin: {x: 32, y: 16}, size: {x: 64, y: 64}}
  to: [a]
cores:
  a:
    conv: {out_channels: 2, kernel: 3, padding: 1}
    monitor: true
"""
WINDOW = CROPPED.replace("  shape: [2, 128, 128]\n  crop: {origin: {x: 32, y: 16}, size: {x: 64, y: 64}}\n",
                         "  shape: [2, 64, 64]\n")
WEIGHTS = {"a.weight": np.random.default_rng(0).normal(0, 0.5, (2, 2, 3, 3)).astype(np.float32)}


def sensor_events(n: int, width: int = 128, height: int = 128, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    events = np.zeros(n, EVENT)
    events["t"] = np.sort(rng.integers(0, 50_000, n))
    events["x"], events["y"] = rng.integers(0, width, n), rng.integers(0, height, n)
    events["p"] = rng.integers(0, 2, n)
    return events


def test_a_sensor_recording_on_a_cropped_network_is_simulated_as_if_cropped_first():
    """The eye-tracking case: a 128 x 128 recording on a network that uses a 64 x 64 window.
    Events outside the window are dropped by the DVS layer and counted; the core computes
    exactly what it computes on the recording cropped beforehand."""
    events = sensor_events(20_000)
    result = dynapcnn_dsl.build(CROPPED, WEIGHTS, annotate=True).simulate(events)
    inside = ((events["x"] >= 32) & (events["x"] < 96) & (events["y"] >= 16) & (events["y"] < 80))
    assert result.summary.events_in == len(events)
    assert result.summary.dvs_dropped == int((~inside).sum()) > 0
    assert result.summary.off_sensor == 0
    cropped = events[inside]
    cropped["x"] -= 32
    cropped["y"] -= 16
    first = dynapcnn_dsl.build(WINDOW, WEIGHTS, annotate=True).simulate(cropped)
    assert first.summary.dvs_dropped == 0
    assert len(result.cores["a"]) > 100
    np.testing.assert_array_equal(result.cores["a"], first.cores["a"])


def test_only_events_off_the_sensor_are_refused():
    events = sensor_events(10)
    events["x"][3], events["p"][5] = 128, 2
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.build(CROPPED, WEIGHTS).simulate(events)
    (d,) = exc.value.diagnostics
    assert d.code == "simulate-events-map"
    assert d.message.startswith("event 3 (t=") and d.message.endswith(
        "is off the sensor (0 <= x < 128, 0 <= y < 128, p the polarity 0 or 1); 1 more like it")
    assert "--sensor-offset X,Y and --downsample N" in d.hint


def test_placement_is_an_offset_window_then_integer_division():
    events = np.zeros(6, EVENT)
    events["x"] = [0, 10, 11, 265, 266, 400]
    events["y"] = [5, 5, 4, 260, 5, 5]
    events["t"] = np.arange(6)
    placed, off = place_on_sensor(events, SensorPlacement((10, 5), 2), 128)
    # x - 10: -10 (off); 0; 1 but y - 5 = -1 (off); 255 // 2 = 127 and 255 // 2 = 127; 256 // 2 = 128
    # (off); 390 (off)
    assert [(int(e["t"]), int(e["x"]), int(e["y"])) for e in placed] == [(1, 0, 0), (3, 127, 127)]
    assert off == 4


def test_a_davis_recording_placed_with_offset_and_downsample(tmp_path):
    """320 x 240 onto the 128 x 128 sensor: a 256 x 240 window from x = 32, halved. Events off
    the sensor are dropped and counted; the run sees the rest, as the sensor would."""
    events = sensor_events(30_000, width=320, height=240, seed=3)
    doc = dynapcnn_dsl.build(CROPPED, WEIGHTS, annotate=True)
    with pytest.raises(SimulationError):
        doc.simulate(events)                                  # off the sensor without a placement
    result = doc.simulate(events, sensor_offset=(32, 0), downsample=2)
    x, y = events["x"].astype(int) - 32, events["y"].astype(int)
    on = (x >= 0) & (x // 2 < 128) & (y // 2 < 128)
    assert result.summary.events_in == len(events)
    assert result.summary.off_sensor == int((~on).sum()) > 0
    placed = events[on]
    placed["x"], placed["y"] = x[on] // 2, y[on] // 2
    np.testing.assert_array_equal(result.cores["a"], doc.simulate(placed).cores["a"])


@pytest.mark.skipif(not (SHARED / "realnets2" / "tonic_sample.aedat4").exists(), reason="no shared data")
def test_the_real_davis_recording_from_the_command_line(capsys):
    """tonic's 320 x 240 DAVIS sample through the command line, placed on the sensor."""
    from dynapcnn_dsl.cli import main

    example = Path(__file__).resolve().parents[2] / "examples" / "dvs-resnet"
    argv = ["simulate", str(example / "network.yaml"), str(example / "weights.safetensors"), "--events",
            str(SHARED / "realnets2" / "tonic_sample.aedat4"), "--sensor-offset", "32,0", "--downsample", "2"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "111954 input events" in out and "sensor placement: 1879 events fell off the sensor" in out


@pytest.mark.parametrize("offset, downsample, message", [
    ((-1, 0), None, "the sensor offset must be two integers in 0..2147483647, not -1,0"),
    (None, 0, "the downsampling must be an integer in 1..1024, not 0"),
    ((1, 2, 3), None, "the sensor offset must be a pair (x, y), not (1, 2, 3)"),
])
def test_bad_placements_are_diagnostics(offset, downsample, message):
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.build(CROPPED, WEIGHTS).simulate(sensor_events(5), sensor_offset=offset,
                                                      downsample=downsample)
    assert [d.code for d in exc.value.diagnostics] == ["simulate-sensor-placement"]
    assert exc.value.diagnostics[0].message == message


def test_a_placement_for_a_host_input_is_refused():
    host = "dsl: 1\nchip: speck2f\ninput: {source: host, shape: [1, 4, 4], to: [a]}\ncores:\n  a:\n" \
           "    conv: {out_channels: 1, kernel: 1}\n"
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.build(host, {"a.weight": np.ones((1, 1, 1, 1), np.float32)}).simulate(
            np.zeros(1, EVENT), downsample=2)
    assert "a sensor placement is for a DVS input" in exc.value.diagnostics[0].message


@pytest.mark.parametrize("polarity, kept", [("on", 1), ("off", 0)])
def test_one_polarity_is_one_channel_on_the_chip(polarity, kept):
    """`polarity: on` (or off) gives one channel: build sets the DVS layer's merge so that the
    events it keeps arrive as feature 0 (without it an on event would be feature 1, outside
    the one-channel core); the other polarity is dropped and counted. The document decompiles
    to the same polarity."""
    from dynapcnn_dsl import importer

    text = CROPPED.replace("  shape: [2, 128, 128]\n", f"  shape: [1, 128, 128]\n  polarity: {polarity}\n")
    weights = {"a.weight": np.abs(WEIGHTS["a.weight"][:, :1])}
    doc = dynapcnn_dsl.build(text, weights, annotate=True)
    layer = doc.config["dvs_layer"]
    assert (layer["merge"], layer["on_channel"], layer["off_channel"]) == (True, kept == 1, kept == 0)
    events = sensor_events(5000)
    inside = (events["x"] >= 32) & (events["x"] < 96) & (events["y"] >= 16) & (events["y"] < 80)
    result = doc.simulate(events, record="all")
    assert result.summary.dvs_dropped == int((~inside | (events["p"] != kept)).sum())
    assert result.summary.cores[0].dropped == 0 and result.summary.cores[0].spikes > 100
    assert f'polarity: "{polarity}"' in importer.import_document(doc.data).text    # quoted: YAML 1.1 booleans


def test_a_speck_recording_on_the_eye_tracker():
    """The issue's case: a 128 x 128 recording on examples/retina-eye-tracking, whose network
    takes the 64 x 64 window at the sensor's origin: what falls outside is dropped, counted."""
    example = Path(__file__).resolve().parents[2] / "examples" / "retina-eye-tracking"
    doc = dynapcnn_dsl.build(example / "network.yaml", example / "retina.ckpt", key="state_dict")
    events = sensor_events(3000)
    result = doc.simulate(events)
    outside = (events["x"] >= 64) | (events["y"] >= 64)
    assert result.summary.events_in == 3000 and result.summary.dvs_dropped == int(outside.sum()) > 0
    assert result.summary.synaptic_updates > 0

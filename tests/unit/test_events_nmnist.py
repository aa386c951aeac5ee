"""N-MNIST / N-Caltech101 recordings (`.bin`, the ATIS sensor's 5-byte events) as simulate and
evaluate read them: through tonic's reader, after the file's size is checked."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import dynapcnn_dsl
from dynapcnn_dsl.simulator import EVENT, EventsError, read_events

SHARED = Path(__file__).resolve().parents[3] / "shared"
SAMPLE = SHARED / "realnets2" / "tonic_sample_nmnist.bin"
HOST = """\
dsl: 1
chip: speck2f
input:
  source: host
  shape: [2, 34, 34]
  to: [a]
cores:
  a:
    conv: {out_channels: 2, kernel: 1}
    monitor: true
"""


def atis_bytes(events: np.ndarray) -> bytes:
    """The 5-byte ATIS encoding N-MNIST ships: x, y, then the polarity bit and a 23-bit time."""
    out = np.zeros((len(events), 5), np.uint8)
    t = events["t"].astype(np.int64)
    out[:, 0], out[:, 1] = events["x"], events["y"]
    out[:, 2] = (events["p"].astype(np.int64) << 7) | (t >> 16)
    out[:, 3], out[:, 4] = (t >> 8) & 0xFF, t & 0xFF
    return out.tobytes()


def digit_events(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    events = np.zeros(n, EVENT)
    events["t"] = np.sort(rng.integers(0, 300_000, n))
    events["x"], events["y"] = rng.integers(0, 34, n), rng.integers(0, 34, n)
    events["p"] = rng.integers(0, 2, n)
    return events


def test_a_recording_reads_as_the_events_it_encodes(tmp_path):
    events = digit_events()
    path = tmp_path / "00001.bin"
    path.write_bytes(atis_bytes(events))
    got = read_events(path)
    for name in ("t", "x", "y", "p"):
        np.testing.assert_array_equal(got[name], events[name], err_msg=name)


def test_a_file_of_broken_events_is_a_diagnostic(tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(atis_bytes(digit_events(10))[:-2])
    with pytest.raises(EventsError) as exc:
        read_events(path)
    (d,) = exc.value.diagnostics
    assert (d.code, d.file) == ("simulate-events-read", str(path))
    assert d.message.startswith("48 bytes are not a whole number of 5-byte events")


def test_sizes_are_checked_before_anything_is_read(tmp_path):
    path = tmp_path / "huge.bin"
    with path.open("wb") as fh:          # a sparse file: 20,000,001 events declared, nothing written
        fh.truncate(5 * 20_000_001)
    with pytest.raises(EventsError) as exc:
        read_events(path)
    assert exc.value.diagnostics[0].code == "simulate-events-size"
    markers = tmp_path / "markers.bin"   # every event a time-overflow marker (y = 240)
    markers.write_bytes(bytes([0, 240, 0, 0, 0]) * 50_000)
    with pytest.raises(EventsError) as exc:
        read_events(markers)
    assert exc.value.diagnostics[0].code == "simulate-events-size"
    assert "50,000 time-overflow markers" in exc.value.diagnostics[0].message


def test_an_nmnist_folder_is_a_dataset_for_evaluate(tmp_path):
    """N-MNIST unpacks as Test/<digit>/<id>.bin: evaluate takes that folder as it is."""
    network = tmp_path / "net.yaml"
    network.write_text(HOST, encoding="utf-8")
    weights = {"a.weight": np.zeros((2, 2, 1, 1), np.float32)}
    weights["a.weight"][1] = 1.0                 # feature 1 fires on any event: class 1 always
    np.savez(tmp_path / "w.npz", **weights)
    for digit in ("0", "1"):
        os.makedirs(tmp_path / "Test" / digit)
        for i in range(2):
            (tmp_path / "Test" / digit / f"{i:05}.bin").write_bytes(atis_bytes(digit_events(seed=i)))
    result = dynapcnn_dsl.evaluate(network, tmp_path / "Test", weights=tmp_path / "w.npz")
    assert [r.label for r in result.rows] == ["0", "0", "1", "1"] and not result.failed
    assert result.confusion.tolist() == [[0, 2, 0], [0, 2, 0]] and result.accuracy == 0.5


@pytest.mark.skipif(not SAMPLE.exists(), reason="no shared data")
def test_tonics_nmnist_sample_from_the_command_line(tmp_path, capsys):
    from dynapcnn_dsl.cli import main

    network = tmp_path / "net.yaml"
    network.write_text(HOST, encoding="utf-8")
    np.savez(tmp_path / "w.npz", **{"a.weight": np.full((2, 2, 1, 1), 0.5, np.float32)})
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(network), str(tmp_path / "w.npz"), "--events", str(SAMPLE)])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "4325 input events" in out


def test_a_broken_recording_from_the_command_line_is_exit_1_with_the_diagnostic(tmp_path, capsys):
    from dynapcnn_dsl.cli import main

    network = tmp_path / "net.yaml"
    network.write_text(HOST, encoding="utf-8")
    np.savez(tmp_path / "w.npz", **{"a.weight": np.full((2, 2, 1, 1), 0.5, np.float32)})
    cut = tmp_path / "cut.bin"
    cut.write_bytes(atis_bytes(digit_events(10))[:-2])
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(network), str(tmp_path / "w.npz"), "--events", str(cut)])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "Traceback" not in err
    assert err.startswith(f"{cut}: error[simulate-events-read]: 48 bytes are not a whole number of 5-byte")

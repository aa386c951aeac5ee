"""Hostile events files and options for `simulate` (issue 19): every size a file declares is
bounded before anything is allocated or decompressed, damaged files are diagnostics, values are
refused rather than wrapped, and options that would switch a guard off or overflow the tick
arithmetic are refused. Each case is a few bytes that used to cost gigabytes, hours, a
segmentation fault or a wrong answer."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from simulate_docs import core, document, readout

import dynapcnn_dsl
from dynapcnn_dsl.chips import host_limits
from dynapcnn_dsl.simulator import EventsError, SimulationError, from_columns, from_dense, read_events
from dynapcnn_dsl.simulator.run import option_problems, tick_count

LIMITS = host_limits()
ROW = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])


def npy_header(shape: tuple[int, ...], dtype) -> bytes:
    """The bytes of an .npy header declaring `shape` of `dtype` (no data)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})
    return buf.getvalue()


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def refusal(call, code: str) -> str:
    with pytest.raises(EventsError) as exc:
        call()
    (d,) = exc.value.diagnostics
    assert d.code == code, d
    return d.message


def events(n: int = 3) -> np.ndarray:
    arr = np.zeros(n, ROW)
    arr["t"] = np.arange(n)
    return arr


# -- declared sizes, before allocation -------------------------------------------------------------

def test_an_npy_header_declaring_300_million_events_is_refused_from_its_192_bytes(tmp_path):
    path = tmp_path / "ev.npy"
    path.write_bytes(npy_header((300_000_000,), ROW))
    assert path.stat().st_size == 192
    message = refusal(lambda: read_events(path), "simulate-events-size")
    assert message == (f"the file declares 300,000,000 events; a simulation takes at most "
                       f"{LIMITS.events:,}: nothing was loaded")


def test_the_event_limit_just_under_and_just_over(tmp_path):
    """The limit is inclusive: the header's count is what is compared (a just-under file with
    no data is then refused as truncated, not as too large)."""
    under, over = tmp_path / "under.npy", tmp_path / "over.npy"
    under.write_bytes(npy_header((LIMITS.events,), ROW))
    over.write_bytes(npy_header((LIMITS.events + 1,), ROW))
    assert "truncated" in refusal(lambda: read_events(under), "simulate-events-read")
    assert f"{LIMITS.events + 1:,} events" in refusal(lambda: read_events(over), "simulate-events-size")


def test_npz_members_declaring_hundreds_of_millions_of_events_are_refused_before_inflating(tmp_path):
    path = tmp_path / "ev.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("t", "x", "y", "p"):
            zf.writestr(f"{name}.npy", npy_header((400_000_000,), "<i8") + b"\0" * 64)
    message = refusal(lambda: read_events(path), "simulate-events-size")
    assert message.startswith("array 't.npy' declares 400,000,000 events")


def test_a_dense_tensor_is_bounded_by_its_header_too(tmp_path):
    path = tmp_path / "dense.npy"
    path.write_bytes(npy_header((100_000, 2, 128, 128), "u1"))
    message = refusal(lambda: read_events(path, bin_us=1000), "simulate-events-size")
    assert message.startswith(f"the file declares 3,276,800,000 entries; a simulation takes at most "
                              f"{LIMITS.dense_entries:,}")


@pytest.mark.parametrize("counts", [[2**62, 2**62], [2**63 - 1, 1]])
def test_dense_counts_near_2_to_the_62_are_refused_not_summed_into_a_crash(counts):
    """They overflowed the sum to a small number and np.repeat then crashed the process."""
    arr = np.array(counts, np.int64).reshape(1, 1, 1, 2)
    assert "one bin of the dense tensor counts" in refusal(lambda: from_dense(arr, 1, "d"),
                                                            "simulate-events-size")


def test_uint64_dense_counts_are_refused():
    arr = np.array([2**64 - 1], np.uint64).reshape(1, 1, 1, 1)
    assert "18,446,744,073,709,551,615" in refusal(lambda: from_dense(arr, 1, "d"), "simulate-events-size")


def test_dense_counts_just_under_and_over_the_total():
    arr = np.zeros((2, 1, 1, 1), np.int64)
    arr[0], arr[1] = 1, LIMITS.events
    assert "the dense tensor counts 20,000,001 events" in refusal(lambda: from_dense(arr, 1, "d"),
                                                                  "simulate-events-size")
    small = np.array([3, 0, 2], np.uint8).reshape(3, 1, 1, 1)
    out = from_dense(small, 10, "d")
    assert out["t"].tolist() == [0, 0, 0, 20, 20]


@pytest.mark.parametrize("width", [0, -1, 10**20, 10**12 + 1, 2.5, True, "10"])
def test_bin_widths_out_of_bounds_are_refused(width):
    arr = np.ones((1, 1, 1, 1), np.int64)
    assert "the bin width must be a whole number of µs" in refusal(lambda: from_dense(arr, width, "d"),
                                                                    "simulate-events-time")


def test_bins_whose_times_leave_int64_are_refused():
    arr = np.zeros((10_000_000, 1, 1, 1), np.uint8)
    arr[-1] = 1
    assert "end beyond 2**62 µs" in refusal(lambda: from_dense(arr, 10**12, "d"), "simulate-events-time")


# -- damaged files ---------------------------------------------------------------------------------

def zipped(path: Path, members: dict[str, bytes], method=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_an_object_array_in_an_npz_is_refused(tmp_path):
    obj = np.array([{"a": 1}, None], dtype=object)
    path = zipped(tmp_path / "ev.npz", {"t.npy": npy_bytes(obj)})
    assert refusal(lambda: read_events(path), "simulate-events-read") == \
        "array 't.npy' holds Python objects (a pickle), which are refused"


def test_a_truncated_member_is_refused_before_reading(tmp_path):
    data = npy_bytes(events(100))
    path = zipped(tmp_path / "ev.npz", {"ev.npy": data[: len(data) // 2]}, zipfile.ZIP_DEFLATED)
    message = refusal(lambda: read_events(path), "simulate-events-read")
    assert "declares [100] " in message and "it is truncated or damaged" in message


def test_a_member_with_a_bad_crc_is_refused(tmp_path):
    path = zipped(tmp_path / "ev.npz", {"ev.npy": npy_bytes(events(100))})
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"\x00\x00\x00\x00\x00\x00\x00\x00", 200) + 3] ^= 0xFF    # a byte of the data
    path.write_bytes(bytes(raw))
    assert "Bad CRC-32" in refusal(lambda: read_events(path), "simulate-events-read")


def test_a_member_that_is_not_an_npy_is_refused(tmp_path):
    path = zipped(tmp_path / "ev.npz", {"ev.npy": b"this is not numpy" * 10})
    assert refusal(lambda: read_events(path), "simulate-events-read").startswith(
        "array 'ev.npy' is not a numpy array")


def test_a_truncated_npz_archive_is_refused(tmp_path):
    path = zipped(tmp_path / "ev.npz", {"ev.npy": npy_bytes(events(100))}, zipfile.ZIP_DEFLATED)
    path.write_bytes(path.read_bytes()[:300])
    refusal(lambda: read_events(path), "simulate-events-read")


# -- values refused, never wrapped -------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [("x", 2**32 + 3), ("y", -(2**31) - 1), ("p", 2**40),
                                              ("t", 2**62 + 1)])
def test_values_beyond_the_event_fields_are_refused_not_wrapped(field, value):
    columns = {name: np.zeros(2, np.int64) for name in "txyp"}
    columns[field][1] = value
    message = refusal(lambda: from_columns(columns, "e"), "simulate-events-fields")
    assert message.startswith(f"field {field} of event 1 is {value}, beyond")


def test_int64_coordinates_within_int32_are_read():
    columns = {name: np.array([0, 3], np.int64) for name in "txyp"}
    assert from_columns(columns, "e")["x"].tolist() == [0, 3]


# -- options and ticks -------------------------------------------------------------------------------

ONE = [[[[10]]]]


def one_core(**extra):
    return document({0: core(1, 1, 1, 1, 1, weights=ONE)}, shape=(1, 1, 1), **extra)


def at(times):
    n = len(times)
    return {"t": np.asarray(times, np.int64), "x": np.zeros(n, int), "y": np.zeros(n, int),
            "p": np.zeros(n, int)}


def simulate_error(doc, times, **options) -> list[tuple[str, str]]:
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.simulate(doc, at(times), **options)
    return [(d.code, d.message) for d in exc.value.diagnostics if d.is_error]


@pytest.mark.parametrize("rate", [math.inf, math.nan, -5.0, 0.0, 1e-300, 1e10])
def test_rates_must_be_finite_and_within_bounds(rate):
    ((code, message),) = simulate_error(one_core(), [0], slow_clock_hz=rate)
    assert code == "simulate-slow-clock" and "a finite number of Hz from 0.001 to 1e+09" in message


def test_a_fast_clock_at_t0_is_bounded_by_its_ticks():
    """1e9 Hz is allowed, but from t = 0 to t = 0 it is already 1,001 ticks; up to 20 s it
    would be 2e10: refused before the run, whatever the first event's time."""
    assert tick_count(0, 1e9) == pytest.approx(1001)
    ((code, message),) = simulate_error(one_core(), [0, 20_000_000], slow_clock_hz=1e9)
    assert code == "simulate-slow-clock"
    assert message == "0 to 20,000,000 µs at 1e+09 Hz is more than 10,000,000 slow-clock ticks"


def test_ticks_just_under_and_over_the_limit():
    limit = LIMITS.ticks
    rate = 1e6       # one tick per µs: ticks 0..end, end + 1 of them (bound: end + 2)
    assert tick_count(limit - 2, rate) <= limit < tick_count(limit - 1, rate)
    ((code, _),) = simulate_error(one_core(), [0], slow_clock_hz=rate, until_us=limit - 1)
    assert code == "simulate-slow-clock"


def test_times_far_apart_at_a_slow_rate_are_refused_not_overflowed():
    ((code, message),) = simulate_error(one_core(), [0, 2**62], slow_clock_hz=1e-3)
    assert code == "simulate-slow-clock" or "ticks" in message


def test_a_slow_rate_over_a_long_span_runs():
    result = dynapcnn_dsl.simulate(one_core(readout=readout()), at([0, 3_000_000_000]), slow_clock_hz=1e-3)
    assert result.summary.ticks == 4      # a tick per 1e9 µs: at 0, 1e9, 2e9 and 3e9


@pytest.mark.parametrize("budget", [-1, 0, 2**31, 1.5, "1000"])
def test_the_budget_is_a_positive_count(budget):
    ((code, message),) = simulate_error(one_core(), [0], budget=budget)
    assert code == "simulate-budget" and "the routing budget" in message


@pytest.mark.parametrize("until", [-5, 2**62 + 1, 1.5])
def test_until_is_a_time_within_bounds(until):
    ((code, _),) = simulate_error(one_core(), [0], slow_clock_hz=1000.0, until_us=until)
    assert code == "simulate-events-time"


def test_option_problems_name_the_option():
    assert [o for o, _ in option_problems(slow_clock_hz=math.inf, until_us=-1, budget=-1,
                                          bin_us=10**20)] == ["slow_clock_hz", "until_us", "budget",
                                                              "bin_us"]
    assert option_problems(slow_clock_hz=1000.0, until_us=5, budget=1, bin_us=1) == []


RECORDING_PROBE = """
import dynapcnn_dsl
from dynapcnn_dsl.simulator import SimulationError, kernel, run
from simulate_docs import core, document
kernel.MAX_RECORDED = 5          # read at run time: numba's JIT is disabled in this process
run.CHUNK = 4                    # 9 events in 3 chunks: at most 4 recorded by any one of them
doc = document({0: core(1, 1, 1, 1, 1, weights=[[[[10]]]])}, shape=(1, 1, 1))
try:
    dynapcnn_dsl.simulate(doc, {"t": list(range(9)), "x": [0] * 9, "y": [0] * 9, "p": [0] * 9})
    print("no error")
except SimulationError as exc:
    print(exc)
"""


def test_the_recording_limit_holds_over_the_whole_run_not_per_chunk():
    """Each chunk recorded 4 events, under the limit of 5: the run used to record all 9."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.pathsep.join([str(root), str(root / "tests")]))
    out = subprocess.run([sys.executable, "-c", RECORDING_PROBE], cwd=root, capture_output=True,
                         text=True, check=True, env=env).stdout
    assert "error[simulate-too-many-events]: more than 5 events recorded by t=5" in out


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--budget", "-1", "--budget: the routing budget (events per input event) must be a whole number "
                       "from 1 to 2,147,483,647, not -1"),
    ("--budget", "0", "--budget: the routing budget"),
    ("--slow-clock-hz", "inf", "--slow-clock-hz: the slow clock rate must be a finite number of Hz"),
    ("--slow-clock-hz", "1e15", "--slow-clock-hz: the slow clock rate must be a finite number of Hz"),
    ("--slow-clock-hz", "nan", "--slow-clock-hz: the slow clock rate must be a finite number of Hz"),
    ("--bin-us", str(10**20), "--bin-us: the bin width (µs) must be a whole number from 1 to "
                              "1,000,000,000,000"),
    ("--until-us", "-5", "--until-us: the end time (µs) must be a whole number from 0"),
])
def test_options_out_of_bounds_are_usage_errors(tmp_path, capsys, option, value, message):
    from dynapcnn_dsl.cli import main
    from dynapcnn_dsl.config.writer import to_json

    config = tmp_path / "c.json"
    config.write_text(to_json(one_core()), encoding="utf-8")
    np.save(tmp_path / "ev.npy", events(1))
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(config), "--events", str(tmp_path / "ev.npy"), option, value])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and "Traceback" not in err

"""Input events: read from files or taken from arrays, checked, as one structured array.

An event is (t, x, y, p) with tonic's names (also samna's simulator's): t in microseconds, x the
column, y the row, p the feature (host input) or the polarity (DVS, 0 off and 1 on).

Sources:
- `.npy` holding a structured array with fields t, x, y, p, or `.npz` holding arrays (or one
  structured array) with those names; pickled objects are refused;
- AEDAT4 recordings (`.aedat4`, from DV; a Speck recorded through DV is one too), read with the
  maintained `aedat` package: the first event stream, times made relative to its first event
  (AEDAT4 times are wall-clock microseconds, and the slow clock starts at t = 0);
- a dense [T, C, H, W] count tensor with a bin width: bin b stands for the times
  [b * bin_us, (b + 1) * bin_us), and each count n at (b, c, y, x) becomes n events
  (t = b * bin_us, x, y, p = c), in C order of the tensor: by c, then y, then x, the n copies of
  one pixel one after the other.

Problems are returned as diagnostics naming the events file (and the first offending event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapcnn_dsl.diagnostics import Diagnostic, Severity

EVENT = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
FIELDS = ("t", "x", "y", "p")
MAX_EVENTS = 500_000_000
"""The most events a simulation takes (a bound checked before anything is allocated)."""


class EventsError(Exception):
    """Events that cannot be simulated; `diagnostics` says why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def _error(file: str, code: str, message: str, hint: str | None = None) -> EventsError:
    return EventsError([Diagnostic(file, None, Severity.ERROR, code, message, hint)])


def from_columns(columns: Mapping[str, Any], file: str) -> np.ndarray:
    """Events from t, x, y, p columns (a mapping, a structured array or an npz file)."""
    names = set(columns.dtype.names or ()) if isinstance(columns, np.ndarray) else set(columns)
    missing = [f for f in FIELDS if f not in names]
    if missing:
        raise _error(file, "simulate-events-fields",
                     f"the events have no field{'s' * (len(missing) > 1)} {', '.join(missing)}"
                     f" (found: {', '.join(sorted(names)) or 'none'})",
                     "events need t (microseconds), x, y and p, as tonic writes them")
    arrays = {}
    for name in FIELDS:
        arr = np.asarray(columns[name])
        if arr.ndim != 1:
            raise _error(file, "simulate-events-fields", f"field {name} has shape {list(arr.shape)}; "
                         "expected one value per event")
        if arr.dtype.kind not in "iub":
            raise _error(file, "simulate-events-fields",
                         f"field {name} holds {arr.dtype}, not integers",
                         "convert it first, e.g. events['t'].astype('int64') for times in microseconds")
        arrays[name] = arr
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise _error(file, "simulate-events-fields", "the fields t, x, y, p have different lengths")
    out = np.empty(lengths.pop(), EVENT)
    for name, arr in arrays.items():
        if arr.size and arr.dtype.kind == "u" and arr.max() > np.iinfo(EVENT[name]).max:
            raise _error(file, "simulate-events-fields", f"field {name} holds values too large")
        out[name] = arr
    return out


def from_dense(counts: Any, bin_us: int, file: str) -> np.ndarray:
    """Events from a [T, C, H, W] count tensor (see the module's docstring for the order)."""
    arr = np.asarray(counts)
    if arr.ndim != 4 or arr.dtype.kind not in "iub":
        raise _error(file, "simulate-events-fields",
                     f"a dense input must be a [T, C, H, W] tensor of integer counts, not "
                     f"{arr.ndim}-d {arr.dtype}")
    if int(bin_us) <= 0:
        raise _error(file, "simulate-events-time", "the bin width must be a positive number of µs")
    if arr.size and arr.min() < 0:
        raise _error(file, "simulate-events-fields", "a dense input holds negative counts")
    total = int(arr.sum(dtype=np.int64))
    if total > MAX_EVENTS:
        raise _error(file, "simulate-events-size", f"{total} events is more than {MAX_EVENTS}")
    flat = arr.reshape(-1).astype(np.int64)
    where = np.repeat(np.arange(flat.size), flat)
    b, c, y, x = np.unravel_index(where, arr.shape)
    out = np.empty(total, EVENT)
    out["t"], out["x"], out["y"], out["p"] = b * int(bin_us), x, y, c
    return out


def _aedat(path: Path) -> np.ndarray:
    import aedat

    file = str(path)
    try:
        decoder = aedat.Decoder(path)
        streams = [i for i, s in sorted(decoder.id_to_stream().items()) if s.get("type") == "events"]
        if not streams:
            raise _error(file, "simulate-events-fields", "the recording has no event stream")
        packets = [p["events"] for p in decoder if p.get("stream_id") == streams[0] and "events" in p]
    except (OSError, RuntimeError, ValueError) as exc:
        raise _error(file, "simulate-events-read", f"cannot read the AEDAT4 recording: {exc}") from None
    raw = np.concatenate(packets) if packets else np.zeros(0, [("t", "<u8"), ("x", "<u2"),
                                                                ("y", "<u2"), ("on", "?")])
    t = raw["t"].astype(np.int64)
    return from_columns({"t": t - (t[0] if t.size else 0), "x": raw["x"], "y": raw["y"],
                         "p": raw["on"].astype(np.int32)}, file)


def read_events(path: str | Path, *, bin_us: int | None = None) -> np.ndarray:
    """Events from a file: .npy, .npz, .aedat4, or a dense .npy with `bin_us`."""
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if suffix in (".aedat4", ".aedat"):
        return _aedat(path)
    if suffix not in (".npy", ".npz"):
        raise _error(file, "simulate-events-read", f"unknown events format '{suffix or path.name}'",
                     "give a .npy or .npz with fields t, x, y, p, an .aedat4 recording, or a dense "
                     ".npy [T, C, H, W] with --bin-us")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise _error(file, "simulate-events-read", f"cannot read the events: {exc}",
                     "object arrays (pickles) are refused; save plain numeric arrays") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if bin_us is not None and len(loaded.files) == 1:
                return from_dense(loaded[loaded.files[0]], bin_us, file)
            if len(loaded.files) == 1 and loaded[loaded.files[0]].dtype.names:
                return from_columns(loaded[loaded.files[0]], file)
            return from_columns({k: loaded[k] for k in loaded.files if k in FIELDS}, file)
    if bin_us is not None:
        return from_dense(loaded, bin_us, file)
    if loaded.dtype.names is None:
        raise _error(file, "simulate-events-fields",
                     f"the array has no fields t, x, y, p (a {loaded.ndim}-d {loaded.dtype} array)",
                     "a structured array with fields t, x, y, p, or a dense [T, C, H, W] tensor "
                     "with --bin-us")
    return from_columns(loaded, file)


@dataclass(frozen=True)
class SensorPlacement:
    """Where a recording from another camera falls on the chip's sensor: the sensor sees the
    window that starts at `offset` (x, y) in the recording, each coordinate then divided by
    `downsample` (integer division, the camera's pixels pooled onto the sensor's)."""

    offset: tuple[int, int] = (0, 0)
    downsample: int = 1


MAX_OFFSET = 2 ** 31 - 1
MAX_DOWNSAMPLE = 1024


def placement_problems(placement: SensorPlacement, file: str) -> list[Diagnostic]:
    """An offset that is not two non-negative integers, or a downsampling that is not a
    positive integer (both bounded: coordinates are int32 after placement)."""
    out = []
    x, y = placement.offset
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) and 0 <= v <= MAX_OFFSET
               for v in (x, y)):
        out.append(Diagnostic(file, None, Severity.ERROR, "simulate-sensor-placement",
                              f"the sensor offset must be two integers in 0..{MAX_OFFSET}, not {x},{y}",
                              "--sensor-offset X,Y: the recording's pixel that lands on the sensor's (0, 0)"))
    n = placement.downsample
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_DOWNSAMPLE:
        out.append(Diagnostic(file, None, Severity.ERROR, "simulate-sensor-placement",
                              f"the downsampling must be an integer in 1..{MAX_DOWNSAMPLE}, not {n}",
                              "--downsample N divides the recording's coordinates by N"))
    return out


def place_on_sensor(events: np.ndarray, placement: SensorPlacement, sensor: int) -> tuple[np.ndarray, int]:
    """The events that land on the `sensor` x `sensor` pixels, moved there, and how many did
    not (the window's outside, negative coordinates included). Order and times are kept."""
    (ox, oy), n = placement.offset, int(placement.downsample)
    x = events["x"].astype(np.int64) - int(ox)
    y = events["y"].astype(np.int64) - int(oy)
    keep = (x >= 0) & (y >= 0) & (x // n < sensor) & (y // n < sensor)
    out = events[keep]
    out["x"], out["y"] = x[keep] // n, y[keep] // n
    return out, int(len(events) - len(out))


def check_events(events: np.ndarray, shape: tuple[int, int, int], source: str, file: str,
                 sensor: int = 128) -> list[Diagnostic]:
    """Times sorted and non-negative, every event inside the input map: one diagnostic per
    kind of problem, naming the first offending event and how many there are.

    For a DVS input the map is the whole sensor (`sensor` x `sensor`, polarity 0 or 1),
    whatever window the network uses: the DVS layer drops what falls outside its crop, as the
    chip does, and the summary counts it."""
    out: list[Diagnostic] = []
    channels, height, width = (2, sensor, sensor) if source == "dvs" else shape

    def report(code: str, bad: np.ndarray, what: str, hint: str) -> None:
        if bad.any():
            first = int(np.argmax(bad))
            e = events[first]
            n = int(bad.sum())
            out.append(Diagnostic(
                file, None, Severity.ERROR, code,
                f"event {first} (t={e['t']}, x={e['x']}, y={e['y']}, p={e['p']}) {what}"
                + (f"; {n - 1} more like it" if n > 1 else ""), hint))

    t = events["t"]
    report("simulate-events-time", t < 0, "has a negative time", "times are microseconds from 0")
    if t.size > 1:
        report("simulate-events-time", np.concatenate(([False], t[1:] < t[:-1])),
               "comes before the event ahead of it", "sort the events by t (a stable sort keeps "
               "the order of equal times)")
    outside = ((events["x"] < 0) | (events["x"] >= width) | (events["y"] < 0) | (events["y"] >= height)
               | (events["p"] < 0) | (events["p"] >= channels))
    if source == "dvs":
        report("simulate-events-map", outside,
               f"is off the sensor (0 <= x < {width}, 0 <= y < {height}, p the polarity 0 or 1)",
               "a recording from another camera: place it on the sensor with --sensor-offset X,Y "
               "and --downsample N (events off the sensor are then dropped and counted)")
    else:
        report("simulate-events-map", outside,
               f"is outside the input map (0 <= x < {width}, 0 <= y < {height}, 0 <= p < {channels},"
               " p the feature)", "the input's shape [C, H, W] in the network sets the map")
    return out

"""Input events: read from files or taken from arrays, checked, as one structured array.

An event is (t, x, y, p) with tonic's names (also samna's simulator's): t in microseconds, x the
column, y the row, p the feature (host input) or the polarity (DVS, 0 off and 1 on).

Sources:
- `.npy` holding a structured array with fields t, x, y, p, or `.npz` holding arrays (or one
  structured array) with those names; pickled objects are refused;
- AEDAT4 recordings (`.aedat4`, from DV; a Speck recorded through DV is one too), read with the
  maintained `aedat` package: the first event stream, times made relative to its first event
  (AEDAT4 times are wall-clock microseconds, and the slow clock starts at t = 0);
- N-MNIST and N-Caltech101 recordings (`.bin`, the ATIS sensor's 5-byte events as those
  datasets ship them), read with tonic's reader: x, y in the 34x34 (or larger) sensor, p the
  polarity, t in microseconds from the start of the recording;
- a dense [T, C, H, W] count tensor with a bin width: bin b stands for the times
  [b * bin_us, (b + 1) * bin_us), and each count n at (b, c, y, x) becomes n events
  (t = b * bin_us, x, y, p = c), in C order of the tensor: by c, then y, then x, the n copies of
  one pixel one after the other.

Problems are returned as diagnostics naming the events file (and the first offending event).
"""

from __future__ import annotations

import io
import math
import tokenize
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from dynapcnn_dsl.chips import host_limits
from dynapcnn_dsl.diagnostics import Diagnostic, DslError, Severity, error

EVENT = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
FIELDS = ("t", "x", "y", "p")
LIMITS = host_limits()
MAX_EVENTS = LIMITS.events
"""The most events a simulation takes: checked against what a file declares (an .npy header, a
dense tensor's counts) before anything is allocated or decompressed."""

DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, OSError, KeyError,
           TypeError, SyntaxError, tokenize.TokenError, RecursionError, OverflowError)
"""What zipfile and numpy raise on a damaged .npz member or .npy file: a bad CRC (BadZipFile), a
truncated or garbled deflate stream (zlib.error, EOFError), a header that is not numpy's
(ValueError; numpy parses the header's Python literal with tokenize and ast, hence TokenError,
SyntaxError, RecursionError for a deeply nested one, TypeError and OverflowError for a literal
of the wrong kind), an encrypted or unsupported member (RuntimeError, NotImplementedError).
Found by tests/unit/test_fuzz_events.py."""

READ_HINT = "save the events again with numpy (np.save / np.savez), plain numeric arrays"


class EventsError(DslError):
    """Events that cannot be simulated; `diagnostics` says why."""


def _too_many(file: str, what: str, count: int, limit: int = MAX_EVENTS, unit: str = "events") -> EventsError:
    return EventsError(error(
        file, "simulate-events-size",
        f"{what} {count:,} {unit}; a simulation takes at most {limit:,}: nothing was loaded",
        "split the recording into shorter runs"))


def from_columns(columns: Mapping[str, Any], file: str) -> np.ndarray:
    """Events from t, x, y, p columns (a mapping, a structured array or an npz file). Values
    that do not fit the event's fields are refused, never wrapped (x = 2**32 + 3 is not x = 3)."""
    if not isinstance(columns, Mapping | np.ndarray):
        raise EventsError(error(
            file, "simulate-events-fields",
            f"the events are a {type(columns).__name__}, not a structured array or a "
            "mapping of t, x, y, p", "pass a path, a structured array, or {'t': ..., 'x': "
            "..., 'y': ..., 'p': ...}"))
    names = set(columns.dtype.names or ()) if isinstance(columns, np.ndarray) else set(map(str, columns))
    missing = [f for f in FIELDS if f not in names]
    if missing:
        raise EventsError(error(file, "simulate-events-fields",
                                f"the events have no field{'s' * (len(missing) > 1)} {', '.join(missing)}"
                                f" (found: {', '.join(sorted(names)) or 'none'})",
                                "events need t (microseconds), x, y and p, as tonic writes them"))
    arrays = {}
    for name in FIELDS:
        try:
            arr = np.asarray(columns[name])
        except (ValueError, TypeError, OverflowError) as exc:
            raise EventsError(error(
                file, "simulate-events-fields", f"field {name} is not an array of integers: {exc}",
                "give integer arrays of one value per event")) from None
        if arr.ndim != 1:
            raise EventsError(error(
                file, "simulate-events-fields", f"field {name} has shape {list(arr.shape)}; "
                "expected one value per event"))
        if arr.dtype.kind not in "iub":
            raise EventsError(error(
                file, "simulate-events-fields",
                f"field {name} holds {arr.dtype}, not integers",
                "convert it first, e.g. events['t'].astype('int64') for times in microseconds"))
        if arr.size > MAX_EVENTS:
            raise _too_many(file, "the events hold", arr.size)
        arrays[name] = arr
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise EventsError(error(
            file, "simulate-events-fields", "the fields t, x, y, p have different lengths"))
    out = np.empty(lengths.pop(), EVENT)
    for name, arr in arrays.items():
        top = LIMITS.time_us if name == "t" else int(np.iinfo(EVENT[name]).max)
        low = 0 if name == "t" else int(np.iinfo(EVENT[name]).min)
        if arr.size and (int(arr.max()) > top or (arr.dtype.kind == "i" and name != "t"
                                                  and int(arr.min()) < low)):
            first = int(np.argmax((arr > top) | (arr < low)))
            raise EventsError(error(
                file, "simulate-events-fields",
                f"field {name} of event {first} is {int(arr[first])}, beyond "
                f"{'2**62 µs' if name == 't' else EVENT[name].name}",
                "times are microseconds from 0 and coordinates are small integers: values "
                "are refused, never wrapped"))
        out[name] = arr
    return out


def _bin_width(bin_us: Any, file: str) -> int:
    low, high = LIMITS.bin_us
    if isinstance(bin_us, bool) or not isinstance(bin_us, int | np.integer) or not low <= bin_us <= high:
        raise EventsError(error(
            file, "simulate-events-time",
            f"the bin width must be a whole number of µs from {low} to {high:,}, not {bin_us!r}",
            "give --bin-us as the time one bin of the tensor stands for, in µs"))
    return int(bin_us)


def from_dense(counts: Any, bin_us: int, file: str) -> np.ndarray:
    """Events from a [T, C, H, W] count tensor (see the module's docstring for the order). Its
    size, every count and their sum are bounded before the events are allocated (a count near
    2**62 is refused, not summed into an overflow)."""
    width = _bin_width(bin_us, file)
    try:
        arr = np.asarray(counts)
    except (ValueError, TypeError, OverflowError) as exc:
        raise EventsError(error(file, "simulate-events-fields",
                                f"a dense input must be a tensor of counts: {exc}")) from None
    if arr.ndim != 4 or arr.dtype.kind not in "iub":
        raise EventsError(error(file, "simulate-events-fields",
                                f"a dense input must be a [T, C, H, W] tensor of integer counts, not "
                                f"{arr.ndim}-d {arr.dtype}"))
    if arr.size > LIMITS.dense_entries:
        raise _too_many(file, "the dense tensor holds", arr.size, LIMITS.dense_entries, "entries")
    if arr.size and arr.min() < 0:
        raise EventsError(error(file, "simulate-events-fields", "a dense input holds negative counts"))
    biggest = int(arr.max()) if arr.size else 0
    if biggest > MAX_EVENTS:
        raise _too_many(file, "one bin of the dense tensor counts", biggest)
    total = int(arr.sum(dtype=np.int64))   # at most 2**26 entries of at most 2**25: no overflow
    if total > MAX_EVENTS:
        raise _too_many(file, "the dense tensor counts", total)
    if (arr.shape[0] - 1) * width > LIMITS.time_us:
        raise EventsError(error(
            file, "simulate-events-time",
            f"{arr.shape[0]} bins of {width:,} µs end beyond 2**62 µs", "give a smaller --bin-us"))
    nonzero = np.flatnonzero(arr)
    where = np.repeat(nonzero, arr.reshape(-1)[nonzero].astype(np.int64))
    b, c, y, x = np.unravel_index(where, arr.shape)
    out = np.empty(total, EVENT)
    out["t"], out["x"], out["y"], out["p"] = b * width, x, y, c
    return out


def _aedat(path: Path) -> np.ndarray:
    file = str(path)
    try:
        import aedat
    except ImportError:
        raise EventsError(error(
            file, "simulate-events-read",
            "reading an AEDAT4 recording needs the aedat package, which is not installed",
            "install it: pip install 'dynapcnn-dsl[events]' (or pip install aedat)")) from None
    try:
        decoder = aedat.Decoder(path)
        streams = [i for i, s in sorted(decoder.id_to_stream().items()) if s.get("type") == "events"]
        if not streams:
            raise EventsError(error(file, "simulate-events-fields", "the recording has no event stream"))
        packets, count = [], 0
        for packet in decoder:
            if packet.get("stream_id") == streams[0] and "events" in packet:
                packets.append(packet["events"])
                count += len(packet["events"])
                if count > MAX_EVENTS:
                    raise _too_many(file, "the recording holds more than", MAX_EVENTS)
    except (OSError, RuntimeError, ValueError) as exc:
        raise EventsError(error(
            file, "simulate-events-read", f"cannot read the AEDAT4 recording: {exc}")) from None
    raw = np.concatenate(packets) if packets else np.zeros(0, [("t", "<u8"), ("x", "<u2"),
                                                                ("y", "<u2"), ("on", "?")])
    t = raw["t"].astype(np.int64)
    return from_columns({"t": t - (t[0] if t.size else 0), "x": raw["x"], "y": raw["y"],
                         "p": raw["on"].astype(np.int32)}, file)


ATIS_EVENT_BYTES = 5
"""An N-MNIST / N-Caltech101 event: x, y, then polarity and a 23-bit time in three bytes."""
ATIS_OVERFLOW_WORK = 2**31
"""tonic's reader adds the time increment of each overflow marker to every later event: markers
times events is bounded, so a hostile file of markers is refused instead of running for hours."""


def _atis_bin(path: Path) -> np.ndarray:
    """An N-MNIST / N-Caltech101 recording, read with tonic once its size is checked: a whole
    number of 5-byte events, no more than the simulator takes."""
    file = str(path)
    try:
        size = path.stat().st_size
        if size % ATIS_EVENT_BYTES:
            raise EventsError(error(
                file, "simulate-events-read", f"{size:,} bytes are not a whole number of 5-byte events: "
                "this is not an N-MNIST or N-Caltech101 recording (.bin)", READ_HINT))
        count = size // ATIS_EVENT_BYTES
        if count > MAX_EVENTS:
            raise _too_many(file, "the recording holds", count)
        with path.open("rb") as fh:
            data = fh.read(size)
    except OSError as exc:
        raise EventsError(error(file, "simulate-events-read",
                                f"cannot read the events: {exc.strerror or exc}")) from None
    if len(data) != size:   # the file changed while it was read
        raise EventsError(error(file, "simulate-events-read",
                                f"the file held {size:,} bytes, then {len(data):,}: it changed while read"))
    overflows = int(np.count_nonzero(np.frombuffer(data, np.uint8)[1::ATIS_EVENT_BYTES] == 240))
    if overflows * count > ATIS_OVERFLOW_WORK:
        raise _too_many(file, f"the recording has {overflows:,} time-overflow markers over", count,
                        ATIS_OVERFLOW_WORK // max(overflows, 1))
    try:
        from tonic.io import read_mnist_file
    except ImportError:
        raise EventsError(error(
            file, "simulate-events-read",
            "reading an N-MNIST recording (.bin) needs the tonic package, which is not installed",
            "install it: pip install 'dynapcnn-dsl[events]' (or pip install tonic)")) from None
    fields = np.dtype([("x", np.int64), ("y", np.int64), ("t", np.int64), ("p", np.int64)])
    events = read_mnist_file(io.BytesIO(data), dtype=fields, is_stream=True)   # the bytes read above
    return from_columns({name: events[name] for name in FIELDS}, file)


def _declared(stream: IO[bytes], size: int, file: str, what: str, dense: bool) -> None:
    """Check what an .npy stream of `size` bytes declares (its header only): numbers, not
    objects; no more events (or dense entries) than the limits; the bytes it announces."""
    try:
        version = np.lib.format.read_magic(stream)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, _fortran, dtype = reader(stream)
        header = stream.tell()
    except DAMAGED as exc:
        raise EventsError(error(
            file, "simulate-events-read", f"{what} is not a numpy array: {exc}", READ_HINT)) from None
    if dtype.hasobject:
        raise EventsError(error(
            file, "simulate-events-read", f"{what} holds Python objects (a pickle), which "
            "are refused", "save plain numeric arrays (no object arrays)"))
    entries = math.prod(shape)
    if dense:
        if entries > LIMITS.dense_entries:
            raise _too_many(file, f"{what} declares", entries, LIMITS.dense_entries, "entries")
    elif entries > MAX_EVENTS:
        raise _too_many(file, f"{what} declares", entries)
    if header + entries * dtype.itemsize != size:
        raise EventsError(error(
            file, "simulate-events-read",
            f"{what} declares {list(shape)} {dtype} ({entries * dtype.itemsize:,} bytes) but "
            f"holds {size - header:,} bytes: it is truncated or damaged", READ_HINT))


def _read_npy(path: Path, file: str, dense: bool) -> np.ndarray:
    with path.open("rb") as fh:
        _declared(fh, path.stat().st_size, file, "the file", dense)
        fh.seek(0)
        try:
            return np.lib.format.read_array(fh, allow_pickle=False)
        except DAMAGED as exc:
            raise EventsError(error(
                file, "simulate-events-read", f"cannot read the events: {exc}", READ_HINT)) from None


def _read_npz(path: Path, file: str, dense: bool) -> dict[str, np.ndarray]:
    """The arrays of an .npz: every member's header checked first (the sum of the declared
    events too), then each member read, its CRC checked by zipfile."""
    wanted: dict[str, np.ndarray] = {}
    try:
        with path.open("rb") as fh, zipfile.ZipFile(fh) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if not members:
                raise EventsError(error(file, "simulate-events-fields", "the .npz file holds no arrays"))
            use = members if len(members) == 1 else [i for i in members if i.filename[:-4] in FIELDS]
            for info in use:
                with zf.open(info) as stream:
                    _declared(stream, info.file_size, file, f"array '{info.filename}'", dense)
            for info in use:
                with zf.open(info) as stream:
                    wanted[info.filename.removesuffix(".npy")] = np.lib.format.read_array(
                        stream, allow_pickle=False)
    except EventsError:
        raise
    except DAMAGED as exc:
        raise EventsError(error(
            file, "simulate-events-read", f"the .npz file is damaged: {exc}", READ_HINT)) from None
    return wanted


def read_events(path: str | Path, *, bin_us: int | None = None) -> np.ndarray:
    """Events from a file: .npy, .npz, .aedat4, N-MNIST .bin, or a dense .npy with `bin_us`."""
    from dynapcnn_dsl.filekinds import AEDAT, ATIS, NUMPY, kinds, suffix

    path = Path(path)
    file = str(path)
    if AEDAT in kinds(path):
        return _aedat(path)
    if ATIS in kinds(path):
        return _atis_bin(path)
    if NUMPY not in kinds(path):
        raise EventsError(error(
            file, "simulate-events-read", f"unknown events format '{suffix(path) or path.name}'",
            "give a .npy or .npz with fields t, x, y, p, an .aedat4 or N-MNIST .bin recording, or a "
            "dense .npy [T, C, H, W] with --bin-us"))
    dense = bin_us is not None
    if dense:
        _bin_width(bin_us, file)
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise EventsError(error(
            file, "simulate-events-read", f"cannot read the events: {exc.strerror or exc}")) from None
    if is_zip:
        arrays = _read_npz(path, file, dense)
        if len(arrays) == 1:
            (only,) = arrays.values()
            if dense:
                return from_dense(only, bin_us, file)
            if only.dtype.names:
                return from_columns(only, file)
        return from_columns(arrays, file)
    try:
        loaded = _read_npy(path, file, dense)
    except OSError as exc:
        raise EventsError(error(
            file, "simulate-events-read", f"cannot read the events: {exc.strerror or exc}")) from None
    if dense:
        return from_dense(loaded, bin_us, file)
    if loaded.dtype.names is None:
        raise EventsError(error(
            file, "simulate-events-fields",
            f"the array has no fields t, x, y, p (a {loaded.ndim}-d {loaded.dtype} array)",
            "a structured array with fields t, x, y, p, or a dense [T, C, H, W] tensor "
            "with --bin-us"))
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

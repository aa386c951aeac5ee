"""Run a configuration document over events: the phase's entry point.

Takes the configuration (the dict tree `build` writes, or its typed values) and the events (a
structured array, see events.py), and returns a `SimulationResult`: plain arrays, immutable
mappings. Everything that can be wrong with the inputs comes back as diagnostics in a
`SimulationError`.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from dynapcnn_dsl.chips import host_limits
from dynapcnn_dsl.chips.facts import LIMITS as CHIP_LIMITS
from dynapcnn_dsl.config import Configuration
from dynapcnn_dsl.diagnostics import Diagnostic, DslError, Severity, has_errors
from dynapcnn_dsl.simulator.events import (
    EVENT,
    SensorPlacement,
    check_events,
    place_on_sensor,
    placement_problems,
)
from dynapcnn_dsl.simulator.machine import Machine, read_machine
from dynapcnn_dsl.simulator.prediction import readout_winner

SPIKE = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
"""A recorded event: p is the feature (the polarity for the DVS layer's own output)."""
BUDGET = 1_000_000
"""Routed events allowed per input event (or slow-clock tick) in a network with a loop."""
LIMITS = host_limits()
MAX_TICKS = LIMITS.ticks
CHUNK = 65_536
"""Input events per call of the kernel at most (a progress bar moves by as much)."""
WORK = 2_000_000
"""Neuron updates per call of the kernel, about: a fraction of a second, so that SIGINT and
SIGTERM stop a long run at once (Python handles a signal only between two calls)."""


class SimulationError(DslError):
    """The document or the events cannot be simulated; `diagnostics` holds every reason."""


@dataclass(frozen=True)
class CoreSummary:
    name: str
    index: int
    spikes: int
    dropped: int  # events that reached the core outside its input map or features
    decimated: int  # spikes the decimator did not pass on


@dataclass(frozen=True)
class Summary:
    events_in: int
    dvs_dropped: int  # by the DVS layer's polarity filter or crop
    synaptic_updates: int  # neuron updates by input events (not by leak)
    cores: tuple[CoreSummary, ...]
    ticks: int
    winner: int | None  # the readout's class over the run (prediction.py), None if nothing reached it
    off_sensor: int = 0  # events a sensor placement left off the sensor (dropped before the DVS layer)


@dataclass(frozen=True)
class SimulationResult:
    """What a run produced. `cores` maps each recorded core's name to its events (emission
    order); `readout` has one row per slow-clock tick (or one row of totals without a clock)."""

    cores: Mapping[str, np.ndarray]
    dvs: np.ndarray | None
    readout: np.ndarray | None
    states: Mapping[str, np.ndarray] | None
    summary: Summary
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the .npz: a key per recorded core, `dvs`, `readout`, `state.<core>`."""
        out = dict(self.cores)
        if self.dvs is not None:
            out["dvs"] = self.dvs
        if self.readout is not None:
            out["readout"] = self.readout
        for name, state in (self.states or {}).items():
            out[f"state.{name}"] = state
        return out

    def write(self, path: str | Path) -> None:
        """Write the arrays as an .npz, atomically."""
        from dynapcnn_dsl.atomic import write_atomic

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, arr in self.arrays().items():
                with zf.open(f"{name}.npy", "w") as fh:
                    np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
        write_atomic(path, buf.getvalue())


def _readout_rows(
    machine: Machine, ticks: np.ndarray, totals: np.ndarray, last_t: int, clocked: bool
) -> np.ndarray | None:
    """Per tick: the moving average over the low-pass window (rounded down), the winner (lowest
    class on ties) and the classes strictly above the threshold; without a clock, the totals."""
    r = machine.readout
    if r is None:
        return None
    n = r.classes
    if not clocked:
        rows = np.zeros(1, [("t", "<i8"), ("count", "<i8", (n,)), ("winner", "<i2")])
        rows["t"], rows["count"] = last_t, totals[:n]
        rows["winner"] = int(np.argmax(totals[:n])) + 1 if n else 0
        return rows
    counts = ticks[:, 1 : 1 + n]
    padded = np.concatenate([np.zeros((r.window - 1, n), np.int64), counts])
    sums = np.cumsum(padded, axis=0)
    sums = np.concatenate([np.zeros((1, n), np.int64), sums])
    window = sums[r.window :] - sums[: -r.window]
    average = window // r.window
    rows = np.zeros(len(ticks), [("t", "<i8"), ("average", "<i4", (n,)), ("winner", "<i2"),
                                 ("above", "?", (n,)), ("count", "<i8", (n,))])
    rows["t"], rows["average"], rows["count"] = ticks[:, 0], average, counts
    rows["winner"] = (np.argmax(average, axis=1) + 1) if n else 0
    rows["above"] = average > r.threshold
    return rows


def _clashes(keys: list[str]) -> list[str]:
    """The .npz keys that would be written twice (a core named `dvs`, `readout` or `state.x`
    beside the arrays of those names): refused before the run rather than one array lost."""
    seen: set[str] = set()
    return sorted({k for k in keys if k in seen or seen.add(k)})


def placed(events: np.ndarray, placement: SensorPlacement | None, source: str,
           file: str) -> tuple[np.ndarray, int]:
    """The events a placement puts on the DVS sensor and how many fell off it (all of them,
    none off, without a placement); SimulationError for a bad placement, or one asked for a
    host input."""
    if placement is None:
        return events, 0
    problems = placement_problems(placement, file)
    if source != "dvs":
        problems.append(Diagnostic(file, None, Severity.ERROR, "simulate-sensor-placement",
                                   "a sensor placement is for a DVS input; this network's input "
                                   "comes from the host", "drop --sensor-offset and --downsample"))
    if problems:
        raise SimulationError(problems)
    return place_on_sensor(events, placement, CHIP_LIMITS["dvs_sensor_size"])


def _loop_error(machine: Machine, file: str, t: int, budget: int) -> Diagnostic:
    loops = machine.loops()
    names = "; ".join(" -> ".join(machine.name(i) for i in (*loop, loop[0])) for loop in loops)
    return Diagnostic(
        file,
        None,
        Severity.ERROR,
        "simulate-runaway",
        f"the loop {names} routed more than {budget} events for the input event at t={t}: it does not settle",
        "lower the loop's weights or raise its "
        "threshold so that activity dies out; --budget raises the limit",
    )


def option_problems(*, slow_clock_hz: Any = None, until_us: Any = None, budget: Any = BUDGET,
                    bin_us: Any = None) -> list[tuple[str, str]]:
    """(option, why) for every option value out of its bounds (facts.HOST): the CLI reports them
    as usage errors, the API as diagnostics. A rate is finite and positive, with a tick period
    that int64 microseconds hold; `budget` a positive count (never a way to switch the
    runaway-loop guard off); times and bin widths whole microseconds within their bounds."""
    out = []

    def whole(name: str, value: Any, low: int, high: int, what: str) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
            out.append((name, f"{what} must be a whole number from {low:,} to {high:,}, not {value!r}"))

    if slow_clock_hz is not None:
        low, high = LIMITS.slow_clock_hz
        ok = isinstance(slow_clock_hz, int | float | np.number) and not isinstance(slow_clock_hz, bool)
        if not ok or not math.isfinite(slow_clock_hz) or not low <= slow_clock_hz <= high:
            out.append(("slow_clock_hz", f"the slow clock rate must be a finite number of Hz from {low:g} "
                                         f"to {high:g}, not {slow_clock_hz!r}"))
    whole("until_us", until_us, 0, LIMITS.time_us, "the end time (µs)")
    whole("budget", budget, *LIMITS.budget, "the routing budget (events per input event)")
    whole("bin_us", bin_us, *LIMITS.bin_us, "the bin width (µs)")
    return out


def tick_count(end_us: int, slow_clock_hz: float) -> float:
    """An upper bound of the slow-clock ticks due from t = 0 to `end_us` inclusive (tick k is at
    floor(k * 1e6 / rate) µs, so there are at most (end + 1) * rate / 1e6 + 1), in floats: no
    overflow whatever the time and the rate."""
    return (float(end_us) + 1.0) * float(slow_clock_hz) / 1e6 + 1.0


def simulate_document(
    document: Mapping[str, Any] | Configuration,
    events: np.ndarray,
    *,
    file: str = "<document>",
    events_file: str = "<events>",
    record: str = "monitored",
    slow_clock_hz: float | None = None,
    until_us: int | None = None,
    states: bool = False,
    budget: int = BUDGET,
    progress: Callable[[int, int], None] | None = None,
    placement: SensorPlacement | None = None,
) -> SimulationResult:
    """Run `document` (its tree, checked here; or its typed values as the reader made them)
    over `events` (EVENT dtype). `record` is "monitored" (the cores and the DVS layer with
    monitor_enable) or "all". `placement` puts a recording from another camera on the DVS
    sensor (events off the sensor dropped and counted). Raises SimulationError."""
    machine, diagnostics = read_machine(document, file)
    if machine is None:
        raise SimulationError(diagnostics)
    if events.dtype != EVENT:
        from dynapcnn_dsl.simulator.events import from_columns

        events = from_columns(events, events_file)
    events, off_sensor = placed(events, placement, machine.source, events_file)
    diagnostics += check_events(events, machine.input_shape, machine.source, events_file,
                                CHIP_LIMITS["dvs_sensor_size"])
    leaky = [c.name for c in machine.used if c.leak]
    wrong = option_problems(slow_clock_hz=slow_clock_hz, until_us=until_us, budget=budget)
    for option, why in wrong:
        code = {"slow_clock_hz": "simulate-slow-clock", "budget": "simulate-budget"}.get(option,
                                                                                        "simulate-events-time")
        diagnostics.append(Diagnostic(file, None, Severity.ERROR, code, why))
    if wrong:
        raise SimulationError(diagnostics)
    end = int(until_us) if until_us is not None else (int(events["t"][-1]) if len(events) else 0)
    if slow_clock_hz is not None and tick_count(end, slow_clock_hz) > MAX_TICKS:
        diagnostics.append(
            Diagnostic(
                events_file,
                None,
                Severity.ERROR,
                "simulate-slow-clock",
                f"0 to {end:,} µs at {slow_clock_hz:g} Hz is more than {MAX_TICKS:,} slow-clock ticks",
                "check the rate's unit (Hz), or simulate a shorter span",
            )
        )
    if leaky and not slow_clock_hz:
        diagnostics.append(
            Diagnostic(
                file,
                None,
                Severity.WARNING,
                "simulate-leak-no-clock",
                f"leak is not simulated on {', '.join(leaky)}: no slow clock",
                "give the board's slow clock rate with --slow-clock-hz",
            )
        )
    if has_errors(diagnostics):
        raise SimulationError(diagnostics)
    if record not in ("monitored", "all"):
        raise ValueError(f"record must be 'monitored' or 'all', not {record!r}")

    from dynapcnn_dsl.simulator import kernel

    chosen = tuple(c.index for c in machine.used if record == "all" or c.monitor)
    dvs_recorded = machine.dvs is not None and (record == "all" or machine.dvs.monitor)
    clash = _clashes([machine.name(i) for i in chosen] + ["dvs"] * dvs_recorded
                     + ["readout"] * (machine.readout is not None)
                     + ([f"state.{c.name}" for c in machine.used] if states else []))
    if clash:
        raise SimulationError([Diagnostic(
            file, None, Severity.ERROR, "simulate-output-names",
            f"the results would hold two arrays named {', '.join(repr(k) for k in clash)}: 'dvs', "
            "'readout' and 'state.<core>' name the .npz's own arrays (and core names must differ)",
            "rename the core in the network file (or its annotation in the document) and build again")])
    packed = kernel.Packed(machine, chosen + ((kernel.DVS_SOURCE,) if dvs_recorded else ()))
    if machine.dvs is not None and record == "all":
        packed.dvs[kernel.DVSMON] = 1
    rate = float(slow_clock_hz or 0.0)
    allowed = budget if machine.loops() else 0
    table = (
        np.column_stack([events[f].astype(np.int64) for f in ("t", "x", "y", "p")])
        if len(events)
        else np.zeros((0, 4), np.int64)
    )
    until = end if rate > 0 and (len(table) or until_us is not None) else -1
    recorded, ticks = [], []
    held = 0      # events recorded so far: the limit holds for the whole run, not per call
    position = 0
    while position <= len(table):   # bounded calls: a signal is handled between two of them
        rec, nrec, tk, ntk, position = kernel.run(
            table,
            position,
            CHUNK,
            WORK,
            machine.source == "dvs",
            packed.geometry,
            packed.destinations,
            packed.weights,
            packed.bias,
            packed.state,
            packed.fired,
            packed.dvs,
            packed.inputs,
            packed.readout,
            packed.counters,
            packed.misc,
            packed.period,
            rate,
            until,
            allowed,
        )
        held += nrec
        if held > kernel.MAX_RECORDED and not packed.misc[kernel.FAILED]:
            at = int(rec[kernel.MAX_RECORDED - (held - nrec), 1])
            packed.misc[kernel.FAILED], packed.misc[kernel.FAILED_T] = kernel.TOO_MANY, at
        recorded.append(rec[:nrec].copy())
        ticks.append(tk[:ntk].copy())
        failed, when = int(packed.misc[kernel.FAILED]), int(packed.misc[kernel.FAILED_T])
        if failed == kernel.OVER_BUDGET:
            raise SimulationError([_loop_error(machine, events_file, when, budget)])
        if failed == kernel.TOO_MANY:
            raise SimulationError([Diagnostic(
                events_file, None, Severity.ERROR, "simulate-too-many-events",
                f"more than {kernel.MAX_RECORDED} events recorded by t={when}: the run stops there",
                "record fewer cores (without --record all, only the monitored ones), or simulate "
                "fewer events at a time")])
        if progress is not None:
            progress(min(position, len(table)), len(table))
    rec = np.concatenate(recorded)
    tick_rows = np.concatenate(ticks)
    totals = np.zeros(max(packed.readout[2], 1), np.int64)
    if not rate:
        totals = packed.period.copy()
    def of(source: int) -> np.ndarray:
        rows = rec[rec[:, 0] == source]
        arr = np.empty(len(rows), SPIKE)
        arr["t"], arr["x"], arr["y"], arr["p"] = rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
        return arr

    outputs = {machine.name(index): of(index) for index in chosen}
    dvs = of(kernel.DVS_SOURCE) if dvs_recorded else None
    last_t = int(events["t"][-1]) if len(events) else 0
    readout = _readout_rows(machine, tick_rows, totals, last_t, rate > 0)
    final = packed.states(machine) if states else None
    summary = Summary(
        events_in=len(events) + off_sensor,
        dvs_dropped=int(packed.misc[kernel.DVS_DROPPED]),
        synaptic_updates=int(packed.misc[kernel.UPDATES]),
        cores=tuple(
            CoreSummary(c.name, c.index, *(int(v) for v in packed.counters[c.index, :3]))
            for c in machine.used
        ),
        ticks=len(tick_rows),
        winner=readout_winner(readout) if readout is not None else None,
        off_sensor=off_sensor,
    )
    return SimulationResult(
        MappingProxyType(outputs),
        dvs,
        readout,
        MappingProxyType({machine.name(i): s for i, s in final.items()}) if final is not None else None,
        summary,
        tuple(d for d in diagnostics if not d.is_error),
    )

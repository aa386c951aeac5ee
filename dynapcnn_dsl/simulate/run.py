"""Run a configuration document over events: the phase's entry point.

Takes the document (the dict tree `build` writes) and the events (a structured array, see
events.py), and returns a `SimulationResult`: plain arrays, immutable mappings. Everything that
can be wrong with the inputs comes back as diagnostics in a `SimulationError`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from dynapcnn_dsl.diagnostics import Diagnostic, Severity, has_errors
from dynapcnn_dsl.simulate.events import EVENT, check_events
from dynapcnn_dsl.simulate.machine import Machine, read_machine

SPIKE = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
"""A recorded event: p is the feature (the polarity for the DVS layer's own output)."""
BUDGET = 1_000_000
"""Routed events allowed per input event (or slow-clock tick) in a network with a loop."""
MAX_TICKS = 100_000_000
CHUNK = 65_536
"""Input events per call of the kernel at most (a progress bar moves by as much)."""
WORK = 2_000_000
"""Neuron updates per call of the kernel, about: a fraction of a second, so that SIGINT and
SIGTERM stop a long run at once (Python handles a signal only between two calls)."""


class SimulationError(Exception):
    """The document or the events cannot be simulated; `diagnostics` holds every reason."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        from dynapcnn_dsl.render import format_text

        self.diagnostics = diagnostics
        super().__init__("\n".join(format_text(d) for d in diagnostics if d.is_error))


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
    winner: int | None  # the readout's last winning class (1-based), None without readout


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
    rows = np.zeros(
        len(ticks), [("t", "<i8"), ("average", "<i4", (n,)), ("winner", "<i2"), ("above", "?", (n,))]
    )
    rows["t"], rows["average"] = ticks[:, 0], average
    rows["winner"] = (np.argmax(average, axis=1) + 1) if n else 0
    rows["above"] = average > r.threshold
    return rows


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


def simulate_document(
    document: Mapping[str, Any],
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
) -> SimulationResult:
    """Run `document` over `events` (EVENT dtype). `record` is "monitored" (the cores and the
    DVS layer with monitor_enable) or "all". Raises SimulationError."""
    machine, diagnostics = read_machine(document, file)
    if machine is None:
        raise SimulationError(diagnostics)
    if events.dtype != EVENT:
        from dynapcnn_dsl.simulate.events import from_columns

        events = from_columns(events, events_file)
    diagnostics += check_events(events, machine.input_shape, machine.source, events_file)
    leaky = [c.name for c in machine.used if c.leak]
    if slow_clock_hz is not None and not slow_clock_hz > 0:
        diagnostics.append(
            Diagnostic(
                file,
                None,
                Severity.ERROR,
                "simulate-slow-clock",
                f"the slow clock rate must be positive, not {slow_clock_hz}",
            )
        )
    end = int(until_us) if until_us is not None else (int(events["t"][-1]) if len(events) else 0)
    if slow_clock_hz and slow_clock_hz > 0 and end * slow_clock_hz / 1e6 > MAX_TICKS:
        diagnostics.append(
            Diagnostic(
                events_file,
                None,
                Severity.ERROR,
                "simulate-slow-clock",
                f"{end} µs at {slow_clock_hz} Hz is more than {MAX_TICKS} ticks",
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

    from dynapcnn_dsl.simulate import kernel

    chosen = tuple(c.index for c in machine.used if record == "all" or c.monitor)
    dvs_recorded = machine.dvs is not None and (record == "all" or machine.dvs.monitor)
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
        events_in=len(events),
        dvs_dropped=int(packed.misc[kernel.DVS_DROPPED]),
        synaptic_updates=int(packed.misc[kernel.UPDATES]),
        cores=tuple(
            CoreSummary(c.name, c.index, *(int(v) for v in packed.counters[c.index, :3]))
            for c in machine.used
        ),
        ticks=len(tick_rows),
        winner=int(readout["winner"][-1]) if readout is not None and len(readout) else None,
    )
    return SimulationResult(
        MappingProxyType(outputs),
        dvs,
        readout,
        MappingProxyType({machine.name(i): s for i, s in final.items()}) if final is not None else None,
        summary,
        tuple(d for d in diagnostics if not d.is_error),
    )

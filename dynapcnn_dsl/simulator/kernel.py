"""The per-event kernel: SIMULATION.md's semantics over flat integer arrays, compiled by numba.

Why flat arrays: numba compiles loops over numpy arrays to machine code, and a network packed as
a table of integers per core (`GEOMETRY` columns) plus one weights, one bias and one state array
(each core at its offset) is what it compiles best. `Packed` turns a `Machine` into those
arrays; `run` processes input events in bounded calls and is called again from where it stopped
(the state, counters and the slow-clock position live in the arrays it is given).

Where the time goes is the update of the neurons an event reaches, so that loop is laid out for
the machine: features innermost (state [y][x][f], weights [c][ky][kx][f]), so the neurons of one
position and the weights of one kernel tap are contiguous and the settle loop (`_settle`: add,
saturate, fire, reset, clamp) is vectorised, branch-free, in int32 lanes. Its spikes are only
marked there; the order SIMULATION.md fixes for them, (f, oy, ox) ascending, is made afterwards
by `_push`, a small step over the few marks. The neurons of one update are independent (each is
updated at most once per event), so updating them in memory order and ordering their spikes
afterwards is exactly the semantics.

Depth-first routing uses an explicit stack instead of recursion: the spikes of one update are
pushed in reverse order, so they are popped, and their consequences finished, in ascending
(f, oy, ox) order; a spike's two destination slots likewise. The stack grows once per update
(for all its spikes), the scratch buffer is sized once per machine. `_settle` and `_update` are
inlined where they are called (numba's inline="always"): with a few features per position the
calls cost more than the work (+30% updates/s on the demo network, +15% on the busy one, for a
few seconds more of compiling, once: the result is cached).

numba is imported here only, and this module only by `dynapcnn_dsl.simulator.run` when a
simulation runs. Its compiled code is cached on disk (`cache=True`): in NUMBA_CACHE_DIR, which is
set to the user's cache directory when unset, so the cache works when the package directory is
read-only (an installed package, a container).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dynapcnn_dsl.simulator.machine import READOUT_LAYER, Machine


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "dynapcnn-dsl" / "numba")


os.environ.setdefault("NUMBA_CACHE_DIR", _cache_dir())

import numba  # noqa: E402  (after NUMBA_CACHE_DIR is set: numba reads it on import)

if not numba.config.CACHE_DIR:  # numba was imported before us, without NUMBA_CACHE_DIR
    numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

# columns of the geometry table, one row per core
(USED, C, H, W, F, HO, WO, K, SX, SY, PX, PY, TH, TL, RZ, REC, DEC, WOFF, SOFF, BOFF,
 LEAK) = range(21)
GEOMETRY = 21
# the DVS layer's parameters
(ON, OFF, MERGE, POOLX, POOLY, ORX, ORY, CUTX, CUTY, MIRX, MIRY, DIAG, DVSMON, D0, D1) = range(15)
# counters per core, and the run's own
SPIKES, DROPPED, DECIMATED, DECIMATOR = range(4)
DVS_DROPPED, NEXT_TICK, FAILED, UPDATES, FAILED_T, ROUTED, LEAKED = range(7)
# stack entries: what to do, core, feature, x, y
ROUTE, DELIVER = 0, 1
DVS_SOURCE = 9
"""The source id of the DVS layer's recorded events (cores are 0..8)."""
OVER_BUDGET, TOO_MANY = 1, 2
"""Why a run stopped early (misc[FAILED]): a loop's routing budget, or the recording limit."""
MAX_RECORDED = 25_000_000
"""Recorded events one run may hold (1 GB): past it the run stops with a diagnostic."""


class Packed:
    """A machine as the kernel's arrays. Mutable on purpose: the kernel updates `state`,
    `counters`, `misc` and `period` in place from call to call.

    Layouts put the features innermost, so the loop over the neurons of one position (and the
    weights of one kernel tap) runs over contiguous memory and the compiler vectorises it:
    state [y][x][f] and weights [c][ky][kx][f] per core, each core at its offset. `fired` is
    one scratch buffer, sized once for the largest core, where a block of updates marks its
    spikes (and then sorts them) before they are pushed in SIMULATION.md's (f, oy, ox) order."""

    def __init__(self, machine: Machine, record: tuple[int, ...]) -> None:
        n = len(machine.cores)
        self.geometry = np.zeros((n, GEOMETRY), np.int64)
        self.destinations = np.zeros((n, 2, 4), np.int64)
        weights, bias, state = [], [], []
        woff = soff = boff = 0
        scratch = 1
        for core in machine.used:
            g = self.geometry[core.index]
            f, ho, wo = core.output_shape
            c, h, w = core.input_shape
            g[[USED, C, H, W, F, HO, WO, K]] = (1, c, h, w, f, ho, wo, core.kernel)
            g[[SX, SY, PX, PY]] = (*core.stride, *core.padding)
            g[[TH, TL, RZ, REC, DEC]] = (core.threshold_high, core.threshold_low, core.reset_to_zero,
                                         core.index in record, core.decimation)
            g[[WOFF, SOFF, BOFF, LEAK]] = (woff, soff, boff, core.leak)
            weights.append(core.weights.transpose(1, 3, 2, 0).ravel())   # [f][c][kx][ky] -> [c][ky][kx][f]
            state.append(core.initial.transpose(2, 1, 0).ravel())        # [f][x][y] -> [y][x][f]
            bias.append(core.bias)
            woff, soff, boff = woff + core.weights.size, soff + core.initial.size, boff + f
            scratch = max(scratch, core.initial.size if core.leak else 0, f * core.kernel * core.kernel)
            for s, d in enumerate(core.destinations):
                if d is not None:
                    self.destinations[core.index, s] = (1, d.layer, d.pool, d.feature_shift)
        self.weights = np.concatenate(weights or [np.zeros(0, np.int32)]).astype(np.int32)
        self.bias = np.concatenate(bias or [np.zeros(0, np.int32)]).astype(np.int32)
        self.state = np.concatenate(state or [np.zeros(0, np.int32)]).astype(np.int32)
        self.fired = np.zeros(2 * scratch, np.int32)   # the marks, then their sort keys
        self.dvs = np.full(15, -1, np.int64)
        if machine.dvs is not None:
            v = machine.dvs
            slots = (*v.destinations, -1, -1)[:2]
            self.dvs[:] = (v.on, v.off, v.merge, *v.pool, *v.origin, *v.cut, *v.mirror, v.diagonal,
                           v.monitor and DVS_SOURCE in record, *slots)
        self.inputs = np.asarray(machine.input_layers, np.int64)
        r = machine.readout
        self.readout = np.asarray((r is not None, r.spacing if r else 1, r.classes if r else 0), np.int64)
        self.counters = np.zeros((n, 4), np.int64)
        self.misc = np.zeros(7, np.int64)
        self.period = np.zeros(max(self.readout[2], 1), np.int64)

    def states(self, machine: Machine) -> dict[int, np.ndarray]:
        """Each core's neuron states, [f][x][y] as the document's neurons_initial_value."""
        out = {}
        for core in machine.used:
            g = self.geometry[core.index]
            f, ho, wo = core.output_shape
            flat = self.state[g[SOFF]:g[SOFF] + f * ho * wo]
            out[core.index] = flat.reshape(ho, wo, f).transpose(2, 1, 0).copy()
        return out


@numba.njit(cache=True)
def _grow(buf: Any, n: int) -> Any:
    """`buf` with a row n: itself when it has one, else a copy at least twice as long."""
    if n < buf.shape[0]:
        return buf
    rows = buf.shape[0] * 2
    while rows <= n:
        rows *= 2
    bigger = np.empty((rows, buf.shape[1]), buf.dtype)
    bigger[:buf.shape[0]] = buf
    return bigger


@numba.njit(cache=True)
def _put(buf: Any, n: int, a: int, b: int, c: int, d: int, e: int) -> Any:
    """Row n of a growable [m, 5] table (the routing stack, the recorded events)."""
    buf = _grow(buf, n)
    buf[n, 0] = a
    buf[n, 1] = b
    buf[n, 2] = c
    buf[n, 3] = d
    buf[n, 4] = e
    return buf


@numba.njit(cache=True, inline="always")
def _settle(state: Any, s0: int, add: Any, a0: int, n: int, th: int, tl: int, rz: int, fired: Any,
            f0: int) -> int:
    """The n neurons state[s0:s0 + n] (the features of one position) get add[a0:a0 + n]:
    saturate to int16, fire and reset, clamp to threshold_low (SIMULATION.md 2-4); fired[f0 + i]
    marks a spike. Returns how many fired.

    Written for the compiler's vectoriser: unsigned indices (no negative-index check per
    element, and no array view to count references to, which costs with a few features), int32
    arithmetic (eight lanes of a vector register; a sum of two int16-range values and a reset
    fit), and the reset as arithmetic instead of a branch: s - hit * (th, or s with
    return_to_zero)."""
    th32, tl32, lo, hi = np.int32(th), np.int32(tl), np.int32(-32768), np.int32(32767)
    keep = np.int32(0 if rz else 1)
    us, ua, uf = np.uint64(s0), np.uint64(a0), np.uint64(f0)
    count = 0
    for j in range(n):
        i = np.uint64(j)
        s = min(max(np.int32(state[us + i] + add[ua + i]), lo), hi)
        hit = np.int32(s >= th32)
        state[us + i] = max(np.int32(s - hit * (keep * th32 + (1 - keep) * s)), tl32)
        fired[uf + i] = hit
        count += hit
    return count


@numba.njit(cache=True)
def _push(fired: Any, count: int, nf: int, y_lo: int, y_hi: int, x_lo: int, x_hi: int, core: int,
          stack: Any, sp: int) -> int:
    """Push the `count` spikes marked in `fired` ([y][x][f] over the block y_lo..y_hi,
    x_lo..x_hi) on the stack, the last in (f, oy, ox) order first, so that they pop in that
    order. The marks are found in memory order (a sequential scan that stops at the last one),
    keyed by (f, position) and sorted: spikes are few, the block may be large. The stack has
    room (the caller grew it once for all of them). The keys use the second half of `fired`."""
    keys = fired[fired.shape[0] // 2:]
    nx = x_hi - x_lo + 1
    positions = (y_hi - y_lo + 1) * nx
    found = 0
    for j in range(positions * nf):
        if fired[j]:
            keys[found] = (j % nf) * positions + j // nf
            found += 1
            if found == count:
                break
    if found > 32:
        keys[:found] = np.sort(keys[:found])
    else:
        for i in range(1, found):                   # insertion sort: a handful of keys
            key = keys[i]
            k = i - 1
            while k >= 0 and keys[k] > key:
                keys[k + 1] = keys[k]
                k -= 1
            keys[k + 1] = key
    for i in range(found - 1, -1, -1):
        f, position = keys[i] // positions, keys[i] % positions
        stack[sp, 0] = ROUTE
        stack[sp, 1] = core
        stack[sp, 2] = f
        stack[sp, 3] = x_lo + position % nx
        stack[sp, 4] = y_lo + position // nx
        sp += 1
    return sp


@numba.njit(cache=True, inline="always")
def _update(g: Any, core: int, c: int, x: int, y: int, weights: Any, state: Any, fired: Any,
            stack: Any, sp: int, counters: Any, misc: Any) -> tuple[Any, int]:
    """One event (c, x, y) entering a core: update the neurons whose field holds it, position
    by position, all features of a position at once; then push their spikes."""
    k, sx, sy, px, py = g[K], g[SX], g[SY], g[PX], g[PY]
    ox_lo = max(-((k - 1 - x - px) // sx), 0)       # ceil((x + px - k + 1) / sx)
    ox_hi = min((x + px) // sx, g[WO] - 1)
    oy_lo = max(-((k - 1 - y - py) // sy), 0)
    oy_hi = min((y + py) // sy, g[HO] - 1)
    if ox_lo > ox_hi or oy_lo > oy_hi:
        return stack, sp
    nf, wo, th, tl, rz, soff = g[F], g[WO], g[TH], g[TL], g[RZ], g[SOFF]
    nx = ox_hi - ox_lo + 1
    count = 0
    for oy in range(oy_lo, oy_hi + 1):
        tap = (c * k + y + py - oy * sy) * k + x + px          # (c, ky) row of the kernel, + kx at ox = 0
        block = (oy - oy_lo) * nx - ox_lo
        for ox in range(ox_lo, ox_hi + 1):
            count += _settle(state, soff + (oy * wo + ox) * nf, weights, g[WOFF] + (tap - ox * sx) * nf,
                             nf, th, tl, rz, fired, (block + ox) * nf)
    misc[UPDATES] += (oy_hi - oy_lo + 1) * nx * nf
    if count:
        counters[core, SPIKES] += count
        stack = _grow(stack, sp + count)
        sp = _push(fired, count, nf, oy_lo, oy_hi, ox_lo, ox_hi, core, stack, sp)
    return stack, sp


@numba.njit(cache=True)
def _drain(t: int, geometry: Any, destinations: Any, weights: Any, state: Any, fired: Any,
           readout: Any, counters: Any, misc: Any, period: Any, stack: Any, sp: int, rec: Any,
           nrec: int, budget: int) -> tuple[Any, Any, int, bool]:
    """Finish everything on the stack, depth-first. False (misc[FAILED] saying why) when the
    routing budget or the recording limit runs out."""
    routed = 0
    while sp > 0:
        sp -= 1
        kind, core, f, x, y = stack[sp, 0], stack[sp, 1], stack[sp, 2], stack[sp, 3], stack[sp, 4]
        g = geometry[core]
        if kind == DELIVER:
            routed += 1
            if budget > 0 and routed > budget:
                misc[ROUTED] = routed
                misc[FAILED] = OVER_BUDGET
                return stack, rec, nrec, False
            if f >= g[C] or x >= g[W] or y >= g[H]:
                counters[core, DROPPED] += 1
                continue
            stack, sp = _update(g, core, f, x, y, weights, state, fired, stack, sp, counters, misc)
            continue
        if g[REC]:
            if nrec >= MAX_RECORDED:
                misc[FAILED] = TOO_MANY
                return stack, rec, nrec, False
            rec = _put(rec, nrec, core, t, x, y, f)
            nrec += 1
        if g[DEC] > 0:
            counters[core, DECIMATOR] += 1
            if counters[core, DECIMATOR] % g[DEC] != 0:
                counters[core, DECIMATED] += 1
                continue
        for slot in range(1, -1, -1):
            d = destinations[core, slot]
            if d[0] == 0:
                continue
            if d[1] == READOUT_LAYER:
                if readout[0] and f % readout[1] == 0 and f // readout[1] < readout[2]:
                    period[f // readout[1]] += 1   # class k on feature spacing*(k-1)
                continue
            stack = _put(stack, sp, DELIVER, d[1], f + d[3], x // d[2], y // d[2])
            sp += 1
    misc[ROUTED] = routed
    return stack, rec, nrec, True


@numba.njit(cache=True)
def _tick_time(k: int, rate: float) -> int:
    return int(np.floor(k * 1_000_000 / rate))


@numba.njit(cache=True)
def _tick(t: int, geometry: Any, destinations: Any, weights: Any, bias: Any, state: Any, fired: Any,
          readout: Any, counters: Any, misc: Any, period: Any, stack: Any, rec: Any, nrec: int,
          ticks: Any, nticks: int, budget: int) -> tuple[Any, Any, int, Any, int, bool]:
    """A slow-clock tick: close the readout's period, then leak every leak-enabled core."""
    ticks = _grow(ticks, nticks)
    ticks[nticks, 0] = t
    for i in range(period.shape[0]):
        ticks[nticks, 1 + i] = period[i]
        period[i] = 0
    nticks += 1
    for core in range(geometry.shape[0]):
        g = geometry[core]
        if not g[USED] or not g[LEAK]:
            continue
        nf, ho, wo = g[F], g[HO], g[WO]
        count = 0
        for pos in range(ho * wo):
            count += _settle(state, g[SOFF] + pos * nf, bias, g[BOFF], nf, g[TH], g[TL], g[RZ], fired,
                             pos * nf)
        misc[LEAKED] += ho * wo * nf
        sp = 0
        if count:
            counters[core, SPIKES] += count
            stack = _grow(stack, count)
            sp = _push(fired, count, nf, 0, ho - 1, 0, wo - 1, core, stack, 0)
        stack, rec, nrec, ok = _drain(t, geometry, destinations, weights, state, fired, readout, counters,
                                      misc, period, stack, sp, rec, nrec, budget)
        if not ok:
            return stack, rec, nrec, ticks, nticks, False
    return stack, rec, nrec, ticks, nticks, True


@numba.njit(cache=True)
def run(events: Any, start: int, chunk: int, work: int, from_dvs: bool, geometry: Any,
        destinations: Any, weights: Any, bias: Any, state: Any, fired: Any, dvs: Any, inputs: Any,
        readout: Any, counters: Any, misc: Any, period: Any, rate: float, until: int,
        budget: int) -> tuple[Any, int, Any, int, int]:
    """Process `events` ([n, 4]: t, x, y, p) from `start`, each with the slow-clock ticks due
    before it, then, when `until` >= 0, the ticks due up to `until`.

    A call is bounded: it returns after `chunk` events or about `work` neuron updates
    (including the leak's), so that the caller regains control often (a signal is handled, a
    progress bar drawn) and calls again from where it stopped. Returns the recorded events
    ([m, 5]: source, t, x, y, p), the ticks ([j, 1 + classes]: t, the readout's counts of the
    period) and the next event to process: n + 1 once everything is done. On a routing budget
    overrun or past the recording limit, misc[FAILED] says which and the run stops there."""
    stack = np.empty((1024, 5), np.int64)
    rec = np.empty((1024, 5), np.int64)
    ticks = np.empty((16, 1 + period.shape[0]), np.int64)
    nrec = 0
    nticks = 0
    n = events.shape[0]
    begin = misc[UPDATES] + misc[LEAKED]
    for e in range(start, n + 1):
        if e > start and (e - start >= chunk or misc[UPDATES] + misc[LEAKED] - begin >= work):
            return rec, nrec, ticks, nticks, e
        if e < n:
            t = events[e, 0]
        elif until >= 0:
            t = until
        else:
            break
        while rate > 0 and _tick_time(misc[NEXT_TICK], rate) <= t:
            stack, rec, nrec, ticks, nticks, ok = _tick(
                _tick_time(misc[NEXT_TICK], rate), geometry, destinations, weights, bias, state, fired,
                readout, counters, misc, period, stack, rec, nrec, ticks, nticks, budget)
            misc[NEXT_TICK] += 1
            if not ok:
                misc[FAILED_T] = _tick_time(misc[NEXT_TICK] - 1, rate)
                return rec, nrec, ticks, nticks, n + 1
            if misc[UPDATES] + misc[LEAKED] - begin >= work:
                return rec, nrec, ticks, nticks, e       # the rest of the ticks due next call
        if e == n:
            break
        x, y, p = events[e, 1], events[e, 2], events[e, 3]
        sp = 0
        if from_dvs:
            if (p != 0 and not dvs[ON]) or (p == 0 and not dvs[OFF]):
                misc[DVS_DROPPED] += 1
                continue
            feature = 0 if dvs[MERGE] else p
            x //= dvs[POOLX]
            y //= dvs[POOLY]
            if x < dvs[ORX] or x > dvs[CUTX] or y < dvs[ORY] or y > dvs[CUTY]:
                misc[DVS_DROPPED] += 1
                continue
            x -= dvs[ORX]
            y -= dvs[ORY]
            if dvs[MIRX]:
                x = dvs[CUTX] - dvs[ORX] - x
            if dvs[MIRY]:
                y = dvs[CUTY] - dvs[ORY] - y
            if dvs[DIAG]:
                x, y = y, x
            if dvs[DVSMON]:
                if nrec >= MAX_RECORDED:
                    misc[FAILED] = TOO_MANY
                    misc[FAILED_T] = t
                    return rec, nrec, ticks, nticks, n + 1
                rec = _put(rec, nrec, DVS_SOURCE, t, x, y, feature)
                nrec += 1
            for slot in range(D1, D0 - 1, -1):
                if dvs[slot] >= 0:
                    stack = _put(stack, sp, DELIVER, dvs[slot], feature, x, y)
                    sp += 1
        else:
            for j in range(inputs.shape[0] - 1, -1, -1):
                stack = _put(stack, sp, DELIVER, inputs[j], p, x, y)
                sp += 1
        stack, rec, nrec, ok = _drain(t, geometry, destinations, weights, state, fired, readout, counters,
                                      misc, period, stack, sp, rec, nrec, budget)
        if not ok:
            misc[FAILED_T] = t
            return rec, nrec, ticks, nticks, n + 1
    return rec, nrec, ticks, nticks, n + 1

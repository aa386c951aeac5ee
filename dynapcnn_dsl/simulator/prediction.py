"""A run's predicted class: one rule, used by the summary of `simulate`, by `compare` and by
`evaluate` (shared/SIMULATION.md, "A recording's class").

- With a readout and a slow clock: the class that won the most ticks, lowest class on ties. A
  tick wins for the class with the largest moving average; a tick whose averages are all 0 wins
  for no class (the chip's readout has nothing to show then). When no tick was won although
  events reached the readout (averages rounded down to 0), the class with the largest count.
- With a readout and no slow clock: the class with the largest total count, lowest on ties.
- Without a readout: the feature with the most spikes in the one monitored core (or the core
  named), lowest feature on ties.
- No event at all reached what is looked at: no prediction (None).

Classes are 1-based (the readout's), features 0-based (a core's). Pure functions over the
arrays of a `SimulationResult`: nothing is re-run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dynapcnn_dsl.simulator.run import SimulationResult


def _first_max(values: np.ndarray) -> int | None:
    """The index of the largest value (lowest index on ties), None when every value is 0."""
    return int(np.argmax(values)) if values.size and values.max() > 0 else None


def readout_totals(readout: np.ndarray) -> np.ndarray:
    """Events counted per class over the whole run (the per-tick counts summed, or the totals)."""
    return readout["count"].sum(axis=0).astype(np.int64) if len(readout) else np.zeros(0, np.int64)


def ticks_won(readout: np.ndarray) -> np.ndarray:
    """Per class, the ticks it won: ticks whose largest average is above 0 (without a slow
    clock, the one row of totals counts as one tick)."""
    field = "average" if "average" in readout.dtype.names else "count"
    values = readout[field].astype(np.int64)
    classes = values.shape[1] if values.ndim == 2 else 0
    won = np.zeros(classes, np.int64)
    if len(values) and classes:
        counted = values.max(axis=1) > 0
        np.add.at(won, np.argmax(values[counted], axis=1), 1)
    return won


def readout_winner(readout: np.ndarray) -> int | None:
    """The readout's class over the whole run (1-based), None when no event reached it."""
    if "average" not in readout.dtype.names:          # no slow clock: the largest total
        best = _first_max(readout_totals(readout))
        return None if best is None else best + 1
    best = _first_max(ticks_won(readout))
    if best is None:
        best = _first_max(readout_totals(readout))
    return None if best is None else best + 1


def feature_winner(spikes: np.ndarray, features: int | None = None) -> int | None:
    """The feature with the most spikes among a core's recorded events, None without any."""
    if not len(spikes):
        return None
    counts = np.bincount(spikes["p"].astype(np.int64), minlength=features or 0)
    return _first_max(counts)


def class_of(readout: np.ndarray | None, spikes: np.ndarray | None) -> int | None:
    """The same rule over the arrays alone (what an `evaluate` worker holds): the readout's
    winner (1-based) when `readout` is given, else the winning feature (0-based) of `spikes`."""
    if readout is not None:
        return readout_winner(readout)
    return None if spikes is None else feature_winner(spikes)


def predicted_class(result: SimulationResult, core: str | None = None) -> int | None:
    """The run's predicted class: the readout's winner (1-based) when the configuration has a
    readout and no `core` is named; otherwise the winning feature (0-based) of `core`, or of the
    one recorded core. ValueError when the core is unknown or the choice is ambiguous."""
    if core is None and result.readout is not None:
        return class_of(result.readout, None)
    if core is None:
        if len(result.cores) != 1:
            raise ValueError(f"no readout, and {len(result.cores)} recorded cores "
                             f"({', '.join(result.cores) or 'none'}): name the core whose feature is "
                             "the class")
        core = next(iter(result.cores))
    if core not in result.cores:
        raise ValueError(f"core {core!r} was not recorded (recorded: {', '.join(result.cores) or 'none'})")
    return class_of(None, result.cores[core])

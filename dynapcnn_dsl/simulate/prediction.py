"""A recording's class, as shared/SIMULATION.md ("A recording's class") fixes it.

One small pure function over a simulation's outputs, so that `evaluate` (and anything that
reads a readout) applies the same rule: with a readout, the class that won the most slow-clock
ticks (without a clock, the class with the largest total); without one, the feature with the
most spikes of the monitored core. The lowest class or feature wins ties. No spike at all is no
prediction (None): a tick where nothing reached the readout has no winner.
"""

from __future__ import annotations

import numpy as np


def predicted_class(readout: np.ndarray | None, spikes: np.ndarray | None) -> int | None:
    """The readout's class (1-based) when `readout` is given (the rows a simulation returns),
    else the feature (0-based) with the most events in `spikes` (a core's events, p the
    feature); None when nothing was counted."""
    if readout is not None:
        if "count" in (readout.dtype.names or ()):          # no slow clock: one row of totals
            totals = readout["count"][-1] if len(readout) else np.zeros(0, np.int64)
            return int(np.argmax(totals)) + 1 if totals.size and totals.max() > 0 else None
        counted = readout[readout["average"].max(axis=1, initial=0) > 0] if len(readout) else readout
        if not len(counted):
            return None
        wins = np.bincount(counted["winner"].astype(np.int64))
        return int(np.argmax(wins))                         # winners are 1-based: index = class
    if spikes is None or not len(spikes):
        return None
    return int(np.argmax(np.bincount(spikes["p"].astype(np.int64))))

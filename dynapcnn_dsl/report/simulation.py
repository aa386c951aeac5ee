"""What `simulate` prints: per core the spikes, the events dropped out of the map and the ones
decimated; what the sensor placement, the DVS layer and the slow clock did; the run's class
(the readout's, else the one recorded core's most active feature) with what it rests on; and the
arrays written."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from dynapcnn_dsl.report.terminal import console

if TYPE_CHECKING:
    import numpy as np

    from dynapcnn_dsl.simulator.run import SimulationResult


def as_text(result: SimulationResult, out: TextIO, *, output: str | None = None) -> None:
    """`output`: the .npz the recorded arrays went to, if any."""
    from rich.table import Table

    c = console(out)
    s = result.summary
    table = Table(title=f"{s.events_in} input events", title_justify="left")
    for column in ("core", "spikes", "dropped (out of map)", "decimated"):
        table.add_column(column, justify="left" if column == "core" else "right")
    for core in s.cores:
        table.add_row(core.name, str(core.spikes), str(core.dropped), str(core.decimated))
    c.print(table)
    if s.off_sensor:
        c.print(f"sensor placement: {s.off_sensor} events fell off the sensor (dropped)")
    if s.dvs_dropped:
        c.print(f"dvs layer: {s.dvs_dropped} events dropped (polarity or crop)")
    if s.ticks:
        c.print(f"slow clock: {s.ticks} ticks")
    if result.readout is not None:
        c.print(readout_line(result.readout, s.winner))
    elif len(result.cores) == 1:        # no readout: the one recorded core's feature is the class
        c.print(feature_line(*next(iter(result.cores.items()))))
    if output:
        c.print(f"wrote {output} ({', '.join(result.arrays()) or 'no arrays'})")


def readout_line(readout: np.ndarray, winner: int | None) -> str:
    """The readout's class over the run, with what it rests on; "no events reached it" only
    when no event did."""
    from dynapcnn_dsl.simulator.prediction import readout_totals, ticks_won

    totals = readout_totals(readout)
    if winner is None or not totals.any():
        return "readout: no events reached it"
    if "average" not in readout.dtype.names:
        return f"readout: class {winner} ({totals[winner - 1]} of {totals.sum()} events counted)"
    won = ticks_won(readout)
    with_counts = int((readout["count"].sum(axis=1) > 0).sum())
    basis = (f"won {won[winner - 1]} of {int(won.sum())} ticks with a winner" if won.any()
             else f"{totals[winner - 1]} of {totals.sum()} events counted, no tick's average above 0")
    return f"readout: class {winner} ({basis}; {with_counts} of {len(readout)} ticks had counts)"


def feature_line(core: str, spikes: np.ndarray) -> str:
    """The class without a readout (SIMULATION.md's rule, as `evaluate` applies it): the feature
    of the recorded core that spiked most, lowest on ties, with what it rests on."""
    import numpy as np

    from dynapcnn_dsl.simulator.prediction import feature_winner

    winner = feature_winner(spikes)
    if winner is None:
        return f"{core}: no output spike, no class"
    counts = np.bincount(spikes["p"].astype(np.int64))
    return f"{core}: class {winner} (the feature that spiked most: {counts[winner]} of {len(spikes)} spikes)"

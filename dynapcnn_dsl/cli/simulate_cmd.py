"""Run a configuration on the host, event by event, as the chip computes it (docs/simulation.md).

Takes a configuration document (the .json `build` writes) or a network file and its weights,
built on the fly. Events: .npy/.npz with t (µs), x, y, p; an .aedat4 or N-MNIST .bin recording;
or a dense [T, C, H, W] count tensor (.npy) with --bin-us. Writes, with -o, an .npz holding one array per
recorded core (keyed by its name), `dvs`, `readout` and, with --states, `state.<core>`; prints a
summary. Exit status 0 on success, 1 for invalid input (diagnostics say why), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "simulate"
HELP = "run a configuration (or a network and its weights) over events on the host"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="CONFIG | NETWORK WEIGHTS",
                   help="a configuration document (.json from build), or a network file and its weights")
    p.add_argument("--events", required=True, metavar="FILE",
                   help="input events: .npy/.npz (t, x, y, p), .aedat4, N-MNIST .bin, "
                        "or a dense .npy with --bin-us")
    p.add_argument("-o", "--output", metavar="OUT.npz", help="write the recorded events here")
    p.add_argument("--record", choices=("monitored", "all"), default="monitored",
                   help="record the monitored cores (default) or every core")
    p.add_argument("--slow-clock-hz", type=float, metavar="F",
                   help="the board's slow clock: enables leak and the readout's ticks")
    p.add_argument("--until-us", type=int, metavar="T",
                   help="simulate slow-clock ticks up to T µs (default: the last event's time)")
    p.add_argument("--bin-us", type=int, metavar="B",
                   help="the events file is a dense [T, C, H, W] count tensor with bins of B µs")
    p.add_argument("--states", action="store_true", help="also write the final neuron states")
    p.add_argument("--budget", type=int, metavar="N",
                   help="routed events allowed per input event in a network with a loop")
    p.add_argument("--key", metavar="KEY", help="the state_dict key inside a torch checkpoint")
    from dynapcnn_dsl.cli.common import add_sensor_arguments

    add_sensor_arguments(p)
    p.set_defaults(failed="nothing was simulated")


def _progress(stream):
    """A progress callback drawing a bar on a terminal; None elsewhere."""
    if not getattr(stream, "isatty", lambda: False)():
        return None, None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(transient=True, console=Console(file=stream))
    task = bar.add_task("simulating", total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


def print_summary(result, console) -> None:
    from rich.table import Table

    s = result.summary
    table = Table(title=f"{s.events_in} input events", title_justify="left")
    for column in ("core", "spikes", "dropped (out of map)", "decimated"):
        table.add_column(column, justify="left" if column == "core" else "right")
    for c in s.cores:
        table.add_row(c.name, str(c.spikes), str(c.dropped), str(c.decimated))
    console.print(table)
    if s.off_sensor:
        console.print(f"sensor placement: {s.off_sensor} events fell off the sensor (dropped)")
    if s.dvs_dropped:
        console.print(f"dvs layer: {s.dvs_dropped} events dropped (polarity or crop)")
    if s.ticks:
        console.print(f"slow clock: {s.ticks} ticks")
    if result.readout is not None:
        console.print(readout_line(result.readout, s.winner))


def readout_line(readout, winner) -> str:
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


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.api import simulate
    from dynapcnn_dsl.cli.common import (
        check_files_exist,
        check_outputs,
        console,
        print_diagnostics,
        templates_read,
    )
    from dynapcnn_dsl.config.files import is_document_file

    if len(args.inputs) > 2:
        parser.error("give a configuration document, or a network file and its weights")
    from dynapcnn_dsl.simulator.run import BUDGET, option_problems

    for option, why in option_problems(slow_clock_hz=args.slow_clock_hz, until_us=args.until_us,
                                       budget=BUDGET if args.budget is None else args.budget,
                                       bin_us=args.bin_us):
        parser.error(f"--{option.replace('_', '-')}: {why}")
    check_files_exist([*args.inputs, args.events], parser)
    if args.output:
        if args.output == "-" or Path(args.output).is_dir():
            parser.error(f"-o {args.output}: give a file name for the .npz")
        check_outputs([args.output], [*args.inputs, args.events], parser)
    config, weights = args.inputs[0], (args.inputs[1] if len(args.inputs) == 2 else None)
    if weights is None and not is_document_file(config):  # a network in JSON is a network too
        parser.error(f"{config} is a network file: give its weights too (simulate NETWORK WEIGHTS)")
    if args.output and weights is not None:
        check_outputs([args.output], templates_read(config), parser)
    bar, progress = _progress(sys.stderr)
    try:
        if bar is not None:
            bar.start()
        result = simulate(config, args.events, weights=weights, key=args.key, bin_us=args.bin_us,
                          record=args.record, slow_clock_hz=args.slow_clock_hz, until_us=args.until_us,
                          states=args.states, budget=args.budget, progress=progress,
                          sensor_offset=args.sensor_offset, downsample=args.downsample)
    finally:
        if bar is not None:
            bar.stop()
    print_diagnostics(result.diagnostics, sys.stderr)
    if args.output:
        try:
            result.write(args.output)
        except OSError as exc:
            parser.error(f"cannot write {args.output}: {exc.strerror or exc}")
    out = console()
    print_summary(result, out)
    if args.output:
        out.print(f"wrote {args.output} ({', '.join(result.arrays()) or 'no arrays'})")
    return 0

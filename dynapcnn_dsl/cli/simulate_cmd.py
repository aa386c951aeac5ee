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
    from dynapcnn_dsl.cli.common import add_configuration_inputs, add_sensor_arguments

    add_configuration_inputs(p)
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
    add_sensor_arguments(p)
    p.set_defaults(failed="nothing was simulated")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.api import simulate
    from dynapcnn_dsl.cli.common import (
        check_files_exist,
        check_outputs,
        configuration_inputs,
        print_diagnostics,
        templates_read,
    )

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
    config, weights = configuration_inputs(args, parser, "simulate")
    if args.output and weights is not None:
        check_outputs([args.output], templates_read(config), parser)
    from dynapcnn_dsl.report.progress import simulation_progress

    bar, progress = simulation_progress(sys.stderr)
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
    from dynapcnn_dsl.report import reporter

    reporter("simulate")(result, sys.stdout, output=args.output)
    return 0

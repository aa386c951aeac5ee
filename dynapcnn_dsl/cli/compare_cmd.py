"""Check that the chip computes what the model computes, on the same events.

Builds NETWORK with WEIGHTS, simulates it on the events (as `simulate` does), runs the model
(FILE.py:NAME, whose code runs; its weights loaded from WEIGHTS where the names match) on the
same events binned in time. When the model is a classifier, prints first the class each side
picks per time window and over the whole recording; then per core (matched to the model's
neuron module by its `weights:` prefix) the spike counts of both and the correlation of their
per-neuron counts, with a verdict; cores without a spiking counterpart are skipped, saying why.
Exit status 0 when chip and model agree, 1 when they differ, an input is invalid or the model
fails on the events, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys

NAME = "compare"
HELP = "compare the simulated chip with the torch model on the same events: class, then core by core"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="NETWORK", help="network file (.yaml)")
    p.add_argument("weights", metavar="WEIGHTS", help="weights: .pt/.pth, .safetensors or .npz")
    p.add_argument("--model", metavar="FILE.py:NAME", required=True,
                   help="the torch model (FILE.py is run to build it)")
    p.add_argument("--events", metavar="FILE", required=True,
                   help="events: .npy/.npz with t (us), x, y, p, or .aedat4")
    p.add_argument("--bin-us", type=int, default=1000, metavar="N",
                   help="time step of the model in microseconds (default: 1000)")
    p.add_argument("--window-us", type=int, metavar="N",
                   help="time windows in which the classes are compared (default: 100000)")
    p.add_argument("--key", metavar="KEY", help="the key of the state_dict inside a checkpoint")
    from dynapcnn_dsl.cli.common import add_sensor_arguments

    add_sensor_arguments(p)
    p.set_defaults(failures="stdout")   # a failure's diagnostics are the report


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import check_files_exist
    from dynapcnn_dsl.verify.compare import MAX_BIN_US, compare

    check_files_exist([args.file, args.weights, args.events, args.model.rpartition(":")[0]], parser)
    if not 1 <= args.bin_us <= MAX_BIN_US:
        parser.error(f"--bin-us must be in 1..{MAX_BIN_US}, not {args.bin_us}")
    if args.window_us is not None and args.window_us <= 0:
        parser.error(f"--window-us must be positive, not {args.window_us}")
    result = compare(args.file, args.weights, args.model, args.events, bin_us=args.bin_us,
                     key=args.key, window_us=args.window_us, sensor_offset=args.sensor_offset,
                     downsample=args.downsample)
    from dynapcnn_dsl.report import reporter

    reporter("compare")(result, sys.stdout)
    return 0 if result.agrees else 1

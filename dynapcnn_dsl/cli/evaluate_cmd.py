"""A configuration's accuracy over a labelled dataset, on the host (docs/evaluate.md).

Takes a configuration document (the .json `build` writes) or a network file and its weights,
and a dataset folder: one subfolder per label holding one event file per recording, or
recordings plus a labels.csv (`file,label`). Each recording is simulated alone from the initial
state; its class is the readout's winner (or the monitored core's busiest feature). Prints the
accuracy, a confusion matrix, the recordings without output, per-core spike rates and the
throughput; with -o, one CSV row per recording, written as recordings finish (--resume carries
on an interrupted run). Exit status 0 on success, 1 for invalid input, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from pathlib import Path

NAME = "evaluate"
HELP = "accuracy of a configuration (or a network and its weights) over a labelled dataset"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_configuration_inputs

    add_configuration_inputs(p)
    p.add_argument("--dataset", required=True, metavar="DIR",
                   help="a folder: one subfolder per label, or recordings and a labels.csv")
    p.add_argument("-o", "--output-csv", "--results", dest="results", metavar="RESULTS.csv",
                   help="one row per recording, written as recordings finish")
    p.add_argument("--resume", action="store_true",
                   help="keep the rows already in RESULTS.csv and run only the other recordings")
    p.add_argument("--output", metavar="CORE", help="the core whose busiest feature is the class "
                   "(default: the readout, else the one monitored core)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes (default: every core of this machine)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed cluster (tcp://host:8786); needs dynapcnn-dsl[cluster]")
    p.add_argument("--model", metavar="FILE.py:NAME",
                   help="also run this torch model (as compare loads it) on each recording: both "
                   "accuracies and their agreement; needs NETWORK WEIGHTS")
    p.add_argument("--bin-us", type=int, default=1000, metavar="B",
                   help="the model's time step in µs (default 1000)")
    p.add_argument("--slow-clock-hz", type=float, metavar="F",
                   help="the board's slow clock: enables leak and the readout's ticks")
    p.add_argument("--plot", metavar="REPORT.png|.html",
                   help="draw the confusion matrix and per-core spike-rate histograms (needs matplotlib)")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text", help="output format")
    p.add_argument("--key", metavar="KEY", help="the state_dict key inside a torch checkpoint")
    p.set_defaults(failed="nothing was evaluated")


class _Sink:
    """The results CSV, a row appended and flushed as each recording finishes: an interrupted
    run keeps the rows it wrote (`--resume`). The header and the rows a resumed run keeps are
    written atomically first, so an interrupt while they are rewritten loses none of them."""

    def __init__(self, path: str | None, cores: tuple[str, ...], keep: list) -> None:
        from dynapcnn_dsl.atomic import write_atomic
        from dynapcnn_dsl.evaluation.result import columns, row_dict

        self.fh = None
        self.cores, self.row_dict = cores, row_dict
        if path is None:
            return
        start = io.StringIO(newline="")
        kept = csv.DictWriter(start, columns(cores))
        kept.writeheader()
        for row in keep:
            kept.writerow(row_dict(row, cores))
        write_atomic(path, start.getvalue())
        self.fh = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115  (closed in close())
        self.writer = csv.DictWriter(self.fh, columns(cores))

    def __call__(self, row) -> None:
        if self.fh is not None:
            self.writer.writerow(self.row_dict(row, self.cores))
            self.fh.flush()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def _resumed(path: str, parser: argparse.ArgumentParser, cores: tuple[str, ...]) -> list:
    from dynapcnn_dsl.evaluation.result import columns, row_of

    if not Path(path).is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            text = fh.read()
        # a run killed while writing a row leaves it cut short: not kept, its recording runs again
        reader = csv.DictReader(io.StringIO(text if text.endswith("\n") else text[:text.rfind("\n") + 1]))
        if reader.fieldnames != columns(cores):
            parser.error(f"--resume: {path} is not the results of this configuration "
                         f"(columns {', '.join(reader.fieldnames or [])})")
        return [row_of(values, cores) for values in reader if values.get("file")
                and not values.get("error") and None not in values.values()]
    except (OSError, ValueError, csv.Error) as exc:
        parser.error(f"--resume: cannot read {path}: {exc}")
    return []


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import check_files_exist, check_outputs, configuration_inputs
    from dynapcnn_dsl.evaluation.runner import decide_options, document_data, evaluate, recordings_of
    from dynapcnn_dsl.report.progress import evaluation_progress

    if len(args.inputs) > 2:
        parser.error("give a configuration document, or a network file and its weights")
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give at least 1 worker process")
    if args.model is not None and len(args.inputs) != 2:
        parser.error("--model needs the network file and its weights: evaluate NETWORK WEIGHTS --model ...")
    if args.bin_us < 1:
        parser.error(f"--bin-us {args.bin_us}: give a positive number of µs")
    if args.resume and not args.results:
        parser.error("--resume needs the results file: -o RESULTS.csv")
    check_files_exist(list(args.inputs), parser)
    if not Path(args.dataset).is_dir():
        parser.error(f"--dataset {args.dataset}: not a folder")
    if args.plot:
        from dynapcnn_dsl.filekinds import PLOT, kinds

        if PLOT not in kinds(args.plot):
            parser.error(f"--plot {args.plot}: give a .png or an .html file")
        check_outputs([args.plot], list(args.inputs), parser)
    if args.results:
        if args.results == "-" or (Path(args.results).exists() and not Path(args.results).is_file()):
            parser.error(f"-o {args.results}: give a file name for the CSV (not a folder, a device "
                         "or a pipe)")
        check_outputs([args.results], list(args.inputs), parser)
    config, weights = configuration_inputs(args, parser, "evaluate")
    jobs = args.jobs or len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        args.jobs or os.cpu_count() or 1)
    sink = None
    bar = None
    try:
        data, file = document_data(config, weights=weights, key=args.key)
        _, _, cores = decide_options(data, file, args.output, args.slow_clock_hz)
        total = len(recordings_of(args.dataset))
        keep = _resumed(args.results, parser, cores) if args.resume else []
        sink = _Sink(args.results, cores, keep)
        if sink.fh is not None:
            args.failed = f"the rows written so far are in {args.results}"
        bar, advance = evaluation_progress(sys.stderr, total)
        if bar is not None:
            bar.start()
            for _ in keep:
                advance()

        def on_row(row) -> None:
            sink(row)
            if bar is not None:
                advance()

        result = evaluate(data if args.model is None else config, args.dataset, weights=weights,
                          key=args.key, output=args.output, slow_clock_hz=args.slow_clock_hz, jobs=jobs,
                          scheduler=args.scheduler, model=args.model, bin_us=args.bin_us, done=keep,
                          on_row=on_row)
    finally:
        if bar is not None:
            bar.stop()
        if sink is not None:
            sink.close()
    args.failed = None   # evaluated: a plot that cannot be made is said alone
    if args.plot:
        from dynapcnn_dsl.atomic import write_atomic
        from dynapcnn_dsl.evaluation.plot import report

        try:
            write_atomic(args.plot, report(result, args.plot))
        except OSError as exc:
            parser.error(f"cannot write {args.plot}: {exc.strerror or exc}")
    from dynapcnn_dsl.report import reporter

    reporter("evaluate", args.fmt)(result, sys.stdout, file=config, results=args.results)
    return 0

"""Plumbing shared by the commands: arguments every checking command takes and usage checks.
How things are printed (diagnostics, consoles, the JSON envelope) is report/terminal.py's."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from dynapcnn_dsl.report.terminal import (  # noqa: F401  (the commands' printing, re-exported)
    console,
    print_diagnostics,
    use_color,
    write_diagnostics,
    write_json,
)

if TYPE_CHECKING:
    from dynapcnn_dsl.diagnostics import DslError
    from dynapcnn_dsl.pipeline import Result, Stage


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    """Options of every command that checks a network before doing its job."""
    p.add_argument("--disable", action="append", default=[], metavar="RULE",
                   help="switch off a design rule by id (repeatable); `dynapcnn-dsl rules` lists them")
    p.add_argument("--no-source", action="store_true", help="do not quote the offending source line")
    p.add_argument("--templates", action="append", default=[], metavar="DIR",
                   help="also look for templates in DIR (after the network's own directory, "
                   "before the bundled ones; repeatable)")


def check_rule_ids(ids: list[str], parser: argparse.ArgumentParser) -> None:
    """Unknown rule ids (with a did-you-mean) and rules that protect later phases are usage
    errors (exit 2)."""
    from dynapcnn_dsl.rules import REGISTRY, cannot_disable
    from dynapcnn_dsl.suggest import did_you_mean

    for rule_id in ids:
        why = cannot_disable(rule_id)
        if why is None:
            continue
        if rule_id not in REGISTRY:
            why += "; " + (did_you_mean(rule_id, REGISTRY) or "`dynapcnn-dsl rules` lists the ids")
        parser.error(f"--disable: {why}")


def check_outputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path],
                  parser: argparse.ArgumentParser) -> None:
    """An output that names an input (by device and inode) is a usage error: nothing is
    written, the input stays."""
    from dynapcnn_dsl.atomic import names_an_input

    inputs = list(inputs)
    for out in outputs:
        given = names_an_input(out, inputs)
        if given is not None:
            parser.error(f"-o {out} would overwrite the input {given}; nothing was written")


def templates_read(network: str | Path, result: Result | None = None) -> list[str]:
    """The template files a network's instances expanded (each expanded core notes the file it
    came from): inputs too, which an output must never replace. `result` is a run that went at
    least to expansion; without one, the network is loaded and expanded here (milliseconds)."""
    from dynapcnn_dsl.pipeline import Stage, run_file

    if result is None:
        result = run_file(os.fspath(network), until=Stage.EXPAND)
    if result.source is None:
        return []
    return sorted({origin.file for origin in result.source.source_map.origins.values()})


def write_output(path: str | Path, text: str, parser: argparse.ArgumentParser) -> None:
    """Write an output atomically; a place that cannot be written is a usage error (exit 2)."""
    from dynapcnn_dsl.atomic import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        parser.error(f"cannot write {path}: {exc.strerror or exc}")


def check_files_exist(files: list[str], parser: argparse.ArgumentParser) -> None:
    """A path that is not a file is a usage error (exit 2), not an invalid network."""
    for f in files:
        if not os.path.isfile(f):
            what = ("is a directory" if os.path.isdir(f) else "is not a regular file (a device or a "
                    "pipe)" if os.path.exists(f) else "no such file")
            parser.error(f"{f}: {what}")


def run_pipeline(args: argparse.Namespace, parser: argparse.ArgumentParser, file: str,
                 until: Stage, **choices: object) -> Result:
    """Usage checks, then the pipeline on `file` up to the phase `until`; `choices` are the
    pipeline's other options (weights, key, annotate, strict)."""
    from dynapcnn_dsl.pipeline import run_file

    check_files_exist([file], parser)
    check_rule_ids(args.disable, parser)
    return run_file(file, until=until, disabled=args.disable,
                      templates=args.templates, **choices)


def write_failure(exc: DslError, args: argparse.Namespace) -> int:
    """A command's failure for a bad input, printed one way whichever phase raised it: the
    diagnostics in the command's --format (as text, quoting the network's lines when a network
    failed to build), then what the command had done (`args.failed`); exit status 1."""
    from dynapcnn_dsl import render
    from dynapcnn_dsl.api import BuildError
    from dynapcnn_dsl.diagnostics import has_errors

    result = exc.result if isinstance(exc, BuildError) else None
    if getattr(args, "fmt", "text") == "json":
        out = sys.stderr
        if result is not None:
            write_json([(result, {})])
        else:   # one entry per file the diagnostics name, in their order
            files = {d.file: [e for e in exc.diagnostics if e.file == d.file] for d in exc.diagnostics}
            render.write_envelope(sys.stdout, [render.entry(f, not has_errors(ds), ds)
                                               for f, ds in files.items()])
    else:
        out = sys.stdout if args.failures == "stdout" else sys.stderr
        if result is not None:
            write_diagnostics(result, no_source=getattr(args, "no_source", False), stream=out)
        else:
            print_diagnostics(exc.diagnostics, out)
    if args.failed:
        out.write(f"{args.failed}\n")
    return 1


def add_configuration_inputs(p: argparse.ArgumentParser) -> None:
    """The positional inputs of the commands that run a configuration (simulate, evaluate)."""
    p.add_argument("inputs", nargs="+", metavar="CONFIG | NETWORK WEIGHTS",
                   help="a configuration document (.json from build), or a network file and its weights")


def configuration_inputs(args: argparse.Namespace, parser: argparse.ArgumentParser,
                         command: str) -> tuple[str, str | None]:
    """(configuration or network, its weights or None) from `add_configuration_inputs`'s
    arguments: a network needs its weights, whatever its suffix (a network in JSON is one too)."""
    from dynapcnn_dsl.config.files import is_document_file

    config, weights = args.inputs[0], (args.inputs[1] if len(args.inputs) == 2 else None)
    if weights is None and not is_document_file(config):
        parser.error(f"{config} is a network file: give its weights too ({command} NETWORK WEIGHTS)")
    return config, weights


def _offset(text: str) -> tuple[int, int]:
    try:
        x, y = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two integers), not {text!r}") from None
    if x < 0 or y < 0:
        raise argparse.ArgumentTypeError(f"the offset is a pixel of the recording: X,Y >= 0, not {text!r}")
    return x, y


def _downsample(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return n


def add_sensor_arguments(p: argparse.ArgumentParser) -> None:
    """Where a recording from another camera falls on the DVS sensor (simulate, compare)."""
    p.add_argument("--sensor-offset", type=_offset, metavar="X,Y",
                   help="a DVS recording from another camera: the recording's pixel that lands on the "
                   "sensor's (0, 0); events off the sensor are dropped and counted")
    p.add_argument("--downsample", type=_downsample, metavar="N",
                   help="divide the recording's coordinates by N (after the offset) to fit the sensor")

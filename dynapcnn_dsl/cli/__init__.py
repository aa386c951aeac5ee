"""The `dynapcnn-dsl` command line.

Exit status: 0 success / valid, 1 invalid input, 2 usage error, 3 internal error. No Python
traceback reaches the user: a failure for a bad input (a `DslError`, whichever phase raised it)
is printed here, one way, as its diagnostics (`common.write_failure`); an unexpected exception
is reported as a bug in one line (set DYNAPCNN_DSL_DEBUG=1 to see the traceback).

Start-up time is a feature (`validate` runs in editors and pre-commit hooks), so the parser is
the standard library's argparse and each command imports what it needs only when it runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from dynapcnn_dsl import __version__
from dynapcnn_dsl.cli import (
    build_cmd,
    check_cmd,
    compare_cmd,
    diff_cmd,
    evaluate_cmd,
    graph_cmd,
    import_cmd,
    inspect_cmd,
    lsp_cmd,
    new_cmd,
    rules_cmd,
    schema_cmd,
    simulate_cmd,
    validate_cmd,
)
from dynapcnn_dsl.diagnostics import DslError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

OPTIONAL = {"torch": "torch", "nir": "nir", "h5py": "nir", "aedat": "events", "samna": "samna",
            "sinabs": None, "numba": None}
"""Packages a command imports only when it needs them, and the extra that installs each: one
that is missing is "install X" (exit 2), wherever the command happens to import it."""

COMMANDS = (validate_cmd, inspect_cmd, graph_cmd, check_cmd, build_cmd, diff_cmd, new_cmd,
            schema_cmd, rules_cmd, import_cmd, simulate_cmd, evaluate_cmd, compare_cmd, lsp_cmd)
"""Each command module has NAME, HELP, add_arguments(parser) and run(args, parser) -> int. A
command lets a DslError through (`run` prints it); its parser's defaults say where its text goes
(`failures`: "stderr", or "stdout" where diagnostics are the command's output) and the line that
follows it (`failed`: "nothing was simulated"; the command may update it as it goes)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dynapcnn-dsl",
        description="Describe DynapCNN / Speck networks in YAML; validate them against the "
        "chip's rules, link and build samna configurations.",
    )
    parser.add_argument("--version", action="version", version=f"dynapcnn-dsl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.__doc__)
        p.set_defaults(run=command.run, subparser=p, failed=None, failures="stderr")
        command.add_arguments(p)   # which may change `failed` and `failures`
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the command; returns the exit status (argparse exits 2 itself)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args, args.subparser)
    except DslError as exc:   # a bad input, whichever command and phase: printed one way, exit 1
        from dynapcnn_dsl.cli.common import write_failure

        return write_failure(exc, args)


_SIGNALLED: list[int] = []
"""Signals received during this run (an interrupted import can surface later as another error)."""


class _Terminated(BaseException):
    """SIGTERM as an exception: not an `Exception`, so no handler of a phase takes it for a
    failure of its own, and `main` says "terminated" wherever the signal landed."""


def _on_signal(signum: int, frame: object) -> None:
    """SIGINT and SIGTERM end the run as exceptions, so every `finally` and cleanup runs (no
    temporary file is left beside an output)."""
    _SIGNALLED.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: runs the CLI and turns crashes into a one-line report."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    try:
        code = run(argv)
    except (KeyboardInterrupt, _Terminated):
        code = _interrupted()
    except BrokenPipeError:
        code = EXIT_OK  # `dynapcnn-dsl schema | head` is not an error
    except Exception as exc:  # the last line of defence: never show a traceback
        package = (getattr(exc, "name", None) or "").partition(".")[0]
        if _SIGNALLED:  # e.g. a module left half-imported by the interrupt
            code = _interrupted()
        elif isinstance(exc, ModuleNotFoundError) and package in OPTIONAL:
            extra = OPTIONAL[package]
            how = f"pip install 'dynapcnn-dsl[{extra}]'" if extra else f"pip install {package}"
            print(f"dynapcnn-dsl: this needs the {package} package, which is not installed: {how}",
                  file=sys.stderr)
            code = EXIT_USAGE
        elif os.environ.get("DYNAPCNN_DSL_DEBUG"):
            raise
        else:
            print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "  this is a bug in dynapcnn-dsl; rerun with DYNAPCNN_DSL_DEBUG=1 and report the "
                "traceback", file=sys.stderr,
            )
            code = EXIT_INTERNAL
    sys.exit(code)


def _interrupted() -> int:
    signum = _SIGNALLED[0] if _SIGNALLED else signal.SIGINT
    print("interrupted" if signum == signal.SIGINT else "terminated", file=sys.stderr)
    return 128 + signum

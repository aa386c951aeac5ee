"""Show where each core is placed, its shapes, memory use and links, and the chip's totals.

Exit status 0 when the network links, 1 when it has errors (they are printed instead).
"""

from __future__ import annotations

import argparse
import json
import sys

NAME = "inspect"
HELP = "show placement, shapes, memory and links of a network"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_check_arguments

    p.add_argument("file", metavar="FILE", help="network file (.yaml, .yml, .json)")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="a table for people (default) or JSON for scripts")
    add_check_arguments(p)


def console(stream=None):
    """A rich console that does not wrap tables when writing to a pipe or a file."""
    from rich.console import Console

    out = stream or sys.stdout
    tty = bool(getattr(out, "isatty", lambda: False)())
    return Console(file=out, highlight=False, width=None if tty else 160, soft_wrap=False)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl import render
    from dynapcnn_dsl.cli.common import check_network, write_diagnostics
    from dynapcnn_dsl.report.inspect import inspect_data, print_inspect

    result = check_network(args, parser, args.file)
    if args.fmt == "json":
        data = inspect_data(result.linked) if result.linked is not None else None
        sys.stdout.write(json.dumps({
            "file": result.file, "valid": result.ok, "network": data,
            "diagnostics": [render.to_dict(d) for d in result.diagnostics],
        }, indent=2) + "\n")
        return 0 if result.ok else 1
    write_diagnostics(result, no_source=args.no_source, summary=not result.ok)
    if result.linked is None:
        return 1
    print_inspect(result.linked, console())
    return 0

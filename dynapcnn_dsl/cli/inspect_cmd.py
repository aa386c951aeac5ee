"""Show where each core is placed, its shapes, memory use and links, and the chip's totals.

Exit status 0 when the network links, 1 when it has errors (they are printed instead).
"""

from __future__ import annotations

import argparse

NAME = "inspect"
HELP = "show placement, shapes, memory and links of a network"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_check_arguments

    p.add_argument("file", metavar="FILE", help="network file (.yaml, .yml, .json)")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="a table for people (default) or JSON for scripts")
    add_check_arguments(p)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import console, run_pipeline, write_diagnostics, write_json
    from dynapcnn_dsl.pipeline import Stage
    from dynapcnn_dsl.report.inspect import inspect_data, print_inspect

    result = run_pipeline(args, parser, args.file, Stage.LINK)
    if args.fmt == "json":
        network = inspect_data(result.linked) if result.linked is not None else None
        return 0 if write_json([(result, {"network": network})]) else 1
    write_diagnostics(result, no_source=args.no_source, summary=not result.ok)
    if result.linked is None:
        return 1
    print_inspect(result.linked, console())
    return 0 if result.ok else 1

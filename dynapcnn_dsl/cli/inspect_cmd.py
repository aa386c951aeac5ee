"""Show where each core is placed, its shapes, memory use and links, and the chip's totals.

Exit status 0 when the network links, 1 when it has errors (they are printed instead).
"""

from __future__ import annotations

import argparse
import sys

NAME = "inspect"
HELP = "show placement, shapes, memory and links of a network"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_check_arguments

    p.add_argument("file", metavar="FILE", help="network file (.yaml, .yml, .json)")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="a table for people (default) or JSON for scripts")
    add_check_arguments(p)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import run_pipeline
    from dynapcnn_dsl.pipeline import Stage
    from dynapcnn_dsl.report import reporter

    result = run_pipeline(args, parser, args.file, Stage.LINK)
    reporter("inspect", args.fmt, no_source=args.no_source)(result, sys.stdout)
    return 0 if result.ok else 1

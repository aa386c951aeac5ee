"""List every design rule (its id, severity and what it checks), or with `--all` every
diagnostic code the tool can emit, rule or not, with its stage (the catalogue)."""

from __future__ import annotations

import argparse
import sys

NAME = "rules"
HELP = "list every design rule (or, with --all, every diagnostic code) with its id, severity and meaning"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", dest="every_code", action="store_true",
                   help="list every diagnostic code, not only the design rules: the loader's, the "
                        "language's, the templates', the weights', samna's, import's, simulate's, "
                        "compare's, each with the stage that reports it")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="output format (default: text)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.report import reporter
    from dynapcnn_dsl.rules import REGISTRY, catalogue

    if args.every_code:     # the catalogue, in the order a file meets its stages
        reporter("rules --all", args.fmt)(list(catalogue().values()), sys.stdout)
    else:
        reporter("rules", args.fmt)(sorted(REGISTRY.values(), key=lambda r: r.id), sys.stdout)
    return 0

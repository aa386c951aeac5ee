"""Compare two configurations, path by path.

Each side is a configuration document (a .json written by `build`, or read back from a device)
or a network file, built on the fly: with weights when given (`--weights` for every network
side, `--old-weights` / `--new-weights` for one), else structure only (then tensors and
thresholds are not compared). Exit status as diff(1): 0 same, 1 different, 2 trouble (usage, or
a side that does not build).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

NAME = "diff"
HELP = "compare two configurations (documents or networks) path by path"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD", help="a configuration document or a network file")
    p.add_argument("new", metavar="NEW", help="a configuration document or a network file")
    p.add_argument("--weights", metavar="FILE", help="weights for every network side")
    p.add_argument("--old-weights", metavar="FILE", help="weights for OLD when it is a network")
    p.add_argument("--new-weights", metavar="FILE", help="weights for NEW when it is a network")
    p.add_argument("--key", metavar="KEY", help="state_dict key inside torch checkpoints")
    p.add_argument("--format", dest="fmt", choices=("text", "json-patch"), default="text",
                   help="changes by path for people (default), or an RFC 6902 JSON patch")


def load_side(path: str, weights: str | None, key: str | None) -> dict[str, Any] | None:
    """The side's document (as the API's `diff` reads it, `api.read_side`), or None after
    printing why it cannot be had. What reading a document found is printed either way."""
    from dynapcnn_dsl.api import BuildError, read_side
    from dynapcnn_dsl.cli.common import print_diagnostics, write_diagnostics

    try:
        side = read_side(path, weights, key)
    except BuildError as exc:
        if exc.result is not None:      # a network: its verdict too
            write_diagnostics(exc.result, no_source=True, stream=sys.stderr)
        else:
            print_diagnostics(exc.diagnostics, sys.stderr)
        return None
    if side.linked is None:             # a document read back (a network's warnings stay quiet)
        print_diagnostics(side.diagnostics, sys.stderr)
    return side.data


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import check_files_exist
    from dynapcnn_dsl.differ import compare
    from dynapcnn_dsl.differ.compare import configuration_patch
    from dynapcnn_dsl.report import reporter

    check_files_exist([p for p in (args.old, args.new, args.weights, args.old_weights,
                                   args.new_weights) if p], parser)
    old = load_side(args.old, args.old_weights or args.weights, args.key)
    new = load_side(args.new, args.new_weights or args.weights, args.key)
    if old is None or new is None:
        return 2
    if args.fmt == "json-patch":
        found: Any = configuration_patch(old, new, plain=False)
        differs = bool(found)
    else:
        found = compare(old, new)
        differs = bool(found[0])
    reporter("diff", args.fmt)(found, sys.stdout)
    return 1 if differs else 0

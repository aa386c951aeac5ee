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
    """The side's document, or None after printing why it cannot be had. A document is read
    and checked against its schema (dynapcnn_dsl.config.reader); a network is built."""
    from dynapcnn_dsl.config.files import is_document_file

    if is_document_file(path):
        from dynapcnn_dsl import render
        from dynapcnn_dsl.config.reader import read_document

        data, problems = read_document(path)
        for d in problems:
            sys.stderr.write(render.format_text(d) + "\n")
        return data
    from dynapcnn_dsl.cli.common import write_diagnostics
    from dynapcnn_dsl.pipeline import Stage, run_file

    result = run_file(path, until=Stage.EMIT, weights=weights, key=key, annotate=True)
    if not result.ok:
        write_diagnostics(result, no_source=True, stream=sys.stderr)
        return None
    return result.emitted


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import check_files_exist
    from dynapcnn_dsl.differ import compare
    from dynapcnn_dsl.differ.compare import configuration_patch

    check_files_exist([p for p in (args.old, args.new, args.weights, args.old_weights,
                                   args.new_weights) if p], parser)
    old = load_side(args.old, args.old_weights or args.weights, args.key)
    new = load_side(args.new, args.new_weights or args.weights, args.key)
    if old is None or new is None:
        return 2
    if args.fmt == "json-patch":
        from dynapcnn_dsl.config.writer import to_json

        patch = configuration_patch(old, new, plain=False)
        sys.stdout.write(to_json(patch))
        return 1 if patch else 0
    changes, notes = compare(old, new)
    for note in notes:
        sys.stdout.write(f"# {note}\n")
    for c in changes:
        sys.stdout.write(f"{c.path}: {c.text}\n")
    sys.stdout.write(f"{len(changes)} difference{'s' * (len(changes) != 1)}\n" if changes
                     else "no differences\n")
    return 1 if changes else 0

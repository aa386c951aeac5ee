"""Check network files against the language and the chip's design rules.

Exit status 0 when every file is valid (warnings allowed), 1 when any is not.
"""

from __future__ import annotations

import argparse
import sys

NAME = "validate"
HELP = "check network files against the language and the chip's design rules"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="network files (.yaml, .yml, .json)")
    p.add_argument("--format", dest="fmt", choices=("text", "json", "github"), default="text",
                   help="output format for diagnostics (default: text)")
    p.add_argument("--summary", action="store_true",
                   help="print a table of the network's cores when the file is valid")
    p.add_argument("--disable", action="append", default=[], metavar="RULE",
                   help="switch off a design rule by id (repeatable); `dynapcnn-dsl rules` lists them")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--no-source", action="store_true", help="do not quote the offending source line")


def check_rule_ids(ids: list[str], parser: argparse.ArgumentParser) -> None:
    """Unknown rule ids are usage errors (exit 2) with a did-you-mean."""
    from dynapcnn_dsl.rules import REGISTRY
    from dynapcnn_dsl.suggest import did_you_mean

    for rule_id in ids:
        if rule_id not in REGISTRY:
            hint = did_you_mean(rule_id, REGISTRY) or "`dynapcnn-dsl rules` lists the ids"
            parser.error(f"--disable: no rule '{rule_id}'; {hint}")


def check_files_exist(files: list[str], parser: argparse.ArgumentParser) -> None:
    """A path that is not a file is a usage error (exit 2), not an invalid network."""
    import os

    for f in files:
        if not os.path.isfile(f):
            parser.error(f"{f}: {'is a directory' if os.path.isdir(f) else 'no such file'}")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl import render
    from dynapcnn_dsl.cli.output import use_color
    from dynapcnn_dsl.diagnostics import has_errors
    from dynapcnn_dsl.pipeline import check_file

    check_files_exist(args.files, parser)
    check_rule_ids(args.disable, parser)
    results = [check_file(f, disabled=args.disable) for f in args.files]
    valid = {r.file: r.ok and not (args.strict and r.diagnostics) for r in results}
    out = sys.stdout
    if args.fmt == "json":
        out.write(render.format_json({r.file: r.diagnostics for r in results}, valid) + "\n")
    elif args.fmt == "github":
        for r in results:
            for d in r.diagnostics:
                out.write(render.format_github(d) + "\n")
    else:
        color = use_color(out)
        for r in results:
            lines = None if args.no_source or r.document is None else r.document.source_map.lines
            for d in r.diagnostics:
                out.write(render.format_text(d, lines, color=color) + "\n")
            out.write(render.summary_line(r.file, r.diagnostics) + "\n")
            if args.summary and r.ok and not has_errors(r.diagnostics):
                from dynapcnn_dsl.summary import print_summary

                out.flush()
                print_summary(r)
    return 0 if all(valid.values()) else 1

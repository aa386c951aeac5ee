"""Check network files against the language and the chip's design rules.

Exit status 0 when every file is valid (warnings allowed), 1 when any is not.
"""

from __future__ import annotations

import argparse
import sys

NAME = "validate"
HELP = "check network files against the language and the chip's design rules"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_check_arguments

    p.add_argument("files", nargs="+", metavar="FILE", help="network files (.yaml, .yml, .json)")
    from dynapcnn_dsl.render import FORMATS

    p.add_argument("--format", dest="fmt", choices=FORMATS, default="text",
                   help="output format for diagnostics (default: text)")
    p.add_argument("--summary", action="store_true",
                   help="print the linked network (as `inspect` does) when the file is valid")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    add_check_arguments(p)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl import render
    from dynapcnn_dsl.cli.common import (
        check_files_exist,
        check_rule_ids,
        console,
        write_diagnostics,
        write_json,
    )
    from dynapcnn_dsl.pipeline import Stage, run_file

    check_files_exist(args.files, parser)
    check_rule_ids(args.disable, parser)
    # one file at a time, each result dropped once rendered: memory does not grow with files
    results = (run_file(f, until=Stage.LINK, disabled=args.disable, templates=args.templates,
                          strict=args.strict) for f in args.files)
    out = sys.stdout
    if args.fmt == "json":
        return 0 if write_json(((r, {}) for r in results), out) else 1
    valid = True
    for r in results:
        valid &= r.ok
        if args.fmt == "github":
            for d in r.diagnostics:
                out.write(render.format_github(d) + "\n")
            continue
        write_diagnostics(r, no_source=args.no_source, stream=out)
        if args.summary and r.linked is not None:
            from dynapcnn_dsl.report.inspect import print_inspect

            out.flush()
            print_inspect(r.linked, console(out))
    return 0 if valid else 1

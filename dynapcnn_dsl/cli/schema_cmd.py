"""Print the JSON schema (draft-07) of network files, for editors and other tools."""

from __future__ import annotations

import argparse
import sys

NAME = "schema"
HELP = "print the JSON schema of network files"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the schema to FILE (atomically) instead of standard output")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--template", action="store_true",
                      help="the schema of template files instead of network files")
    kind.add_argument("--document", action="store_true",
                      help="the schema of the configuration documents `build` writes")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.document:
        from dynapcnn_dsl.config.schema import schema_text as document_schema_text

        text = document_schema_text()
    else:
        from dynapcnn_dsl.schema import schema_text

        text = schema_text("template" if args.template else "network")
    if args.output and args.output != "-":
        from dynapcnn_dsl.cli.common import write_output

        write_output(args.output, text, parser)
    else:
        sys.stdout.write(text)
    return 0

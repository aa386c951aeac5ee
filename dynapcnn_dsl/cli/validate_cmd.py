"""Check network files against the language and the chip's design rules.

Exit status 0 when every file is valid (warnings allowed), 1 when any is not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dynapcnn_dsl.pipeline import Result

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
    from dynapcnn_dsl.cli.common import check_files_exist, check_rule_ids
    from dynapcnn_dsl.pipeline import Stage, run_file
    from dynapcnn_dsl.report import reporter

    check_files_exist(args.files, parser)
    check_rule_ids(args.disable, parser)
    verdicts: list[bool] = []

    def results() -> Iterator[Result]:
        """One file at a time, each result dropped once printed: memory does not grow with files."""
        for f in args.files:
            result = run_file(f, until=Stage.LINK, disabled=args.disable, templates=args.templates,
                                strict=args.strict)
            verdicts.append(result.ok)
            yield result

    reporter("validate", args.fmt, no_source=args.no_source, summary=args.summary)(results(), sys.stdout)
    return 0 if all(verdicts) else 1

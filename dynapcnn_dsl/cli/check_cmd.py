"""Check a network with its weights: validation, binding and the quantization report.

Writes nothing. Exit status 0 when the network links and every core binds and quantizes, 1
otherwise. torch is imported only for torch files.
"""

from __future__ import annotations

import argparse
import sys

NAME = "check"
HELP = "validate a network with its weights and report the quantization (writes nothing)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_check_arguments

    p.add_argument("file", metavar="NETWORK", help="network file (.yaml, .yml, .json)")
    p.add_argument("weights", metavar="WEIGHTS", help="weights: .pt/.pth, .safetensors or .npz")
    p.add_argument("--key", metavar="KEY",
                   help="the key of the state_dict inside a torch checkpoint (dotted for nesting)")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="a report for people (default) or JSON for scripts")
    add_check_arguments(p)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import check_files_exist, run_pipeline
    from dynapcnn_dsl.pipeline import Stage
    from dynapcnn_dsl.report import reporter

    check_files_exist([args.weights], parser)
    result = run_pipeline(args, parser, args.file, Stage.QUANTIZE, weights=args.weights, key=args.key)
    reporter("check", args.fmt, no_source=args.no_source)(result, sys.stdout)
    return 0 if result.ok else 1

"""Check a network with its weights: validation, binding and the quantization report.

Writes nothing. Exit status 0 when the network links and every core binds and quantizes, 1
otherwise. torch is imported only for torch files.
"""

from __future__ import annotations

import argparse
import json
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
    from dynapcnn_dsl import render
    from dynapcnn_dsl.cli.common import check_files_exist, check_network, write_diagnostics
    from dynapcnn_dsl.diagnostics import has_errors

    check_files_exist([args.weights], parser)
    result = check_network(args, parser, args.file)
    bound, problems = None, []
    if result.linked is not None and result.document is not None:
        from dynapcnn_dsl.weights import load_and_bind

        bound, problems = load_and_bind(result.linked, result.document.source_map, args.weights,
                                        key=args.key)
    result.diagnostics.extend(problems)
    ok = bound is not None and not has_errors(result.diagnostics)
    if args.fmt == "json":
        from dynapcnn_dsl.report.quantization import quantization_data

        sys.stdout.write(json.dumps({
            "file": result.file, "weights": args.weights, "valid": ok,
            "quantization": quantization_data(bound) if bound is not None else None,
            "diagnostics": [render.to_dict(d) for d in result.diagnostics],
        }, indent=2) + "\n")
        return 0 if ok else 1
    write_diagnostics(result, no_source=args.no_source, summary=not ok)
    if bound is None:
        return 1
    from dynapcnn_dsl.cli.inspect_cmd import console
    from dynapcnn_dsl.report.quantization import print_quantization

    print_quantization(bound, console())
    return 0 if ok else 1

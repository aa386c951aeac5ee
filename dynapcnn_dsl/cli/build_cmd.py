"""Build the samna configuration of a network with its weights.

Writes the configuration document atomically (an existing file is replaced whole or not at
all): to `-o FILE`, to standard output with `-o -`, and by default next to the network as
`<name>.samna.json`. The build report (placement, memory, quantization) goes to the terminal,
to standard error when the document goes to standard output. Exit status 0 on success, 1 when
the network or its weights have errors (nothing is written then).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "build"
HELP = "build the samna configuration of a network and its weights"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_check_arguments

    p.add_argument("file", metavar="NETWORK", help="network file (.yaml, .yml, .json)")
    p.add_argument("weights", metavar="WEIGHTS", help="weights: .pt/.pth, .safetensors or .npz")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write the configuration ('-' for standard output; default: "
                   "NETWORK with the suffix .samna.json)")
    p.add_argument("--key", metavar="KEY",
                   help="the key of the state_dict inside a torch checkpoint (dotted for nesting)")
    p.add_argument("--annotate", action="store_true",
                   help="record, for each core slot, the YAML name and position it came from")
    p.add_argument("--quiet", action="store_true", help="print no build report")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="the build report for people (default) or JSON for scripts (on standard "
                   "error with `-o -`)")
    add_check_arguments(p)


def default_output(network: str) -> Path:
    path = Path(network)
    return path.with_name(path.stem + ".samna.json")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import (
        check_files_exist,
        check_outputs,
        run_pipeline,
        templates_read,
        write_output,
    )
    from dynapcnn_dsl.pipeline import Stage
    from dynapcnn_dsl.report import reporter

    check_files_exist([args.file, args.weights], parser)
    to_stdout = args.output == "-"
    out = None if to_stdout else Path(args.output) if args.output else default_output(args.file)
    if out is not None:
        check_outputs([out], [args.file, args.weights], parser)
    report = sys.stderr if to_stdout else sys.stdout
    result = run_pipeline(args, parser, args.file, Stage.EMIT, weights=args.weights, key=args.key,
                          annotate=args.annotate)
    if result.ok:
        from dynapcnn_dsl.emit import to_json

        assert result.emitted is not None
        text = to_json(result.emitted)
        if out is None:
            sys.stdout.write(text)
        else:
            check_outputs([out], templates_read(args.file, result), parser)
            write_output(out, text, parser)
    reporter("build", args.fmt, no_source=args.no_source, quiet=args.quiet)(result, report, output=out)
    return 0 if result.ok else 1

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
    add_check_arguments(p)


def default_output(network: str) -> Path:
    path = Path(network)
    return path.with_name(path.stem + ".samna.json")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.api import BuildError, build
    from dynapcnn_dsl.cli.common import check_files_exist, check_rule_ids, write_diagnostics
    from dynapcnn_dsl.pipeline import Checked

    check_files_exist([args.file, args.weights], parser)
    check_rule_ids(args.disable, parser)
    to_stdout = args.output == "-"
    report = sys.stderr if to_stdout else sys.stdout
    try:
        doc = build(args.file, args.weights, key=args.key, annotate=args.annotate,
                    disabled=args.disable, templates=args.templates)
    except BuildError as exc:
        from dynapcnn_dsl.load import load_file

        source, _ = load_file(args.file)
        result = Checked(args.file, source, list(exc.diagnostics))
        write_diagnostics(result, no_source=args.no_source, stream=report)
        report.write("nothing was written\n")
        return 1
    result = Checked(args.file, None, list(doc.diagnostics))
    if doc.diagnostics and not args.quiet:
        write_diagnostics(result, no_source=True, summary=False, stream=report)
    if to_stdout:
        sys.stdout.write(doc.to_json())
    else:
        out = Path(args.output) if args.output else default_output(args.file)
        try:
            doc.write(out)
        except OSError as exc:
            parser.error(f"cannot write {out}: {exc.strerror or exc}")
    if not args.quiet:
        from dynapcnn_dsl.cli.inspect_cmd import console
        from dynapcnn_dsl.report.inspect import print_inspect
        from dynapcnn_dsl.report.quantization import print_quantization

        c = console(report)
        print_inspect(doc.linked, c)
        print_quantization(doc.bound, c)
        if not to_stdout:
            c.print(f"wrote {out} ({doc.chip}, {len(doc.linked.cores)} cores)")
    return 0

"""Draw the core graph: Graphviz DOT, Mermaid, and SVG where Graphviz (`dot`) is installed.

With `-o PREFIX`, writes PREFIX.dot, PREFIX.mmd and, when `dot` is on the PATH, PREFIX.svg.
Without it, prints one format (--format, default dot) to standard output.
"""

from __future__ import annotations

import argparse
import sys

NAME = "graph"
SUFFIXES = (".dot", ".mmd", ".svg")
HELP = "draw the core graph as Graphviz DOT, Mermaid or SVG"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.cli.common import add_check_arguments

    p.add_argument("file", metavar="FILE", help="network file (.yaml, .yml, .json)")
    p.add_argument("--format", dest="fmt", choices=("dot", "mermaid", "svg"), default="dot",
                   help="format for standard output (default: dot)")
    p.add_argument("-o", "--output", metavar="PREFIX",
                   help="write PREFIX.dot, PREFIX.mmd and PREFIX.svg (if Graphviz is installed)")
    add_check_arguments(p)


def svg(dot_text: str) -> str | None:
    """Render with Graphviz, or None when `dot` is not installed."""
    import shutil
    import subprocess

    exe = shutil.which("dot")
    if exe is None:
        return None
    done = subprocess.run([exe, "-Tsvg"], input=dot_text, capture_output=True, text=True, check=True)
    return done.stdout


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.cli.common import check_outputs, run_pipeline, write_diagnostics, write_output
    from dynapcnn_dsl.pipeline import Stage
    from dynapcnn_dsl.report.graph import to_dot, to_mermaid

    if args.output:
        check_outputs([args.output + s for s in SUFFIXES], [args.file], parser)
    result = run_pipeline(args, parser, args.file, Stage.LINK)
    if not result.ok or result.linked is None:
        write_diagnostics(result, no_source=args.no_source)
        return 1
    write_diagnostics(result, no_source=args.no_source, summary=False, stream=sys.stderr)
    dot = to_dot(result.linked)
    if args.output:
        written = []
        texts = (dot, to_mermaid(result.linked), svg(dot))
        for suffix, text in zip(SUFFIXES, texts, strict=True):
            if text is not None:
                write_output(args.output + suffix, text, parser)
                written.append(args.output + suffix)
        from dynapcnn_dsl.report import reporter

        reporter("graph")(written, sys.stdout, svg=texts[-1] is not None)
        return 0
    if args.fmt == "svg":
        text = svg(dot)
        if text is None:
            parser.error("--format svg needs Graphviz (`dot`) on the PATH; use dot or mermaid")
        sys.stdout.write(text)
    else:
        sys.stdout.write(dot if args.fmt == "dot" else to_mermaid(result.linked))
    return 0

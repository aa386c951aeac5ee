"""Run the language server over standard input and output, for editors (see docs/editors.md).

Every diagnostic of `validate` (the linker and the design rules included) as you type, at its
range with its id, hovers with the linked facts of a core, go-to-definition, references and
rename of cores, completion and quick fixes. Needs the `lsp` extra: pip install 'dynapcnn-dsl[lsp]'.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

NAME = "lsp"
HELP = "run the language server (LSP over stdio) for editors"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stdio", action="store_true",
                   help="talk LSP over standard input and output (the default and only transport; "
                   "accepted because many editors pass it)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    missing = [m for m in ("pygls", "lsprotocol") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"error: the language server needs {' and '.join(missing)}: install it with "
              "`pip install 'dynapcnn-dsl[lsp]'`", file=sys.stderr)
        return 1
    from dynapcnn_dsl.lsp.server import serve

    serve()
    return 0

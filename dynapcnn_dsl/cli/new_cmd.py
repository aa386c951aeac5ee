"""Start a network: write NAME/network.yaml from a starter, with the schema beside it.

The schema file next to the network makes the editor modeline work wherever the folder lives.
An existing network.yaml is never overwritten (exit 2), nor an existing schema file (kept).
An empty NAME, one with control characters, or one the file system refuses is a usage error.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

NAME = "new"
HELP = "write a starter network.yaml (resnet, sequential or dvs)"
STARTERS = ("resnet", "sequential", "dvs")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="folder to create (its name names the network)")
    p.add_argument("--template", choices=STARTERS, default="sequential",
                   help="what to start from (default: sequential)")


def starter(kind: str, name: str) -> str:
    text = (Path(__file__).resolve().parents[1] / "starters" / f"{kind}.yaml").read_text()
    return text.replace("{name}", name)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.atomic import write_atomic
    from dynapcnn_dsl.schema import schema_text

    if not args.name.strip():
        parser.error("NAME is empty: name the folder to create (nothing was written)")
    if any(ord(c) < 32 or ord(c) == 127 for c in args.name):
        parser.error(f"NAME {args.name!r} has control characters: choose a plain folder name "
                     "(nothing was written)")
    folder = Path(args.name)
    target, schema = folder / "network.yaml", folder / "network.schema.json"
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", folder.resolve().name).strip("-") or "network"
    try:
        if target.exists():
            parser.error(f"{target} already exists: choose another NAME (nothing was written)")
        folder.mkdir(parents=True, exist_ok=True)
        kept = schema.exists()  # the user's schema (or an older one) stays as it is
        if not kept:
            write_atomic(schema, schema_text())
        write_atomic(target, starter(args.template, name))
    except OSError as exc:
        parser.error(f"cannot write {folder}: {exc.strerror or exc} (nothing was written)")
    from dynapcnn_dsl.report import reporter

    reporter("new")(target, sys.stdout, template=args.template, schema=schema, kept=kept)
    return 0

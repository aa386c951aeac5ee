"""List every design rule: its id, severity and what it checks."""

from __future__ import annotations

import argparse
import sys

NAME = "rules"
HELP = "list every design rule with its id, severity and meaning"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="output format (default: text)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dynapcnn_dsl.rules import REGISTRY

    rows = sorted(REGISTRY.values(), key=lambda r: r.id)
    if args.fmt == "json":
        import json

        data = [{"id": r.id, "severity": r.severity.value, "hint": r.hint, "description": r.doc,
                 "can_disable": not r.integrity} for r in rows]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    width = max(len(r.id) for r in rows)
    for r in rows:
        always = "  (always on: later phases rely on it)" if r.integrity else ""
        sys.stdout.write(f"{r.id:<{width}}  {r.severity.value:<7}  {r.doc.splitlines()[0]}{always}\n")
    return 0

"""List every design rule (its id, severity and what it checks), or with `--all` every
diagnostic code the tool can emit, rule or not, with its stage (the catalogue)."""

from __future__ import annotations

import argparse
import sys

NAME = "rules"
HELP = "list every design rule (or, with --all, every diagnostic code) with its id, severity and meaning"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", dest="every_code", action="store_true",
                   help="list every diagnostic code, not only the design rules: the loader's, the "
                        "language's, the templates', the weights', samna's, import's, simulate's, "
                        "compare's, each with the stage that reports it")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="output format (default: text)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.every_code:
        return _every_code(args.fmt)
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


def _every_code(fmt: str) -> int:
    """The catalogue, in the order a file meets its stages; a rule's meaning is its summary."""
    from dynapcnn_dsl.rules import catalogue

    codes = list(catalogue().values())
    if fmt == "json":
        import json

        data = [{"id": c.id, "stage": c.stage, "severity": c.severity.value, "rule": c.rule,
                 "meaning": c.meaning} for c in codes]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    width = max(len(c.id) for c in codes)
    stage = max(len(c.stage) for c in codes)
    for c in codes:
        kind = "rule" if c.rule else "    "
        sys.stdout.write(f"{c.id:<{width}}  {c.stage:<{stage}}  {c.severity.value:<7}  {kind}  {c.meaning}\n")
    return 0

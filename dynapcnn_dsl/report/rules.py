"""What `rules` prints: the design rules (id, severity, the first line of what each checks), or
with `--all` every diagnostic code of the catalogue with its stage; as aligned text or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from dynapcnn_dsl.codes import Code
    from dynapcnn_dsl.rules.registry import Rule


def rules_text(rules: Sequence[Rule], out: TextIO) -> None:
    width = max(len(r.id) for r in rules)
    for r in rules:
        always = "  (always on: later phases rely on it)" if r.integrity else ""
        out.write(f"{r.id:<{width}}  {r.severity.value:<7}  {r.doc.splitlines()[0]}{always}\n")


def rules_json(rules: Sequence[Rule], out: TextIO) -> None:
    data = [{"id": r.id, "severity": r.severity.value, "hint": r.hint, "description": r.doc,
             "can_disable": not r.integrity} for r in rules]
    out.write(json.dumps(data, indent=2) + "\n")


def codes_text(codes: Sequence[Code], out: TextIO) -> None:
    """In the order a file meets its stages; a rule's meaning is its summary."""
    width = max(len(c.id) for c in codes)
    stage = max(len(c.stage) for c in codes)
    for c in codes:
        kind = "rule" if c.rule else "    "
        out.write(f"{c.id:<{width}}  {c.stage:<{stage}}  {c.severity.value:<7}  {kind}  {c.meaning}\n")


def codes_json(codes: Sequence[Code], out: TextIO) -> None:
    data = [{"id": c.id, "stage": c.stage, "severity": c.severity.value, "rule": c.rule,
             "meaning": c.meaning} for c in codes]
    out.write(json.dumps(data, indent=2) + "\n")

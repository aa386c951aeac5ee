"""The design-rule registry.

A rule is one small function with an id, a severity and a hint. It receives a context and
yields `Finding`s; the registry turns findings into positioned diagnostics. Rules never raise
and never print: they only describe what is wrong, so they can be run, tested and documented
one by one.

Some rules protect the phases after them (`integrity=True`): what they refuse, the linker,
the binder or the emitter could not compute (a decimator ratio the hardware cannot encode, a
non-finite threshold, a pin to a core that does not exist, a core that fits nowhere). They
cannot be switched off: `--disable` of one is a usage error, and `run_rules` runs them whatever
`disabled` says. Every other rule can be off, and the later phases tolerate what it lets
through (tests/acceptance/test_validity.py builds every corpus file with its rules off).

Rules run in one of two stages:
- `model`: single-file checks on the validated model (`RuleContext`);
- `link`: checks on the linked facts, shapes, memory and placement (`LinkContext`, in
  `dynapcnn_dsl.link.context`), run only when the model stage found no errors;
- `build`: advice about a linked network that is about to be built with its weights
  (`BuildContext`), run by the weights phase, so `validate` stays quiet about unfinished files.

The registry is also the catalogue of every diagnostic code: `catalogue()` lists the rules with
the codes that are not rules (`dynapcnn_dsl.codes`), each with its stage, severity and meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from dynapcnn_dsl.diagnostics import Diagnostic, Related, Severity

if TYPE_CHECKING:
    from dynapcnn_dsl.chips import ChipProfile
    from dynapcnn_dsl.codes import Code
    from dynapcnn_dsl.load.source import NodePath, SourceMap
    from dynapcnn_dsl.model.network import Network


class Finding(NamedTuple):
    """What a rule found: where (a path into the file), what, and optionally a better hint."""

    path: NodePath
    message: str
    hint: str | None = None
    at_key: bool = False
    related: tuple[tuple[NodePath, str], ...] = ()


class RuleContext(NamedTuple):
    """What a single-file (model stage) rule may look at."""

    network: Network
    chip: ChipProfile
    source_map: SourceMap


Check = Callable[[Any], Iterable[Finding]]

MODEL, LINK, BUILD = "model", "link", "build"


class Rule(NamedTuple):
    """A registered design rule."""

    id: str
    severity: Severity
    hint: str
    check: Check
    doc: str = ""
    stage: str = MODEL
    integrity: bool = False  # protects later phases: cannot be disabled


REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, hint: str, *, stage: str = MODEL,
         integrity: bool = False) -> Callable[[Check], Check]:
    """Register `check` under `rule_id`; ids are unique and stable (users switch them off by id).
    `integrity`: the phases after rely on it, so it cannot be switched off."""

    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"rule id {rule_id!r} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, severity, hint, check, (check.__doc__ or "").strip(), stage,
                                 integrity)
        return check

    return register


def catalogue() -> dict[str, Code]:
    """Every diagnostic code the package emits, rule or not, ordered by stage then id: the rules
    (with the first sentence of their docstring as meaning) and `dynapcnn_dsl.codes.CODES`.
    Imported here, not at the top: `validate` never lists the catalogue."""
    from dynapcnn_dsl.codes import CODES, STAGES, Code

    rules = {r.id: Code(r.id, r.stage, r.severity, _first_sentence(r.doc), rule=True)
             for r in REGISTRY.values()}
    both = sorted(rules.keys() & CODES.keys())
    if both:
        raise ValueError(f"codes registered both as a rule and as a code: {', '.join(both)}")
    return dict(sorted({**CODES, **rules}.items(), key=lambda kv: (STAGES.index(kv[1].stage), kv[0])))


def _first_sentence(doc: str) -> str:
    words = " ".join(doc.split("\n\n")[0].split())
    return re.split(r"(?<=[.!?])\s", words, maxsplit=1)[0]


def cannot_disable(rule_id: str) -> str | None:
    """Why `rule_id` cannot be switched off (unknown, or protecting later phases), or None."""
    r = REGISTRY.get(rule_id)
    if r is None:
        return f"no rule '{rule_id}'"
    if r.integrity:
        return (f"rule '{rule_id}' cannot be disabled: the phases after it rely on what it "
                "checks")
    return None


def run_rules(ctx: Any, *, stage: str = MODEL, disabled: Iterable[str] = ()) -> list[Diagnostic]:
    """Run every registered rule of `stage` not in `disabled` (integrity rules always run);
    findings become diagnostics."""
    off = set(disabled)
    return [d for r in REGISTRY.values() if r.stage == stage and (r.integrity or r.id not in off)
            for d in apply(r, ctx)]


def apply(r: Rule, ctx: Any) -> Iterator[Diagnostic]:
    """Run one rule and position its findings.

    A value written once under `defaults:` is checked once per core that inherits it: findings
    for different paths that land on one position are reported once, at the line the user has
    to change. Several findings about the same path are all kept.
    """
    smap = ctx.source_map
    first_path: dict[object, object] = {}
    for f in r.check(ctx):
        pos = smap.key(f.path) if f.at_key else smap.value(f.path)
        if pos is not None and first_path.setdefault(pos, f.path) != f.path:
            continue
        related = tuple(Related(smap.file, smap.value(p), msg) for p, msg in f.related)
        related += smap.notes(f.path)
        yield Diagnostic(smap.file, pos, r.severity, r.id, f.message, f.hint or r.hint, related)

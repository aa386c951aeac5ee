"""Rules about how a core combines several sources (`merge:` and `from:`)."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import core_path


@rule("concat-needs-from", Severity.ERROR,
      "add `from: [a, b]`: its order fixes which features come first in the receiver")
def concat_needs_from(ctx: RuleContext) -> Iterator[Finding]:
    """A concat receiver stacks its sources' features in `from:` order, so it needs the list."""
    for name, core in ctx.network.cores.items():
        if core.merge == "concat" and not core.from_:
            yield Finding(core_path(name, "merge"),
                          f"core '{name}' concatenates its sources but has no `from:` list")


@rule("from-duplicate", Severity.ERROR, "list each source once in `from:`")
def from_duplicate(ctx: RuleContext) -> Iterator[Finding]:
    """A source appears once in `from:`; the hardware cannot send one link twice."""
    for name, core in ctx.network.cores.items():
        seen: dict[str, int] = {}
        for i, src in enumerate(core.from_ or []):
            if src in seen:
                yield Finding(core_path(name, "from", i),
                              f"core '{name}' lists '{src}' twice in `from:`",
                              related=((core_path(name, "from", seen[src]), "first listed here"),))
            else:
                seen[src] = i

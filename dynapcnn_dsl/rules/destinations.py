"""Rules about where a core sends its events: at most two destinations, pooling, shifts."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.chips import READOUT
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import (
    core_path,
    destinations,
    feeds_readout,
    fmt_choices,
    fmt_range,
)


@rule("dest-max", Severity.ERROR,
      "send to one core and let it forward, or use a template whose entry takes both paths",
      integrity=True)
def dest_max(ctx: RuleContext) -> Iterator[Finding]:
    """A core has exactly two destination slots; the readout, when fed by the core, takes one."""
    slots = ctx.chip.limits.destinations
    for name, core in ctx.network.cores.items():
        targets = [d.core for _, d in destinations(name, core)]
        implied = feeds_readout(ctx.network, name) and READOUT not in targets
        n = len(targets) + implied
        if n > slots:
            extra = " (counting the readout, which reads from it)" if implied else ""
            yield Finding(core_path(name, "to"),
                          f"core '{name}' has {n} destinations{extra}; a core has {slots}",
                          at_key=True)


@rule("dest-pool", Severity.ERROR, "use pool 1, 2 or 4 (the same in x and y)")
def dest_pool(ctx: RuleContext) -> Iterator[Finding]:
    """Destination pooling is sum pooling of 1, 2 or 4, equal on both axes."""
    allowed = ctx.chip.limits.pool
    for name, core in ctx.network.cores.items():
        for path, d in destinations(name, core):
            if d.pool not in allowed:
                yield Finding((*path, "pool"),
                              f"core '{name}': pool {d.pool} towards '{d.core}' is not "
                              f"{fmt_choices(allowed)}")


@rule("dest-feature-shift", Severity.ERROR,
      "feature_shift is 0..1023; normally omit it and let the linker compute it")
def dest_feature_shift(ctx: RuleContext) -> Iterator[Finding]:
    """A feature shift moves events into the receiver's 0..1023 feature range."""
    lo, hi = ctx.chip.limits.feature_shift
    for name, core in ctx.network.cores.items():
        for path, d in destinations(name, core):
            if d.feature_shift is not None and not lo <= d.feature_shift <= hi:
                yield Finding((*path, "feature_shift"),
                              f"core '{name}': feature_shift {d.feature_shift} towards "
                              f"'{d.core}' is outside {fmt_range(lo, hi)}")


@rule("dest-duplicate", Severity.WARNING,
      "list each destination once; both slots to one core add every event to itself twice")
def dest_duplicate(ctx: RuleContext) -> Iterator[Finding]:
    """Both destination slots naming the same core usually means a copy-paste slip."""
    for name, core in ctx.network.cores.items():
        seen: dict[str, tuple] = {}
        for path, d in destinations(name, core):
            if d.core in seen:
                yield Finding(path, f"core '{name}' sends to '{d.core}' twice",
                              related=((seen[d.core], "first listed here"),))
            else:
                seen[d.core] = path


@rule("input-dest-max", Severity.ERROR,
      "the input layer has 2 destination slots: feed one core and let it forward", integrity=True)
def input_dest_max(ctx: RuleContext) -> Iterator[Finding]:
    """The input (DVS) layer has two destination slots, like every core."""
    slots = ctx.chip.limits.destinations
    n = len(ctx.network.input.to)
    if n > slots:
        yield Finding(("input", "to"), f"the input has {n} destinations; it has {slots}",
                      at_key=True)


@rule("input-dest-empty", Severity.ERROR, "name the core that receives the input under `to:`")
def input_dest_empty(ctx: RuleContext) -> Iterator[Finding]:
    """Events that go nowhere: the input must feed at least one core."""
    if not ctx.network.input.to:
        yield Finding(("input", "to"), "the input sends its events nowhere", at_key=True)

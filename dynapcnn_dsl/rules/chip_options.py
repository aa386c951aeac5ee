"""Rules about options that only some chips have (decimator, balancer, kill bits)."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import core_path, fmt_choices


@rule("decimator-chip", Severity.ERROR, "the output decimator exists on speck2e and speck2f only")
def decimator_chip(ctx: RuleContext) -> Iterator[Finding]:
    """Output decimation is a speck2e/2f feature."""
    if ctx.chip.decimator:
        return
    for name, core in ctx.network.cores.items():
        if core.decimator is not None:
            yield Finding(core_path(name, "decimator"),
                          f"core '{name}': {ctx.chip.id} has no output decimator", at_key=True)


@rule("decimator-value", Severity.ERROR,
      "the decimator keeps 1 event in 2, 4, 8, 16, 32, 128, 256 or 512 (there is no 64)", integrity=True)
def decimator_value(ctx: RuleContext) -> Iterator[Finding]:
    """The decimator ratio is one of the eight the hardware encodes."""
    ratios = ctx.chip.limits.decimator_ratios
    for name, core in ctx.network.cores.items():
        if core.decimator is not None and core.decimator not in ratios:
            yield Finding(core_path(name, "decimator"),
                          f"core '{name}': decimator {core.decimator} is not {fmt_choices(ratios)}")


@rule("congestion-balancer-chip", Severity.ERROR,
      "the input congestion balancer exists on speck2e and speck2f only")
def congestion_balancer_chip(ctx: RuleContext) -> Iterator[Finding]:
    """The input congestion balancer is a speck2e/2f feature."""
    if ctx.chip.congestion_balancer:
        return
    for name, core in ctx.network.cores.items():
        if core.congestion_balancer:
            yield Finding(core_path(name, "congestion_balancer"),
                          f"core '{name}': {ctx.chip.id} has no congestion balancer", at_key=True)


@rule("kill-bits-chip", Severity.ERROR,
      "kill bits exist on dynapcnn and speck2b only: zero the weights of those features instead")
def kill_bits_chip(ctx: RuleContext) -> Iterator[Finding]:
    """Kill bits are a legacy-chip feature."""
    if ctx.chip.kill_bits:
        return
    for name, core in ctx.network.cores.items():
        if core.kill_features:
            yield Finding(core_path(name, "kill_features"),
                          f"core '{name}': {ctx.chip.id} has no kill bits", at_key=True)


@rule("kill-feature-range", Severity.ERROR,
      "kill_features lists output features of this core: 0..out_channels-1, each once", integrity=True)
def kill_feature_range(ctx: RuleContext) -> Iterator[Finding]:
    """A killed feature must be one of the core's output features, listed once."""
    for name, core in ctx.network.cores.items():
        seen: dict[int, int] = {}
        for i, f in enumerate(core.kill_features):
            path = core_path(name, "kill_features", i)
            if not 0 <= f < core.conv.out_channels:
                yield Finding(path, f"core '{name}': feature {f} is outside "
                              f"0..{core.conv.out_channels - 1}")
            elif f in seen:
                first = core_path(name, "kill_features", seen[f])
                yield Finding(path, f"core '{name}': feature {f} is listed twice",
                              related=((first, "first listed here"),))
            else:
                seen[f] = i

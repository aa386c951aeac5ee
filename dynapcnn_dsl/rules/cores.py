"""Rules about the set of cores: how many, their names and their pins."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dynapcnn_dsl.chips import INPUT, READOUT
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import core_path

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
RESERVED = (READOUT, INPUT)


@rule("core-count", Severity.ERROR,
      "the chip has 9 cores: merge layers, or split the network over two chips")
def core_count(ctx: RuleContext) -> Iterator[Finding]:
    """A chip has a fixed number of cores; a network uses at least one and at most all."""
    n, cores = len(ctx.network.cores), ctx.chip.limits.cores
    if n == 0:
        yield Finding(("cores",), "the network has no cores",
                      hint="add at least one core under `cores:`", at_key=True)
    elif n > cores:
        yield Finding(("cores",), f"the network has {n} cores; {ctx.chip.id} has {cores}",
                      at_key=True)


@rule("core-name", Severity.ERROR,
      "use a name of letters, digits, '_' and '-', starting with a letter or '_'")
def core_name(ctx: RuleContext) -> Iterator[Finding]:
    """Core names are references: plain identifiers, never a reserved word. Dots only join the
    scopes of template instances (`block1.a`), each part an identifier."""
    for name in ctx.network.cores:
        if name in RESERVED:
            yield Finding(core_path(name), f"'{name}' is reserved and cannot name a core",
                          hint=f"rename the core, e.g. '{name}_core'", at_key=True)
        elif not all(NAME.match(part) for part in name.split(".")):
            yield Finding(core_path(name), f"'{name}' is not a valid core name", at_key=True)


@rule("core-index", Severity.ERROR,
      "pin to a physical core 0..8, or remove `index:` and let the linker place the core", integrity=True)
def core_index(ctx: RuleContext) -> Iterator[Finding]:
    """`index:` pins a core to a physical core, which must exist."""
    last = ctx.chip.limits.cores - 1
    for name, core in ctx.network.cores.items():
        if core.index is not None and not 0 <= core.index <= last:
            yield Finding(core_path(name, "index"),
                          f"core '{name}': index {core.index} is outside 0..{last}")


@rule("core-index-duplicate", Severity.ERROR,
      "each physical core runs one layer: pin one of them elsewhere, or remove a pin", integrity=True)
def core_index_duplicate(ctx: RuleContext) -> Iterator[Finding]:
    """Two cores cannot be pinned to the same physical core."""
    owner: dict[int, str] = {}
    for name, core in ctx.network.cores.items():
        if core.index is None:
            continue
        if core.index in owner:
            first = owner[core.index]
            yield Finding(core_path(name, "index"),
                          f"cores '{first}' and '{name}' are both pinned to index {core.index}",
                          related=((core_path(first, "index"), f"'{first}' is pinned here"),))
        else:
            owner[core.index] = name


@rule("legacy-chip", Severity.WARNING,
      "samna >= 0.46 supports only speck2e and speck2f: pin samna < 0.46 to deploy this chip")
def legacy_chip(ctx: RuleContext) -> Iterator[Finding]:
    """speck2b and dynapcnn are supported only by samna releases before 0.46."""
    if ctx.chip.legacy:
        yield Finding(("chip",), f"{ctx.chip.id} needs samna < 0.46")

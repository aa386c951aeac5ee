"""Link-stage rules about memory and placement on the chip's nine physical cores."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.chips import CoreMemory
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.link.context import LinkContext
from dynapcnn_dsl.link.data import MemoryUse
from dynapcnn_dsl.link.memory import fits, ki, shortfalls
from dynapcnn_dsl.rules.registry import LINK, Finding, rule


def needs(use: MemoryUse) -> str:
    return f"kernel {ki(use.kernel)}, neuron {ki(use.neuron)}, bias {ki(use.bias)}"


def ranges(indices: list[int] | tuple[int, ...]) -> str:
    """[0, 1, 2, 5, 6] -> '0-2, 5-6'."""
    out: list[str] = []
    for i in sorted(indices):
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


def _largest(memory: tuple[CoreMemory, ...], kind: str) -> str:
    best = max(getattr(m, kind) for m in memory)
    return f"{ki(best)} on cores {ranges([m.index for m in memory if getattr(m, kind) == best])}"


@rule("core-memory", Severity.ERROR,
      "shrink the core: fewer features, a smaller output map (stride, or pooling before it), or "
      "split it over two cores", stage=LINK, integrity=True)
def core_memory(ctx: LinkContext) -> Iterator[Finding]:
    """A core's kernel, neuron and bias memory fit at least one physical core."""
    memory = ctx.chip.memory
    for name, use in ctx.memory.items():
        if not any(fits(use, m) for m in memory):
            over = [kind for kind in ("kernel", "neuron", "bias")
                    if getattr(use, kind) > max(getattr(m, kind) for m in memory)]
            detail = "; ".join(f"the most {kind} memory is {_largest(memory, kind)}" for kind in over)
            if not over:
                detail = "no single core has enough of all three at once"
            yield Finding(("cores", name), f"core '{name}' needs {needs(use)}: it fits no core "
                          f"({detail})", at_key=True)


@rule("index-memory", Severity.ERROR,
      "pin the core to a physical core with enough memory, or remove `index:`", stage=LINK, integrity=True)
def index_memory(ctx: LinkContext) -> Iterator[Finding]:
    """A pinned core fits the memory of the physical core it is pinned to."""
    memory = ctx.chip.memory
    for d in ctx.demands:
        if d.pin is None or not 0 <= d.pin < len(memory) or fits(d.use, memory[d.pin]):
            continue
        others = [m.index for m in memory if fits(d.use, m)]
        where = f"cores {ranges(others)} fit" if others else "no core fits"
        yield Finding(("cores", d.name, "index"),
                      f"core '{d.name}' is pinned to core {d.pin}, which is too small: "
                      f"{', '.join(shortfalls(d.use, memory[d.pin]))} ({where})")


@rule("placement", Severity.ERROR,
      "shrink one of these cores (fewer features, a smaller map), or remove a pin that blocks "
      "the cores they need", stage=LINK, integrity=True)
def placement(ctx: LinkContext) -> Iterator[Finding]:
    """Every core gets its own physical core with enough memory; when that is impossible, the
    message names a group of k cores that fits into fewer than k physical cores."""
    p = ctx.placement
    if p is None or p.shortage is None:
        return
    s = p.shortage
    by_name = {d.name: d for d in ctx.demands}
    parts = []
    for name in s.cores:
        d = by_name[name]
        pin = f", pinned to {d.pin}" if d.pin is not None else ""
        parts.append(f"'{name}' ({needs(d.use)}{pin})")
    where = f"physical core{'s' if len(s.physical) != 1 else ''} {ranges(s.physical)}"
    if not s.physical:
        where = "no free physical core"
    yield Finding(("cores",), f"no placement exists: {len(s.cores)} cores fit only into {where}: "
                  f"{'; '.join(parts)}", at_key=True)


@rule("leak-core", Severity.WARNING,
      "the datasheet lists leak (bias) as broken on cores 0 and 1: pin this core elsewhere",
      stage=LINK)
def leak_core(ctx: LinkContext) -> Iterator[Finding]:
    """A core with a bias (leak) placed on core 0 or 1 may not leak (one report says it works)."""
    p = ctx.placement
    if p is None or p.assignment is None:
        return
    unreliable = ctx.chip.limits.leak_unreliable_cores
    for name, index in p.assignment.items():
        if ctx.network.cores[name].conv.bias and index in unreliable:
            yield Finding(("cores", name), f"core '{name}' has a bias (leak) and is placed on core "
                          f"{index}", at_key=True)

"""Memory a core needs, by the formulas of the datasheet (shared/HARDWARE.md).

kernel = c_in * 2^(ceil(log2(k*k)) + ceil(log2(c_out)))
neuron = c_out * 2^(ceil(log2(out_h)) + ceil(log2(out_w)))   (conv output, before pooling)
bias   = c_out when the core has a bias, else 0
"""

from __future__ import annotations

from dynapcnn_dsl.chips import CoreMemory
from dynapcnn_dsl.link.data import MemoryUse


def ceil_log2(n: int) -> int:
    """The smallest e with 2**e >= n (0 for n <= 1); exact for integers, unlike math.log2."""
    return max(n - 1, 0).bit_length()


def memory_use(c_in: int, c_out: int, kernel: int, out_h: int, out_w: int, bias: bool) -> MemoryUse:
    return MemoryUse(
        kernel=c_in * 2 ** (ceil_log2(kernel * kernel) + ceil_log2(c_out)),
        neuron=c_out * 2 ** (ceil_log2(out_h) + ceil_log2(out_w)),
        bias=c_out if bias else 0,
    )


def fits(use: MemoryUse, core: CoreMemory) -> bool:
    """Limits are inclusive: a layer needing exactly 16 Ki fits a 16 Ki core."""
    return use.kernel <= core.kernel and use.neuron <= core.neuron and use.bias <= core.bias


def shortfalls(use: MemoryUse, core: CoreMemory) -> list[str]:
    """What does not fit: ['kernel 24 Ki > 16 Ki', ...]."""
    out = []
    for kind in ("kernel", "neuron", "bias"):
        need, have = getattr(use, kind), getattr(core, kind)
        if need > have:
            out.append(f"{kind} {ki(need)} > {ki(have)}")
    return out


def ki(n: int) -> str:
    """Entries as a user reads them: 16 Ki, 1.5 Ki, 700, and 65537 exactly (never a rounded
    figure that would look equal to a limit it exceeds)."""
    if n >= 1024 and n % 512 == 0:
        return f"{n / 1024:g} Ki"
    return str(n)

"""Rules about a core's convolution: kernel, stride, padding and feature counts."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import core_path, fmt_choices, fmt_range


@rule("conv-kernel", Severity.ERROR,
      "the chip's kernels are square, 1..16: use a smaller kernel or stride/pool first")
def conv_kernel(ctx: RuleContext) -> Iterator[Finding]:
    """A kernel is square with a side of 1..16."""
    lo, hi = ctx.chip.limits.kernel
    for name, core in ctx.network.cores.items():
        k = core.conv.kernel
        if not lo <= k <= hi:
            yield Finding(core_path(name, "conv", "kernel"),
                          f"core '{name}': kernel {k} is outside {fmt_range(lo, hi)}")


@rule("conv-stride", Severity.ERROR, "use a stride of 1, 2, 4 or 8 on each axis")
def conv_stride(ctx: RuleContext) -> Iterator[Finding]:
    """Strides are powers of two up to 8, per axis."""
    allowed = ctx.chip.limits.stride
    for name, core in ctx.network.cores.items():
        for axis, s in core.conv.stride.per_axis():
            if s not in allowed:
                path = core_path(name, "conv", "stride", *([axis] if axis else []))
                label = f"stride {axis}" if axis else "stride"
                yield Finding(path, f"core '{name}': {label} {s} is not {fmt_choices(allowed)}")


@rule("conv-padding", Severity.ERROR, "use a padding of 0..7 on each axis")
def conv_padding(ctx: RuleContext) -> Iterator[Finding]:
    """Padding is 0..7 per axis."""
    lo, hi = ctx.chip.limits.padding
    for name, core in ctx.network.cores.items():
        for axis, p in core.conv.padding.per_axis():
            if not lo <= p <= hi:
                path = core_path(name, "conv", "padding", *([axis] if axis else []))
                label = f"padding {axis}" if axis else "padding"
                yield Finding(path, f"core '{name}': {label} {p} is outside {fmt_range(lo, hi)}")


@rule("conv-features", Severity.ERROR,
      "a core has 1..1024 input and output features: split wider layers over two cores")
def conv_features(ctx: RuleContext) -> Iterator[Finding]:
    """Input and output feature counts are 1..1024."""
    lo, hi = ctx.chip.limits.features
    for name, core in ctx.network.cores.items():
        for key in ("out_channels", "in_channels"):
            n = getattr(core.conv, key)
            if n is not None and not lo <= n <= hi:
                yield Finding(core_path(name, "conv", key),
                              f"core '{name}': {key} {n} is outside {fmt_range(lo, hi)}")

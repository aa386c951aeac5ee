"""Link-stage rules about shapes: what arrives at each core, what its convolution makes of it,
and whether the chip can hold that."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.link.context import LinkContext
from dynapcnn_dsl.rules.registry import LINK, Finding, rule


def _core(name: str, *rest: str) -> tuple[str, ...]:
    return ("cores", name, *rest)


def _map(h: int, w: int) -> str:
    return f"{h}x{w}"


@rule("conv-in-channels", Severity.ERROR,
      "remove `in_channels` (the linker infers it) or make the sources deliver that many features",
      stage=LINK)
def conv_in_channels(ctx: LinkContext) -> Iterator[Finding]:
    """An explicit `in_channels` must equal the features that arrive."""
    for name, s in ctx.shapes.cores.items():
        declared = ctx.network.cores[name].conv.in_channels
        if declared is not None and s.arrivals and declared != s.input_shape.features:
            yield Finding(_core(name, "conv", "in_channels"),
                          f"core '{name}' declares in_channels {declared}, but its sources deliver "
                          f"{s.input_shape.features} features")


@rule("core-input-features", Severity.ERROR,
      "a core takes at most 1024 input features: concatenate fewer sources", stage=LINK)
def core_input_features(ctx: LinkContext) -> Iterator[Finding]:
    """The features arriving at a core (summed over a concat) fit its 1024 inputs."""
    hi = ctx.chip.limits.features[1]
    for name, s in ctx.shapes.cores.items():
        if s.input_shape.features > hi:
            yield Finding(_core(name), f"core '{name}' receives {s.input_shape.features} features; "
                          f"a core takes at most {hi}", at_key=True)


@rule("core-input-map", Severity.ERROR,
      "pool or stride earlier so that at most 128x128 arrives", stage=LINK)
def core_input_map(ctx: LinkContext) -> Iterator[Finding]:
    """A core's input map is at most 128x128."""
    limit = ctx.chip.limits.input_map
    for name, s in ctx.shapes.cores.items():
        h, w = s.input_shape.height, s.input_shape.width
        if h > limit or w > limit:
            yield Finding(_core(name), f"core '{name}' receives a {_map(h, w)} map; a core takes at "
                          f"most {limit}x{limit}", at_key=True)


@rule("map-empty", Severity.ERROR,
      "use a smaller kernel, more padding, or less pooling/stride before this core", stage=LINK)
def map_empty(ctx: LinkContext) -> Iterator[Finding]:
    """Pooling or a convolution must not shrink a map to nothing. Reported where the map first
    vanishes, not again at every core after it (the input's own map included)."""
    inp = ctx.shapes.input
    if _empty(inp.height, inp.width):
        where = ("input", "pool") if ctx.network.input.pool is not None else ("input", "shape")
        yield Finding(where, f"the input delivers an empty {_map(inp.height, inp.width)} map")
    for name, s in ctx.shapes.cores.items():
        for a in s.arrivals:
            src = ctx.shapes.cores.get(a.link.source)
            src_out = src.output_shape if src else ctx.shapes.input
            if _empty(src_out.height, src_out.width):
                continue  # already empty where it comes from: reported there
            if _empty(a.shape.height, a.shape.width):
                yield Finding((*a.link.path, "pool"), f"pooling {_map(src_out.height, src_out.width)}"
                              f" by {a.link.pool} towards '{name}' leaves an empty map")
                break
        else:
            out = s.output_shape
            if _empty(out.height, out.width) and not _empty(s.input_shape.height, s.input_shape.width):
                core = ctx.network.cores[name]
                px, py = core.conv.padding.pair()
                k = core.conv.kernel
                yield Finding(_core(name, "conv", "kernel"),
                              f"core '{name}': the {k}x{k} kernel on the "
                              f"{_map(s.input_shape.height, s.input_shape.width)} input map (padding "
                              f"x {px}, y {py}) leaves no output")


def _empty(h: int, w: int) -> bool:
    return h <= 0 or w <= 0


@rule("conv-output-map", Severity.ERROR,
      "a core's output is at most 64x64: use stride 2 here, or pool the events before this core",
      stage=LINK)
def conv_output_map(ctx: LinkContext) -> Iterator[Finding]:
    """The convolution's output map (before pooling) is at most 64x64."""
    limit = ctx.chip.limits.output_map
    for name, s in ctx.shapes.cores.items():
        out = s.output_shape
        if out.height > limit or out.width > limit:
            yield Finding(_core(name, "conv"), f"core '{name}': the convolution outputs a "
                          f"{_map(out.height, out.width)} map (input "
                          f"{_map(s.input_shape.height, s.input_shape.width)}); a core outputs at "
                          f"most {limit}x{limit}", at_key=True)


@rule("pool-remainder", Severity.WARNING,
      "choose sizes divisible by the pooling; torch's SumPool2d drops the remainder too, but on "
      "the chip those events land outside the receiver's map", stage=LINK)
def pool_remainder(ctx: LinkContext) -> Iterator[Finding]:
    """Pooling a map whose size is not a multiple of the pool size loses its last rows/columns."""
    for name, s in ctx.shapes.cores.items():
        for a in s.arrivals:
            src = ctx.shapes.cores.get(a.link.source)
            if src is None or a.link.pool <= 1:
                continue  # (a pool below 1 leaves nothing: map-empty reports it)
            h, w = src.output_shape.height, src.output_shape.width
            if _empty(h // a.link.pool, w // a.link.pool):
                continue  # nothing left at all: map-empty says so
            if h % a.link.pool or w % a.link.pool:
                yield Finding((*a.link.path, "pool"),
                              f"'{a.link.source}' outputs {_map(h, w)}, not divisible by pool "
                              f"{a.link.pool}: '{name}' sees {_map(h // a.link.pool, w // a.link.pool)}")


@rule("readout-features", Severity.ERROR,
      "make the readout's source core output exactly one feature per class", stage=LINK)
def readout_features(ctx: LinkContext) -> Iterator[Finding]:
    """The readout's classes are the output features of its source core, one each."""
    r = ctx.network.readout
    if r is None or r.from_ not in ctx.network.cores:
        return
    out = ctx.network.cores[r.from_].conv.out_channels
    if out != r.classes:
        yield Finding(("readout", "classes"), f"the readout has {r.classes} classes, but "
                      f"'{r.from_}' outputs {out} features")

"""Rules about the input: its shape and the DVS pre-processing options."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import fmt_choices

DVS_ONLY = ("pool", "crop", "flip", "polarity", "monitor")
POLARITY_CHANNELS = {"both": 2, "on": 1, "off": 1, "merge": 1}


@rule("input-shape", Severity.ERROR,
      "write `shape: [channels, height, width]` with a map of at most 128x128")
def input_shape(ctx: RuleContext) -> Iterator[Finding]:
    """The input is [channels, height, width]: 1..1024 channels, a map of at most 128x128."""
    shape = ctx.network.input.shape
    if len(shape) != 3:
        yield Finding(("input", "shape"),
                      f"the input shape has {len(shape)} entries; it needs 3: [channels, height, width]")
        return
    lo, hi = ctx.chip.limits.features
    if not lo <= shape[0] <= hi:
        yield Finding(("input", "shape", 0), f"the input has {shape[0]} channels; allowed {lo}..{hi}")
    limit = ctx.chip.limits.input_map
    for i, axis in ((1, "height"), (2, "width")):
        if not 1 <= shape[i] <= limit:
            yield Finding(("input", "shape", i),
                          f"the input {axis} is {shape[i]}; the chip takes 1..{limit}")


@rule("input-dvs-only", Severity.ERROR,
      "pool, crop, flip, polarity and monitor describe the DVS layer: set `source: dvs` or remove them")
def input_dvs_only(ctx: RuleContext) -> Iterator[Finding]:
    """Host events bypass the DVS pre-processing, so its options mean nothing for them
    (writing a default such as `polarity: both` is harmless and accepted)."""
    inp = ctx.network.input
    if inp.source != "host":
        return
    defaults = type(inp).model_fields
    for key in DVS_ONLY:
        if key in inp.model_fields_set and getattr(inp, key) != defaults[key].default:
            yield Finding(("input", key), f"`{key}` applies only to `source: dvs`", at_key=True)


@rule("dvs-chip", Severity.WARNING,
      "this chip has no on-chip sensor: events must come from an external DVS on the devkit")
def dvs_chip(ctx: RuleContext) -> Iterator[Finding]:
    """`source: dvs` on a chip without a sensor relies on an external camera."""
    if ctx.network.input.source == "dvs" and not ctx.chip.dvs_sensor:
        yield Finding(("input", "source"), f"{ctx.chip.id} has no on-chip DVS sensor")


@rule("dvs-pool", Severity.ERROR, "use DVS pooling of 1, 2 or 4 on each axis")
def dvs_pool(ctx: RuleContext) -> Iterator[Finding]:
    """The DVS layer pools by 1, 2 or 4 per axis."""
    inp = ctx.network.input
    if inp.pool is None:
        return
    allowed = ctx.chip.limits.dvs_pool
    for axis, p in inp.pool.per_axis():
        if p not in allowed:
            label = f"DVS pool {axis}" if axis else "DVS pool"
            yield Finding(("input", "pool", *([axis] if axis else [])),
                          f"{label} {p} is not {fmt_choices(allowed)}")


@rule("dvs-polarity-channels", Severity.ERROR,
      "`polarity: both` gives 2 channels; `on`, `off` and `merge` give 1")
def dvs_polarity_channels(ctx: RuleContext) -> Iterator[Finding]:
    """The DVS input's channel count follows from its polarity setting."""
    inp = ctx.network.input
    if inp.source != "dvs" or len(inp.shape) != 3:
        return
    want = POLARITY_CHANNELS[inp.polarity]
    if inp.shape[0] != want:
        yield Finding(("input", "shape", 0),
                      f"`polarity: {inp.polarity}` gives {want} channel{'s' * (want > 1)}; "
                      f"the shape says {inp.shape[0]}")


@rule("dvs-crop", Severity.ERROR,
      "crop is in pooled coordinates: keep origin + size within the pooled sensor map")
def dvs_crop(ctx: RuleContext) -> Iterator[Finding]:
    """The region of interest lies inside the pooled map (origin 0..127, cut = origin+size-1)."""
    inp = ctx.network.input
    if inp.crop is None or len(inp.shape) != 3:
        return
    px, py = inp.pooling()
    pooled = {"x": inp.shape[2] // max(px, 1), "y": inp.shape[1] // max(py, 1)}
    last = ctx.chip.limits.dvs_sensor_size - 1
    for axis in ("x", "y"):
        origin = getattr(inp.crop.origin, axis)
        size = getattr(inp.crop.size, axis)
        if not 0 <= origin <= last:
            yield Finding(("input", "crop", "origin", axis),
                          f"crop origin {axis} {origin} is outside 0..{last}")
        elif size < 1:
            yield Finding(("input", "crop", "size", axis), f"crop size {axis} {size} must be at least 1")
        elif origin + size > pooled[axis]:
            yield Finding(("input", "crop", "size", axis),
                          f"crop {axis} covers {origin}..{origin + size - 1}, past the pooled map "
                          f"of {pooled[axis]}")

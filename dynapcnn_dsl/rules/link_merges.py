"""Link-stage rules about cores with several sources: sums, concatenations and their shifts."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from dynapcnn_dsl.chips import INPUT
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.link.context import LinkContext
from dynapcnn_dsl.rules.registry import LINK, Finding, rule


def _listing(arrivals) -> str:
    return ", ".join(f"'{a.link.source}' {a.shape}" for a in arrivals)


def _notes(arrivals) -> tuple:
    return tuple((a.link.path, f"'{a.link.source}' delivers {a.shape}") for a in arrivals)


@rule("merge-map", Severity.ERROR,
      "every source must arrive with the same map size: adjust the pooling of its link", stage=LINK)
def merge_map(ctx: LinkContext) -> Iterator[Finding]:
    """Sources of one core deliver the same map size after their pooling (sum or concat)."""
    for name, s in ctx.shapes.cores.items():
        maps = {(a.shape.height, a.shape.width) for a in s.arrivals}
        if len(maps) > 1:
            yield Finding(("cores", name), f"core '{name}' receives maps of different sizes: "
                          f"{_listing(s.arrivals)}", at_key=True, related=_notes(s.arrivals))


@rule("merge-sum", Severity.ERROR,
      "a sum adds sources feature by feature: give them equal feature counts, or use "
      "`merge: concat` with `from:` to stack them", stage=LINK)
def merge_sum(ctx: LinkContext) -> Iterator[Finding]:
    """Sources summed onto the same features have the same feature count."""
    for name, s in ctx.shapes.cores.items():
        if ctx.network.cores[name].merge != "sum" or len(s.arrivals) < 2:
            continue
        if any(a.link.feature_shift for a in s.arrivals):
            continue  # an explicit layout: checked by feature-layout
        if len({a.shape.features for a in s.arrivals}) > 1:
            yield Finding(("cores", name), f"core '{name}' sums sources with different feature "
                          f"counts: {_listing(s.arrivals)}", at_key=True, related=_notes(s.arrivals))


@rule("concat-shift", Severity.ERROR,
      "remove the explicit feature_shift: the linker computes it from the `from:` order", stage=LINK)
def concat_shift(ctx: LinkContext) -> Iterator[Finding]:
    """An explicit feature_shift into a concat receiver equals the computed one."""
    for name, s in ctx.shapes.cores.items():
        if ctx.network.cores[name].merge != "concat":
            continue
        for a in s.arrivals:
            given = a.link.feature_shift
            if given is not None and given != a.shift and a.link.source != INPUT:
                yield Finding((*a.link.path, "feature_shift"),
                              f"'{a.link.source}' is concatenated into '{name}' at feature {a.shift} "
                              f"(after the sources before it in `from:`), not {given}")


@rule("feature-layout", Severity.WARNING,
      "with explicit shifts, make sources either share a feature range (a sum) or use disjoint "
      "ones (a concat) that cover every input feature", stage=LINK)
def feature_layout(ctx: LinkContext) -> Iterator[Finding]:
    """Hand-written feature shifts should tile the receiver's features: no gaps, and ranges
    that are either identical (summed) or disjoint (stacked)."""
    for name, s in ctx.shapes.cores.items():
        if ctx.network.cores[name].merge != "sum" or not any(a.link.feature_shift for a in s.arrivals):
            continue
        ranges = {(a.shift, a.shift + a.shape.features) for a in s.arrivals}
        covered = set()
        for lo, hi in ranges:
            covered.update(range(lo, hi))
        gaps = sorted(set(range(s.input_shape.features)) - covered)
        if gaps:
            yield Finding(("cores", name), f"core '{name}': input features {_span(gaps)} receive no "
                          f"events ({_listing_ranges(s.arrivals)})", at_key=True,
                          related=_notes(s.arrivals))
        for (_, hi1), (lo2, hi2) in pairwise(sorted(ranges)):
            if lo2 < hi1:
                yield Finding(("cores", name), f"core '{name}': sources partly overlap on features "
                              f"{lo2}..{min(hi1, hi2) - 1} ({_listing_ranges(s.arrivals)})",
                              at_key=True, related=_notes(s.arrivals))
                break


def _span(values: list[int]) -> str:
    return f"{values[0]}..{values[-1]}" if len(values) > 1 else str(values[0])


def _listing_ranges(arrivals) -> str:
    return ", ".join(f"'{a.link.source}' {a.shift}..{a.shift + a.shape.features - 1}"
                     for a in arrivals)


@rule("input-shift", Severity.ERROR,
      "the input layer's destinations have no feature shift: list `input` first in `from:`",
      stage=LINK)
def input_shift(ctx: LinkContext) -> Iterator[Finding]:
    """Only cores can shift features; input events always arrive at features 0..C-1."""
    for name, s in ctx.shapes.cores.items():
        for a in s.arrivals:
            if a.link.source == INPUT and a.shift != 0:
                yield Finding(("cores", name, "from"),
                              f"core '{name}' would need the input's events shifted to feature "
                              f"{a.shift}, which the input layer cannot do", at_key=True)

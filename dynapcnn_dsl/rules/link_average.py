"""Link-stage rule about average pooling (`average: true`) into a core with several sources."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.link.context import LinkContext
from dynapcnn_dsl.rules.registry import LINK, Finding, rule


def _factor(arrival) -> str:
    link = arrival.link
    return f"1/{link.pool * link.pool}" if link.weight_factor != 1.0 else "1"


@rule("average-mixed", Severity.ERROR,
      "average (or sum) every source into this core alike, or use `merge: concat`, where each "
      "source has its own input features and its own factor", stage=LINK, integrity=True)
def average_mixed(ctx: LinkContext) -> Iterator[Finding]:
    """Sources summed onto the same input features need the same averaging factor: the chip
    sums the events before the convolution, so one weight per input feature serves every
    source. (sinabs silently uses round(mean(factors) * 0.5, 2) for all of them, which is right
    for none.) The fold step relies on it: it scales each source's features by its own factor.
    """
    for name, s in ctx.shapes.cores.items():
        for a, b in combinations(s.arrivals, 2):
            overlap = a.shift < b.shift + b.shape.features and b.shift < a.shift + a.shape.features
            if overlap and a.link.weight_factor != b.link.weight_factor:
                yield Finding(("cores", name), f"core '{name}' sums '{a.link.source}' (weights "
                              f"x{_factor(a)}) and '{b.link.source}' (weights x{_factor(b)}) onto "
                              "the same input features: one weight per feature cannot scale both",
                              at_key=True, related=((a.link.path, f"'{a.link.source}' arrives here"),
                                                    (b.link.path, f"'{b.link.source}' arrives here")))
                break

"""Rules about the readout layer."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule


@rule("readout-classes", Severity.ERROR,
      "the readout has at most 15 classes (sources say 15, 16 and '< 15'; 15 is the safe bound)")
def readout_classes(ctx: RuleContext) -> Iterator[Finding]:
    """The readout distinguishes 1..15 classes."""
    r = ctx.network.readout
    limit = ctx.chip.limits.readout_classes
    if r is not None and not 1 <= r.classes <= limit:
        yield Finding(("readout", "classes"), f"the readout has {r.classes} classes; allowed 1..{limit}")


@rule("readout-threshold", Severity.ERROR, "the readout threshold is a 16-bit value")
def readout_threshold(ctx: RuleContext) -> Iterator[Finding]:
    """The readout threshold is a 16-bit register."""
    r = ctx.network.readout
    lo, hi = ctx.chip.limits.neuron_state
    if r is not None and not lo <= r.threshold <= hi:
        yield Finding(("readout", "threshold"), f"readout threshold {r.threshold} is outside {lo}..{hi}")


@rule("readout-chip", Severity.ERROR,
      "read the classes from a monitored core instead (`monitor: true` on the last core)")
def readout_chip(ctx: RuleContext) -> Iterator[Finding]:
    """speck2b lists a readout that does not work."""
    if ctx.network.readout is not None and ctx.chip.readout == "unusable":
        yield Finding(("readout",), f"the readout of {ctx.chip.id} is not usable", at_key=True)


@rule("readout-untested", Severity.WARNING,
      "nobody has documented this readout: verify it on the device, or monitor the last core")
def readout_untested(ctx: RuleContext) -> Iterator[Finding]:
    """dynapcnn's readout behaviour is undocumented."""
    if ctx.network.readout is not None and ctx.chip.readout == "unknown":
        yield Finding(("readout",), f"the readout of {ctx.chip.id} is undocumented", at_key=True)


@rule("readout-errata", Severity.ERROR,
      "keep `errata_remap: true` (the default): the router sends class k to feature 4*(k-1)")
def readout_errata(ctx: RuleContext) -> Iterator[Finding]:
    """On speck2e/2f class k is read from feature 4*(k-1); without the remap classes 2.. are wrong."""
    r = ctx.network.readout
    if r is None or r.errata_remap is not False or r.classes <= 1:
        return
    if ctx.chip.readout_errata:
        wrong = "class 2" if r.classes == 2 else f"classes 2..{r.classes}"
        yield Finding(("readout", "errata_remap"),
                      f"with errata_remap false, {wrong} would read the wrong features on {ctx.chip.id}")

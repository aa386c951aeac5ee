"""Rules about binding the model's own checkpoint: neurons read from it, what can be folded,
and whether anything leaves the chip at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.link.data import LinkedNetwork
from dynapcnn_dsl.load.source import SourceMap
from dynapcnn_dsl.rules.registry import BUILD, Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import core_path, destinations

FROM_CHECKPOINT = ("threshold", "min_v_mem")


@rule("neuron-weights", Severity.ERROR,
      "with `neuron: {weights: P}` the threshold and min_v_mem come from the checkpoint: remove "
      "the core's own values, or remove `weights:` to write them here")
def neuron_weights(ctx: RuleContext) -> Iterator[Finding]:
    """A neuron read from the checkpoint writes no threshold or min_v_mem of its own: two
    sources for one value would leave the reader guessing which one the chip gets."""
    for name, core in ctx.network.cores.items():
        n = core.neuron
        if n.weights is None:
            continue
        for key in FROM_CHECKPOINT:
            if n.given(key):
                yield Finding(core_path(name, "neuron", key), f"core '{name}': `{key}` beside "
                              f"`weights: {n.weights}`, which reads it from "
                              f"'{n.weights}.{'spike_threshold' if key == 'threshold' else key}'",
                              at_key=True)


@rule("fold-integers", Severity.ERROR,
      "use `quantize: auto`: folding a BatchNorm or an average makes fractional weights",
      integrity=True)
def fold_integers(ctx: RuleContext) -> Iterator[Finding]:
    """With `quantize: none` the file holds the chip's integers: nothing can be folded into them
    (the quantize step takes them as they are, so it relies on this)."""
    if ctx.network.quantize != "none":
        return
    for name, core in ctx.network.cores.items():
        if core.batchnorm is not None:
            yield Finding(core_path(name, "batchnorm"), f"core '{name}' folds a BatchNorm, but the "
                          "file says `quantize: none` (the weights are the chip's integers)",
                          at_key=True)
        for path, d in destinations(name, core):
            if d.average:
                yield Finding((*path, "average"), f"core '{name}' averages on its link to "
                              f"'{d.core}', but the file says `quantize: none` (the receiver's "
                              "weights are the chip's integers)", at_key=True)


class BuildContext(NamedTuple):
    """What a build-stage rule may look at: the linked network about to be built."""

    linked: LinkedNetwork
    source_map: SourceMap


@rule("no-output", Severity.WARNING,
      "set `monitor: true` on the core whose events you want, or add a `readout:`", stage=BUILD)
def no_output(ctx: BuildContext) -> Iterator[Finding]:
    """Some event leaves the chip: a monitored core or a readout. Without either the network
    runs, but nothing it computes is ever seen."""
    linked = ctx.linked
    if linked.readout is not None or any(c.monitor for c in linked.cores):
        return
    yield Finding(("cores",), "no event leaves the chip: no core is monitored and there is no "
                  "readout", at_key=True)

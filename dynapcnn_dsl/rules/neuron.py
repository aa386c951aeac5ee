"""Rules about a core's neurons: thresholds and initial state.

With `quantize: auto` the values are floats in the units of the weights and are checked again
after quantization (by the weight loader); here they must at least be finite and on the right
side of zero. With `quantize: none` they are the chip's integers and must fit its 16-bit ranges.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from dynapcnn_dsl.chips import language_limits
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules.registry import Finding, RuleContext, rule
from dynapcnn_dsl.rules.walk import core_path, fmt_range

FLOAT_MAX = language_limits().float_max
"""Thresholds and states are quantized in float32: a larger value would become inf there."""


def _finite(value: float) -> bool:
    """Finite, and finite in float32 too (`1e39` is a float64 number, but no float32 one)."""
    return math.isfinite(value) and abs(value) <= FLOAT_MAX


def _beyond(value: float) -> str:
    """The note for a value that only float32 cannot hold."""
    return f" (at most {FLOAT_MAX:.4g} in size: values are quantized in float32)" \
        if math.isfinite(value) and not _finite(value) else ""


def _integer_problem(value: float, lo: int, hi: int) -> str | None:
    if not float(value).is_integer():
        return f"{value:g} is not a whole number (quantize: none takes the chip's integers)"
    if not lo <= value <= hi:
        return f"{int(value)} is outside {fmt_range(lo, hi)}"
    return None


@rule("threshold-high", Severity.ERROR,
      "set `threshold` above 0 (with quantize: none, an integer 1..32767)", integrity=True)
def threshold_high(ctx: RuleContext) -> Iterator[Finding]:
    """The firing threshold (threshold_high) is positive and, as an integer, at most 32767."""
    _, hi = ctx.chip.limits.threshold_high
    for name, core in ctx.network.cores.items():
        t = core.neuron.threshold
        path = core_path(name, "neuron", "threshold")
        if not _finite(t) or t <= 0:
            yield Finding(path, f"core '{name}': threshold {t:g} must be a finite number above 0"
                          + _beyond(t))
        elif ctx.network.quantize == "none":
            problem = _integer_problem(t, 1, hi)
            if problem:
                yield Finding(path, f"core '{name}': threshold {problem}")


@rule("threshold-low", Severity.ERROR,
      "set `min_v_mem` below 0 (0 is a known chip bug); with quantize: none, -32768..-1", integrity=True)
def threshold_low(ctx: RuleContext) -> Iterator[Finding]:
    """The lower state bound (threshold_low) is negative: the chip misbehaves at 0."""
    lo, hi = ctx.chip.limits.threshold_low
    for name, core in ctx.network.cores.items():
        m = core.neuron.min_v_mem
        if m is None:
            continue
        path = core_path(name, "neuron", "min_v_mem")
        if not _finite(m) or m >= 0:
            yield Finding(path, f"core '{name}': min_v_mem {m:g} must be a finite number below 0"
                          + _beyond(m))
        elif ctx.network.quantize == "none":
            problem = _integer_problem(m, lo, hi)
            if problem:
                yield Finding(path, f"core '{name}': min_v_mem {problem}")


@rule("initial-state", Severity.ERROR,
      "the neuron state is 16-bit: keep initial_state between min_v_mem and threshold", integrity=True)
def initial_state(ctx: RuleContext) -> Iterator[Finding]:
    """The initial membrane state is finite and, as an integer, fits the 16-bit state."""
    lo, hi = ctx.chip.limits.neuron_state
    for name, core in ctx.network.cores.items():
        v = core.neuron.initial_state
        path = core_path(name, "neuron", "initial_state")
        if not _finite(v):
            yield Finding(path, f"core '{name}': initial_state {v:g} must be finite" + _beyond(v))
        elif ctx.network.quantize == "none":
            problem = _integer_problem(v, lo, hi)
            if problem:
                yield Finding(path, f"core '{name}': initial_state {problem}")

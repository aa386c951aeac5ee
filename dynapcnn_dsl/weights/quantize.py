"""Quantization to the chip's integers, reproducing sinabs' per-core rule bit for bit.

sinabs (backend/dynapcnn/discretize.py) scales each core by one factor, the smallest of:
- the weights' scale on 8 bits,
- the biases' scale on 8 bits (zeros when the core has none: an infinite scale, no limit),
- the scale of the pair (threshold_low, threshold_high) on 16 bits,
- the initial state's scale on 16 bits, when the state is not all zeros,
where a tensor with largest value M and smallest m gets (2^(n-1)-1)/|M| if |m| <= |M| *
2^(n-1)/(2^(n-1)-1), else 2^(n-1)/|m|. Everything is then multiplied by the scale and rounded to
nearest, ties to even (torch.round).

sinabs computes in float32 (torch's default): the scales are float32 values and the products
float32 products. This module does the same arithmetic in numpy float32 so that a network moved
from sinabs builds to the same integers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

WEIGHT_BITS = 8
STATE_BITS = 16


class QuantReport(NamedTuple):
    """What quantization did to one core, for the build report."""

    scale: float                 # 1.0 with quantize: none
    limited_by: str              # weights | bias | thresholds | state | none
    worst_relative_error: float  # over entries that did not round to zero
    zeroed: int                  # non-zero weights that became 0
    saturated: int               # entries clipped to the range (quantize: none never clips)
    entries: int                 # weights in the core


class QuantCore(NamedTuple):
    weights: np.ndarray          # int32, torch layout [out, in, ky, kx]
    bias: np.ndarray | None      # int32 [out]
    threshold_high: int
    threshold_low: int
    initial_state: int
    report: QuantReport


def tensor_scale(values: np.ndarray, bits: int) -> np.float32:
    """sinabs' determine_discretization_scale, in float32 (inf for an all-zero or empty tensor).

    torch evaluates `127 / t` as `t.reciprocal() * 127`, which can differ from a true division
    in the last bit; the same two steps are taken here.
    """
    hi = np.float32(2 ** (bits - 1) - 1)
    lo = np.float32(-(2 ** (bits - 1)))
    ratio = np.float32(abs(-(2 ** (bits - 1)) / (2 ** (bits - 1) - 1)))  # a Python float in sinabs
    v = values.astype(np.float32, copy=False)
    if v.size == 0:  # a core without weights (0 features, kernel 0: their rules switched off)
        return np.float32(np.inf)
    mn, mx = v.min(), v.max()
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if abs(mn) <= abs(mx) * ratio:
            return np.float32(abs(np.reciprocal(mx) * hi))
        return np.float32(abs(np.reciprocal(mn) * lo))


def _round(values: np.ndarray, scale: np.float32) -> np.ndarray:
    """Scale in float32 and round half to even, as torch.round does."""
    return np.rint(values.astype(np.float32, copy=False) * scale)


def _report(weights: np.ndarray, scaled: np.ndarray, rounded: np.ndarray, scale: float,
            limited_by: str, saturated: int) -> QuantReport:
    nonzero = weights != 0
    zeroed = int(np.count_nonzero(nonzero & (rounded == 0)))
    kept = nonzero & (rounded != 0)
    worst = float(np.max(np.abs(rounded[kept] - scaled[kept]) / np.abs(scaled[kept]))) if kept.any() else 0.0
    return QuantReport(float(scale), limited_by, worst, zeroed, saturated, int(weights.size))


def quantize_auto(weight: np.ndarray, bias: np.ndarray | None, threshold: float, min_v_mem: float,
                  initial_state: float) -> QuantCore:
    """The sinabs rule for one core (weights in torch layout, float)."""
    w = weight.astype(np.float32, copy=False)
    b = bias.astype(np.float32, copy=False) if bias is not None else np.zeros(w.shape[0], np.float32)
    thresholds = np.array([min_v_mem, threshold], dtype=np.float32)
    candidates = {
        "weights": tensor_scale(w, WEIGHT_BITS),
        "bias": tensor_scale(b, WEIGHT_BITS),
        "thresholds": tensor_scale(thresholds, STATE_BITS),
    }
    state = np.float32(initial_state)
    if state != 0:
        candidates["state"] = tensor_scale(np.array([state]), STATE_BITS)
    limited_by = min(candidates, key=lambda k: candidates[k])
    scale = candidates[limited_by]
    scaled = w * scale
    q = np.rint(scaled)
    low, high = _round(thresholds, scale)
    return QuantCore(
        weights=q.astype(np.int32),
        bias=_round(b, scale).astype(np.int32) if bias is not None else None,
        threshold_high=int(high),
        threshold_low=int(low),
        initial_state=int(np.rint(state * scale)),
        report=_report(w, scaled, q, float(scale), limited_by, saturated=0),
    )


def quantize_none(weight: np.ndarray, bias: np.ndarray | None, threshold: float, min_v_mem: float,
                  initial_state: float) -> QuantCore:
    """Integers taken as they are (the caller has checked they are whole and in range)."""
    w = np.asarray(weight)
    return QuantCore(
        weights=w.astype(np.int32),
        bias=np.asarray(bias).astype(np.int32) if bias is not None else None,
        threshold_high=int(threshold),
        threshold_low=int(min_v_mem),
        initial_state=int(initial_state),
        report=QuantReport(1.0, "none", 0.0, 0, 0, int(w.size)),
    )


def errata_spread(values: np.ndarray, physical: int) -> np.ndarray:
    """Class k (1-based) on feature 4*(k-1): rows spread out, zero rows between them."""
    out = np.zeros((physical, *values.shape[1:]), dtype=values.dtype)
    out[0: 4 * values.shape[0]: 4] = values
    return out

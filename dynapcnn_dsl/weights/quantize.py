"""Quantization to the chip's integers, reproducing sinabs' per-core rule bit for bit.

sinabs (backend/dynapcnn/discretize.py) scales each core by one factor, the smallest of:
- the weights' scale on 8 bits,
- the biases' scale on 8 bits (zeros when the core has none: an infinite scale, no limit),
- the scale of the pair (threshold_low, threshold_high) on 16 bits,
- the initial state's scale on 16 bits, when the state is not all zeros,
where a tensor with largest value M and smallest m gets (2^(n-1)-1)/|M| if |m| <= |M| *
2^(n-1)/(2^(n-1)-1), else 2^(n-1)/|m|. Everything is then multiplied by the scale and rounded to
nearest, ties to even (torch.round).

The step (`quantize`) also decides what the chip cannot take: with `quantize: none` the values
must already be whole and in range; with `auto`, a core whose weights all round to 0 or whose
thresholds leave their range is refused. A readout core's rows are then spread out for the
speck2e/2f errata (class k on feature 4*(k-1)).

sinabs computes in float32 (torch's default): the scales are float32 values and the products
float32 products. This module does the same arithmetic in numpy float32 so that a network moved
from sinabs builds to the same integers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from dynapcnn_dsl.chips.facts import LIMITS
from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.link.data import LinkedCore, LinkedNetwork, by_name
from dynapcnn_dsl.load.source import NodePath, SourceMap
from dynapcnn_dsl.weights.problems import at_core

if TYPE_CHECKING:
    from dynapcnn_dsl.weights.fold import FoldedCore, FoldedNetwork

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
    sqnr_db: float | None = None  # signal-to-quantization-noise ratio of the weights; None: exact


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
    return QuantReport(float(scale), limited_by, worst, zeroed, saturated, int(weights.size),
                       sqnr_db(scaled, rounded))


def sqnr_db(scaled: np.ndarray, rounded: np.ndarray) -> float | None:
    """10 log10(signal power / rounding-noise power) over a core's weights, in float64: how far
    below the weights the rounding noise lies, a figure that does not blow up on tiny weights as
    a relative error does (a random initialisation with 8 bits gives about 40 dB). None when the
    rounding is exact."""
    signal = float(np.sum(np.square(scaled, dtype=np.float64)))
    noise = float(np.sum(np.square(rounded.astype(np.float64) - scaled.astype(np.float64))))
    if noise == 0.0:
        return None
    return 10.0 * float(np.log10(signal / noise)) if signal > 0 else float("-inf")


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
    spacing = LIMITS["readout_errata_spacing"]
    out = np.zeros((physical, *values.shape[1:]), dtype=values.dtype)
    out[0: spacing * values.shape[0]: spacing] = values
    return out


WEIGHT_RANGE = (-(2 ** (LIMITS["weight_bits"] - 1)), 2 ** (LIMITS["weight_bits"] - 1) - 1)


class QuantizedCore(NamedTuple):
    """A core's integers, ready for the emitter (weights in torch layout [out][in][y][x])."""

    name: str
    index: int
    weights: np.ndarray            # int32 [physical out, in, k, k]
    bias: np.ndarray | None        # int32 [physical out]
    threshold_high: int
    threshold_low: int
    initial_state: int
    report: QuantReport
    reshaped_from: tuple[int, ...] | None   # the 2-D shape of a Linear weight, when reshaped
    weight_key: str
    folded: tuple[str, ...]        # what was folded in before quantizing


class QuantizedNetwork(NamedTuple):
    """A linked network with every core's chip integers: what the emitter writes."""

    linked: LinkedNetwork
    weights_file: str
    cores: tuple[QuantizedCore, ...]

    def core(self, name: str) -> QuantizedCore:
        return by_name(self.cores, name)


class _Quantizer:
    def __init__(self, linked: LinkedNetwork, smap: SourceMap) -> None:
        self.linked = linked
        self.smap = smap
        self.diagnostics: list[Diagnostic] = []

    def report(self, code: str, core: LinkedCore, message: str, hint: str,
               at: NodePath | None = None) -> None:
        self.diagnostics.append(at_core(self.smap, at or ("cores", core.name, "weights"), code,
                                        message, hint))

    def neuron_path(self, core: LinkedCore) -> NodePath:
        leaf = ("weights",) if core.neuron.weights is not None else ()
        return ("cores", core.name, "neuron", *leaf)

    def integers(self, core: LinkedCore, name: str, values: np.ndarray, lo: int, hi: int) -> bool:
        """With `quantize: none` the file must hold the chip's integers already."""
        if not np.array_equal(values, np.round(values)):
            self.report("weights-not-integer", core, f"core '{core.name}': '{name}' holds fractional "
                        "values, but the file says `quantize: none`",
                        "use `quantize: auto`, or save the chip's integers", at=("quantize",))
            return False
        if values.size and (values.min() < lo or values.max() > hi):
            self.report("weights-range", core, f"core '{core.name}': '{name}' spans "
                        f"{int(values.min())}..{int(values.max())}; the chip stores {lo}..{hi}",
                        "use `quantize: auto`, or rescale the integers", at=("quantize",))
            return False
        return True

    def survives(self, core: LinkedCore, folded: FoldedCore, q: QuantCore) -> bool:
        """Refuse quantizations that erase the core or break its thresholds."""
        ok = True
        if np.any(folded.weight != 0) and not np.any(q.weights):
            self.report("quantize-all-zero", core, f"core '{core.name}': every weight rounds to 0 at "
                        f"scale {q.report.scale:.4g} (set by its {q.report.limited_by})",
                        "the weights are tiny next to the thresholds: raise the weights or lower "
                        "the threshold, so that both fit one integer scale")
            ok = False
        n = folded.neuron
        hi = self.linked.chip.limits.threshold_high[1]
        if not 1 <= q.threshold_high <= hi:
            self.report("quantize-threshold", core, f"core '{core.name}': threshold "
                        f"{n.threshold:g} becomes {q.threshold_high} at scale "
                        f"{q.report.scale:.4g}; the chip takes 1..{hi}",
                        "raise the threshold relative to the weights", at=self.neuron_path(core))
            ok = False
        low_lo, low_hi = self.linked.chip.limits.threshold_low
        if not low_lo <= q.threshold_low <= low_hi:
            self.report("quantize-threshold", core, f"core '{core.name}': min_v_mem "
                        f"{n.min_v_mem:g} becomes {q.threshold_low} at scale "
                        f"{q.report.scale:.4g}; the chip takes {low_lo}..{low_hi} (0 is a chip bug)",
                        "make min_v_mem larger in magnitude", at=self.neuron_path(core))
            ok = False
        return ok

    def core(self, folded: FoldedCore) -> QuantizedCore | None:
        core = self.linked.core(folded.name)
        w, b, n = folded.weight, folded.bias, folded.neuron
        if self.linked.quantize == "none":
            bias_lo, bias_hi = self.linked.chip.limits.neuron_state
            bias_key = folded.weight_key.rpartition(".")[0] + ".bias"
            whole = [self.integers(core, folded.weight_key, w, *WEIGHT_RANGE),
                     b is None or self.integers(core, bias_key, b, bias_lo, bias_hi)]
            if not all(whole):
                return None
            q = quantize_none(w, b, n.threshold, n.min_v_mem, n.initial_state)
        else:
            q = quantize_auto(w, b, n.threshold, n.min_v_mem, n.initial_state)
            if not self.survives(core, folded, q):
                return None
        weights, bias = q.weights, q.bias
        if self.linked.logical_out(core) != core.out_features:  # readout errata: class k on 4*(k-1)
            weights = errata_spread(weights, core.out_features)
            bias = errata_spread(bias, core.out_features) if bias is not None else None
        return QuantizedCore(core.name, core.index, weights, bias, q.threshold_high, q.threshold_low,
                             q.initial_state, q.report, folded.reshaped_from, folded.weight_key,
                             folded.folded)


def quantize(folded: FoldedNetwork, smap: SourceMap) -> tuple[QuantizedNetwork | None, list[Diagnostic]]:
    """Every core's chip integers; None when some core cannot be represented."""
    quantizer = _Quantizer(folded.linked, smap)
    cores = [q for q in (quantizer.core(c) for c in folded.cores) if q is not None]
    if len(cores) != len(folded.cores):
        return None, quantizer.diagnostics
    return QuantizedNetwork(folded.linked, folded.weights_file, tuple(cores)), quantizer.diagnostics

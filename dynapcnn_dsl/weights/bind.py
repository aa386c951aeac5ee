"""Bind named tensors to the cores of a linked network, check them, and quantize them.

Each core's `weights:` prefix (default: its name) names `<prefix>.weight`, shaped
[out, in, k, k] as torch stores a Conv2d, and `<prefix>.bias` when the core has a bias. Every
problem is reported in one run: missing tensors with the closest names in the file, unused
tensors, wrong shapes (with what was expected and why), a bias where none is declared or the
reverse, non-finite values, integers that are not integers with `quantize: none`, and cores that
quantization would erase.

A Linear layer's 2-D weight [out, C*H*W] binds to a core whose kernel covers its whole input
map (flatten -> linear written as one convolution): it is reshaped to [out, C, H, W], which is
torch's flatten order, and the report says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from dynapcnn_dsl.chips import INPUT
from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.link.data import LinkedCore, LinkedNetwork
from dynapcnn_dsl.load.source import NodePath, SourceMap
from dynapcnn_dsl.suggest import closest
from dynapcnn_dsl.weights.quantize import QuantReport, errata_spread, quantize_auto, quantize_none
from dynapcnn_dsl.weights.readers import WeightsFile


class BoundCore(NamedTuple):
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


class BoundNetwork(NamedTuple):
    """A linked network with every core's quantized tensors."""

    linked: LinkedNetwork
    weights_file: str
    cores: tuple[BoundCore, ...]

    def core(self, name: str) -> BoundCore:
        for c in self.cores:
            if c.name == name:
                return c
        raise KeyError(name)


WEIGHT_RANGE = (-128, 127)


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


class _Binder:
    def __init__(self, linked: LinkedNetwork, weights: WeightsFile, smap: SourceMap) -> None:
        self.linked = linked
        self.weights = weights
        self.smap = smap
        self.diagnostics: list[Diagnostic] = []
        self.used: set[str] = set()

    # -- reporting ---------------------------------------------------------------------------
    def report(self, code: str, core: LinkedCore, message: str, hint: str, *,
               severity: Severity = Severity.ERROR, at: NodePath | None = None) -> None:
        path = at or ("cores", core.name, "weights")
        pos = self.smap.key(path)
        self.diagnostics.append(Diagnostic(self.smap.file, pos, severity, code, message, hint,
                                           self.smap.notes(path)))

    def missing(self, core: LinkedCore, key: str, what: str) -> None:
        near = closest(key, self.weights.tensors, n=3, cutoff=0.5)
        hint = f"closest names in the file: {', '.join(near)}" if near else \
            "set the core's `weights:` to the prefix its tensors have in the state_dict"
        self.report("weights-missing", core, f"core '{core.name}' needs {what} '{key}', which "
                    f"{self.weights.path} does not have", hint)

    # -- one core ----------------------------------------------------------------------------
    def weight(self, core: LinkedCore) -> tuple[np.ndarray, tuple[int, ...] | None] | None:
        key = f"{core.weights}.weight"
        if key not in self.weights.tensors:
            self.missing(core, key, "the weight")
            return None
        self.used.add(key)
        w = self.weights.tensors[key]
        want = self.linked.weight_shape(core)
        one_output = core.output_shape.height == core.output_shape.width == 1
        if w.ndim == 2 and one_output and core.input_shape.height == core.kernel == \
                core.input_shape.width and w.shape == (want[0], want[1] * core.kernel * core.kernel):
            return w.reshape(want), tuple(w.shape)
        if tuple(w.shape) != want:
            self.report("weights-shape", core, f"core '{core.name}': '{key}' is {_shape(w.shape)}, "
                        f"expected {_shape(want)} [out, in, k, k]{self.why_in(core)}",
                        "check that the core's conv (and its sources) match the torch layer, "
                        "or point `weights:` at the right layer")
            return None
        return w, None

    def why_in(self, core: LinkedCore) -> str:
        """Explain the expected input features when several sources make them up."""
        if len(core.sources) < 2:
            return ""
        parts = [f"'{s.source}' {self.source_features(s.source)}" for s in core.sources]
        if core.merge == "concat":
            return f"; the input axis stacks {' then '.join(parts)} (the `from:` order)"
        return f"; the sources are summed: {', '.join(parts)}"

    def source_features(self, name: str) -> int:
        if name == INPUT:
            return self.linked.input.output_shape.features
        return self.linked.core(name).out_features

    def bias(self, core: LinkedCore) -> tuple[bool, np.ndarray | None]:
        key = f"{core.weights}.bias"
        present = key in self.weights.tensors
        if present:
            self.used.add(key)
        if core.bias and not present:
            self.missing(core, key, "the bias")
            return False, None
        if not core.bias and present:
            self.report("weights-bias-unexpected", core, f"'{key}' is in {self.weights.path}, but "
                        f"core '{core.name}' has no bias", "set `bias: true` in the core's conv (a "
                        "bias turns on leak), or train the layer with bias=False",
                        at=("cores", core.name, "conv"))
            return False, None
        if not present:
            return True, None
        b = self.weights.tensors[key]
        if b.shape != (self.linked.logical_out(core),):
            self.report("weights-shape", core, f"core '{core.name}': '{key}' is {_shape(b.shape)}, "
                        f"expected [{self.linked.logical_out(core)}]", "one bias per output feature")
            return False, None
        return True, b

    def finite(self, core: LinkedCore, name: str, values: np.ndarray) -> bool:
        if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
            self.report("weights-dtype", core, f"core '{core.name}': '{name}' holds {values.dtype} "
                        "values", "save real numbers (float or integer tensors)")
            return False
        bad = ~np.isfinite(values) if np.issubdtype(values.dtype, np.floating) else None
        if bad is not None and bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            count = int(bad.sum())
            self.report("weights-non-finite", core, f"core '{core.name}': '{name}' has {count} "
                        f"non-finite value{'s' * (count != 1)} (first at {list(first)})",
                        "the training diverged or the file is damaged")
            return False
        return True

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

    def bind_core(self, core: LinkedCore) -> BoundCore | None:
        got = self.weight(core)
        has_bias, b = self.bias(core)
        if got is None or not has_bias:
            return None
        w, reshaped = got
        key, bias_key = f"{core.weights}.weight", f"{core.weights}.bias"
        # Both tensors are checked, whatever the first finds: every problem in one run.
        finite = [self.finite(core, key, w), b is None or self.finite(core, bias_key, b)]
        if not all(finite):
            return None
        n = core.neuron
        if self.linked.quantize == "none":
            bias_lo, bias_hi = self.linked.chip.limits.neuron_state
            whole = [self.integers(core, key, w, *WEIGHT_RANGE),
                     b is None or self.integers(core, bias_key, b, bias_lo, bias_hi)]
            if not all(whole):
                return None
            q = quantize_none(w, b, n.threshold, n.min_v_mem, n.initial_state)
        else:
            q = quantize_auto(w, b, n.threshold, n.min_v_mem, n.initial_state)
            if not self.survives(core, w, q):
                return None
        weights, bias = q.weights, q.bias
        if self.linked.logical_out(core) != core.out_features:  # readout errata: class k on 4*(k-1)
            weights = errata_spread(weights, core.out_features)
            bias = errata_spread(bias, core.out_features) if bias is not None else None
        return BoundCore(core.name, core.index, weights, bias, q.threshold_high, q.threshold_low,
                         q.initial_state, q.report, reshaped, key)

    def survives(self, core: LinkedCore, w: np.ndarray, q) -> bool:
        """Refuse quantizations that erase the core or break its thresholds."""
        ok = True
        if np.any(w != 0) and not np.any(q.weights):
            self.report("quantize-all-zero", core, f"core '{core.name}': every weight rounds to 0 at "
                        f"scale {q.report.scale:.4g} (set by its {q.report.limited_by})",
                        "the weights are tiny next to the thresholds: raise the weights or lower "
                        "the threshold, so that both fit one integer scale")
            ok = False
        hi = self.linked.chip.limits.threshold_high[1]
        if not 1 <= q.threshold_high <= hi:
            self.report("quantize-threshold", core, f"core '{core.name}': threshold "
                        f"{core.neuron.threshold:g} becomes {q.threshold_high} at scale "
                        f"{q.report.scale:.4g}; the chip takes 1..{hi}",
                        "raise the threshold relative to the weights",
                        at=("cores", core.name, "neuron"))
            ok = False
        low_lo, low_hi = self.linked.chip.limits.threshold_low
        if not low_lo <= q.threshold_low <= low_hi:
            self.report("quantize-threshold", core, f"core '{core.name}': min_v_mem "
                        f"{core.neuron.min_v_mem:g} becomes {q.threshold_low} at scale "
                        f"{q.report.scale:.4g}; the chip takes {low_lo}..{low_hi} (0 is a chip bug)",
                        "make min_v_mem larger in magnitude", at=("cores", core.name, "neuron"))
            ok = False
        return ok

    def notes(self, bound: list[BoundCore]) -> Iterator[Diagnostic]:
        by_prefix: dict[str, list[str]] = {}
        for core in self.linked.cores:
            by_prefix.setdefault(core.weights, []).append(core.name)
        for prefix, names in by_prefix.items():
            if len(names) > 1:
                yield Diagnostic(self.smap.file, self.smap.key(("cores", names[1], "weights")),
                                 Severity.WARNING, "weights-shared",
                                 f"cores {', '.join(repr(n) for n in names)} all use the tensors "
                                 f"'{prefix}.*'", "give each core its own layer's prefix, unless "
                                 "sharing the weights is intended")
        for b in bound:
            if b.reshaped_from is not None:
                core = self.linked.core(b.name)
                yield Diagnostic(self.smap.file, self.smap.key(("cores", b.name)), Severity.INFO,
                                 "weights-reshaped", f"core '{b.name}': the Linear weight "
                                 f"'{b.weight_key}' {_shape(b.reshaped_from)} is used as "
                                 f"{_shape(self.linked.weight_shape(core))} (flatten order C, H, W)",
                                 "nothing to do: a Linear over a flattened map is this convolution")
        unused = sorted(set(self.weights.tensors) - self.used)
        if unused:
            shown = ", ".join(unused[:8]) + (f" and {len(unused) - 8} more" if len(unused) > 8 else "")
            yield Diagnostic(self.weights.path, None, Severity.WARNING, "weights-unused",
                             f"{len(unused)} tensor{'s are' if len(unused) != 1 else ' is'} bound "
                             f"to no core: {shown}",
                             "normal for neuron states or layers left off the chip; otherwise "
                             "check the cores' `weights:` prefixes")


def bind(linked: LinkedNetwork, weights: WeightsFile, smap: SourceMap,
         ) -> tuple[BoundNetwork | None, list[Diagnostic]]:
    """Bind and quantize every core; the bound network is None when any core failed."""
    binder = _Binder(linked, weights, smap)
    bound = [b for b in (binder.bind_core(c) for c in linked.cores) if b is not None]
    diagnostics = binder.diagnostics + list(binder.notes(bound))
    if len(bound) != len(linked.cores):
        return None, diagnostics
    return BoundNetwork(linked, weights.path, tuple(bound)), diagnostics

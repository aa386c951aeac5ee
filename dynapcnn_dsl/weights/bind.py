"""Bind named tensors to the cores of a linked network: names, shapes and reshapes, nothing more.

Each core's `weights:` prefix (default: its name) names `<prefix>.weight`, shaped
[out, in, k, k] as torch stores a Conv2d, and `<prefix>.bias` when the core has a bias. A
`batchnorm:` prefix names the BatchNorm2d's four tensors, and `neuron: {weights: P}` the
spiking layer's saved `P.spike_threshold` and `P.min_v_mem` (its saved state `P.v_mem` is
reported apart, never bound). Every problem is reported in one
run: missing tensors with the closest names in the file, unused tensors, BatchNorm tensors no
core folds, wrong shapes (with what was expected and why), a bias where none is declared or the
reverse, non-finite values.

A Linear layer's 2-D weight [out, C*H*W] binds to a core whose kernel covers its whole input
map (flatten -> linear written as one convolution): it is reshaped to [out, C, H, W], which is
torch's flatten order, and the report says so.

The result holds the tensors as the file has them (floats); folding (`fold.py`) and
quantization (`quantize.py`) are the next steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from dynapcnn_dsl.chips import INPUT
from dynapcnn_dsl.diagnostics import Diagnostic, Severity, listed
from dynapcnn_dsl.link.data import LinkedCore, LinkedNetwork, by_name
from dynapcnn_dsl.load.source import NodePath, SourceMap
from dynapcnn_dsl.suggest import closest
from dynapcnn_dsl.weights.problems import at_core, shape_text
from dynapcnn_dsl.weights.readers import WeightsFile

BATCHNORM_TENSORS = ("weight", "bias", "running_mean", "running_var")
"""What a BatchNorm2d's state_dict holds (beside `num_batches_tracked`, which is ignored)."""

BATCHNORM_IGNORED = ("num_batches_tracked",)

SAVED_STATES = ("v_mem",)
"""What a sinabs spiking layer saves of a run beside its parameters. `P.v_mem` of a layer P that
a core's `neuron: {weights: P}` binds, or that saved a `P.spike_threshold`, is a state, never
bound (the chip's neurons start from `initial_state`): counted apart, not among unused tensors."""

THRESHOLD = ".spike_threshold"


class BoundNeuron(NamedTuple):
    """A core's neuron values in the units of its float weights."""

    threshold: float
    min_v_mem: float
    initial_state: float
    source: str | None      # the checkpoint prefix they came from, or None (the network file)


class BoundBatchNorm(NamedTuple):
    """A BatchNorm2d's eval-mode tensors, to fold into the convolution."""

    prefix: str
    weight: np.ndarray
    bias: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray
    eps: float


class BoundCore(NamedTuple):
    """A core's tensors as the file has them, shaped as the core needs them."""

    name: str
    weight: np.ndarray             # [logical out, in, k, k], the file's dtype
    bias: np.ndarray | None        # [logical out]
    neuron: BoundNeuron
    batchnorm: BoundBatchNorm | None
    reshaped_from: tuple[int, ...] | None   # the 2-D shape of a Linear weight, when reshaped
    weight_key: str


class BoundNetwork(NamedTuple):
    """A linked network with every core's tensors from the weights file."""

    linked: LinkedNetwork
    weights_file: str
    cores: tuple[BoundCore, ...]

    def core(self, name: str) -> BoundCore:
        return by_name(self.cores, name)


def _numeric(values: np.ndarray) -> bool:
    return np.issubdtype(values.dtype, np.number) and not np.issubdtype(values.dtype, np.complexfloating)


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
        self.diagnostics.append(at_core(self.smap, at or ("cores", core.name, "weights"), code,
                                        message, hint, severity=severity))

    def missing(self, core: LinkedCore, key: str, what: str, at: NodePath | None = None) -> None:
        near = closest(key, self.weights.tensors, n=3, cutoff=0.5)
        hint = f"closest names in the file: {', '.join(near)}" if near else \
            "set the core's `weights:` to the prefix its tensors have in the state_dict"
        self.report("weights-missing", core, f"core '{core.name}' needs {what} '{key}', which "
                    f"{self.weights.path} does not have", hint, at=at)

    def take(self, key: str) -> np.ndarray | None:
        """The tensor at `key`, marked as used, or None."""
        value = self.weights.tensors.get(key)
        if value is not None:
            self.used.add(key)
        return value

    # -- the convolution ---------------------------------------------------------------------
    def weight(self, core: LinkedCore) -> tuple[np.ndarray, tuple[int, ...] | None] | None:
        key = f"{core.weights}.weight"
        w = self.take(key)
        if w is None:
            self.missing(core, key, "the weight")
            return None
        want = self.linked.weight_shape(core)
        one_output = core.output_shape.height == core.output_shape.width == 1
        if w.ndim == 2 and one_output and core.input_shape.height == core.kernel == \
                core.input_shape.width and w.shape == (want[0], want[1] * core.kernel * core.kernel):
            return w.reshape(want), tuple(w.shape)
        if tuple(w.shape) != want:
            self.report("weights-shape", core, f"core '{core.name}': '{key}' is {shape_text(w.shape)}, "
                        f"expected {shape_text(want)} [out, in, k, k]{self.why_in(core)}",
                        self.shape_hint(core, w))
            return None
        return w, None

    def shape_hint(self, core: LinkedCore, w: np.ndarray) -> str:
        """A Linear weight on a core whose kernel does not cover its input map: name the kernel
        that would."""
        inp = core.input_shape
        if w.ndim == 2 and w.shape[1] == inp.features * inp.height * inp.width and inp.height == inp.width:
            return (f"'{core.weights}.weight' is a Linear over the flattened "
                    f"{shape_text(tuple(inp))} input: give the core `kernel: {inp.height}` "
                    "(and no padding) so the convolution covers the whole map")
        return ("check that the core's conv (and its sources) match the torch layer, "
                "or point `weights:` at the right layer")

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
        b = self.take(key)
        if core.bias and b is None:
            self.missing(core, key, "the bias")
            return False, None
        if not core.bias and b is not None:
            self.report("weights-bias-unexpected", core, f"'{key}' is in {self.weights.path}, but "
                        f"core '{core.name}' has no bias", "set `bias: true` in the core's conv (a "
                        "bias turns on leak), or train the layer with bias=False",
                        at=("cores", core.name, "conv"))
            return False, None
        if b is None:
            return True, None
        if b.shape != (self.linked.logical_out(core),):
            self.report("weights-shape", core, f"core '{core.name}': '{key}' is {shape_text(b.shape)}, "
                        f"expected [{self.linked.logical_out(core)}]", "one bias per output feature")
            return False, None
        return True, b

    def finite(self, core: LinkedCore, name: str, values: np.ndarray, at: NodePath | None = None) -> bool:
        if not _numeric(values):
            self.report("weights-dtype", core, f"core '{core.name}': '{name}' holds {values.dtype} "
                        "values", "save real numbers (float or integer tensors)", at=at)
            return False
        bad = ~np.isfinite(values) if np.issubdtype(values.dtype, np.floating) else None
        if bad is not None and bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
            count = int(bad.sum())
            self.report("weights-non-finite", core, f"core '{core.name}': '{name}' has {count} "
                        f"non-finite value{'s' * (count != 1)} (first at {list(first)})",
                        "the training diverged or the file is damaged", at=at)
            return False
        return True

    # -- BatchNorm ---------------------------------------------------------------------------
    def batchnorm(self, core: LinkedCore) -> tuple[bool, BoundBatchNorm | None]:
        bn = core.batchnorm
        if bn is None:
            return True, None
        at = ("cores", core.name, "batchnorm")
        out = self.linked.logical_out(core)
        tensors: dict[str, np.ndarray] = {}
        for part in BATCHNORM_TENSORS:
            key = f"{bn.weights}.{part}"
            value = self.take(key)
            if value is None:
                self.missing(core, key, "the BatchNorm tensor", at=at)
            elif value.shape != (out,):
                self.report("weights-shape", core, f"core '{core.name}': '{key}' is "
                            f"{shape_text(value.shape)}, expected [{out}]",
                            "the BatchNorm2d after this core's convolution has one value per "
                            "output feature: check the `batchnorm:` prefix", at=at)
            elif self.finite(core, key, value, at=at):
                tensors[part] = value
        for part in BATCHNORM_IGNORED:
            self.take(f"{bn.weights}.{part}")
        if len(tensors) != len(BATCHNORM_TENSORS):
            return False, None
        return True, BoundBatchNorm(bn.weights, tensors["weight"], tensors["bias"],
                                    tensors["running_mean"], tensors["running_var"], bn.eps)

    def unnamed_batchnorms(self, bound_prefixes: dict[str, str]) -> None:
        """BatchNorm tensors right after a bound core's convolution that no `batchnorm:` names:
        building without them would be silently wrong. Only a BatchNorm of the same module tree
        (a sibling of the convolution: `seq.0` and `seq.1`), next in the file after it and with
        one value per output feature of the core, is the convolution's; a checkpoint holding two
        models side by side (a spiking model and its analog twin, an EMA copy, a teacher) has the
        other model's BatchNorms after this model's last layer."""
        named = {c.batchnorm.weights for c in self.linked.cores if c.batchnorm is not None}
        last: tuple[str, str] | None = None          # (the convolution's prefix, its core)
        for key in self.weights.tensors:
            prefix, _, leaf = key.rpartition(".")
            if leaf == "weight" and prefix in bound_prefixes:
                last = (prefix, bound_prefixes[prefix])
                continue
            is_bn = leaf == "running_mean" and f"{prefix}.running_var" in self.weights.tensors
            if last is not None and is_bn and prefix not in named and self.follows(last, prefix, key):
                core = self.linked.core(last[1])
                for part in (*BATCHNORM_TENSORS, *BATCHNORM_IGNORED):
                    self.take(f"{prefix}.{part}")
                self.report("weights-batchnorm", core, f"core '{core.name}': {self.weights.path} "
                            f"has a BatchNorm '{prefix}' after its convolution '{core.weights}', "
                            "which no core folds", f"add `batchnorm: \"{prefix}\"` to core "
                            f"'{core.name}' to fold it into the convolution (building without it "
                            "would ignore the normalisation)", at=("cores", core.name))
                last = None
            elif last is not None and prefix != last[0] and f"{prefix}.running_mean" not in \
                    self.weights.tensors:
                last = None      # another layer came between: what follows is not this one's

    def follows(self, conv: tuple[str, str], prefix: str, key: str) -> bool:
        """Whether the BatchNorm `prefix` can be the one right after the convolution `conv`: the
        same parent module, and one value per output feature of its core."""
        parent = conv[0].rpartition(".")[0]
        if prefix.rpartition(".")[0] != parent:
            return False
        return self.weights.tensors[key].shape == (self.linked.logical_out(self.linked.core(conv[1])),)

    # -- neurons from the checkpoint ---------------------------------------------------------
    def scalar(self, core: LinkedCore, key: str, at: NodePath) -> float | None:
        value = self.take(key)
        if value is None:
            return None
        if not self.finite(core, key, value, at=at):
            return None
        flat = np.asarray(value, dtype=np.float64).reshape(-1)
        if flat.size == 0 or np.any(flat != flat[0]):
            self.report("weights-neuron", core, f"core '{core.name}': '{key}' holds "
                        f"{flat.size} different values; a core has one", "the chip has one "
                        "threshold per core: train with a scalar (not per-neuron) parameter, or "
                        "write the value under `neuron:`", at=at)
            return None
        return float(flat[0])

    def neuron(self, core: LinkedCore) -> BoundNeuron | None:
        n = core.neuron
        if n.weights is None:
            return BoundNeuron(n.threshold, n.min_v_mem, n.initial_state, None)
        at = ("cores", core.name, "neuron", "weights")
        key_t, key_m = f"{n.weights}{THRESHOLD}", f"{n.weights}.min_v_mem"
        if key_t not in self.weights.tensors:
            self.missing(core, key_t, "the spiking layer's threshold", at=at)
        threshold = self.scalar(core, key_t, at)
        if key_m not in self.weights.tensors:
            self.report("weights-min-v-mem", core, f"core '{core.name}': '{key_m}' is not in "
                        f"{self.weights.path}: the sinabs layer had min_v_mem=None, for which "
                        "sinabs writes -32768, which forces the scale to at most 1 and rounds "
                        "small weights to 0", "give the sinabs layer a min_v_mem (for example "
                        "minus its threshold) and save again, or write `neuron: {threshold, "
                        "min_v_mem}` in place of `weights:`", at=at)
            return None
        min_v_mem = self.scalar(core, key_m, at)
        if threshold is None or min_v_mem is None:
            return None
        ok = True
        if threshold <= 0:
            self.report("weights-neuron", core, f"core '{core.name}': '{key_t}' is {threshold:g}; "
                        "the chip fires above a positive threshold", "check the prefix", at=at)
            ok = False
        if min_v_mem >= 0:
            self.report("weights-neuron", core, f"core '{core.name}': '{key_m}' is {min_v_mem:g}; "
                        "it must be below 0 (0 is a known chip bug)", "check the prefix", at=at)
            ok = False
        return BoundNeuron(threshold, min_v_mem, n.initial_state, n.weights) if ok else None

    # -- one core ----------------------------------------------------------------------------
    def bind_core(self, core: LinkedCore) -> BoundCore | None:
        got = self.weight(core)
        has_bias, b = self.bias(core)
        bn_ok, bn = self.batchnorm(core)
        neuron = self.neuron(core)
        if got is None or not has_bias or not bn_ok or neuron is None:
            return None
        w, reshaped = got
        key, bias_key = f"{core.weights}.weight", f"{core.weights}.bias"
        # Both tensors are checked, whatever the first finds: every problem in one run.
        finite = [self.finite(core, key, w), b is None or self.finite(core, bias_key, b)]
        if not all(finite):
            return None
        return BoundCore(core.name, w, b, neuron, bn, reshaped, key)

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
                                 f"'{b.weight_key}' {shape_text(b.reshaped_from)} is used as "
                                 f"{shape_text(self.linked.weight_shape(core))} (flatten order C, H, W)",
                                 "nothing to do: a Linear over a flattened map is this convolution")
        names = set(self.weights.tensors)
        layers = {c.neuron.weights for c in self.linked.cores if c.neuron.weights is not None}
        layers |= {k.removesuffix(THRESHOLD) for k in names if k.endswith(THRESHOLD)}  # any sinabs layer's
        states = sorted({f"{p}.{state}" for p in layers for state in SAVED_STATES} & names)
        if states:
            yield Diagnostic(self.weights.path, None, Severity.INFO, "weights-states",
                             f"{_count(states, 'saved neuron state')} not bound: {listed(states)}",
                             "nothing to do: the chip's neurons start from `initial_state` (0 "
                             "unless the core says otherwise), not from a training run's state")
        unused = sorted(names - self.used - set(states))
        if unused:
            yield Diagnostic(self.weights.path, None, Severity.WARNING, "weights-unused",
                             f"{_count(unused, 'tensor')} bound to no core: {listed(unused)}",
                             self.unused_hint(unused))

    def unused_hint(self, unused: list[str]) -> str:
        """A sinabs layer's threshold left unread is named with the way to read it."""
        saved = [k.removesuffix(THRESHOLD) for k in unused if k.endswith(THRESHOLD)]
        bindable = [p for p in saved if f"{p}.min_v_mem" in self.weights.tensors]
        if bindable:
            return (f"'{bindable[0]}{THRESHOLD}' is a sinabs layer's saved threshold: a core reads "
                    f"it, and min_v_mem, with `neuron: {{weights: {bindable[0]}}}`")
        if saved:
            return (f"'{saved[0]}{THRESHOLD}' is the threshold of a sinabs layer saved without "
                    "min_v_mem (None): the core's `neuron:` values are used, not the file's")
        return "normal for layers left off the chip; otherwise check the cores' `weights:` prefixes"


def _count(names: list[str], what: str) -> str:
    return f"{len(names)} {what}{'s are' if len(names) != 1 else ' is'}"


def bind(linked: LinkedNetwork, weights: WeightsFile, smap: SourceMap,
         ) -> tuple[BoundNetwork | None, list[Diagnostic]]:
    """Bind every core's tensors; the bound network is None when any core failed."""
    binder = _Binder(linked, weights, smap)
    bound = [b for b in (binder.bind_core(c) for c in linked.cores) if b is not None]
    binder.unnamed_batchnorms({c.weights: c.name for c in linked.cores})
    diagnostics = binder.diagnostics + list(binder.notes(bound))
    if len(bound) != len(linked.cores) or any(d.is_error for d in binder.diagnostics):
        return None, diagnostics
    return BoundNetwork(linked, weights.path, tuple(bound)), diagnostics

"""Fold what the model computes around a convolution into the convolution's own tensors.

Two things a trained model does that the chip cannot do as such:

- a BatchNorm2d after the convolution (eval mode) is an affine map per output feature, folded
  into the weights and bias exactly as `torch.nn.utils.fusion.fuse_conv_bn_weights` computes it
  in float32. Its shift becomes the core's bias, which the chip adds through its leak path once
  per slow-clock tick, not per event (as sinabs does with a convolution's bias): a warning says
  so whenever the folded bias is not zero;
- average pooling (`average: true` on a link): the chip only sums, so the receiver's weights for
  the input features that link fills are multiplied by 1/(pool*pool) (sinabs multiplies the
  whole weight tensor by the same float32 factor). Whether a sum receiver's sources agree on
  the factor is the `average-mixed` rule's business, before linking.

Nothing is rounded here: `quantize` takes the result (tensors untouched when nothing folds).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dynapcnn_dsl.chips import INPUT
from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.link.data import LinkedCore, LinkedNetwork
from dynapcnn_dsl.load.source import SourceMap
from dynapcnn_dsl.weights.bind import BoundBatchNorm, BoundCore, BoundNetwork, BoundNeuron
from dynapcnn_dsl.weights.problems import at_core


class FoldedCore(NamedTuple):
    """A core's float32 tensors as the chip will compute them, before quantization."""

    name: str
    weight: np.ndarray            # [logical out, in, k, k]: float32 once anything is folded in
    bias: np.ndarray | None       # [logical out]
    neuron: BoundNeuron
    folded: tuple[str, ...]       # what was folded in: "batchnorm", "average"
    reshaped_from: tuple[int, ...] | None
    weight_key: str


class FoldedNetwork(NamedTuple):
    linked: LinkedNetwork
    weights_file: str
    cores: tuple[FoldedCore, ...]


def fuse_batchnorm(weight: np.ndarray, bias: np.ndarray | None, bn: BoundBatchNorm,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """torch.nn.utils.fusion.fuse_conv_bn_weights, step for step in float32."""
    f32 = np.float32
    w = weight.astype(f32, copy=False)
    b = bias.astype(f32, copy=False) if bias is not None else np.zeros(w.shape[0], f32)
    rsqrt = f32(1) / np.sqrt(bn.running_var.astype(f32) + f32(bn.eps))
    gain = bn.weight.astype(f32) * rsqrt
    fused_w = w * gain.reshape(-1, *([1] * (w.ndim - 1)))
    fused_b = (b - bn.running_mean.astype(f32)) * rsqrt * bn.weight.astype(f32) + bn.bias.astype(f32)
    return fused_w.astype(f32), fused_b.astype(f32)


def _input_features(linked: LinkedNetwork, source: str) -> int:
    if source == INPUT:
        return linked.input.output_shape.features
    return linked.core(source).out_features


def average(linked: LinkedNetwork, core: LinkedCore, weight: np.ndarray) -> np.ndarray:
    """The weights with each averaging source's input features scaled by its factor."""
    out = weight.astype(np.float32, copy=True)
    for link in core.sources:
        if link.weight_factor != 1.0:
            start = link.feature_shift or 0
            stop = start + _input_features(linked, link.source)
            out[:, start:stop] = out[:, start:stop] * np.float32(link.weight_factor)
    return out


def _leak_warning(smap: SourceMap, core: BoundCore) -> Diagnostic:
    assert core.batchnorm is not None
    return at_core(smap, ("cores", core.name, "batchnorm"), "weights-batchnorm-leak",
                   f"core '{core.name}': the BatchNorm '{core.batchnorm.prefix}' folds into a bias, "
                   "which the chip adds through its leak once per slow-clock tick, not per input "
                   "event as the model does", "expected for a folded BatchNorm (sinabs applies a "
                   "convolution's bias the same way); set the slow clock to the model's time step, "
                   "or train the BatchNorm without shift if the timing matters",
                   severity=Severity.WARNING)


def fold_core(linked: LinkedNetwork, core: BoundCore) -> FoldedCore:
    weight, bias = core.weight, core.bias
    folded: list[str] = []
    if core.batchnorm is not None:
        weight, bias = fuse_batchnorm(weight, bias, core.batchnorm)
        folded.append("batchnorm")
    linked_core = linked.core(core.name)
    if any(link.weight_factor != 1.0 for link in linked_core.sources):
        weight = average(linked, linked_core, weight)
        folded.append("average")
    return FoldedCore(core.name, weight, bias, core.neuron, tuple(folded), core.reshaped_from,
                      core.weight_key)


def fold(bound: BoundNetwork, smap: SourceMap) -> tuple[FoldedNetwork, list[Diagnostic]]:
    """Fold every core; a warning for each BatchNorm whose shift goes through the leak."""
    cores = tuple(fold_core(bound.linked, c) for c in bound.cores)
    warnings = [_leak_warning(smap, b) for b, f in zip(bound.cores, cores, strict=True)
                if b.batchnorm is not None and f.bias is not None and np.any(f.bias)]
    return FoldedNetwork(bound.linked, bound.weights_file, cores), warnings

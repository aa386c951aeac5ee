"""The model's own checkpoint bound as it is: BatchNorm folded as torch folds it, average
pooling, neuron parameters read from the file, and tensors that are already in memory.

Networks are YAML text through the real pipeline; the tensors come from real torch modules.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch
from torch.nn.utils.fusion import fuse_conv_bn_weights

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.pipeline import Result, Stage, resume, run_text


def weigh(text: str, weights, *, key: str | None = None) -> Result:
    """The pipeline up to `quantize`, on a network that links."""
    result = run_text(textwrap.dedent(text), "net.yaml")
    assert result.ok, [f"{d.position} {d.code}: {d.message}" for d in result.diagnostics]
    return resume(result, until=Stage.QUANTIZE, weights=weights, key=key)


def codes(weighted: Result) -> list[tuple[str, str]]:
    return [(str(d.position), d.code) for d in weighted.diagnostics]


# ------------------------------------------------------------------------------------ BatchNorm
CONV_BN = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [3, 8, 8], to: [c]}
cores:
  c:
    conv: {out_channels: 6, kernel: 3, padding: 1, bias: BIAS}
    weights: "0"
    batchnorm: BN
    monitor: true
"""


def conv_bn(bias: bool, seed: int = 0) -> tuple[torch.nn.Conv2d, torch.nn.BatchNorm2d, dict]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1, bias=bias), torch.nn.BatchNorm2d(6))
    bn = model[1]
    with torch.no_grad():  # a trained BatchNorm: statistics and affine parameters away from 0/1
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.2, 3.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.3, 0.3)
        bn.num_batches_tracked.fill_(1234)
    return model[0], bn, model.state_dict()


@pytest.mark.parametrize("bias", [False, True])
def test_batchnorm_folds_bit_for_bit_as_torch_fuses_it(bias):
    conv, bn, sd = conv_bn(bias)
    assert "1.num_batches_tracked" in sd
    weighted = weigh(CONV_BN.replace("BIAS", str(bias).lower()).replace("BN", '"1"'), sd)
    assert weighted.quantized is not None, weighted.diagnostics
    want_w, want_b = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var,
                                          bn.eps, bn.weight, bn.bias)
    folded = weighted.folded.cores[0]
    assert folded.folded == ("batchnorm",)
    np.testing.assert_array_equal(folded.weight, want_w.detach().numpy())
    np.testing.assert_array_equal(folded.bias, want_b.detach().numpy())
    # nothing unused: num_batches_tracked belongs to the BatchNorm
    assert "weights-unused" not in [c for _, c in codes(weighted)]


def test_batchnorm_with_its_own_eps():
    conv, bn, sd = conv_bn(False, seed=3)
    weighted = weigh(CONV_BN.replace("BIAS", "false").replace("BN", '{weights: "1", eps: 0.001}'), sd)
    want_w, want_b = fuse_conv_bn_weights(conv.weight, None, bn.running_mean, bn.running_var,
                                          1e-3, bn.weight, bn.bias)
    np.testing.assert_array_equal(weighted.folded.cores[0].weight, want_w.detach().numpy())
    np.testing.assert_array_equal(weighted.folded.cores[0].bias, want_b.detach().numpy())


def test_a_folded_shift_goes_through_the_leak_and_says_so():
    _, _, sd = conv_bn(False)
    weighted = weigh(CONV_BN.replace("BIAS", "false").replace("BN", '"1"'), sd)
    assert codes(weighted) == [("8:5", "weights-batchnorm-leak")]
    d = weighted.diagnostics[0]
    assert d.message == ("core 'c': the BatchNorm '1' folds into a bias, which the chip adds "
                         "through its leak once per slow-clock tick, not per input event as the "
                         "model does")
    layer = weighted.quantized.cores[0]
    assert layer.bias is not None and np.any(layer.bias)


def test_batchnorm_tensors_that_no_core_folds_are_an_error_with_the_fix():
    _, _, sd = conv_bn(False)
    weighted = weigh(CONV_BN.replace("BIAS", "false").replace("    batchnorm: BN\n", ""), sd)
    assert weighted.quantized is None
    assert codes(weighted) == [("5:3", "weights-batchnorm")]
    d = weighted.diagnostics[0]
    assert d.message == ("core 'c': <memory> has a BatchNorm '1' after its convolution '0', which "
                         "no core folds")
    assert d.hint.startswith('add `batchnorm: "1"` to core \'c\'')


def test_a_checkpoint_with_two_models_side_by_side_builds():
    """A spiking model and its analog twin in one file: the twin's BatchNorm comes next after the
    spiking model's last convolution, but in another module tree (and of another size): it is
    not that convolution's, and the network builds."""
    torch.manual_seed(3)
    snn = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1, bias=False))
    ann = torch.nn.Sequential(torch.nn.BatchNorm2d(6), torch.nn.Conv2d(6, 4, 3))
    both = torch.nn.ModuleDict({"snn": snn, "ann": ann}).state_dict()
    weighted = weigh(CONV_BN.replace("BIAS", "false").replace("    batchnorm: BN\n", "")
                     .replace('weights: "0"', "weights: snn.0"), both)
    assert weighted.quantized is not None, codes(weighted)
    assert codes(weighted) == [("None", "weights-unused")]     # the twin's tensors, a warning
    assert weighted.diagnostics[0].severity != Severity.ERROR


def test_a_batchnorm_of_another_size_after_the_convolution_is_not_its():
    """One value per output feature, or it is not the convolution's BatchNorm."""
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1, bias=False), torch.nn.BatchNorm2d(5))
    weighted = weigh(CONV_BN.replace("BIAS", "false").replace("    batchnorm: BN\n", ""),
                     model.state_dict())
    assert weighted.quantized is not None
    assert "weights-batchnorm" not in {code for _, code in codes(weighted)}


def test_a_missing_batchnorm_tensor_is_named_at_the_batchnorm_key():
    _, _, sd = conv_bn(False)
    del sd["1.running_var"]
    weighted = weigh(CONV_BN.replace("BIAS", "false").replace("BN", '"1"'), sd)
    assert weighted.quantized is None
    assert codes(weighted)[0] == ("8:5", "weights-missing")
    assert "'1.running_var'" in weighted.diagnostics[0].message


# --------------------------------------------------------------------------------- average pooling
AVERAGE = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 16, 16], to: [a, b]}
cores:
  a:
    conv: {out_channels: 3, kernel: 1}
    to: [{core: c, pool: 2, average: true}]
  b:
    conv: {out_channels: 5, kernel: 1}
    to: [{core: c, pool: 2}]
  c:
    conv: {out_channels: 4, kernel: 3}
    merge: concat
    from: [a, b]
    monitor: true
"""


def test_a_concat_receiver_scales_only_the_features_of_the_averaging_source():
    rng = np.random.default_rng(0)
    tensors = {"a.weight": rng.normal(size=(3, 2, 1, 1)).astype(np.float32),
               "b.weight": rng.normal(size=(5, 2, 1, 1)).astype(np.float32),
               "c.weight": rng.normal(size=(4, 8, 3, 3)).astype(np.float32)}
    weighted = weigh(AVERAGE, tensors)
    assert weighted.quantized is not None, weighted.diagnostics
    c = weighted.folded.cores[2]
    assert c.folded == ("average",)
    w = tensors["c.weight"]
    np.testing.assert_array_equal(c.weight[:, :3], w[:, :3] * np.float32(0.25))
    np.testing.assert_array_equal(c.weight[:, 3:], w[:, 3:])
    assert weighted.folded.cores[0].weight is tensors["a.weight"]  # nothing folded: untouched


# ------------------------------------------------------------------------- neurons from the file
NEURON = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 8, 8], to: [c]}
cores:
  c:
    conv: {out_channels: 2, kernel: 3}
    weights: "0"
    neuron: {weights: "1"}
    monitor: true
"""


def neuron_tensors(**extra) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {"0.weight": rng.normal(size=(2, 1, 3, 3)).astype(np.float32), **extra}


def test_threshold_and_min_v_mem_come_from_the_checkpoint_and_v_mem_is_never_bound():
    tensors = neuron_tensors(**{"1.spike_threshold": np.array(2.5, np.float32),
                                "1.min_v_mem": np.full((1,), -2.5, np.float32),
                                "1.v_mem": np.zeros((1, 2, 6, 6), np.float32)})
    weighted = weigh(NEURON, tensors)
    assert weighted.quantized is not None, weighted.diagnostics
    assert weighted.bound.cores[0].neuron[:2] == (2.5, -2.5)
    assert codes(weighted) == [("None", "weights-states")]  # a state, not an unused tensor
    (d,) = weighted.diagnostics
    assert d.severity is Severity.INFO and d.message == "1 saved neuron state is not bound: 1.v_mem"


def test_a_v_mem_beside_no_bound_neuron_is_unused():
    """Only the layer a core's `neuron: {weights}` names has its states recognised: the same
    tensor under another prefix is an unused tensor, as any other."""
    tensors = neuron_tensors(**{"1.spike_threshold": np.array(2.5, np.float32),
                                "1.min_v_mem": np.array(-2.5, np.float32),
                                "7.v_mem": np.zeros((1, 2, 6, 6), np.float32)})
    weighted = weigh(NEURON, tensors)
    assert codes(weighted) == [("None", "weights-unused")]
    assert weighted.diagnostics[0].message == "1 tensor is bound to no core: 7.v_mem"


def test_a_sinabs_layer_read_from_the_file_is_named_in_the_unused_warning():
    """The core writes its neuron values itself: the file's saved parameters are unused (and the
    warning says how to read them), the layer's v_mem is still a state."""
    literal = NEURON.replace('neuron: {weights: "1"}', "neuron: {threshold: 2.5, min_v_mem: -2.5}")
    tensors = neuron_tensors(**{"1.spike_threshold": np.array(2.5, np.float32),
                                "1.min_v_mem": np.array(-2.5, np.float32),
                                "1.v_mem": np.zeros((1, 2, 6, 6), np.float32)})
    weighted = weigh(literal, tensors)
    assert codes(weighted) == [("None", "weights-states"), ("None", "weights-unused")]
    unused = weighted.diagnostics[1]
    assert unused.message == "2 tensors are bound to no core: 1.min_v_mem, 1.spike_threshold"
    assert unused.hint == ("'1.spike_threshold' is a sinabs layer's saved threshold: a core reads it, "
                           "and min_v_mem, with `neuron: {weights: 1}`")


def test_a_sinabs_layer_saved_without_min_v_mem_is_not_offered_as_bindable():
    literal = NEURON.replace('neuron: {weights: "1"}', "neuron: {threshold: 2.5, min_v_mem: -2.5}")
    weighted = weigh(literal, neuron_tensors(**{"1.spike_threshold": np.array(2.5, np.float32)}))
    (unused,) = weighted.diagnostics
    assert unused.hint == ("'1.spike_threshold' is the threshold of a sinabs layer saved without "
                           "min_v_mem (None): the core's `neuron:` values are used, not the file's")


def test_a_missing_min_v_mem_is_refused_with_the_sinabs_pitfall():
    weighted = weigh(NEURON, neuron_tensors(**{"1.spike_threshold": np.array(1.0, np.float32)}))
    assert weighted.quantized is None
    assert codes(weighted) == [("8:14", "weights-min-v-mem")]
    assert "-32768" in weighted.diagnostics[0].message


def test_a_threshold_per_neuron_is_refused():
    tensors = neuron_tensors(**{"1.spike_threshold": np.array([1.0, 2.0], np.float32),
                                "1.min_v_mem": np.array(-1.0, np.float32)})
    weighted = weigh(NEURON, tensors)
    assert codes(weighted) == [("8:14", "weights-neuron")]
    assert "holds 2 different values" in weighted.diagnostics[0].message


# ------------------------------------------------------------------------------ the Linear hint
def test_a_linear_weight_on_a_kernel_that_does_not_cover_the_map_names_the_kernel_that_would():
    text = NEURON.replace('    neuron: {weights: "1"}\n', "").replace("[1, 8, 8]", "[2, 4, 4]")
    weighted = weigh(text, {"0.weight": np.ones((2, 32), np.float32)})
    assert codes(weighted) == [("7:5", "weights-shape")]
    assert weighted.diagnostics[0].hint == ("'0.weight' is a Linear over the flattened [2, 4, 4] "
                                            "input: give the core `kernel: 4` (and no padding) so "
                                            "the convolution covers the whole map")


# -------------------------------------------------------------------------------- in memory
def test_a_module_a_state_dict_and_numpy_arrays_build_the_same_integers():
    conv, bn, sd = conv_bn(True)
    text = CONV_BN.replace("BIAS", "true").replace("BN", '"1"')
    module = torch.nn.Sequential(conv, bn)
    as_numpy = {k: v.numpy() for k, v in sd.items()}
    results = [weigh(text, w).quantized for w in (sd, module, as_numpy)]
    for other in results[1:]:
        np.testing.assert_array_equal(other.cores[0].weights, results[0].cores[0].weights)


def test_tensors_shared_between_keys_bind_to_both_cores():
    shared = torch.nn.Conv2d(4, 4, 1, bias=False)
    text = """\
    dsl: 1
    chip: speck2f
    input: {source: host, shape: [4, 8, 8], to: [a]}
    cores:
      a: {conv: {out_channels: 4, kernel: 1}, to: [b]}
      b: {conv: {out_channels: 4, kernel: 1}, monitor: true}
    """
    weighted = weigh(text, {"a.weight": shared.weight, "b.weight": shared.weight})
    assert weighted.quantized is not None
    np.testing.assert_array_equal(weighted.quantized.cores[0].weights, weighted.quantized.cores[1].weights)


def test_a_checkpoint_in_memory_opens_at_its_key():
    _, _, sd = conv_bn(False)
    text = CONV_BN.replace("BIAS", "false").replace("BN", '"1"')
    assert weigh(text, {"state_dict": sd, "epoch": 3}, key="state_dict").quantized is not None
    missing = weigh(text, {"state_dict": sd, "epoch": 3}, key="model")
    assert [(d.file, d.code) for d in missing.diagnostics] == [("<memory>", "weights-key")]
    unkeyed = weigh(text, {"state_dict": sd, "epoch": 3})
    assert [(d.code, d.hint) for d in unkeyed.diagnostics] == [
        ("weights-key", "name the state_dict with key=: state_dict")]


@pytest.mark.parametrize("weights", [42, [1, 2], {"a.weight": "text"}, {}])
def test_anything_else_is_a_diagnostic(weights):
    weighted = weigh(CONV_BN.replace("BIAS", "false").replace("    batchnorm: BN\n", ""), weights)
    assert weighted.quantized is None
    assert [(d.file, d.code) for d in weighted.diagnostics] == [("<memory>", "weights-format")]

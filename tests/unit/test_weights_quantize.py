"""Quantization parity with sinabs, bit for bit.

The reference below is an independent torch implementation of sinabs' documented per-core rule
(shared/HARDWARE.md): one scale per core, the minimum of the weights' and biases' 8-bit scales,
the (threshold_low, threshold_high) pair's 16-bit scale and, when not all zero, the initial
state's; everything multiplied by it and rounded half to even. It runs in torch, as sinabs does,
so any difference in float32 arithmetic between numpy and torch would show up here.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the sinabs reference is computed with torch")

from dynapcnn_dsl.weights.quantize import (  # noqa: E402
    errata_spread,
    quantize_auto,
    quantize_none,
    tensor_scale,
)


def reference_scale(t: torch.Tensor, bits: int) -> torch.Tensor:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    tmin, tmax = torch.min(t), torch.max(t)
    if abs(tmin) <= abs(tmax) * abs(lo / hi):
        return abs(hi / tmax)
    return abs(lo / tmin)


def reference(weight, bias, threshold, low, state):
    w = torch.from_numpy(weight)
    b = torch.from_numpy(bias) if bias is not None else torch.zeros(weight.shape[0])
    thresholds = torch.tensor((low, threshold))
    scales = [reference_scale(w, 8), reference_scale(b, 8), reference_scale(thresholds, 16)]
    if state != 0:
        scales.append(reference_scale(torch.full((1,), state), 16))
    s = min(scales)
    q = lambda t: torch.round(t * s).int().numpy()  # noqa: E731
    tl, th = q(thresholds)
    return {"scale": float(s), "weights": q(w), "bias": q(b) if bias is not None else None,
            "threshold_high": int(th), "threshold_low": int(tl),
            "state": int(torch.round(torch.tensor(state, dtype=torch.float32) * s))}


def random_case(rng: np.random.Generator):
    out, cin, k = rng.integers(1, 33), rng.integers(1, 33), int(rng.choice([1, 2, 3, 5, 7]))
    spread = float(rng.choice([1e-3, 0.05, 0.3, 2.0, 40.0]))
    kind = rng.choice(["normal", "positive", "negative", "uniform"])
    w = rng.normal(0, spread, (out, cin, k, k))
    if kind == "positive":
        w = np.abs(w)
    elif kind == "negative":
        w = -np.abs(w)
    elif kind == "uniform":
        w = rng.uniform(-spread, spread / 3, (out, cin, k, k))
    bias = rng.normal(0, spread * float(rng.choice([0.1, 1, 5])), out) if rng.random() < 0.4 else None
    threshold = float(rng.choice([0.01, 0.5, 1.0, 3.7, 250.0]))
    low = -float(rng.choice([threshold, threshold * 0.3, 1.0, 1e-4]))
    state = float(rng.choice([0.0, 0.0, 0.25, -0.6, 3.0]))
    return w.astype(np.float32), None if bias is None else bias.astype(np.float32), threshold, low, state


@pytest.mark.parametrize("seed", range(40))
def test_integers_equal_the_sinabs_rule_bit_for_bit(seed):
    w, b, threshold, low, state = random_case(np.random.default_rng(seed))
    ours = quantize_auto(w, b, threshold, low, state)
    ref = reference(w, b, threshold, low, state)
    assert np.float32(ours.report.scale) == np.float32(ref["scale"])
    assert np.array_equal(ours.weights, ref["weights"])
    if b is not None:
        assert np.array_equal(ours.bias, ref["bias"])
    else:
        assert ours.bias is None
    assert (ours.threshold_high, ours.threshold_low) == (ref["threshold_high"], ref["threshold_low"])
    assert ours.initial_state == ref["state"]


def test_each_term_can_set_the_scale():
    w = np.array([[[[0.5]]], [[[-0.25]]]], dtype=np.float32)
    assert quantize_auto(w, None, 1.0, -1.0, 0.0).report.limited_by == "weights"
    assert quantize_auto(w, np.array([4.0, 0.0], np.float32), 1.0, -1.0, 0.0).report.limited_by == "bias"
    assert quantize_auto(w, None, 1000.0, -1.0, 0.0).report.limited_by == "thresholds"
    assert quantize_auto(w, None, 1.0, -1.0, 5000.0).report.limited_by == "state"


def test_the_pitfall_of_a_lower_threshold_at_the_16_bit_minimum():
    # min_v_mem = -32768 (what sinabs uses when none is set) forces the scale to 1 and rounds
    # every small weight to zero: the language never defaults to it (min_v_mem = -threshold).
    w = np.full((1, 1, 1, 1), 0.3, dtype=np.float32)
    q = quantize_auto(w, None, 1.0, -32768.0, 0.0)
    assert q.report.scale == 1.0 and not q.weights.any() and q.report.zeroed == 1


def test_scale_of_a_zero_tensor_is_infinite_and_imposes_nothing():
    assert np.isinf(tensor_scale(np.zeros(4, np.float32), 8))


def test_negative_side_uses_the_wider_range():
    # |min| > |max| * 128/127: scaled by 128/|min|, so the minimum lands exactly on -128
    q = quantize_auto(np.array([[[[-1.0]]], [[[0.5]]]], np.float32), None, 1.0, -1.0, 0.0)
    assert q.weights.min() == -128 and q.weights.max() == 64


def test_ties_round_to_even_as_torch_does():
    w = np.array([[[[127.0]]], [[[0.5]]], [[[1.5]]], [[[2.5]]]], dtype=np.float32)
    q = quantize_auto(w, None, 1.0, -1.0, 0.0)  # scale exactly 1
    assert q.report.scale == 1.0
    assert q.weights.ravel().tolist() == [127, 0, 2, 2]
    assert q.report.zeroed == 1


def test_report_figures():
    w = np.array([[[[1.0]]], [[[0.004]]], [[[0.3]]], [[[0.0]]]], dtype=np.float32)
    q = quantize_auto(w, None, 1.0, -1.0, 0.0)  # scale 127: 0.004 -> 0.508 -> 1; 0.3 -> 38.1 -> 38
    assert q.weights.ravel().tolist() == [127, 1, 38, 0]
    assert q.report.zeroed == 0 and q.report.entries == 4
    assert q.report.worst_relative_error == pytest.approx(abs(1 - 0.508) / 0.508, rel=1e-4)
    # rounding noise 0.492^2 + 0.1^2 under a signal of 127^2 + 0.508^2 + 38.1^2
    assert q.report.sqnr_db == pytest.approx(10 * np.log10((127**2 + 0.508**2 + 38.1**2)
                                                           / (0.492**2 + 0.1**2)), rel=1e-4)
    assert quantize_auto(np.array([[[[1.0]]]], np.float32), None, 1.0, -1.0, 0.0).report.sqnr_db is None


def test_quantize_none_keeps_the_integers():
    w = np.array([[[[3]]], [[[-7]]]], dtype=np.int64)
    q = quantize_none(w, np.array([1, -2]), 100, -50, 4)
    assert q.weights.tolist() == [[[[3]]], [[[-7]]]] and q.bias.tolist() == [1, -2]
    assert (q.threshold_high, q.threshold_low, q.initial_state, q.report.scale) == (100, -50, 4, 1.0)


def test_errata_spread_puts_class_k_on_feature_4_k_minus_1():
    values = np.arange(3 * 2).reshape(3, 2) + 1
    spread = errata_spread(values, 9)
    assert spread.shape == (9, 2)
    assert spread[[0, 4, 8]].tolist() == values.tolist()
    assert not spread[[1, 2, 3, 5, 6, 7]].any()

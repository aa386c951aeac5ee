"""Binding a weights file to the cores of a linked network: names, shapes, biases, values,
the Linear reshape, `quantize: none`, cores quantization would erase, and the readout errata.

Networks are YAML text run through the real pipeline (`run_text`); weights come from real
torch modules saved with torch.save into tmp_path, then the pipeline reads, binds, folds and
quantizes them.
(The sinabs parity of the quantization itself is tested in test_weights_quantize.py.)
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.pipeline import Result, Stage, resume, run_file, run_text
from dynapcnn_dsl.weights import QuantizedNetwork, WeightsFile, bind, fold, quantize, read

ROOT = Path(__file__).resolve().parents[2]
FILE = "net.yaml"


# ------------------------------------------------------------------------------------ helpers
def network(text: str) -> Result:
    """A valid, linked network from YAML text."""
    result = run_text(textwrap.dedent(text), FILE)
    assert result.ok, [f"{d.position} {d.code}: {d.message}" for d in result.diagnostics]
    return result


def at(text: str, needle: str, nth: int = 0) -> str:
    """'line:col' of the nth occurrence of `needle` in the (dedented) YAML text."""
    text = textwrap.dedent(text)
    starts = [m.start() for m in re.finditer(re.escape(needle), text)]
    offset = starts[nth]
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


def save(tmp_path: Path, tensors: dict[str, torch.Tensor], name: str = "w.pt") -> Path:
    path = tmp_path / name
    torch.save({k: v.detach().clone() for k, v in tensors.items()}, path)
    return path


def load(result: Result, path: Path) -> tuple[QuantizedNetwork | None, list[Diagnostic]]:
    assert result.linked is not None and result.source is not None
    # (most networks here monitor nothing: the build-stage advice is tested in test_checkpoint)
    weighted = resume(result, until=Stage.QUANTIZE, weights=path, disabled=frozenset({"no-output"}))
    return weighted.quantized, [d for d in weighted.diagnostics if d not in result.diagnostics]


def bound_ok(result: Result, path: Path) -> QuantizedNetwork:
    bound, diags = load(result, path)
    assert [d for d in diags if d.severity is not Severity.INFO] == [], \
        [f"{d.position} {d.code}: {d.message}" for d in diags]
    assert bound is not None
    return bound


def errors(diags: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(str(d.position), d.code) for d in diags if d.is_error]


def by_code(diags: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


def assert_int32_arrays(bound: QuantizedNetwork) -> None:
    for core in bound.cores:
        assert type(core.weights) is np.ndarray and core.weights.dtype == np.int32, core.name
        if core.bias is not None:
            assert type(core.bias) is np.ndarray and core.bias.dtype == np.int32, core.name
        for value in (core.threshold_high, core.threshold_low, core.initial_state):
            assert type(value) is int, core.name


class _Wrapped(torch.nn.Module):
    """A module whose Sequential is an attribute: its keys read `model.<i>.weight`."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model


# --------------------------------------------------------------------- a Sequential, by prefix
SEQUENTIAL = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 8, 8], to: [c1]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  c1:
    conv: {out_channels: 4, kernel: 3, padding: 1}
    weights: model.0
    to: [c2]
  c2:
    conv: {out_channels: 3, kernel: 3, bias: true}
    weights: model.2
"""


@pytest.fixture(scope="module")
def sequential() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    model = _Wrapped(torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1, bias=False), torch.nn.ReLU(), torch.nn.Conv2d(4, 3, 3),
    ))
    sd = model.state_dict()
    assert list(sd) == ["model.0.weight", "model.2.weight", "model.2.bias"]
    return sd


def test_sequential_bound_by_prefix(tmp_path, sequential):
    result = network(SEQUENTIAL)
    bound, diags = load(result, save(tmp_path, sequential))
    assert diags == []
    assert bound is not None
    assert bound.weights_file == str(tmp_path / "w.pt")
    assert [c.name for c in bound.cores] == ["c1", "c2"]
    c1, c2 = bound.core("c1"), bound.core("c2")
    assert (c1.weight_key, c2.weight_key) == ("model.0.weight", "model.2.weight")
    assert c1.index == result.linked.core("c1").index
    assert c1.weights.shape == (4, 2, 3, 3) and c1.bias is None
    assert c2.weights.shape == (3, 4, 3, 3) and c2.bias.shape == (3,)
    assert c1.reshaped_from is None
    assert_int32_arrays(bound)
    for core, key in ((c1, "model.0.weight"), (c2, "model.2.weight")):
        w = sequential[key].numpy()
        assert core.report.limited_by == "weights"
        assert np.abs(core.weights).max() == 127
        assert core.weights.min() >= -128
        # the integers keep the float weights' layout and signs
        kept = core.weights != 0
        np.testing.assert_array_equal(np.sign(core.weights[kept]), np.sign(w[kept]))
        assert core.threshold_high == round(core.report.scale)
        assert core.threshold_low == -core.threshold_high


def test_default_prefix_is_the_core_name(tmp_path):
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 4, 3, bias=False)
            self.conv2 = torch.nn.Conv2d(4, 2, 1, bias=False)

    torch.manual_seed(2)
    path = save(tmp_path, Net().state_dict())
    result = network("""\
        dsl: 1
        chip: speck2f
        input: {source: host, shape: [1, 8, 8], to: [conv1]}
        cores:
          conv1: {conv: {out_channels: 4, kernel: 3}, to: [conv2]}
          conv2: {conv: {out_channels: 2, kernel: 1}}
        """)
    bound = bound_ok(result, path)
    assert [c.weight_key for c in bound.cores] == ["conv1.weight", "conv2.weight"]
    assert bound.core("conv2").weights.shape == (2, 4, 1, 1)
    assert_int32_arrays(bound)


# --------------------------------------------------------------------------- missing, unused
def test_missing_tensors_all_reported_with_the_closest_names(tmp_path, sequential):
    path = save(tmp_path, {
        "model.1.weight": sequential["model.0.weight"],   # off by one
        "model.2.weigth": sequential["model.2.weight"],   # misspelled
        "model.3.bias": sequential["model.2.bias"],
    })
    bound, diags = load(network(SEQUENTIAL), path)
    assert bound is None
    assert errors(diags) == [
        (at(SEQUENTIAL, "weights: model.0"), "weights-missing"),
        (at(SEQUENTIAL, "weights: model.2"), "weights-missing"),
        (at(SEQUENTIAL, "weights: model.2"), "weights-missing"),
    ]
    w1, w2, b2 = by_code(diags, "weights-missing")
    assert w1.message == f"core 'c1' needs the weight 'model.0.weight', which {path} does not have"
    assert w1.hint.startswith("closest names in the file: model.1.weight")
    assert w2.message == f"core 'c2' needs the weight 'model.2.weight', which {path} does not have"
    assert w2.hint.startswith("closest names in the file: model.2.weigth")
    assert b2.message == f"core 'c2' needs the bias 'model.2.bias', which {path} does not have"
    assert b2.hint.startswith("closest names in the file: model.3.bias")


def test_missing_with_nothing_close_points_at_the_prefix(tmp_path, sequential):
    path = save(tmp_path, {"encoder.layers.conv_in.kernel": sequential["model.0.weight"]})
    text = SEQUENTIAL.replace("    weights: model.0\n", "")
    bound, diags = load(network(text), path)
    assert bound is None
    first = by_code(diags, "weights-missing")[0]
    assert str(first.position) == at(text, "c1:")  # no `weights:` key: the core's name
    assert first.message.startswith("core 'c1' needs the weight 'c1.weight'")
    assert first.hint == "set the core's `weights:` to the prefix its tensors have in the state_dict"


def test_unused_tensors_are_one_warning(tmp_path, sequential):
    extra = {"model.4.weight": torch.ones(2, 3, 1, 1), "model.0.running_mean": torch.zeros(4),
             "head.num_batches_tracked": torch.tensor(3)}
    path = save(tmp_path, {**sequential, **extra})
    bound, diags = load(network(SEQUENTIAL), path)
    assert bound is not None  # unused tensors do not stop the build
    assert [d.code for d in diags] == ["weights-unused"]
    (d,) = diags
    assert d.severity is Severity.WARNING
    assert d.file == str(path) and d.position is None
    assert d.message == ("3 tensors are bound to no core: head.num_batches_tracked, "
                         "model.0.running_mean, model.4.weight")


def test_many_unused_tensors_are_summarised(tmp_path, sequential):
    extra = {f"spare.{i:02d}": torch.zeros(1) for i in range(11)}
    bound, diags = load(network(SEQUENTIAL), save(tmp_path, {**sequential, **extra}))
    assert bound is not None
    (d,) = by_code(diags, "weights-unused")
    assert d.message == ("11 tensors are bound to no core: " +
                         ", ".join(f"spare.{i:02d}" for i in range(8)) + " and 3 more")


# ------------------------------------------------------------------------------------ shapes
def test_wrong_shapes_say_what_was_expected(tmp_path, sequential):
    path = save(tmp_path, {"model.0.weight": torch.zeros(4, 2, 5, 5),
                           "model.2.weight": sequential["model.2.weight"],
                           "model.2.bias": torch.zeros(4)})
    bound, diags = load(network(SEQUENTIAL), path)
    assert bound is None
    assert errors(diags) == [(at(SEQUENTIAL, "weights: model.0"), "weights-shape"),
                             (at(SEQUENTIAL, "weights: model.2"), "weights-shape")]
    weight, bias = by_code(diags, "weights-shape")
    assert weight.message == ("core 'c1': 'model.0.weight' is [4, 2, 5, 5], expected [4, 2, 3, 3] "
                              "[out, in, k, k]")
    assert bias.message == "core 'c2': 'model.2.bias' is [4], expected [3]"


def test_transposed_in_and_out_is_a_shape_error(tmp_path, sequential):
    path = save(tmp_path, {"model.0.weight": torch.zeros(2, 4, 3, 3),
                           "model.2.weight": sequential["model.2.weight"],
                           "model.2.bias": sequential["model.2.bias"]})
    _, diags = load(network(SEQUENTIAL), path)
    (d,) = by_code(diags, "weights-shape")
    assert "is [2, 4, 3, 3], expected [4, 2, 3, 3]" in d.message


CONCAT = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 8, 8], to: [a, b]}
cores:
  a: {conv: {out_channels: 2, kernel: 1}, to: [m]}
  b: {conv: {out_channels: 3, kernel: 1}, to: [m]}
  m:
    conv: {out_channels: 4, kernel: 1}
    merge: concat
    from: [b, a]
"""


def test_concat_receiver_input_axis_is_the_sum_of_its_sources(tmp_path):
    ab = {"a.weight": torch.randn(2, 1, 1, 1), "b.weight": torch.randn(3, 1, 1, 1)}
    bound = bound_ok(network(CONCAT), save(tmp_path, {**ab, "m.weight": torch.randn(4, 5, 1, 1)}))
    assert bound.core("m").weights.shape == (4, 5, 1, 1)

    bound, diags = load(network(CONCAT), save(tmp_path, {**ab, "m.weight": torch.randn(4, 4, 1, 1)},
                                              "bad.pt"))
    assert bound is None
    assert errors(diags) == [(at(CONCAT, "m:"), "weights-shape")]
    assert diags[0].message == (
        "core 'm': 'm.weight' is [4, 4, 1, 1], expected [4, 5, 1, 1] [out, in, k, k]; "
        "the input axis stacks 'b' 3 then 'a' 2 (the `from:` order)")


SUM = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 8, 8], to: [a, b]}
cores:
  a: {conv: {out_channels: 3, kernel: 1}, to: [m]}
  b: {conv: {out_channels: 3, kernel: 1}, to: [m]}
  m:
    conv: {out_channels: 4, kernel: 1}
    merge: sum
"""


def test_sum_receiver_takes_the_features_of_one_source(tmp_path):
    ab = {"a.weight": torch.randn(3, 1, 1, 1), "b.weight": torch.randn(3, 1, 1, 1)}
    bound = bound_ok(network(SUM), save(tmp_path, {**ab, "m.weight": torch.randn(4, 3, 1, 1)}))
    assert bound.core("m").weights.shape == (4, 3, 1, 1)

    bound, diags = load(network(SUM), save(tmp_path, {**ab, "m.weight": torch.randn(4, 6, 1, 1)},
                                           "stacked.pt"))
    assert bound is None
    assert errors(diags) == [(at(SUM, "m:"), "weights-shape")]
    assert diags[0].message == (
        "core 'm': 'm.weight' is [4, 6, 1, 1], expected [4, 3, 1, 1] [out, in, k, k]; "
        "the sources are summed: 'a' 3, 'b' 3")


# -------------------------------------------------------------------------------------- bias
def test_bias_in_the_file_for_a_core_without_one(tmp_path, sequential):
    path = save(tmp_path, {**sequential, "model.0.bias": torch.zeros(4)})
    bound, diags = load(network(SEQUENTIAL), path)
    assert bound is None
    assert errors(diags) == [(at(SEQUENTIAL, "conv:"), "weights-bias-unexpected")]
    d = diags[0]
    assert d.message == f"'model.0.bias' is in {path}, but core 'c1' has no bias"
    assert "bias: true" in d.hint
    assert by_code(diags, "weights-unused") == []  # the bias was looked at, not ignored


def test_core_with_a_bias_needs_it_in_the_file(tmp_path, sequential):
    path = save(tmp_path, {k: v for k, v in sequential.items() if k != "model.2.bias"})
    bound, diags = load(network(SEQUENTIAL), path)
    assert bound is None
    assert errors(diags) == [(at(SEQUENTIAL, "weights: model.2"), "weights-missing")]
    assert diags[0].message == f"core 'c2' needs the bias 'model.2.bias', which {path} does not have"


# ---------------------------------------------------------------------------------- values
def test_non_finite_values_are_counted(tmp_path, sequential):
    w = sequential["model.0.weight"].clone()
    w[1, 0, 2, 1] = float("nan")
    w[2, 1, 0, 0] = float("inf")
    w[3, 1, 1, 1] = -float("inf")
    b = sequential["model.2.bias"].clone()
    b[2] = float("nan")
    path = save(tmp_path, {**sequential, "model.0.weight": w, "model.2.bias": b})
    bound, diags = load(network(SEQUENTIAL), path)
    assert bound is None
    assert errors(diags) == [(at(SEQUENTIAL, "weights: model.0"), "weights-non-finite"),
                             (at(SEQUENTIAL, "weights: model.2"), "weights-non-finite")]
    weight, bias = diags
    assert weight.message == "core 'c1': 'model.0.weight' has 3 non-finite values (first at [1, 0, 2, 1])"
    assert bias.message == "core 'c2': 'model.2.bias' has 1 non-finite value (first at [2])"


def test_a_core_whose_weights_all_round_to_zero(tmp_path):
    text = """\
        dsl: 1
        chip: speck2f
        input: {source: host, shape: [1, 8, 8], to: [a]}
        cores:
          a:
            conv: {out_channels: 2, kernel: 3}
            neuron: {threshold: 1.0, min_v_mem: -1.0}
        """
    path = save(tmp_path, {"a.weight": torch.full((2, 1, 3, 3), 1e-6)})
    bound, diags = load(network(text), path)
    assert bound is None
    assert errors(diags) == [(at(text, "a:"), "quantize-all-zero")]
    assert diags[0].message == ("core 'a': every weight rounds to 0 at scale 3.277e+04 "
                                "(set by its thresholds)")


def test_a_threshold_that_rounds_to_zero(tmp_path):
    text = """\
        dsl: 1
        chip: speck2f
        input: {source: host, shape: [1, 8, 8], to: [a]}
        cores:
          a:
            conv: {out_channels: 2, kernel: 1}
            neuron: {threshold: 1.0, min_v_mem: -1.0}
        """
    path = save(tmp_path, {"a.weight": torch.tensor([1e6, -5e5]).reshape(2, 1, 1, 1)})
    bound, diags = load(network(text), path)
    assert bound is None
    found = [(str(d.position), d.code) for d in diags]
    assert found == [(at(text, "neuron:"), "quantize-threshold")] * 2
    assert "threshold 1 becomes 0" in diags[0].message
    assert "min_v_mem -1 becomes 0" in diags[1].message


# ----------------------------------------------------------------------------- Linear heads
LINEAR = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 6, 6], to: [c]}
cores:
  c: {conv: {out_channels: 3, kernel: 3}, to: [fc]}
  fc: {conv: {out_channels: 5, kernel: 4, bias: true}}
"""


def test_linear_head_is_reshaped_to_a_convolution(tmp_path):
    torch.manual_seed(3)
    conv = torch.nn.Conv2d(2, 3, 3, bias=False)
    linear = torch.nn.Linear(3 * 4 * 4, 5)
    lin_path = save(tmp_path, {"c.weight": conv.weight, "fc.weight": linear.weight,
                               "fc.bias": linear.bias}, "linear.pt")
    by_hand = linear.weight.detach().reshape(5, 3, 4, 4)
    conv_path = save(tmp_path, {"c.weight": conv.weight, "fc.weight": by_hand,
                                "fc.bias": linear.bias}, "conv.pt")

    # the reference is right: a Linear over the flattened map is this convolution
    x = torch.randn(7, 3, 4, 4)
    torch.testing.assert_close(torch.nn.functional.conv2d(x, by_hand, linear.bias).flatten(1),
                               linear(x.flatten(1)))

    result = network(LINEAR)
    bound, diags = load(result, lin_path)
    assert bound is not None
    assert [(str(d.position), d.severity, d.code) for d in diags] == [
        (at(LINEAR, "fc:"), Severity.INFO, "weights-reshaped")]
    assert diags[0].message == ("core 'fc': the Linear weight 'fc.weight' [5, 48] is used as "
                                "[5, 3, 4, 4] (flatten order C, H, W)")
    fc = bound.core("fc")
    assert fc.reshaped_from == (5, 48)
    assert fc.weights.shape == (5, 3, 4, 4)
    assert_int32_arrays(bound)

    reference = bound_ok(network(LINEAR), conv_path).core("fc")
    assert reference.reshaped_from is None
    np.testing.assert_array_equal(fc.weights, reference.weights)
    np.testing.assert_array_equal(fc.bias, reference.bias)
    assert fc.report == reference.report
    assert fc.threshold_high == reference.threshold_high


def test_linear_with_the_wrong_width_is_a_shape_error(tmp_path):
    path = save(tmp_path, {"c.weight": torch.randn(3, 2, 3, 3), "fc.weight": torch.randn(5, 47),
                           "fc.bias": torch.randn(5)})
    bound, diags = load(network(LINEAR), path)
    assert bound is None
    (d,) = by_code(diags, "weights-shape")
    assert d.message.startswith("core 'fc': 'fc.weight' is [5, 47], expected [5, 3, 4, 4]")


def test_linear_is_not_reshaped_when_the_core_is_padded(tmp_path):
    text = LINEAR.replace("kernel: 4, bias: true", "kernel: 4, padding: 1, bias: true")
    result = network(text)
    assert tuple(result.linked.core("fc").output_shape)[1:] == (3, 3)
    path = save(tmp_path, {"c.weight": torch.randn(3, 2, 3, 3), "fc.weight": torch.randn(5, 48),
                           "fc.bias": torch.randn(5)})
    bound, diags = load(result, path)
    assert bound is None
    assert "weights-shape" in [d.code for d in diags]


# ------------------------------------------------------------------------------ quantize: none
INTEGERS = """\
dsl: 1
chip: speck2f
quantize: none
input: {source: host, shape: [1, 8, 8], to: [a]}
cores:
  a:
    conv: {out_channels: 2, kernel: 3, bias: true}
    neuron: {threshold: 100, min_v_mem: -100}
"""


@pytest.mark.parametrize("dtype", [torch.float32, torch.int8, torch.int64])
def test_quantize_none_takes_integers_unchanged(tmp_path, dtype):
    w = torch.arange(-9, 9).reshape(2, 1, 3, 3).to(dtype)
    w[0, 0, 0, 0], w[1, 0, 0, 0] = -128, 127
    b = torch.tensor([300, -2]).to(torch.float32 if dtype == torch.float32 else torch.int16)
    bound = bound_ok(network(INTEGERS), save(tmp_path, {"a.weight": w, "a.bias": b}))
    a = bound.core("a")
    np.testing.assert_array_equal(a.weights, w.numpy())
    np.testing.assert_array_equal(a.bias, [300, -2])
    assert a.report.scale == 1.0 and a.report.limited_by == "none"
    assert (a.threshold_high, a.threshold_low) == (100, -100)
    assert_int32_arrays(bound)


def test_quantize_none_refuses_fractions(tmp_path):
    w = torch.arange(-9, 9, dtype=torch.float32).reshape(2, 1, 3, 3)
    w[1, 0, 1, 1] = 0.5
    path = save(tmp_path, {"a.weight": w, "a.bias": torch.tensor([1.0, 2.0])})
    bound, diags = load(network(INTEGERS), path)
    assert bound is None
    assert errors(diags) == [(at(INTEGERS, "quantize:"), "weights-not-integer")]
    assert diags[0].message == ("core 'a': 'a.weight' holds fractional values, but the file says "
                                "`quantize: none`")


def test_quantize_none_refuses_out_of_range_integers(tmp_path):
    w = torch.zeros(2, 1, 3, 3)
    w[0, 0, 0, 0], w[1, 0, 2, 2] = -129, 130
    path = save(tmp_path, {"a.weight": w, "a.bias": torch.tensor([0.0, 1.0])})
    bound, diags = load(network(INTEGERS), path)
    assert bound is None
    assert errors(diags) == [(at(INTEGERS, "quantize:"), "weights-range")]
    assert diags[0].message == "core 'a': 'a.weight' spans -129..130; the chip stores -128..127"


def test_quantize_none_refuses_an_out_of_range_bias(tmp_path):
    path = save(tmp_path, {"a.weight": torch.zeros(2, 1, 3, 3), "a.bias": torch.tensor([0.0, 40000.0])})
    bound, diags = load(network(INTEGERS), path)
    assert bound is None
    assert errors(diags) == [(at(INTEGERS, "quantize:"), "weights-range")]
    assert diags[0].message == "core 'a': 'a.bias' spans 0..40000; the chip stores -32768..32767"


def test_bad_weight_and_bad_bias_are_both_reported(tmp_path):
    w = torch.full((2, 1, 3, 3), 0.5)
    path = save(tmp_path, {"a.weight": w, "a.bias": torch.tensor([0.0, 40000.0])})
    _, diags = load(network(INTEGERS), path)
    assert sorted(d.code for d in diags if d.is_error) == ["weights-not-integer", "weights-range"]


# --------------------------------------------------------------------------- readout errata
READOUT = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 4, 4], to: [head]}
cores:
  head:
    conv: {out_channels: 3, kernel: 4, bias: true}
readout: {from: head, classes: 3}
"""


def test_readout_errata_spreads_class_k_to_feature_4k(tmp_path):
    torch.manual_seed(4)
    layer = torch.nn.Conv2d(2, 3, 4)
    path = save(tmp_path, {"head.weight": layer.weight, "head.bias": layer.bias})
    result = network(READOUT)
    assert result.linked.readout.errata_remap is True
    bound = bound_ok(result, path)
    head = bound.core("head")
    assert head.weights.shape == (4 * (3 - 1) + 1, 2, 4, 4)
    assert head.bias.shape == (9,)
    assert_int32_arrays(bound)

    # the same core without a readout: the logical integers, one row per class
    plain = bound_ok(network(READOUT.replace("readout: {from: head, classes: 3}\n", "")), path)
    logical = plain.core("head")
    assert logical.weights.shape == (3, 2, 4, 4)
    assert head.report == logical.report
    for k in range(1, 4):
        np.testing.assert_array_equal(head.weights[4 * (k - 1)], logical.weights[k - 1])
        assert head.bias[4 * (k - 1)] == logical.bias[k - 1]
    others = [f for f in range(9) if f % 4 != 0]
    assert not head.weights[others].any()
    assert not head.bias[others].any()


def test_readout_errata_rejects_an_already_spread_weight(tmp_path):
    """The file holds one row per class; the spread is the tool's job."""
    path = save(tmp_path, {"head.weight": torch.randn(9, 2, 4, 4), "head.bias": torch.randn(9)})
    bound, diags = load(network(READOUT), path)
    assert bound is None
    assert [d.code for d in diags if d.is_error] == ["weights-shape", "weights-shape"]
    assert "expected [3, 2, 4, 4]" in diags[0].message


def test_dvs_example_with_a_sequential_model(tmp_path):
    """examples/dvs-speck2f: a torch Sequential with a Flatten -> Linear classifier of 11 classes."""
    torch.manual_seed(5)
    model = _Wrapped(torch.nn.Sequential(
        torch.nn.Conv2d(2, 8, 3, stride=2, padding=1, bias=False), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, padding=1, bias=False), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 3, padding=1, bias=False), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(32 * 4 * 4, 11, bias=False),
    ))
    path = save(tmp_path, model.state_dict())
    example = ROOT / "examples" / "dvs-speck2f" / "network.yaml"
    result = run_file(example)
    assert result.ok
    bound, diags = load(result, path)
    assert bound is not None
    assert [d.code for d in diags] == ["weights-reshaped"]
    assert [c.weight_key for c in bound.cores] == ["model.0.weight", "model.2.weight",
                                                   "model.4.weight", "model.7.weight"]
    assert_int32_arrays(bound)
    classifier = bound.core("classifier")
    assert classifier.reshaped_from == (11, 512)
    assert classifier.weights.shape == (4 * (11 - 1) + 1, 32, 4, 4)

    text = example.read_text()
    without_readout = run_text(text[: text.index("readout:")], "dvs.yaml")
    assert without_readout.ok
    logical = bound_ok(without_readout, path).core("classifier")
    np.testing.assert_array_equal(classifier.weights[0::4], logical.weights)
    rest = np.ones(41, bool)
    rest[0::4] = False
    assert not classifier.weights[rest].any()


# ------------------------------------------------------------------------ bind() on its own
def test_bind_takes_a_weights_file_from_any_reader(tmp_path, sequential):
    """bind() works on what read() returns, whatever the format (here an .npz)."""
    path = tmp_path / "w.npz"
    np.savez(path, **{k: v.numpy() for k, v in sequential.items()})
    weights, problems = read(path)
    assert problems == [] and weights is not None and weights.format == "npz"
    result = network(SEQUENTIAL)
    smap = result.source.source_map
    bound, diags = bind(result.linked, weights, smap)
    assert diags == [] and bound is not None
    folded, diags = fold(bound, smap)
    assert diags == []
    quantized, diags = quantize(folded, smap)
    assert diags == [] and quantized is not None
    from_torch = bound_ok(result, save(tmp_path, sequential))
    for a, b in zip(quantized.cores, from_torch.cores, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)


def test_bind_reports_non_numeric_tensors(tmp_path):
    result = network(SEQUENTIAL)
    weights = WeightsFile("w.npz", "npz", {
        "model.0.weight": np.ones((4, 2, 3, 3), dtype=bool),
        "model.2.weight": np.ones((3, 4, 3, 3), np.float32),
        "model.2.bias": np.ones(3, np.float32),
    })
    bound, diags = bind(result.linked, weights, result.source.source_map)
    assert bound is None
    assert errors(diags) == [(at(SEQUENTIAL, "weights: model.0"), "weights-dtype")]


def test_apply_weights_stops_at_a_reader_error(tmp_path):
    path = tmp_path / "w.pt"
    path.write_text("not weights")
    bound, diags = load(network(SEQUENTIAL), path)
    assert bound is None
    assert [(d.file, d.code) for d in diags] == [(str(path), "weights-format")]

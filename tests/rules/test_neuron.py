"""Rules of `dynapcnn_dsl.rules.neuron`: threshold-high, threshold-low, initial-state, with
`quantize: auto` (floats, finite and on the right side of 0) and `quantize: none` (the chip's
16-bit integers)."""

from __future__ import annotations

import pytest
from helpers import ONE_CORE_QUANTIZE as HEAD
from helpers import found_model as found  # model-stage rules, tested without the linker
from helpers import only_model as only


def net(neuron: str, quantize: str = "auto") -> str:
    """Line 8 is `    neuron: {<neuron>}`: the first key starts at column 14."""
    return HEAD.format(quantize=quantize) + f"    neuron: {{{neuron}}}\n"


# -- threshold-high ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "shown"), [
    ("0", "0"), ("-1", "-1"), ("0.0", "0"), (".inf", "inf"), (".nan", "nan"), ("-.inf", "-inf"),
])
def test_threshold_high_not_positive_or_not_finite(value, shown):
    d = only(net(f"threshold: {value}"))
    assert (str(d.position), d.code) == ("8:25", "threshold-high")
    assert d.message == f"core 'a': threshold {shown} must be a finite number above 0"
    assert d.hint == "set `threshold` above 0 (with quantize: none, an integer 1..32767)"


@pytest.mark.parametrize(("neuron", "col", "code", "message"), [
    ("threshold: 1e39", 25, "threshold-high", "threshold 1e+39 must be a finite number above 0"),
    ("min_v_mem: -1e39", 25, "threshold-low", "min_v_mem -1e+39 must be a finite number below 0"),
    ("initial_state: 3.5e38", 29, "initial-state", "initial_state 3.5e+38 must be finite"),
])
def test_a_value_beyond_float32_is_refused_at_validate(neuron, col, code, message):
    """Issue 9: 1e39 is a float64 number, but the quantizer computes in float32 (where it is
    inf, then NaN): refused where it is written, not in the middle of a build."""
    d = only(net(neuron))
    assert (str(d.position), d.code) == (f"8:{col}", code)
    assert d.message == (f"core 'a': {message} (at most 3.403e+38 in size: values are quantized "
                         "in float32)")


def test_float32s_largest_value_is_taken():
    assert found(net("threshold: 3.4028234663852886e38")) == []


@pytest.mark.parametrize("value", ["0.001", "1e-300", "1", "40000.5"])
def test_threshold_high_auto_takes_any_positive_float(value):
    assert found(net(f"threshold: {value}")) == []


@pytest.mark.parametrize("value", ["1", "32767", "1.0"])
def test_threshold_high_none_bounds_pass(value):
    assert found(net(f"threshold: {value}", "none")) == []


def test_threshold_high_none_above_16_bit():
    d = only(net("threshold: 32768", "none"))
    assert (str(d.position), d.code) == ("8:25", "threshold-high")
    assert d.message == "core 'a': threshold 32768 is outside 1..32767"


def test_threshold_high_none_not_a_whole_number():
    d = only(net("threshold: 1.5", "none"))
    assert (str(d.position), d.code) == ("8:25", "threshold-high")
    assert d.message == ("core 'a': threshold 1.5 is not a whole number (quantize: none takes "
                         "the chip's integers)")


def test_threshold_high_none_zero_is_still_refused():
    d = only(net("threshold: 0", "none"))
    assert (str(d.position), d.code) == ("8:25", "threshold-high")


# -- threshold-low -------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "shown"), [
    ("0", "0"), ("-0.0", "-0"), ("0.5", "0.5"), ("-.inf", "-inf"), (".nan", "nan"),
])
def test_threshold_low_not_negative_or_not_finite(value, shown):
    d = only(net(f"min_v_mem: {value}"))
    assert (str(d.position), d.code) == ("8:25", "threshold-low")
    assert d.message == f"core 'a': min_v_mem {shown} must be a finite number below 0"
    assert d.hint == ("set `min_v_mem` below 0 (0 is a known chip bug); with quantize: none, "
                      "-32768..-1")


@pytest.mark.parametrize("value", ["-1e-9", "-1.0", "-100000"])
def test_threshold_low_auto_takes_any_negative_float(value):
    assert found(net(f"min_v_mem: {value}")) == []


def test_threshold_low_unset_passes():
    assert found(net("threshold: 1.0")) == []


@pytest.mark.parametrize("value", ["-1", "-32768"])
def test_threshold_low_none_bounds_pass(value):
    assert found(net(f"min_v_mem: {value}", "none")) == []


def test_threshold_low_none_zero_fails():
    d = only(net("min_v_mem: 0", "none"))
    assert (str(d.position), d.code) == ("8:25", "threshold-low")
    assert d.message == "core 'a': min_v_mem 0 must be a finite number below 0"


def test_threshold_low_none_below_16_bit():
    d = only(net("min_v_mem: -32769", "none"))
    assert (str(d.position), d.code) == ("8:25", "threshold-low")
    assert d.message == "core 'a': min_v_mem -32769 is outside -32768..-1"


def test_threshold_low_none_not_a_whole_number():
    d = only(net("min_v_mem: -1.5", "none"))
    assert (str(d.position), d.code) == ("8:25", "threshold-low")
    assert d.message == ("core 'a': min_v_mem -1.5 is not a whole number (quantize: none takes "
                         "the chip's integers)")


# -- initial-state -------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "shown"), [(".inf", "inf"), ("-.inf", "-inf"), (".nan", "nan")])
def test_initial_state_not_finite(value, shown):
    d = only(net(f"initial_state: {value}"))
    assert (str(d.position), d.code) == ("8:29", "initial-state")
    assert d.message == f"core 'a': initial_state {shown} must be finite"
    assert d.hint == "the neuron state is 16-bit: keep initial_state between min_v_mem and threshold"


@pytest.mark.parametrize("value", ["0", "-5", "0.25", "1e9"])
def test_initial_state_auto_takes_any_finite_float(value):
    assert found(net(f"initial_state: {value}")) == []


@pytest.mark.parametrize("value", ["32767", "-32768", "0"])
def test_initial_state_none_bounds_pass(value):
    assert found(net(f"initial_state: {value}", "none")) == []


@pytest.mark.parametrize("value", ["32768", "-32769"])
def test_initial_state_none_outside_16_bit(value):
    d = only(net(f"initial_state: {value}", "none"))
    assert (str(d.position), d.code) == ("8:29", "initial-state")
    assert d.message == f"core 'a': initial_state {value} is outside -32768..32767"


def test_initial_state_none_not_a_whole_number():
    d = only(net("initial_state: 0.5", "none"))
    assert (str(d.position), d.code) == ("8:29", "initial-state")
    assert d.message == ("core 'a': initial_state 0.5 is not a whole number (quantize: none "
                         "takes the chip's integers)")


def test_every_neuron_rule_in_one_core():
    text = net("threshold: 0, min_v_mem: 0, initial_state: .nan")
    assert found(text) == [("8:25", "threshold-high"), ("8:39", "threshold-low"),
                           ("8:57", "initial-state")]


def test_a_neuron_value_from_defaults_is_reported_at_the_defaults_line():
    text = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 16, 16], to: [a]}
defaults:
  neuron: {threshold: -2.0}
cores:
  a: {conv: {out_channels: 4, kernel: 3}, to: [b]}
  b: {conv: {out_channels: 4, kernel: 3}}
"""
    assert found(text) == [("5:23", "threshold-high")]

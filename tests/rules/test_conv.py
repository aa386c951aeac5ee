"""Rules of `dynapcnn_dsl.rules.conv`: conv-kernel, conv-stride, conv-padding, conv-features."""

from __future__ import annotations

import pytest
from helpers import found_model as found  # model-stage rules, tested without the linker
from helpers import only_model as only

HEAD = """\
dsl: 1
chip: {chip}
input: {{source: host, shape: [1, 16, 16], to: [a]}}
cores:
  a:
"""


def net(conv: str, chip: str = "speck2f") -> str:
    """Line 6 is `    conv: {out_channels: 4, <conv>}`: `conv` starts at column 29."""
    return HEAD.format(chip=chip) + f"    conv: {{out_channels: 4, {conv}}}\n"


# -- conv-kernel ---------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [17, 0, -3, 64])
def test_conv_kernel_outside(k):
    d = only(net(f"kernel: {k}"))
    assert (str(d.position), d.code) == ("6:37", "conv-kernel")
    assert d.message == f"core 'a': kernel {k} is outside 1..16"
    assert d.hint == "the chip's kernels are square, 1..16: use a smaller kernel or stride/pool first"


@pytest.mark.parametrize("k", [1, 16])
def test_conv_kernel_bounds_pass(k):
    assert found(net(f"kernel: {k}")) == []


@pytest.mark.parametrize("chip", ["speck2e", "speck2b", "dynapcnn"])
def test_conv_kernel_on_every_chip(chip):
    problems = [p for p in found(net("kernel: 17", chip)) if p[1] != "legacy-chip"]
    assert problems == [("6:37", "conv-kernel")]


# -- conv-stride ---------------------------------------------------------------------------------

@pytest.mark.parametrize("s", [3, 0, 16, 6])
def test_conv_stride_single_value(s):
    d = only(net(f"kernel: 3, stride: {s}"))
    assert (str(d.position), d.code) == ("6:48", "conv-stride")
    assert d.message == f"core 'a': stride {s} is not 1, 2, 4 or 8"
    assert d.hint == "use a stride of 1, 2, 4 or 8 on each axis"


@pytest.mark.parametrize("s", [1, 2, 4, 8])
def test_conv_stride_allowed_values_pass(s):
    assert found(net(f"kernel: 3, stride: {s}")) == []


def test_conv_stride_per_axis_points_at_the_axis():
    d = only(net("kernel: 3, stride: {x: 2, y: 3}"))
    assert (str(d.position), d.code) == ("6:58", "conv-stride")
    assert d.message == "core 'a': stride y 3 is not 1, 2, 4 or 8"


def test_conv_stride_both_axes_wrong():
    assert found(net("kernel: 3, stride: {x: 0, y: 16}")) == [("6:52", "conv-stride"),
                                                               ("6:58", "conv-stride")]


def test_conv_stride_per_axis_pass():
    assert found(net("kernel: 3, stride: {x: 8, y: 1}")) == []


# -- conv-padding --------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [8, -1])
def test_conv_padding_single_value(p):
    d = only(net(f"kernel: 3, padding: {p}"))
    assert (str(d.position), d.code) == ("6:49", "conv-padding")
    assert d.message == f"core 'a': padding {p} is outside 0..7"
    assert d.hint == "use a padding of 0..7 on each axis"


@pytest.mark.parametrize("p", [0, 7])
def test_conv_padding_bounds_pass(p):
    assert found(net(f"kernel: 3, padding: {p}")) == []


def test_conv_padding_per_axis_points_at_the_axis():
    d = only(net("kernel: 3, padding: {x: 0, y: 8}"))
    assert (str(d.position), d.code) == ("6:59", "conv-padding")
    assert d.message == "core 'a': padding y 8 is outside 0..7"


def test_conv_padding_per_axis_pass():
    assert found(net("kernel: 3, padding: {x: 7, y: 0}")) == []


# -- conv-features -------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1025, 0])
def test_conv_features_out_channels(n):
    d = only(HEAD.format(chip="speck2f") + f"    conv: {{out_channels: {n}, kernel: 1}}\n")
    assert (str(d.position), d.code) == ("6:26", "conv-features")
    assert d.message == f"core 'a': out_channels {n} is outside 1..1024"
    assert d.hint == ("a core has 1..1024 input and output features: split wider layers over "
                      "two cores")


@pytest.mark.parametrize("n", [1025, 0, -1])
def test_conv_features_in_channels(n):
    d = only(net(f"kernel: 3, in_channels: {n}"))
    assert (str(d.position), d.code) == ("6:53", "conv-features")
    assert d.message == f"core 'a': in_channels {n} is outside 1..1024"


@pytest.mark.parametrize("n", [1, 1024])
def test_conv_features_bounds_pass(n):
    assert found(HEAD.format(chip="speck2f") +
                 f"    conv: {{out_channels: {n}, in_channels: {n}, kernel: 1}}\n") == []


def test_conv_features_both_wrong():
    text = HEAD.format(chip="speck2f") + "    conv: {out_channels: 2000, in_channels: 0, kernel: 1}\n"
    assert found(text) == [("6:26", "conv-features"), ("6:45", "conv-features")]


def test_every_conv_rule_in_one_core():
    text = HEAD.format(chip="speck2f") + (
        "    conv: {out_channels: 0, kernel: 17, stride: 3, padding: 8}\n")
    assert found(text) == [("6:26", "conv-features"), ("6:37", "conv-kernel"),
                           ("6:49", "conv-stride"), ("6:61", "conv-padding")]

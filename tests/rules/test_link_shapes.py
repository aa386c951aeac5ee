"""Rules of `dynapcnn_dsl.rules.link_shapes` (link stage): conv-in-channels, core-input-features,
core-input-map, map-empty, conv-output-map, pool-remainder, readout-features.

Shapes follow HARDWARE.md: out = floor((in - k + 2*pad) / stride) + 1 per axis; destination
pooling divides the map (remainder dropped)."""

from __future__ import annotations

import pytest
from helpers import check, found, only


def net(*cores: str, shape: str = "[1, 16, 16]", to: str = "[a]", tail: str = "") -> str:
    """The input on line 3, one core per line from line 5 (`  a: {conv: ...` puts the `conv`
    key at column 7 and its first setting at column 14)."""
    lines = "".join(f"  {c}\n" for c in cores)
    return (f"dsl: 1\nchip: speck2f\ninput: {{source: host, shape: {shape}, to: {to}}}\ncores:\n"
            f"{lines}{tail}")


# -- conv-in-channels ----------------------------------------------------------------------------

def test_conv_in_channels_at_the_value():
    d = only(net("a: {conv: {in_channels: 2, out_channels: 1, kernel: 1}}", shape="[3, 16, 16]"))
    assert (str(d.position), d.code) == ("5:27", "conv-in-channels")
    assert d.message == "core 'a' declares in_channels 2, but its sources deliver 3 features"
    assert d.hint == ("remove `in_channels` (the linker infers it) or make the sources deliver "
                      "that many features")


CONCAT = (
    "a: {conv: {out_channels: 2, kernel: 1}, to: [c]}",
    "b: {conv: {out_channels: 3, kernel: 1}, to: [c]}",
)


def test_conv_in_channels_of_a_concat_counts_every_source():
    text = net(*CONCAT, "c: {conv: {in_channels: 2, out_channels: 1, kernel: 1}, merge: concat, "
               "from: [a, b]}", to="[a, b]")
    d = only(text)
    assert (str(d.position), d.code) == ("7:27", "conv-in-channels")
    assert d.message == "core 'c' declares in_channels 2, but its sources deliver 5 features"


@pytest.mark.parametrize(("text"), [
    net("a: {conv: {in_channels: 3, out_channels: 1, kernel: 1}}", shape="[3, 16, 16]"),
    net(*CONCAT, "c: {conv: {in_channels: 5, out_channels: 1, kernel: 1}, merge: concat, "
        "from: [a, b]}", to="[a, b]"),
], ids=["from-the-input", "concat"])
def test_conv_in_channels_equal_to_the_inferred_value_passes(text):
    assert found(text) == []


def test_conv_in_channels_not_checked_on_a_core_no_event_reaches():
    text = net("a: {conv: {out_channels: 1, kernel: 1}}",
               "b: {conv: {in_channels: 7, out_channels: 1, kernel: 1}}")
    assert found(text) == [("6:3", "core-unreachable")]


# -- core-input-features -------------------------------------------------------------------------

def wide(first: int, second: int) -> str:
    """Two cores fed by a [1, 2, 2] input, concatenated by `c` (line 7). Memory fits: each
    source needs kernel 1 * 2^(2+10) = 4 Ki, `c` (first + second) * 2^(0+0)."""
    return net(f"a: {{conv: {{out_channels: {first}, kernel: 2}}, to: [c]}}",
               f"b: {{conv: {{out_channels: {second}, kernel: 2}}, to: [c]}}",
               "c: {conv: {out_channels: 1, kernel: 1}, merge: concat, from: [a, b]}",
               shape="[1, 2, 2]", to="[a, b]")


def test_core_input_features_over_1024_at_the_core_key():
    d = only(wide(512, 513))
    assert (str(d.position), d.code) == ("7:3", "core-input-features")
    assert d.message == "core 'c' receives 1025 features; a core takes at most 1024"
    assert d.hint == "a core takes at most 1024 input features: concatenate fewer sources"


def test_core_input_features_exactly_1024_passes():
    assert found(wide(512, 512)) == []


def test_core_input_features_counts_an_explicit_shift():
    text = net("a: {conv: {out_channels: 25, kernel: 2}, to: [{core: c, feature_shift: 1000}]}",
               "c: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 2, 2]")
    assert found(text) == [("6:3", "core-input-features"), ("6:3", "feature-layout")]
    assert check(text).diagnostics[0].message == (
        "core 'c' receives 1025 features; a core takes at most 1024")


# -- core-input-map ------------------------------------------------------------------------------

def test_core_input_map_over_128_at_the_core_key():
    """The input layer holds at most 128x128 (input-shape), so only an oversized core output
    can exceed it: 128 - 1 + 2*7 + 1 = 142, itself a conv-output-map error."""
    text = net("a: {conv: {out_channels: 1, kernel: 1, padding: 7}, to: [b]}",
               "b: {conv: {out_channels: 1, kernel: 1, stride: 4}}", shape="[1, 128, 128]")
    diags = check(text).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("5:7", "conv-output-map"),
                                                          ("6:3", "core-input-map")]
    assert diags[1].message == "core 'b' receives a 142x142 map; a core takes at most 128x128"
    assert diags[1].hint == "pool or stride earlier so that at most 128x128 arrives"


def test_core_input_map_of_exactly_128_passes():
    assert found(net("a: {conv: {out_channels: 1, kernel: 2, stride: 2}}",
                     shape="[1, 128, 128]")) == []


# -- map-empty -----------------------------------------------------------------------------------

def test_map_empty_by_pooling_at_the_pool_value():
    """8x8, 1x1 kernel, stride 4: floor(7/4) + 1 = 2; pooled by 4: floor(2/4) = 0."""
    text = net("a: {conv: {out_channels: 1, kernel: 1, stride: 4}, to: [{core: b, pool: 4}]}",
               "b: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 8, 8]")
    d = only(text)  # no pool-remainder beside it: nothing is left to be a remainder of
    assert (str(d.position), d.code) == ("5:75", "map-empty")
    assert d.message == "pooling 2x2 by 4 towards 'b' leaves an empty map"
    assert d.hint == ("use a smaller kernel, more padding, or less pooling/stride before "
                      "this core")


def test_map_empty_pooling_down_to_one_passes():
    """16x16, stride 4: 4x4; pooled by 4: 1x1."""
    assert found(net("a: {conv: {out_channels: 1, kernel: 1, stride: 4}, to: [{core: b, pool: 4}]}",
                     "b: {conv: {out_channels: 1, kernel: 1}}")) == []


def test_map_empty_kernel_larger_than_the_padded_map_at_the_kernel():
    """floor((8 - 11 + 2) / 1) + 1 = 0."""
    d = only(net("a: {conv: {out_channels: 1, kernel: 11, padding: 1}}", shape="[1, 8, 8]"))
    assert (str(d.position), d.code) == ("5:39", "map-empty")
    assert d.message == ("core 'a': the 11x11 kernel on the 8x8 input map (padding x 1, y 1) leaves "
                         "no output")


def test_map_empty_kernel_that_leaves_one_pixel_passes():
    """floor((8 - 10 + 2) / 1) + 1 = 1."""
    assert found(net("a: {conv: {out_channels: 1, kernel: 10, padding: 1}}", shape="[1, 8, 8]")) == []


def test_map_empty_on_one_axis_only():
    """Padding x 2, y 1: width floor((8 - 11 + 4)) + 1 = 2, height 0."""
    d = only(net("a: {conv: {out_channels: 1, kernel: 11, padding: {x: 2, y: 1}}}", shape="[1, 8, 8]"))
    assert (str(d.position), d.code) == ("5:39", "map-empty")


def test_map_empty_names_the_padding_axes():
    """Once a bug: the message said '(padding 1, 2)', y first and unlabelled."""
    d = only(net("a: {conv: {out_channels: 1, kernel: 11, padding: {x: 2, y: 1}}}", shape="[1, 8, 8]"))
    assert d.message == ("core 'a': the 11x11 kernel on the 8x8 input map (padding x 2, y 1) leaves "
                         "no output")


@pytest.mark.parametrize(("text", "where"), [
    (net("a: {conv: {out_channels: 1, kernel: 1, stride: 4}, to: [{core: b, pool: 4}]}",
         "b: {conv: {out_channels: 1, kernel: 1}, to: [c]}",
         "c: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 8, 8]"), "5:75"),
    (net("a: {conv: {out_channels: 1, kernel: 9}, to: [b]}",
         "b: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 8, 8]"), "5:39"),
], ids=["after-pooling", "after-a-kernel"])
def test_map_empty_is_reported_once_where_the_map_vanishes(text, where):
    """Once a bug: every later link was blamed again ('pooling 0x0 by 1 ... leaves an empty map')."""
    assert found(text) == [(where, "map-empty")]


def test_map_empty_is_not_reported_again_after_a_later_pooling():
    """a's 9x9 kernel leaves nothing on 8x8; b's pooling by 4 towards c is not blamed too."""
    text = net("a: {conv: {out_channels: 1, kernel: 9}, to: [{core: b, pool: 2}]}",
               "b: {conv: {out_channels: 1, kernel: 1}, to: [{core: c, pool: 4}]}",
               "c: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 8, 8]")
    assert found(text) == [("5:39", "map-empty")]


# -- conv-output-map -----------------------------------------------------------------------------

def test_conv_output_map_65_at_the_conv_key():
    d = only(net("a: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 65, 65]"))
    assert (str(d.position), d.code) == ("5:7", "conv-output-map")
    assert d.message == ("core 'a': the convolution outputs a 65x65 map (input 65x65); a core "
                         "outputs at most 64x64")
    assert d.hint == ("a core's output is at most 64x64: use stride 2 here, or pool the events "
                      "before this core")


def test_conv_output_map_one_axis_over():
    d = only(net("a: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 65, 64]"))
    assert (str(d.position), d.code) == ("5:7", "conv-output-map")
    assert "outputs a 65x64 map (input 65x64)" in d.message


def test_conv_output_map_by_stride_on_one_axis():
    """128x128, 1x1 kernel, stride x 2: 128 rows, 64 columns."""
    d = only(net("a: {conv: {out_channels: 1, kernel: 1, stride: {x: 2, y: 1}}}", shape="[1, 128, 128]"))
    assert (str(d.position), d.code) == ("5:7", "conv-output-map")
    assert "outputs a 128x64 map (input 128x128)" in d.message


@pytest.mark.parametrize(("conv", "shape"), [
    ("{out_channels: 1, kernel: 1}", "[1, 64, 64]"),                   # exactly 64x64
    ("{out_channels: 1, kernel: 3, stride: 2, padding: 1}", "[1, 128, 128]"),  # floor(127/2)+1
    ("{out_channels: 1, kernel: 3, padding: 1}", "[1, 64, 64]"),
])
def test_conv_output_map_at_most_64_passes(conv, shape):
    assert found(net(f"a: {{conv: {conv}}}", shape=shape)) == []


# -- pool-remainder ------------------------------------------------------------------------------

def test_pool_remainder_warns_at_the_pool_value():
    result = check(net("a: {conv: {out_channels: 1, kernel: 1}, to: [{core: b, pool: 2}]}",
                       "b: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 15, 16]"))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("5:64", "pool-remainder", "warning")
    assert d.message == "'a' outputs 15x16, not divisible by pool 2: 'b' sees 7x8"
    assert result.ok


def test_pool_remainder_after_a_strided_kernel():
    """32x32, 3x3 kernel, stride 2: floor(29/2) + 1 = 15."""
    d = only(net("a: {conv: {out_channels: 1, kernel: 3, stride: 2}, to: [{core: b, pool: 2}]}",
                 "b: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 32, 32]"))
    assert d.code == "pool-remainder"
    assert d.message == "'a' outputs 15x15, not divisible by pool 2: 'b' sees 7x7"


def test_pool_remainder_is_quiet_when_pooling_leaves_nothing():
    """8x24, stride 4: 2x6; pooled by 4: 0x1. Nothing is left (no rows): map-empty says so, and
    the remainders (2 rows, 2 columns) are not also warned about."""
    text = net("a: {conv: {out_channels: 1, kernel: 1, stride: 4}, to: [{core: b, pool: 4}]}",
               "b: {conv: {out_channels: 1, kernel: 1}}", shape="[1, 8, 24]")
    d = only(text)
    assert (str(d.position), d.code) == ("5:75", "map-empty")
    assert d.message == "pooling 2x6 by 4 towards 'b' leaves an empty map"


@pytest.mark.parametrize(("to", "shape"), [
    ("[{core: b, pool: 2}]", "[1, 16, 16]"),
    ("[{core: b, pool: 4}]", "[1, 16, 16]"),
    ("[{core: b, pool: 1}]", "[1, 15, 15]"),
    ("[b]", "[1, 15, 15]"),
])
def test_pool_remainder_divisible_or_unpooled_passes(to, shape):
    assert found(net(f"a: {{conv: {{out_channels: 1, kernel: 1}}, to: {to}}}",
                     "b: {conv: {out_channels: 1, kernel: 1}}", shape=shape)) == []


# -- readout-features ----------------------------------------------------------------------------

def readout(out_channels: int, classes: int, source: str = "a") -> str:
    return net(f"a: {{conv: {{out_channels: {out_channels}, kernel: 1}}}}",
               tail=f"readout: {{from: {source}, classes: {classes}}}\n")


@pytest.mark.parametrize("out_channels", [8, 12])
def test_readout_features_at_the_classes_value(out_channels):
    d = only(readout(out_channels, 10))
    assert (str(d.position), d.code) == ("6:29", "readout-features")
    assert d.message == f"the readout has 10 classes, but 'a' outputs {out_channels} features"
    assert d.hint == "make the readout's source core output exactly one feature per class"


@pytest.mark.parametrize("classes", [1, 10, 15])
def test_readout_features_one_per_class_passes(classes):
    assert found(readout(classes, classes)) == []


def test_readout_features_not_checked_when_the_source_is_unknown():
    assert found(readout(8, 10, source="b")) == [("6:17", "readout-from-unknown")]


# -- values a disabled model-stage rule lets through -----------------------------------------------

DEST_POOL_ZERO = net("a: {conv: {out_channels: 1, kernel: 1}, to: [{core: b, pool: 0}]}",
                     "b: {conv: {out_channels: 1, kernel: 1}}")
CONV_STRIDE_ZERO = net("a: {conv: {out_channels: 1, kernel: 1, stride: 0}}")
DVS_POOL_ZERO = ("dsl: 1\nchip: speck2f\ninput: {source: dvs, shape: [2, 128, 128], pool: {x: 0, y: 2}, "
                 "to: [a]}\ncores:\n  a: {conv: {out_channels: 1, kernel: 1, stride: 2}}\n")
HOST_SHAPE_ZERO = ("dsl: 1\nchip: speck2f\ninput: {source: host, shape: [2, 0, 16], to: [a]}\n"
                   "cores:\n  a: {conv: {out_channels: 1, kernel: 1}}\n")

def _disabled(text: str, rule_id: str):
    from dynapcnn_dsl.pipeline import run_text

    return run_text(text, "t.yaml", disabled=[rule_id])


@pytest.mark.parametrize(("text", "rule_id"), [
    pytest.param(DEST_POOL_ZERO, "dest-pool"),
    pytest.param(CONV_STRIDE_ZERO, "conv-stride"),
    pytest.param(DVS_POOL_ZERO, "dvs-pool"),
], ids=["dest-pool", "conv-stride", "dvs-pool"])
def test_a_disabled_range_rule_never_crashes_the_linker(text, rule_id):
    """The linker runs to the end on what the rule let through and explains the result."""
    result = _disabled(text, rule_id)
    codes = [d.code for d in result.diagnostics]
    assert "map-empty" in codes and rule_id not in codes
    assert result.reached.name == "RULES" and not result.ok


def test_a_disabled_conv_stride_of_zero_gives_map_empty():
    """Stride 0 (conv-stride switched off) leaves no output: a map-empty error, not a crash."""
    result = _disabled(CONV_STRIDE_ZERO, "conv-stride")
    assert [(str(d.position), d.code) for d in result.diagnostics] == [("5:39", "map-empty")]
    assert result.diagnostics[0].message == ("core 'a': the 1x1 kernel on the 16x16 input map "
                                             "(padding x 0, y 0) leaves no output")
    assert not result.ok


def test_a_disabled_dest_pool_of_zero_gives_map_empty():
    result = _disabled(DEST_POOL_ZERO, "dest-pool")
    assert [(str(d.position), d.code) for d in result.diagnostics] == [("5:64", "map-empty")]
    assert not result.ok


@pytest.mark.parametrize(("text", "rule_id"), [
    (DVS_POOL_ZERO, "dvs-pool"),
    (HOST_SHAPE_ZERO, "input-shape"),
], ids=["dvs-pool", "input-shape"])
def test_a_disabled_rule_that_lets_an_empty_input_map_through_gives_map_empty(text, rule_id):
    result = _disabled(text, rule_id)
    assert "map-empty" in [d.code for d in result.diagnostics]
    assert not result.ok

"""Structural errors from the models (`dynapcnn_dsl.model`), turned into positioned diagnostics.

BASE (tests/conftest.py), by line:
  1 dsl: 1 / 2 chip: speck2f / 3 input: / 4 source: host / 5 shape: [1, 16, 16] / 6 to: [a]
  7 cores: / 8 a: / 9 conv: {out_channels: 4, kernel: 3}
"""

from __future__ import annotations

import pytest
from helpers import BASE, check, found, only

from dynapcnn_dsl.model.network import XY, Destination, InputDestination

CONV = "conv: {out_channels: 4, kernel: 3}"


def with_conv(conv: str) -> str:
    return BASE.replace(CONV, conv)


# -- unknown-key -------------------------------------------------------------------------------

def test_unknown_key_at_the_top_with_did_you_mean():
    d = only(BASE + "chp: speck2f\n")
    assert (str(d.position), d.code) == ("10:1", "unknown-key")
    assert d.message == "unknown key 'chp' in the file"
    assert d.hint == ("did you mean 'chip'? (allowed keys: dsl, name, chip, allow_recurrent, "
                      "quantize, input, defaults, cores, readout)")


def test_unknown_key_in_a_core():
    d = only(BASE + "    monitr: true\n")
    assert (str(d.position), d.code) == ("10:5", "unknown-key")
    assert d.message == "unknown key 'monitr' in core 'a'"
    assert d.hint.startswith("did you mean 'monitor'? (allowed keys: index, conv, neuron, ")
    assert "kill_features" in d.hint


def test_unknown_key_without_a_close_match_lists_the_allowed_keys():
    d = only(BASE + "    colour: red\n")
    assert (str(d.position), d.code) == ("10:5", "unknown-key")
    assert d.hint == ("allowed keys: index, conv, neuron, weights, batchnorm, monitor, to, merge, "
                      "from, decimator, congestion_balancer, kill_features")


def test_unknown_key_in_a_flow_mapping_with_its_missing_twin():
    diags = check(with_conv("conv: {out_channels: 4, kernal: 3}")).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("9:5", "missing-key"),
                                                          ("9:29", "unknown-key")]
    assert diags[1].message == "unknown key 'kernal' in conv of core 'a'"
    assert diags[1].hint == ("did you mean 'kernel'? (allowed keys: out_channels, in_channels, "
                             "kernel, stride, padding, bias)")


def test_unknown_key_in_the_input():
    d = only(BASE.replace("  to: [a]\n", "  to: [a]\n  polarty: on\n"))
    assert (str(d.position), d.code) == ("7:3", "unknown-key")
    assert d.message == "unknown key 'polarty' in input"
    assert d.hint.startswith("did you mean 'polarity'?")


def test_unknown_key_in_the_readout():
    diags = check(BASE + "readout: {from: a, clases: 3}\n").diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("10:1", "missing-key"),
                                                          ("10:20", "unknown-key")]
    d = diags[1]
    assert d.message == "unknown key 'clases' in readout"
    assert d.hint.startswith("did you mean 'classes'?")


# -- missing-key -------------------------------------------------------------------------------

def test_missing_key_points_at_the_parent_key():
    d = only(with_conv("conv: {out_channels: 4}"))
    assert (str(d.position), d.code) == ("9:5", "missing-key")
    assert d.message == "conv of core 'a' is missing 'kernel'"
    assert d.hint == "add `kernel:` here (see the schema for its meaning)"


def test_missing_top_level_key_points_at_the_start_of_the_file():
    d = only(BASE.replace("dsl: 1\n", ""))
    assert (str(d.position), d.code) == ("1:1", "missing-key")
    assert d.message == "the file is missing 'dsl'"


def test_missing_input_destinations():
    d = only(BASE.replace("  to: [a]\n", ""))
    assert (str(d.position), d.code) == ("3:1", "missing-key")
    assert d.message == "input is missing 'to'"


def test_missing_conv_points_at_the_core():
    d = only(BASE + "  b: {monitor: true}\n")
    assert (str(d.position), d.code) == ("10:3", "missing-key")
    assert d.message == "core 'b' is missing 'conv'"


def test_missing_readout_source():
    d = only(BASE + "readout:\n  classes: 3\n")
    assert (str(d.position), d.code) == ("10:1", "missing-key")
    assert d.message == "readout is missing 'from'"


# -- wrong-type --------------------------------------------------------------------------------

@pytest.mark.parametrize(("conv", "where", "message"), [
    ("conv: {out_channels: 4, kernel: '3'}", "9:37",
     "'kernel' must be an integer, not '3' (a string)"),
    ("conv: {out_channels: 4, kernel: 3.5}", "9:37",
     "'kernel' must be an integer, not 3.5 (a number)"),
    ("conv: {out_channels: 4, kernel: true}", "9:37",
     "'kernel' must be an integer, not true (a boolean)"),
    ("conv: {out_channels: 4, kernel: }", "9:37",   # an empty value: where it ends
     "'kernel' must be an integer, not nothing (null)"),
    ("conv: {out_channels: 4, kernel: [3, 3]}", "9:37",
     "'kernel' must be an integer, not a list"),
    ("conv: {out_channels: 4, kernel: 3, bias: 'yes'}", "9:46",
     "'bias' must be true or false, not 'yes' (a string)"),
    ("conv: 3", "9:11", "'conv' must be a mapping, not 3 (an integer)"),
])
def test_wrong_types_point_at_the_value(conv, where, message):
    d = only(with_conv(conv))
    assert (str(d.position), d.code) == (where, "wrong-type")
    assert d.message == message


def test_yes_is_a_string_not_a_boolean():
    d = only(BASE + "    monitor: yes\n")
    assert (str(d.position), d.code) == ("10:14", "wrong-type")
    assert d.message == "'monitor' must be true or false, not 'yes' (a string)"
    assert d.hint == "write true or false without quotes"


def test_wrong_type_hints():
    assert only(with_conv("conv: {out_channels: 4, kernel: '3'}")).hint == (
        "write a whole number without quotes or a decimal point")
    assert only(BASE.replace("cores:\n  a:\n    " + CONV + "\n", "cores: [a]\n")).hint == (
        "write a mapping of `key: value` lines indented under this key")
    assert only(BASE.replace("to: [a]", "to: a")).hint == (
        "write a list: `[a, b]` or one `- item` per line")


def test_a_string_for_a_list():
    d = only(BASE.replace("to: [a]", "to: a"))
    assert (str(d.position), d.code) == ("6:7", "wrong-type")
    assert d.message == "'to' must be a list, not 'a' (a string)"


def test_a_list_for_a_mapping():
    d = only(BASE.replace("cores:\n  a:\n    " + CONV + "\n", "cores: [a]\n"))
    assert (str(d.position), d.code) == ("7:8", "wrong-type")
    assert d.message == "'cores' must be a mapping, not a list"


def test_a_null_section():
    d = only(BASE.replace("input:\n  source: host\n  shape: [1, 16, 16]\n  to: [a]\n",
                          "input: ~\n"))
    assert (str(d.position), d.code) == ("3:8", "wrong-type")
    assert d.message == "'input' must be a mapping, not nothing (null)"


def test_the_file_must_be_a_mapping():
    d = only("[1, 2]\n")
    assert (str(d.position), d.code) == ("1:1", "wrong-type")
    assert d.message == "the file must be a mapping, not a list"


def test_a_string_chip_that_looks_like_a_number():
    d = only(BASE.replace("chip: speck2f", "chip: 2"))
    assert (str(d.position), d.code) == ("2:7", "wrong-type")
    assert d.message == "'chip' must be a string, not 2 (an integer)"
    assert d.hint == "quote the value if it looks like a number or boolean"


def test_a_whole_float_is_shown_as_written():
    d = only(with_conv("conv: {out_channels: 4, kernel: 3.0}"))
    assert (str(d.position), d.code) == ("9:37", "wrong-type")
    assert "3.0" in d.message


def test_a_wrong_list_item_is_named_by_its_list():
    d = only(BASE + "    to: [3]\n")
    assert (str(d.position), d.code) == ("10:10", "wrong-type")
    assert d.message == "'to[0]' must be a string, not 3 (an integer)"


def test_a_wrong_shape_item():
    d = only(BASE.replace("shape: [1, 16, 16]", "shape: [1, 16, x]"))
    assert (str(d.position), d.code) == ("5:18", "wrong-type")
    assert d.message == "'shape[2]' must be an integer, not 'x' (a string)"


# -- invalid-choice ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "where", "message", "hint"), [
    (BASE.replace("source: host", "source: hots"), "4:11",
     "input: 'source' must be 'host' or 'dvs', not 'hots' (a string)", "did you mean 'host'?"),
    (BASE + "    merge: cat\n", "10:12",
     "core 'a': 'merge' must be 'sum' or 'concat', not 'cat' (a string)", "did you mean 'concat'?"),
    (BASE + "    neuron: {reset: zeroo}\n", "10:21",
     "neuron of core 'a': 'reset' must be 'subtract' or 'zero', not 'zeroo' (a string)",
     "did you mean 'zero'?"),
    (BASE + "quantize: nne\n", "10:11",
     "the file: 'quantize' must be 'auto' or 'none', not 'nne' (a string)", "did you mean 'none'?"),
    (BASE.replace("source: host", "source: camera"), "4:11",
     "input: 'source' must be 'host' or 'dvs', not 'camera' (a string)",
     "use 'host' or 'dvs'"),
])
def test_invalid_choices(text, where, message, hint):
    d = only(text)
    assert (str(d.position), d.code) == (where, "invalid-choice")
    assert d.message == message
    assert d.hint == hint


def test_an_invalid_choice_of_the_wrong_type():
    d = only(BASE + "    merge: 3\n")
    assert (str(d.position), d.code) == ("10:12", "invalid-choice")
    assert d.message == "core 'a': 'merge' must be 'sum' or 'concat', not 3 (an integer)"
    assert d.hint == "use 'sum' or 'concat'"


# -- chip and dsl ------------------------------------------------------------------------------

def test_unknown_chip_with_did_you_mean():
    d = only(BASE.replace("chip: speck2f", "chip: speck2g"))
    assert (str(d.position), d.code) == ("2:7", "unknown-chip")
    assert d.message == "unknown chip 'speck2g'"
    assert d.hint == "did you mean 'speck2f'?"


def test_unknown_chip_without_a_close_match():
    d = only(BASE.replace("chip: speck2f", "chip: loihi"))
    assert (str(d.position), d.code) == ("2:7", "unknown-chip")
    assert d.hint == "use speck2f, speck2e, speck2b or dynapcnn (or a board name)"


@pytest.mark.parametrize(("spelling", "chip"), [
    ("speck2f", "speck2f"), ("SPECK2F", "speck2f"), ("speck2fmodule", "speck2f"),
    ("Speck2fDevKit", "speck2f"), ("speck2fdevkit", "speck2f"), ("Speck2fModuleDevKit", "speck2f"),
    ("speck2e", "speck2e"), ("Speck2eDevKit", "speck2e"), ("Speck2eTestBoard", "speck2e"),
    ("speck2b", "speck2b"), ("Speck2bDevKit", "speck2b"),
    ("dynapcnn", "dynapcnn"), ("DynapcnnDevKit", "dynapcnn"), ("dynapcnndevkit", "dynapcnn"),
])
def test_chip_spellings_are_normalised(spelling, chip):
    result = check(BASE.replace("chip: speck2f", f"chip: {spelling}"))
    assert [d.code for d in result.diagnostics if d.is_error] == []
    assert result.network.chip == chip
    assert result.chip.id == chip


@pytest.mark.parametrize("version", ["2", "0", "-1"])
def test_dsl_version(version):
    d = only(BASE.replace("dsl: 1", f"dsl: {version}"))
    assert (str(d.position), d.code) == ("1:6", "dsl-version")
    assert d.message == f"this tool reads dsl version 1; the file says {version}"
    assert d.hint == "write `dsl: 1`, or upgrade dynapcnn-dsl to read newer files"


def test_dsl_version_must_be_an_integer():
    d = only(BASE.replace("dsl: 1", "dsl: '1'"))
    assert (str(d.position), d.code) == ("1:6", "wrong-type")


# -- per-axis values and destination forms ------------------------------------------------------

@pytest.mark.parametrize(("conv", "stride", "padding"), [
    ("conv: {out_channels: 4, kernel: 3, stride: 2}", [(None, 2)], [(None, 0)]),
    ("conv: {out_channels: 4, kernel: 3, stride: {x: 2, y: 1}}", [("x", 2), ("y", 1)], [(None, 0)]),
    ("conv: {out_channels: 4, kernel: 3, padding: 1}", [(None, 1)], [(None, 1)]),
    ("conv: {out_channels: 4, kernel: 3, padding: {x: 1, y: 0}}", [(None, 1)], [("x", 1), ("y", 0)]),
])
def test_per_axis_forms_validate(conv, stride, padding):
    """Both forms validate into one shape, XY, which remembers only how to point at them."""
    result = check(with_conv(conv))
    assert result.diagnostics == ()
    c = result.network.cores["a"].conv
    assert isinstance(c.stride, XY) and isinstance(c.padding, XY)
    assert c.stride.per_axis() == stride
    assert c.padding.per_axis() == padding
    assert c.stride.pair() == (stride[0][1], stride[-1][1])


def test_short_and_long_destinations_validate():
    text = BASE + """\
    to: [b, {core: c, pool: 2, feature_shift: 4}]
  b: {conv: {out_channels: 4, kernel: 1}}
  c: {conv: {out_channels: 8, kernel: 1}}
"""
    result = check(text)
    # the model accepts both forms; the linker notes that shift 4 leaves c's features 0..3 empty
    assert [d.code for d in result.diagnostics] == ["feature-layout"]
    first, second = result.network.cores["a"].to
    assert isinstance(first, Destination)  # a bare name is normalised to the long form
    assert (first.core, first.pool, first.feature_shift) == ("b", 1, None)
    assert first.name_path(("p",)) == ("p",) and second.name_path(("p",)) == ("p", "core")
    assert isinstance(second, Destination)
    assert (second.core, second.pool, second.feature_shift) == ("c", 2, 4)


def test_long_destination_defaults():
    result = check(BASE + "    to: [{core: b}]\n  b: {conv: {out_channels: 4, kernel: 1}}\n")
    assert result.diagnostics == ()
    (dest,) = result.network.cores["a"].to
    assert (dest.core, dest.pool, dest.feature_shift) == ("b", 1, None)


def test_input_destination_forms_validate():
    result = check(BASE.replace("to: [a]", "to: [a, {core: b}]") +
                   "  b: {conv: {out_channels: 4, kernel: 1}}\n")
    assert result.diagnostics == ()
    short, long = result.network.input.to
    assert isinstance(short, InputDestination) and short.core == "a"
    assert isinstance(long, InputDestination)
    assert long.core == "b"


# -- errors inside union members -----------------------------------------------------------------

def test_a_bad_pool_inside_a_long_destination():
    assert found(BASE + "    to: [{core: b, pool: x}]\n") == [("10:26", "wrong-type")]
    assert only(BASE + "    to: [{core: b, pool: x}]\n").message == (
        "'pool' must be an integer, not 'x' (a string)")


def test_a_misspelled_key_inside_a_long_destination():
    d = only(BASE + "    to: [{core: b, pol: 2}]\n")
    assert (str(d.position), d.code) == ("10:20", "unknown-key")
    assert d.message == "unknown key 'pol' in to[0] of core 'a'"
    assert d.hint == "did you mean 'pool'? (allowed keys: core, pool, feature_shift, average)"


def test_a_long_destination_without_its_core():
    d = only(BASE + "    to: [b, {pool: 2}]\n")
    assert (str(d.position), d.code) == ("10:13", "missing-key")
    assert d.message == "to[1] of core 'a' is missing 'core'"


def test_an_incomplete_per_axis_value():
    d = only(with_conv("conv: {out_channels: 4, kernel: 3, stride: {x: 2}}"))
    assert (str(d.position), d.code) == ("9:40", "missing-key")
    assert d.message == "conv.stride of core 'a' is missing 'y'"


def test_two_errors_in_one_per_axis_value():
    assert found(with_conv("conv: {out_channels: 4, kernel: 3, padding: {x: 1, z: 1}}")) == [
        ("9:40", "missing-key"), ("9:56", "unknown-key")]


def test_a_wrong_axis_type():
    d = only(with_conv("conv: {out_channels: 4, kernel: 3, stride: {x: 2, y: '1'}}"))
    assert (str(d.position), d.code) == ("9:58", "wrong-type")
    assert d.message == "'y' must be an integer, not '1' (a string)"


def test_a_string_for_a_per_axis_value():
    d = only(with_conv("conv: {out_channels: 4, kernel: 3, stride: '2'}"))
    assert (str(d.position), d.code) == ("9:48", "wrong-type")
    assert d.message == "'stride' must be an integer, not '2' (a string)"


def test_the_input_destination_takes_no_pooling():
    d = only(BASE.replace("to: [a]", "to: [{core: a, pool: 2}]"))
    assert (str(d.position), d.code) == ("6:18", "unknown-key")
    assert d.message == "unknown key 'pool' in input.to[0]"
    assert d.hint == "allowed keys: core"


# -- several problems in one file --------------------------------------------------------------

def test_every_structural_error_is_reported():
    text = BASE.replace("source: host", "source: hots").replace("kernel: 3", "kernel: x")
    text += "    monitr: true\n  b: {conv: {out_channels: 4, kernel: 3}, merge: cat}\nextra: 1\n"
    assert sorted(found(text)) == sorted([
        ("4:11", "invalid-choice"),
        ("9:37", "wrong-type"),
        ("10:5", "unknown-key"),
        ("11:50", "invalid-choice"),
        ("12:1", "unknown-key"),
    ])


def test_errors_in_several_cores_are_all_reported():
    text = BASE + "  b: {conv: {out_channels: 4}}\n  c: {conv: {out_channels: 4, kernel: 3}, to: x}\n"
    assert sorted(found(text)) == [("10:7", "missing-key"), ("11:47", "wrong-type")]


def test_no_duplicate_diagnostics():
    for text in (BASE + "    to: [{core: b, pool: x}]\n",
                 with_conv("conv: {out_channels: 4, kernel: 3, stride: {x: 2}}"),
                 with_conv("conv: {out_channels: 4, kernel: 3, stride: [2, 1]}")):
        diags = check(text).diagnostics
        keys = [(d.position, d.code) for d in diags]
        assert len(keys) == len(set(keys)), keys


def test_a_network_without_cores_is_invalid():
    result = check(BASE.replace("cores:\n  a:\n    " + CONV + "\n", "cores: {}\n"))
    assert not result.ok
    assert [d.position.line for d in result.diagnostics if d.is_error][:1] == [7]


# -- a partly broken file still gets its design rules checked ------------------------------------

def test_rules_still_run_on_the_cores_that_are_well_formed():
    result = check(BASE.replace("kernel: 3", "kernel: 17") + "  b: {monitor: true}\n")
    assert [(str(d.position), d.code) for d in result.diagnostics] == [
        ("9:37", "conv-kernel"), ("10:3", "missing-key")]
    assert not result.complete
    assert not result.ok


def test_rules_still_run_when_the_readout_is_broken():
    result = check(BASE.replace("kernel: 3", "kernel: 17") + "readout: {from: a}\n")
    assert [(str(d.position), d.code) for d in result.diagnostics] == [
        ("9:37", "conv-kernel"), ("10:1", "missing-key")]
    assert not result.ok


def test_a_broken_input_stops_before_the_rules():
    result = check(BASE.replace("kernel: 3", "kernel: 17").replace("source: host", "source: x"))
    assert [(str(d.position), d.code) for d in result.diagnostics] == [("4:11", "invalid-choice")]
    assert result.network is None

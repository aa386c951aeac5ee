"""`expand`: `defaults:` merged under every core, a core's own value winning, and positions of
inherited values pointing into `defaults:`."""

from __future__ import annotations

import textwrap

import pytest
from helpers import check, found, only

from dynapcnn_dsl.diagnostics import Position
from dynapcnn_dsl.expand import expand
from dynapcnn_dsl.load import load_text

HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 16, 16], to: [a]}
"""


def expanded(text: str):
    doc, problems = load_text(textwrap.dedent(text), "t.yaml")
    assert problems == []
    assert expand(doc) == []  # no templates: nothing to report
    return doc


DEFAULTS = HEAD + """\
defaults:
  conv: {kernel: 3, stride: 2, padding: 1, bias: true}
  neuron: {threshold: 2.0, min_v_mem: -1.0, reset: zero, initial_state: 0.5}
  monitor: true
cores:
  a: {conv: {out_channels: 4}}
  b:
    conv: {out_channels: 8, kernel: 5, bias: false}
    neuron: {threshold: 3.0}
    monitor: false
  c: {conv: {out_channels: 2, stride: {x: 1, y: 2}}, neuron: {}}
"""


def test_conv_defaults_merge_key_by_key():
    cores = expanded(DEFAULTS).data["cores"]
    assert cores["a"]["conv"] == {"out_channels": 4, "kernel": 3, "stride": 2, "padding": 1,
                                  "bias": True}


def test_a_cores_own_conv_values_win():
    conv = expanded(DEFAULTS).data["cores"]["b"]["conv"]
    assert conv == {"out_channels": 8, "kernel": 5, "bias": False, "stride": 2, "padding": 1}


def test_a_per_axis_value_of_the_core_wins_whole():
    conv = expanded(DEFAULTS).data["cores"]["c"]["conv"]
    assert conv["stride"] == {"x": 1, "y": 2}


def test_neuron_defaults_fill_a_missing_section():
    neuron = expanded(DEFAULTS).data["cores"]["a"]["neuron"]
    assert neuron == {"threshold": 2.0, "min_v_mem": -1.0, "reset": "zero", "initial_state": 0.5}


def test_neuron_defaults_fill_an_empty_section():
    neuron = expanded(DEFAULTS).data["cores"]["c"]["neuron"]
    assert neuron == {"threshold": 2.0, "min_v_mem": -1.0, "reset": "zero", "initial_state": 0.5}


def test_neuron_defaults_merge_key_by_key_and_the_core_wins():
    neuron = expanded(DEFAULTS).data["cores"]["b"]["neuron"]
    assert neuron == {"threshold": 3.0, "min_v_mem": -1.0, "reset": "zero", "initial_state": 0.5}


def test_monitor_default_and_override():
    cores = expanded(DEFAULTS).data["cores"]
    assert cores["a"]["monitor"] is True
    assert cores["b"]["monitor"] is False
    assert cores["c"]["monitor"] is True


def test_the_defaults_reach_the_validated_model():
    result = check(DEFAULTS)
    # b and c are not connected to the input: the linker warns, nothing else is reported.
    assert [d.code for d in result.diagnostics] == ["core-unreachable", "core-unreachable"]
    a, b, c = (result.network.cores[n] for n in "abc")
    assert (a.conv.kernel, a.conv.stride.pair(), a.conv.padding.pair(), a.conv.bias) == (
        3, (2, 2), (1, 1), True)
    assert (b.conv.kernel, b.conv.bias) == (5, False)
    assert (a.neuron.threshold, b.neuron.threshold) == (2.0, 3.0)
    assert (a.neuron.reset, b.neuron.min_v_mem, c.neuron.initial_state) == ("zero", -1.0, 0.5)
    assert (a.monitor, b.monitor, c.monitor) == (True, False, True)


def test_the_defaults_section_itself_is_unchanged():
    doc = expanded(DEFAULTS)
    assert doc.data["defaults"]["conv"] == {"kernel": 3, "stride": 2, "padding": 1, "bias": True}


def test_expanding_twice_changes_nothing_more():
    doc = expanded(DEFAULTS)
    once = repr(doc.data)
    expand(doc)
    assert repr(doc.data) == once


def test_a_missing_conv_stays_missing():
    text = HEAD + """\
defaults:
  conv: {kernel: 3}
cores:
  a: {neuron: {threshold: 1.0}}
"""
    assert "conv" not in expanded(text).data["cores"]["a"]
    d = only(text)
    assert (str(d.position), d.code) == ("7:3", "missing-key")
    assert d.message == "core 'a' is missing 'conv'"


def test_no_defaults_is_a_no_op():
    text = HEAD + "cores:\n  a: {conv: {out_channels: 4, kernel: 3}}\n"
    doc = expanded(text)
    assert doc.data["cores"]["a"] == {"conv": {"out_channels": 4, "kernel": 3}}


@pytest.mark.parametrize("body", [
    "defaults: 3\ncores:\n  a: {conv: {out_channels: 4, kernel: 3}}\n",
    "defaults: {conv: {kernel: 3}}\ncores: [a]\n",
    "defaults: {conv: 3}\ncores:\n  a: {conv: {out_channels: 4, kernel: 3}}\n",
    "defaults: {neuron: {threshold: 2.0}}\ncores:\n  a: {conv: {out_channels: 4, kernel: 3}, neuron: 5}\n",
    "defaults: {conv: {kernel: 3}}\ncores:\n  a: 7\n",
])
def test_malformed_sections_are_left_to_the_model(body):
    """Expansion never raises on shapes it does not understand; the model reports them."""
    doc = expanded(HEAD + body)
    assert doc.data is not None
    result = check(HEAD + body)
    assert result.diagnostics
    assert all(d.position is not None for d in result.diagnostics)


# -- positions of inherited values -------------------------------------------------------------

THREE_CORES = HEAD + """\
defaults:
  neuron: {threshold: 1.0, min_v_mem: 0.5}
cores:
  a: {conv: {out_channels: 4, kernel: 3}, to: [b]}
  b: {conv: {out_channels: 4, kernel: 3}, to: [c]}
  c: {conv: {out_channels: 4, kernel: 3}}
"""


def test_a_bad_default_is_reported_once_at_the_defaults_line():
    d = only(THREE_CORES)
    assert (str(d.position), d.code) == ("5:39", "threshold-low")
    assert d.message == "core 'a': min_v_mem 0.5 must be a finite number below 0"


def test_a_core_overriding_a_bad_default_with_a_bad_value_is_reported_at_the_core():
    text = THREE_CORES.replace("  b: {conv: {out_channels: 4, kernel: 3}, to: [c]}",
                               "  b: {conv: {out_channels: 4, kernel: 3}, neuron: {min_v_mem: 0}, to: [c]}")
    assert found(text) == [("5:39", "threshold-low"), ("8:63", "threshold-low")]


def test_a_core_overriding_a_bad_default_with_a_good_value_is_clean_itself():
    text = THREE_CORES.replace("  a: {conv: {out_channels: 4, kernel: 3}, to: [b]}",
                               "  a: {conv: {out_channels: 4, kernel: 3}, neuron: {min_v_mem: -1}, to: [b]}")
    d = only(text)
    assert (str(d.position), d.code) == ("5:39", "threshold-low")
    assert d.message == "core 'b': min_v_mem 0.5 must be a finite number below 0"


def test_a_bad_conv_default_is_reported_once_at_the_defaults_line():
    text = HEAD + """\
defaults:
  conv: {kernel: 17}
cores:
  a: {conv: {out_channels: 4}, to: [b]}
  b: {conv: {out_channels: 4}, to: [c]}
  c: {conv: {out_channels: 4}}
"""
    assert found(text) == [("5:18", "conv-kernel")]


def test_a_per_axis_default_keeps_the_position_of_each_axis():
    text = HEAD + """\
defaults:
  conv:
    kernel: 3
    stride: {x: 2, y: 3}
cores:
  a: {conv: {out_channels: 4}}
  b: {conv: {out_channels: 4}}
"""
    assert found(text) == [("7:23", "conv-stride")]


def test_source_map_entries_of_inherited_values():
    doc = expanded(DEFAULTS)
    m = doc.source_map
    assert m.value(("cores", "a", "conv", "kernel")) == Position(5, 18)
    assert m.key(("cores", "a", "conv", "kernel")) == Position(5, 10)
    # a created neuron section is named by the `neuron:` key under defaults
    assert m.key(("cores", "a", "neuron")) == Position(6, 3)
    assert m.value(("cores", "a", "neuron", "reset")) == Position(6, 52)
    assert m.value(("cores", "a", "monitor")) == Position(7, 12)
    # the core's own values keep their own positions
    assert m.value(("cores", "b", "conv", "kernel")) == Position(11, 37)
    assert m.value(("cores", "b", "monitor")) == Position(13, 14)
    # an own per-axis value keeps its own axes
    assert m.value(("cores", "c", "conv", "stride", "y")) == Position(14, 49)


def test_a_misspelled_default_is_reported_once():
    text = HEAD + """\
defaults:
  conv: {kernal: 3}
cores:
  a: {conv: {out_channels: 4, kernel: 3}}
  b: {conv: {out_channels: 4, kernel: 3}}
"""
    assert found(text) == [("5:10", "unknown-key")]


def test_an_invalid_default_choice_is_reported_once():
    text = HEAD + """\
defaults:
  neuron: {reset: zeroo}
cores:
  a: {conv: {out_channels: 4, kernel: 3}}
  b: {conv: {out_channels: 4, kernel: 3}}
"""
    assert found(text) == [("5:19", "invalid-choice")]

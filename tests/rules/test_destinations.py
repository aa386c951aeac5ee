"""Rules of `dynapcnn_dsl.rules.destinations`: dest-max, dest-pool, dest-feature-shift,
dest-duplicate, input-dest-max, input-dest-empty."""

from __future__ import annotations

import pytest
from helpers import check as linked  # the whole pipeline, for what the link stage reports
from helpers import check_model as check  # model-stage rules, tested without the linker
from helpers import found_model as found
from helpers import only_model as only

HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 16, 16], to: [a]}
cores:
  a:
    conv: {out_channels: 4, kernel: 1}
"""
OTHERS = """\
  b: {conv: {out_channels: 4, kernel: 1}}
  c: {conv: {out_channels: 4, kernel: 1}}
  d: {conv: {out_channels: 4, kernel: 1}}
"""


def net(to: str, tail: str = "") -> str:
    """Line 7 is `    to: <to>`: `to` starts at column 5, the list at column 9."""
    return HEAD + f"    to: {to}\n" + OTHERS + tail


# -- dest-max ------------------------------------------------------------------------------------

def test_dest_max_three_destinations_at_the_to_key():
    d = only(net("[b, c, d]"))
    assert (str(d.position), d.code) == ("7:5", "dest-max")
    assert d.message == "core 'a' has 3 destinations; a core has 2"
    assert d.hint == ("send to one core and let it forward, or use a template whose entry takes "
                      "both paths")


def test_dest_max_block_list():
    assert found(net("\n      - b\n      - c\n      - d")) == [("7:5", "dest-max")]


def test_dest_max_counts_an_explicit_readout():
    assert found(net("[b, c, readout]")) == [("7:5", "dest-max")]


def test_dest_max_counts_the_readout_that_reads_from_the_core():
    d = only(net("[b, c]", "readout: {from: a, classes: 2}\n"))
    assert (str(d.position), d.code) == ("7:5", "dest-max")
    assert d.message == ("core 'a' has 3 destinations (counting the readout, which reads from it); "
                         "a core has 2")


@pytest.mark.parametrize(("to", "tail"), [
    ("[b, c]", ""),
    ("[b, readout]", ""),
    ("[]", ""),
    ("[b]", "readout: {from: a, classes: 2}\n"),
    ("[b, readout]", "readout: {from: a, classes: 2}\n"),   # the explicit readout is the same slot
    ("[b, c]", "readout: {from: b, classes: 2}\n"),
])
def test_dest_max_two_slots_pass(to, tail):
    assert found(net(to, tail)) == []


# -- dest-pool -----------------------------------------------------------------------------------

@pytest.mark.parametrize("pool", [3, 0, 8])
def test_dest_pool_not_allowed(pool):
    d = only(net(f"[{{core: b, pool: {pool}}}]"))
    assert (str(d.position), d.code) == ("7:26", "dest-pool")
    assert d.message == f"core 'a': pool {pool} towards 'b' is not 1, 2 or 4"
    assert d.hint == "use pool 1, 2 or 4 (the same in x and y)"


@pytest.mark.parametrize("pool", [1, 2, 4])
def test_dest_pool_allowed_pass(pool):
    assert found(net(f"[{{core: b, pool: {pool}}}]")) == []


def test_dest_pool_each_destination_is_checked():
    assert found(net("[{core: b, pool: 0}, {core: c, pool: 8}]")) == [("7:26", "dest-pool"),
                                                                      ("7:46", "dest-pool")]


def test_dest_pool_block_form():
    text = net("\n      - core: b\n        pool: 3")
    assert found(text) == [("9:15", "dest-pool")]


# -- dest-feature-shift --------------------------------------------------------------------------

@pytest.mark.parametrize("shift", [1024, -1])
def test_dest_feature_shift_outside(shift):
    d = only(net(f"[{{core: b, feature_shift: {shift}}}]"))
    assert (str(d.position), d.code) == ("7:35", "dest-feature-shift")
    assert d.message == f"core 'a': feature_shift {shift} towards 'b' is outside 0..1023"
    assert d.hint == "feature_shift is 0..1023; normally omit it and let the linker compute it"


@pytest.mark.parametrize("shift", [0, 1023])
def test_dest_feature_shift_bounds_pass(shift):
    assert found(net(f"[{{core: b, feature_shift: {shift}}}]")) == []


# -- dest-duplicate ------------------------------------------------------------------------------

def test_dest_duplicate_warns_at_the_second_and_notes_the_first():
    result = check(net("[b, b]"))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("7:13", "dest-duplicate", "warning")
    assert d.message == "core 'a' sends to 'b' twice"
    assert [(str(r.position), r.message) for r in d.related] == [("7:10", "first listed here")]
    assert result.ok


def test_dest_duplicate_short_and_long_forms():
    d = only(net("[b, {core: b, pool: 2}]"))
    assert (str(d.position), d.code) == ("7:13", "dest-duplicate")


def test_dest_duplicate_different_cores_pass():
    assert found(net("[b, {core: c, pool: 2}]")) == []


# -- input-dest-max ------------------------------------------------------------------------------

INPUT = """\
dsl: 1
chip: speck2f
input:
  source: host
  shape: [1, 16, 16]
  to: {to}
cores:
  a: {{conv: {{out_channels: 4, kernel: 1}}}}
  b: {{conv: {{out_channels: 4, kernel: 1}}}}
  c: {{conv: {{out_channels: 4, kernel: 1}}}}
"""


def test_input_dest_max_three_at_the_to_key():
    d = only(INPUT.format(to="[a, b, c]"))
    assert (str(d.position), d.code) == ("6:3", "input-dest-max")
    assert d.message == "the input has 3 destinations; it has 2"
    assert d.hint == "the input layer has 2 destination slots: feed one core and let it forward"


@pytest.mark.parametrize("to", ["[a]", "[a, b]", "[a, {core: b}]"])
def test_input_dest_max_two_pass(to):
    assert found(INPUT.format(to=to)) == []


# -- input-dest-empty ----------------------------------------------------------------------------

def test_input_dest_empty_at_the_to_key():
    d = only(INPUT.format(to="[]"))
    assert (str(d.position), d.code) == ("6:3", "input-dest-empty")
    assert d.message == "the input sends its events nowhere"
    assert d.hint == "name the core that receives the input under `to:`"


# -- references and loops: the model stage leaves them to the link stage --------------------------
# (once strict xfails here, "no rule detects cycles" / "a reference to a core that does not exist is
# accepted": the link-stage rules recurrent, recurrent-allowed, dest-unknown, from-unknown and
# readout-from-unknown now report them; their positions and messages are tested in
# test_link_references.py)

CYCLE = """\
dsl: 1
chip: speck2f
{opt}input: {{source: host, shape: [4, 16, 16], to: [a]}}
cores:
  a: {{conv: {{out_channels: 4, kernel: 1}}, to: [b]}}
  b: {{conv: {{out_channels: 4, kernel: 1}}, to: [a]}}
"""


def test_a_cycle_without_opt_in_is_an_error():
    text = CYCLE.format(opt="")
    assert found(text) == []
    result = linked(text)
    assert [(d.code, d.severity.value) for d in result.diagnostics] == [("recurrent", "error")]
    assert not result.ok


def test_a_cycle_with_opt_in_is_a_warning():
    text = CYCLE.format(opt="allow_recurrent: true\n")
    assert found(text) == []
    result = linked(text)
    assert [(d.code, d.severity.value) for d in result.diagnostics] == [
        ("recurrent-allowed", "warning")]
    assert result.ok


@pytest.mark.parametrize(("text", "code"), [
    (HEAD + "    to: [zzz]\n", "dest-unknown"),
    (HEAD.replace("to: [a]", "to: [zzz]"), "dest-unknown"),
    (HEAD + "readout: {from: zzz, classes: 2}\n", "readout-from-unknown"),
    (HEAD + "    from: [input, zzz]\n", "from-unknown"),
], ids=["core-to", "input-to", "readout-from", "from"])
def test_a_reference_to_an_unknown_core_is_an_error(text, code):
    assert found(text) == []
    result = linked(text)
    assert [d.code for d in result.diagnostics] == [code]
    assert not result.ok

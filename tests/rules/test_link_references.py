"""Rules of `dynapcnn_dsl.rules.link_references` (link stage): dest-unknown, from-unknown,
readout-from-unknown, readout-missing, readout-conflict, from-mismatch, recurrent,
recurrent-allowed, core-unreachable."""

from __future__ import annotations

import pytest
from helpers import check, found, only

HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [4, 16, 16], to: [a]}
cores:
  a:
    conv: {out_channels: 4, kernel: 1}
"""
"""Line 3 is the input (its first destination at column 48), core `a` starts on line 5."""


def net(*lines: str, head: str = HEAD) -> str:
    """`head` and then `lines`, the first of them on line 7."""
    return head + "".join(line + "\n" for line in lines)


B = "  b: {conv: {out_channels: 4, kernel: 1}}"
C = "  c: {conv: {out_channels: 4, kernel: 1}}"


# -- dest-unknown --------------------------------------------------------------------------------

def test_dest_unknown_at_the_name_with_a_suggestion():
    d = only(net("    to: [bb]", B))
    assert (str(d.position), d.code) == ("7:10", "dest-unknown")
    assert d.message == "core 'a' sends to 'bb', which is not a core"
    assert d.hint == "did you mean 'b'?"


def test_dest_unknown_without_a_likely_name_keeps_the_rule_hint():
    d = only(net("    to: [zzzz]", B))
    assert (str(d.position), d.code) == ("7:10", "dest-unknown")
    assert d.hint == "name a core declared under `cores:` (or `readout`)"


def test_dest_unknown_suggests_the_readout_to_a_core():
    d = only(net("    to: [readuot]"))
    assert (str(d.position), d.code) == ("7:10", "dest-unknown")
    assert d.hint == "did you mean 'readout'?"


def test_dest_unknown_on_the_input():
    d = only(net(head=HEAD.replace("to: [a]", "to: [aa]")))
    assert (str(d.position), d.code) == ("3:48", "dest-unknown")
    assert d.message == "the input sends to 'aa', which is not a core"
    assert d.hint == "did you mean 'a'?"


def test_dest_unknown_the_input_cannot_send_to_the_readout():
    d = only(net(head=HEAD.replace("to: [a]", "to: [a, readout]")))
    assert (str(d.position), d.code) == ("3:51", "dest-unknown")
    assert d.message == "the input sends to 'readout', which is not a core"


def test_dest_unknown_every_dangling_name_is_reported():
    assert found(net("    to: [x, y]", head=HEAD.replace("to: [a]", "to: [a, z]"))) == [
        ("3:51", "dest-unknown"), ("7:10", "dest-unknown"), ("7:13", "dest-unknown")]


@pytest.mark.parametrize(("text", "where"), [
    (net("    to: [{core: bb, pool: 2}]", B), "7:17"),
    (net(head=HEAD.replace("to: [a]", "to: [{core: aa}]")), "3:55"),
], ids=["core", "input"])
def test_dest_unknown_long_form_at_the_core_value(text, where):
    """The position is the `core:` value that is wrong, not the `{` of the entry."""
    assert found(text) == [(where, "dest-unknown")]


def test_dest_unknown_long_form_keeps_the_message_and_suggestion():
    d = only(net("    to: [{core: bb, pool: 2}]", B))
    assert d.message == "core 'a' sends to 'bb', which is not a core"
    assert d.hint == "did you mean 'b'?"


@pytest.mark.parametrize("to", ["[b]", "[{core: b, pool: 2}]", "[b, readout]"])
def test_dest_unknown_declared_names_pass(to):
    assert found(net(f"    to: {to}", B, "readout: {from: a, classes: 4}"
                     if "readout" in to else "")) == []


# -- from-unknown --------------------------------------------------------------------------------

def test_from_unknown_at_the_entry_with_a_suggestion():
    d = only(net("    to: [c]", "  b: {conv: {out_channels: 4, kernel: 1}, to: [c]}",
                 "  c: {conv: {out_channels: 4, kernel: 1}, from: [a, b, bb]}",
                 head=HEAD.replace("to: [a]", "to: [a, b]")))
    assert (str(d.position), d.code) == ("9:56", "from-unknown")
    assert d.message == "core 'c' lists 'bb' in `from:`, which is not a core"
    assert d.hint == "did you mean 'b'?"


def test_from_unknown_suggests_the_input():
    d = only(net("    to: [b]",
                 "  b: {conv: {out_channels: 4, kernel: 1}, merge: concat, from: [a, inptu]}"))
    assert (str(d.position), d.code) == ("8:68", "from-unknown")
    assert d.hint == "did you mean 'input'?"


def test_from_unknown_the_input_is_a_known_source():
    """`input` listed first: listed after a core it would be an input-shift error (see
    test_link_merges.py), not a from-unknown one."""
    assert found(net(head=HEAD.replace("to: [a]", "to: [a, b]")) + "    to: [b]\n"
                 "  b: {conv: {out_channels: 4, kernel: 1}, merge: concat, from: [input, a]}\n") == []


# -- readout-from-unknown ------------------------------------------------------------------------

def test_readout_from_unknown_at_the_value():
    d = only(net("readout: {from: aa, classes: 4}"))
    assert (str(d.position), d.code) == ("7:17", "readout-from-unknown")
    assert d.message == "the readout reads from 'aa', which is not a core"
    assert d.hint == "did you mean 'a'?"


def test_readout_from_unknown_without_a_likely_name():
    d = only(net("readout: {from: zzzz, classes: 4}"))
    assert (str(d.position), d.code) == ("7:17", "readout-from-unknown")
    assert d.hint == "name the core whose output features are the classes"


def test_readout_from_a_declared_core_passes():
    assert found(net("readout: {from: a, classes: 4}")) == []


# -- readout-missing -----------------------------------------------------------------------------

def test_readout_missing_at_the_readout_entry():
    d = only(net("    to: [readout]"))
    assert (str(d.position), d.code) == ("7:10", "readout-missing")
    assert d.message == "core 'a' sends to the readout, but the file has no `readout:` section"
    assert d.hint == "add a `readout:` section (from, classes), or remove `readout` from `to:`"


def test_readout_missing_long_form():
    assert found(net("    to: [b, {core: readout}]", B)) == [("7:13", "readout-missing")]


@pytest.mark.parametrize("to", ["[readout]", "[]"])
def test_readout_with_a_section_passes(to):
    assert found(net(f"    to: {to}", "readout: {from: a, classes: 4}")) == []


# -- readout-conflict ----------------------------------------------------------------------------

def test_readout_conflict_at_the_other_sources_entry_with_a_note():
    d = only(net("    to: [b]", "  b: {conv: {out_channels: 4, kernel: 1}, to: [readout]}",
                 "readout: {from: a, classes: 4}"))
    assert (str(d.position), d.code) == ("8:48", "readout-conflict")
    assert d.message == "core 'b' sends to the readout, which reads from 'a'"
    assert d.hint == "the readout reads one core: send only that core to `readout`"
    assert [(str(r.position), r.message) for r in d.related] == [("9:17", "the readout's source")]


def test_readout_conflict_the_named_source_may_list_readout_explicitly():
    assert found(net("    to: [b, readout]", B, "readout: {from: a, classes: 4}")) == []


@pytest.mark.parametrize("a_to", ["[b]", "[b, readout]"], ids=["one-sender", "two-senders"])
def test_readout_conflict_is_quiet_when_the_readout_source_is_unknown(a_to):
    """The misspelt `readout.from` is the one mistake: readout-from-unknown names it, and the
    cores sending to the readout are not also reported as conflicting with a core that does not
    exist."""
    text = net(f"    to: {a_to}", "  b: {conv: {out_channels: 4, kernel: 1}, to: [readout]}",
               "readout: {from: bb, classes: 4}")
    assert found(text) == [("9:17", "readout-from-unknown")]


# -- from-mismatch -------------------------------------------------------------------------------

TWO = HEAD.replace("to: [a]", "to: [a, b]") + "    to: [c, d]\n" + \
    "  b: {conv: {out_channels: 4, kernel: 1}, to: [c]}\n"
D = "  d: {conv: {out_channels: 4, kernel: 1}}\n"
"""`a` and `b` both send to `c` (declared on line 9, its `from` key at column 58); `a` also
sends to `d` (line 10)."""


def cat(from_: str) -> str:
    return TWO + f"  c: {{conv: {{out_channels: 4, kernel: 1}}, merge: concat, from: {from_}}}\n" + D


def test_from_mismatch_a_listed_core_that_does_not_send():
    d = only(cat("[a, b, d]"))
    assert (str(d.position), d.code) == ("9:71", "from-mismatch")
    assert d.message == "core 'c' lists 'd' in `from:`, but 'd' does not send to it"
    assert d.hint == "`from:` lists exactly the cores whose `to:` names this core"


def test_from_mismatch_the_input_listed_but_not_sending():
    d = only(cat("[a, b, input]"))
    assert (str(d.position), d.code) == ("9:71", "from-mismatch")
    assert d.message == "core 'c' lists 'input' in `from:`, but the input does not send to it"


def test_from_mismatch_a_sender_missing_from_the_list():
    d = only(cat("[a]"))
    assert (str(d.position), d.code) == ("9:58", "from-mismatch")
    assert d.message == "core 'b' sends to 'c' but is missing from its `from:` list"
    assert [(str(r.position), r.message) for r in d.related] == [("8:48", "sent from here")]


def test_from_mismatch_both_directions_at_once():
    assert found(cat("[a, d]")) == [("9:58", "from-mismatch"), ("9:68", "from-mismatch")]


def test_from_mismatch_every_missing_sender_is_reported():
    """Both findings sit at the one `from` key (10:58); findings about the same path are all kept."""
    text = HEAD.replace("to: [a]", "to: [a, b]") + "    to: [c, d]\n" + \
        "  b: {conv: {out_channels: 4, kernel: 1}, to: [d]}\n" + \
        "  c: {conv: {out_channels: 4, kernel: 1}, to: [d]}\n" + \
        "  d: {conv: {out_channels: 4, kernel: 1}, merge: concat, from: [a]}\n"
    diags = check(text).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("10:58", "from-mismatch"),
                                                          ("10:58", "from-mismatch")]
    assert [d.message for d in diags] == ["core 'b' sends to 'd' but is missing from its `from:` list",
                                          "core 'c' sends to 'd' but is missing from its `from:` list"]
    assert [[(str(r.position), r.message) for r in d.related] for d in diags] == [
        [("8:48", "sent from here")], [("9:48", "sent from here")]]


@pytest.mark.parametrize("from_", ["[a, b]", "[b, a]"])
def test_from_mismatch_any_order_of_the_senders_passes(from_):
    assert found(cat(from_)) == []


def test_from_mismatch_the_input_as_a_listed_sender_passes():
    text = HEAD.replace("to: [a]", "to: [a, b]") + "    to: [b]\n" + \
        "  b: {conv: {out_channels: 4, kernel: 1}, from: [input, a]}\n"
    assert found(text) == []


# -- recurrent / recurrent-allowed ---------------------------------------------------------------

LOOP = """\
dsl: 1
chip: speck2f
{opt}input: {{source: host, shape: [4, 16, 16], to: [a]}}
cores:
  a: {{conv: {{out_channels: 4, kernel: 1}}, to: [b]}}
  b: {{conv: {{out_channels: 4, kernel: 1}}, to: [{to}]}}
"""


def test_recurrent_at_the_link_that_closes_the_loop():
    d = only(LOOP.format(opt="", to="a"))
    assert (str(d.position), d.code, d.severity.value) == ("6:48", "recurrent", "error")
    assert d.message == "core 'b' sends back to 'a', closing a loop"
    assert d.hint == ("remove the loop, or set `allow_recurrent: true` if it is intended (it may "
                      "deadlock the chip)")


def test_recurrent_a_core_to_itself():
    d = only(LOOP.format(opt="", to="b"))
    assert (str(d.position), d.code) == ("6:48", "recurrent")
    assert d.message == "core 'b' sends to itself"


def test_recurrent_also_in_a_part_no_event_reaches():
    text = net("  x: {conv: {out_channels: 4, kernel: 1}, to: [y]}",
               "  y: {conv: {out_channels: 4, kernel: 1}, to: [x]}")
    assert found(text) == [("7:3", "core-unreachable"), ("8:3", "core-unreachable"),
                           ("8:48", "recurrent")]


def test_recurrent_allowed_is_a_warning_at_the_same_link():
    result = check(LOOP.format(opt="allow_recurrent: true\n", to="a"))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("7:48", "recurrent-allowed", "warning")
    assert d.message == "core 'b' sends back to 'a', closing a loop"
    assert d.hint == "loops may deadlock the chip when events circulate faster than they drain"
    assert result.ok


def test_recurrent_allowed_a_core_to_itself():
    d = only(LOOP.format(opt="allow_recurrent: true\n", to="b"))
    assert (str(d.position), d.code) == ("7:48", "recurrent-allowed")
    assert d.message == "core 'b' sends to itself"


@pytest.mark.parametrize("opt", ["", "allow_recurrent: true\n", "allow_recurrent: false\n"])
def test_recurrent_a_chain_without_a_loop_passes(opt):
    text = LOOP.format(opt=opt, to="c") + "  c: {conv: {out_channels: 4, kernel: 1}}\n"
    assert found(text) == []


def test_recurrent_a_diamond_is_not_a_loop():
    text = net("    to: [b, c]", "  b: {conv: {out_channels: 4, kernel: 1}, to: [d]}",
               "  c: {conv: {out_channels: 4, kernel: 1}, to: [d]}",
               "  d: {conv: {out_channels: 4, kernel: 1}}")
    assert found(text) == []


# -- core-unreachable ----------------------------------------------------------------------------

def test_core_unreachable_at_the_core_key():
    result = check(net(B))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("7:3", "core-unreachable", "warning")
    assert d.message == "core 'b' receives no events from the input: it is left out of the build"
    assert d.hint == "connect the core to the input through `to:` lists, or remove it"
    assert result.ok


def test_core_unreachable_even_when_it_sends_onwards():
    assert found(net("  b: {conv: {out_channels: 4, kernel: 1}, to: [a]}")) == [
        ("7:3", "core-unreachable")]


def test_core_unreachable_is_quiet_while_a_destination_dangles():
    """The unreachable core follows from the misspelt name; dest-unknown names the cause."""
    assert found(net("    to: [bb]", B)) == [("7:10", "dest-unknown")]


@pytest.mark.parametrize("text", [
    net("    to: [b]", B),
    net(B, head=HEAD.replace("to: [a]", "to: [a, b]")),
], ids=["through-a-core", "from-the-input"])
def test_core_unreachable_every_core_reached_passes(text):
    assert found(text) == []

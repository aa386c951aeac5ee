"""Name resolution into links: order, loops, the readout's implied slot and unknown names."""

from __future__ import annotations

from helpers import check

from dynapcnn_dsl.chips import INPUT, READOUT
from dynapcnn_dsl.link.graph import resolve


def graph(text: str):
    result = check(text)
    assert result.network is not None
    return resolve(result.network)


HEAD = """\
dsl: 1
chip: speck2f
defaults: {neuron: {threshold: 1.0, min_v_mem: -1.0}, conv: {out_channels: 2, kernel: 1}}
"""


def test_topological_order_puts_every_core_after_its_sources():
    g = graph(HEAD + """\
input: {source: host, shape: [1, 4, 4], to: [a]}
cores:
  d: {conv: {}, to: []}
  c: {conv: {}, to: [d]}
  b: {conv: {}, to: [c, d]}
  a: {conv: {}, to: [b, c]}
""")
    order = list(g.order)
    assert order.index("a") < order.index("b") < order.index("c") < order.index("d")
    assert g.reachable == {"a", "b", "c", "d"}
    assert g.back_edges == ()


def test_loops_are_found_including_self_loops_and_unreachable_ones():
    g = graph(HEAD + """\
allow_recurrent: true
input: {source: host, shape: [1, 4, 4], to: [a]}
cores:
  a: {conv: {}, to: [b]}
  b: {conv: {}, to: [a, b]}
  x: {conv: {}, to: [y]}
  y: {conv: {}, to: [x]}
""")
    assert {(link.source, link.target) for link in g.back_edges} == {("b", "a"), ("b", "b"), ("y", "x")}
    assert g.reachable == {"a", "b"}


def test_the_readout_takes_the_next_free_slot_of_its_source():
    g = graph(HEAD + """\
input: {source: host, shape: [1, 4, 4], to: [a]}
cores:
  a: {conv: {}, to: [b]}
  b: {conv: {}}
readout: {from: a, classes: 2}
""")
    [r] = g.readout_links
    assert (r.source, r.target, r.slot, r.path) == ("a", READOUT, 1, ("readout", "from"))


def test_an_explicit_readout_destination_is_not_doubled():
    g = graph(HEAD + """\
input: {source: host, shape: [1, 4, 4], to: [a]}
cores:
  a: {conv: {}, to: [readout]}
readout: {from: a, classes: 2}
""")
    assert [(r.source, r.slot) for r in g.readout_links] == [("a", 0)]


def test_unknown_names_are_kept_with_their_role_and_path():
    g = graph(HEAD + """\
input: {source: host, shape: [1, 4, 4], to: [a, nope]}
cores:
  a: {conv: {}, to: [ghost]}
  m: {conv: {}, from: [a, phantom]}
readout: {from: nobody, classes: 2}
""")
    assert [(u.name, u.role, u.path) for u in g.unknown] == [
        ("nope", "input-to", ("input", "to", 1)),
        ("ghost", "to", ("cores", "a", "to", 0)),
        ("nobody", "readout-from", ("readout", "from")),
        ("phantom", "from", ("cores", "m", "from", 1)),
    ]
    assert [link.target for link in g.outgoing[INPUT]] == ["a"]

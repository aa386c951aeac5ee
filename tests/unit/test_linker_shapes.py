"""Shape inference, pooling per destination, DVS pre-processing and feature shifts."""

from __future__ import annotations

from helpers import check

from dynapcnn_dsl.link.data import Shape


def linked(text: str):
    result = check(text)
    assert result.ok, [f"{d.position} {d.code}: {d.message}" for d in result.diagnostics]
    return result.linked


HEAD = """\
dsl: 1
chip: speck2f
defaults: {neuron: {threshold: 1.0, min_v_mem: -1.0}}
"""


def test_conv_output_per_axis_with_asymmetric_stride_and_padding():
    net = linked(HEAD + """\
input: {source: host, shape: [2, 33, 20], to: [a]}
cores:
  a: {conv: {out_channels: 4, kernel: 3, stride: {x: 2, y: 1}, padding: {x: 0, y: 1}}}
""")
    a = net.core("a")
    # y: floor((33 - 3 + 2) / 1) + 1 = 33; x: floor((20 - 3 + 0) / 2) + 1 = 9
    assert a.input_shape == Shape(2, 33, 20)
    assert a.output_shape == Shape(4, 33, 9)
    assert a.stride == (2, 1) and a.padding == (0, 1)


def test_pooling_belongs_to_the_destination():
    net = linked(HEAD + """\
input: {source: host, shape: [1, 32, 32], to: [a]}
cores:
  a: {conv: {out_channels: 4, kernel: 1}, to: [{core: b, pool: 2}, {core: c, pool: 4}]}
  b: {conv: {out_channels: 4, kernel: 1}}
  c: {conv: {out_channels: 4, kernel: 1}}
""")
    assert net.core("b").input_shape == Shape(4, 16, 16)
    assert net.core("c").input_shape == Shape(4, 8, 8)
    assert [(d.target, d.pool) for d in net.core("a").destinations] == [("b", 2), ("c", 4)]


def test_dvs_merge_pool_crop_then_diagonal_flip():
    net = linked(HEAD + """\
input:
  source: dvs
  shape: [1, 128, 128]
  polarity: merge
  pool: {x: 2, y: 4}
  crop: {origin: {x: 4, y: 2}, size: {x: 40, y: 24}}
  flip: {diagonal: true}
  to: [a]
cores:
  a: {conv: {out_channels: 2, kernel: 1}}
""")
    # pooled 128/4 x 128/2 = 32 x 64 (h x w); crop to 24 x 40; the diagonal flip swaps them
    assert net.input.output_shape == Shape(1, 40, 24)
    assert net.core("a").input_shape == Shape(1, 40, 24)


def test_concat_of_three_sources_gets_shifts_0_c1_and_c1_plus_c2():
    net = linked(HEAD + """\
input: {source: host, shape: [1, 8, 8], to: [stem]}
cores:
  stem: {conv: {out_channels: 4, kernel: 1}, to: [a, b]}
  a: {conv: {out_channels: 3, kernel: 1}, to: [cat]}
  b: {conv: {out_channels: 5, kernel: 1}, to: [c, cat]}
  c: {conv: {out_channels: 2, kernel: 1}, to: [cat]}
  cat:
    merge: concat
    from: [c, a, b]          # the order of the receiver's input features
    conv: {out_channels: 4, kernel: 1}
""")
    cat = net.core("cat")
    assert [(s.source, s.feature_shift) for s in cat.sources] == [("c", 0), ("a", 2), ("b", 5)]
    assert cat.input_shape == Shape(2 + 3 + 5, 8, 8)
    # the shift travels on the sender's destination slot
    assert [(d.target, d.feature_shift) for d in net.core("b").destinations] == [("c", 0), ("cat", 5)]
    assert net.core("cat").memory.kernel == 10 * 2 ** (0 + 2)


def test_an_explicit_correct_concat_shift_is_accepted():
    net = linked(HEAD + """\
input: {source: host, shape: [1, 8, 8], to: [a, b]}
cores:
  a: {conv: {out_channels: 3, kernel: 1}, to: [{core: cat, feature_shift: 0}]}
  b: {conv: {out_channels: 5, kernel: 1}, to: [{core: cat, feature_shift: 3}]}
  cat: {merge: concat, from: [a, b], conv: {out_channels: 2, kernel: 1}}
""")
    assert net.core("cat").input_shape.features == 8


def test_sum_merge_keeps_the_feature_count():
    net = linked(HEAD + """\
input: {source: host, shape: [1, 16, 16], to: [a]}
cores:
  a: {conv: {out_channels: 4, kernel: 1}, to: [b, {core: c, pool: 1}]}
  b: {conv: {out_channels: 4, kernel: 3, padding: 1}, to: [c]}
  c: {conv: {out_channels: 2, kernel: 1}}
""")
    c = net.core("c")
    assert c.input_shape == Shape(4, 16, 16)
    assert {(s.source, s.feature_shift) for s in c.sources} == {("a", 0), ("b", 0)}


def test_readout_errata_remap_widens_the_feeding_core():
    net = linked(HEAD + """\
input: {source: host, shape: [1, 4, 4], to: [head]}
cores:
  head: {conv: {out_channels: 5, kernel: 4}}
readout: {from: head, classes: 5}
""")
    head = net.core("head")
    # class k on feature 4*(k-1): features 0, 4, 8, 12, 16 -> 17 physical features
    assert head.out_features == 17
    assert head.memory.neuron == 17
    assert net.readout.errata_remap is True
    assert [(d.target, d.slot) for d in head.destinations] == [("readout", 0)]


def test_readout_without_remap_on_a_legacy_chip():
    net = linked(HEAD.replace("speck2f", "dynapcnn") + """\
input: {source: host, shape: [1, 4, 4], to: [head]}
cores:
  head: {conv: {out_channels: 5, kernel: 4}, to: [readout]}
readout: {from: head, classes: 5}
""")
    assert net.core("head").out_features == 5
    assert net.readout.errata_remap is False


def test_min_v_mem_defaults_to_minus_the_threshold():
    net = linked("""\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 4, 4], to: [a]}
cores:
  a: {conv: {out_channels: 2, kernel: 1}, neuron: {threshold: 2.5}}
""")
    assert net.core("a").neuron.min_v_mem == -2.5

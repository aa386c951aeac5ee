"""Rules of `dynapcnn_dsl.rules.link_merges` (link stage): merge-map, merge-sum, concat-shift,
feature-layout, input-shift."""

from __future__ import annotations

import pytest
from helpers import check, found, only


def net(*cores: str, shape: str = "[4, 16, 16]", to: str = "[a]") -> str:
    """The input on line 3, one core per line from line 5 (`  a: {conv: {...}, to: [` puts the
    first destination at column 48)."""
    lines = "".join(f"  {c}\n" for c in cores)
    return f"dsl: 1\nchip: speck2f\ninput: {{source: host, shape: {shape}, to: {to}}}\ncores:\n{lines}"


def notes(d) -> list[tuple[str, str]]:
    return [(str(r.position), r.message) for r in d.related]


# -- merge-map -----------------------------------------------------------------------------------

def two_into_c(a_to: str, b_to: str, c: str = "c: {conv: {out_channels: 4, kernel: 1}}",
               a_out: int = 4, b_out: int = 4) -> str:
    """`a` (line 5) sends to `b` (line 6) and `c`; `b` sends to `c` (line 7)."""
    return net(f"a: {{conv: {{out_channels: {a_out}, kernel: 1}}, to: [b, {a_to}]}}",
               f"b: {{conv: {{out_channels: {b_out}, kernel: 1}}, to: [{b_to}]}}", c)


def test_merge_map_at_the_receiver_key_with_a_note_per_source():
    d = only(two_into_c("{core: c, pool: 2}", "c"))
    assert (str(d.position), d.code) == ("7:3", "merge-map")
    assert d.message == "core 'c' receives maps of different sizes: 'a' [4, 8, 8], 'b' [4, 16, 16]"
    assert d.hint == "every source must arrive with the same map size: adjust the pooling of its link"
    assert notes(d) == [("5:51", "'a' delivers [4, 8, 8]"), ("6:48", "'b' delivers [4, 16, 16]")]


def test_merge_map_also_for_a_concat():
    text = two_into_c("{core: c, pool: 2}", "c",
                      "c: {conv: {out_channels: 4, kernel: 1}, merge: concat, from: [a, b]}")
    assert found(text) == [("7:3", "merge-map")]


def test_merge_map_by_a_different_conv_output():
    """b's 3x3 kernel without padding gives 14x14 against a's 16x16."""
    text = net("a: {conv: {out_channels: 4, kernel: 1}, to: [b, c]}",
               "b: {conv: {out_channels: 4, kernel: 3}, to: [c]}",
               "c: {conv: {out_channels: 4, kernel: 1}}")
    d = only(text)
    assert (str(d.position), d.code) == ("7:3", "merge-map")
    assert "'a' [4, 16, 16], 'b' [4, 14, 14]" in d.message


@pytest.mark.parametrize(("a_to", "b_to"), [
    ("c", "c"),
    ("{core: c, pool: 2}", "{core: c, pool: 2}"),
])
def test_merge_map_equal_maps_pass(a_to, b_to):
    assert found(two_into_c(a_to, b_to)) == []


# -- merge-sum -----------------------------------------------------------------------------------

def test_merge_sum_at_the_receiver_key_with_a_note_per_source():
    d = only(two_into_c("c", "c", b_out=8))
    assert (str(d.position), d.code) == ("7:3", "merge-sum")
    assert d.message == ("core 'c' sums sources with different feature counts: 'a' [4, 16, 16], "
                         "'b' [8, 16, 16]")
    assert d.hint == ("a sum adds sources feature by feature: give them equal feature counts, or "
                      "use `merge: concat` with `from:` to stack them")
    assert notes(d) == [("5:51", "'a' delivers [4, 16, 16]"), ("6:48", "'b' delivers [8, 16, 16]")]


def test_merge_sum_with_an_explicit_merge_key():
    text = two_into_c("c", "c", "c: {conv: {out_channels: 4, kernel: 1}, merge: sum}", b_out=8)
    assert found(text) == [("7:3", "merge-sum")]


def test_merge_sum_with_the_input_as_a_source():
    """The input delivers 4 features, `a` 8."""
    text = net("a: {conv: {out_channels: 8, kernel: 1}, to: [b]}",
               "b: {conv: {out_channels: 4, kernel: 1}}", to="[a, b]")
    d = only(text)
    assert (str(d.position), d.code) == ("6:3", "merge-sum")
    assert "'input' [4, 16, 16], 'a' [8, 16, 16]" in d.message


@pytest.mark.parametrize("text", [
    two_into_c("c", "c"),                                           # equal shapes
    two_into_c("c", "c", "c: {conv: {out_channels: 4, kernel: 1}, merge: concat, from: [a, b]}",
               b_out=8),                                            # stacked, not summed
    two_into_c("c", "{core: c, feature_shift: 4}", b_out=8),        # an explicit layout
], ids=["equal-shapes", "concat", "explicit-shift"])
def test_merge_sum_passes(text):
    assert found(text) == []


# -- concat-shift --------------------------------------------------------------------------------

def three(c_to: str = "cat", from_: str = "[a, b, c]") -> str:
    """`a` (2 features), `b` (3) and `c` (4, line 7) concatenated by `cat` (line 8)."""
    return net("a: {conv: {out_channels: 2, kernel: 1}, to: [cat, b]}",
               "b: {conv: {out_channels: 3, kernel: 1}, to: [cat, c]}",
               f"c: {{conv: {{out_channels: 4, kernel: 1}}, to: [{c_to}]}}",
               f"cat: {{conv: {{out_channels: 4, kernel: 1}}, merge: concat, from: {from_}}}")


def shifts(text: str) -> list[tuple[str, int]]:
    result = check(text)
    assert result.linked is not None, [d.message for d in result.diagnostics]
    return [(link.source, link.feature_shift) for link in result.linked.core("cat").sources]


def test_concat_shifts_are_running_feature_sums():
    text = three()
    assert found(text) == []
    assert shifts(text) == [("a", 0), ("b", 2), ("c", 5)]
    assert check(text).linked.core("cat").input_shape.features == 9


def test_concat_shifts_follow_the_from_order():
    assert shifts(three(from_="[c, b, a]")) == [("c", 0), ("b", 4), ("a", 7)]


def test_concat_shift_explicit_and_correct_passes():
    text = three(c_to="{core: cat, feature_shift: 5}")
    assert found(text) == []
    assert shifts(text) == [("a", 0), ("b", 2), ("c", 5)]


def test_concat_shift_explicit_zero_on_the_first_source_passes():
    text = three(c_to="cat", from_="[c, a, b]").replace("to: [cat]", "to: [{core: cat, feature_shift: 0}]")
    assert found(text) == []


@pytest.mark.parametrize("given", [4, 0, 9])
def test_concat_shift_explicit_and_wrong_at_the_shift_value(given):
    d = only(three(c_to=f"{{core: cat, feature_shift: {given}}}"))
    assert (str(d.position), d.code) == ("7:75", "concat-shift")
    assert d.message == (f"'c' is concatenated into 'cat' at feature 5 (after the sources before it "
                         f"in `from:`), not {given}")
    assert d.hint == "remove the explicit feature_shift: the linker computes it from the `from:` order"


# -- input-shift ---------------------------------------------------------------------------------

def input_concat(from_: str) -> str:
    """The input (4 features) and `a` (4 features, line 5) concatenated by `b` (line 6, its
    `from` key at column 58)."""
    return net("a: {conv: {out_channels: 4, kernel: 1}, to: [b]}",
               f"b: {{conv: {{out_channels: 4, kernel: 1}}, merge: concat, from: {from_}}}",
               to="[a, b]")


def test_input_shift_at_the_receivers_from_key():
    """The input layer's destinations have no feature_shift (HARDWARE.md): listed after `a` the
    input would have to land on features 4..7."""
    result = check(input_concat("[a, input]"))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("6:58", "input-shift", "error")
    assert d.message == ("core 'b' would need the input's events shifted to feature 4, which the "
                         "input layer cannot do")
    assert d.hint == "the input layer's destinations have no feature shift: list `input` first in `from:`"
    assert not result.ok
    assert result.linked is None


def test_input_shift_between_two_cores():
    """`a` (3 features) first, then the input: the input would need feature 3."""
    text = net("a: {conv: {out_channels: 3, kernel: 1}, to: [b, c]}",
               "b: {conv: {out_channels: 2, kernel: 1}, to: [c]}",
               "c: {conv: {out_channels: 4, kernel: 1}, merge: concat, from: [a, input, b]}",
               to="[a, c]")
    d = only(text)
    assert (str(d.position), d.code) == ("7:58", "input-shift")
    assert d.message == ("core 'c' would need the input's events shifted to feature 3, which the "
                         "input layer cannot do")


def test_input_shift_the_input_listed_first_passes():
    text = input_concat("[input, a]")
    assert found(text) == []
    b = check(text).linked.core("b")
    assert [(link.source, link.feature_shift) for link in b.sources] == [("input", 0), ("a", 4)]


def test_input_shift_a_sum_with_the_input_passes():
    """Without `merge: concat` the input and `a` are summed: nothing is shifted."""
    text = net("a: {conv: {out_channels: 4, kernel: 1}, to: [b]}",
               "b: {conv: {out_channels: 4, kernel: 1}}", to="[a, b]")
    assert found(text) == []


# -- feature-layout ------------------------------------------------------------------------------

def layout(b_shift: int, a_shift: str = "s") -> str:
    """`a` (line 6) and `b` (line 7), 4 features each, summed by `s` (line 8) with explicit shifts."""
    return net("a0: {conv: {out_channels: 4, kernel: 1}, to: [a, b]}",
               f"a: {{conv: {{out_channels: 4, kernel: 1}}, to: [{a_shift}]}}",
               f"b: {{conv: {{out_channels: 4, kernel: 1}}, to: [{{core: s, feature_shift: {b_shift}}}]}}",
               "s: {conv: {out_channels: 4, kernel: 1}}", to="[a0]")


def test_feature_layout_a_gap_warns_at_the_receiver_key():
    result = check(layout(6))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("8:3", "feature-layout", "warning")
    assert d.message == "core 's': input features 4..5 receive no events ('a' 0..3, 'b' 6..9)"
    assert d.hint == ("with explicit shifts, make sources either share a feature range (a sum) or "
                      "use disjoint ones (a concat) that cover every input feature")
    assert notes(d) == [("6:48", "'a' delivers [4, 16, 16]"), ("7:48", "'b' delivers [4, 16, 16]")]
    assert result.ok


def test_feature_layout_a_one_feature_gap():
    d = only(layout(5))
    assert d.message == "core 's': input features 4 receive no events ('a' 0..3, 'b' 5..8)"


def test_feature_layout_a_partial_overlap():
    result = check(layout(2))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("8:3", "feature-layout", "warning")
    assert d.message == "core 's': sources partly overlap on features 2..3 ('a' 0..3, 'b' 2..5)"
    assert result.ok


def test_feature_layout_a_gap_and_an_overlap_are_both_reported():
    """a on 2..5, b on 4..7: features 0..1 get nothing, 4..5 get both. Both findings are about the
    one receiver (8:3) and both are kept."""
    diags = check(layout(4, a_shift="{core: s, feature_shift: 2}")).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("8:3", "feature-layout"),
                                                          ("8:3", "feature-layout")]
    assert [d.message for d in diags] == [
        "core 's': input features 0..1 receive no events ('a' 2..5, 'b' 4..7)",
        "core 's': sources partly overlap on features 4..5 ('a' 2..5, 'b' 4..7)"]


def test_feature_layout_disjoint_and_complete_passes():
    assert found(layout(4)) == []


def test_feature_layout_identical_ranges_are_a_sum_not_an_overlap():
    """Both sources on features 2..5 are summed; only the unused features 0..1 are reported."""
    d = only(layout(2, a_shift="{core: s, feature_shift: 2}"))
    assert (str(d.position), d.code) == ("8:3", "feature-layout")
    assert d.message == "core 's': input features 0..1 receive no events ('a' 2..5, 'b' 2..5)"


def test_feature_layout_is_not_checked_without_explicit_shifts():
    assert found(layout(0)) == []

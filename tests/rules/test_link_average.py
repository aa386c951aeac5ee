"""Rules of `dynapcnn_dsl.rules.link_average` (link stage): average-mixed."""

from __future__ import annotations

from helpers import found, only


def net(a_to: str, b_to: str, c: str = "c: {conv: {out_channels: 4, kernel: 1}}") -> str:
    """`a` (line 5, 16x16) sends to `b` (line 6) and `c` (line 7); `b` sends to `c`."""
    return ("dsl: 1\nchip: speck2f\ninput: {source: host, shape: [4, 16, 16], to: [a]}\ncores:\n"
            f"  a: {{conv: {{out_channels: 4, kernel: 1}}, to: [b, {a_to}]}}\n"
            f"  b: {{conv: {{out_channels: 4, kernel: 1}}, to: [{b_to}]}}\n"
            f"  {c}\n")


def test_a_sum_of_an_averaged_and_a_summed_source_is_refused_at_the_receiver():
    d = only(net("{core: c, pool: 2, average: true}", "{core: c, pool: 2}"))
    assert (str(d.position), d.code) == ("7:3", "average-mixed")
    assert d.message == ("core 'c' sums 'a' (weights x1/4) and 'b' (weights x1) onto the same input "
                         "features: one weight per feature cannot scale both")
    assert [(str(r.position), r.message) for r in d.related] == [
        ("5:51", "'a' arrives here"), ("6:48", "'b' arrives here")]
    assert "merge: concat" in d.hint


def test_two_different_averages_into_one_sum_are_refused():
    text = net("{core: c, pool: 4, average: true}", "{core: c, pool: 4}")
    assert ("7:3", "average-mixed") in found(text)


def test_a_sum_whose_sources_all_average_alike_is_fine():
    assert found(net("{core: c, pool: 2, average: true}", "{core: c, pool: 2, average: true}")) == []


def test_a_concat_gives_each_source_its_own_factor():
    c = "c: {conv: {out_channels: 4, kernel: 1}, merge: concat, from: [a, b]}"
    assert found(net("{core: c, pool: 2, average: true}", "{core: c, pool: 2}", c)) == []

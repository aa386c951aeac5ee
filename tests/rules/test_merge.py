"""Rules of `dynapcnn_dsl.rules.merge`: concat-needs-from, from-duplicate."""

from __future__ import annotations

import pytest
from helpers import check_model as check  # model-stage rules, tested without the linker
from helpers import found_model as found
from helpers import only_model as only

HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 16, 16], to: [a, b]}
cores:
  a: {conv: {out_channels: 4, kernel: 1}, to: [c]}
  b: {conv: {out_channels: 4, kernel: 1}, to: [c]}
  c:
    conv: {out_channels: 4, kernel: 1}
"""


def net(lines: str) -> str:
    """`lines` start at line 9, indented under core `c`."""
    return HEAD + lines


# -- concat-needs-from ---------------------------------------------------------------------------

@pytest.mark.parametrize("extra", ["", "    from: []\n", "    from: ~\n"])
def test_concat_needs_from_at_the_merge_value(extra):
    d = only(net("    merge: concat\n" + extra))
    assert (str(d.position), d.code) == ("9:12", "concat-needs-from")
    assert d.message == "core 'c' concatenates its sources but has no `from:` list"
    assert d.hint == "add `from: [a, b]`: its order fixes which features come first in the receiver"


def test_concat_with_from_passes():
    assert found(net("    merge: concat\n    from: [a, b]\n")) == []


@pytest.mark.parametrize("extra", ["", "    merge: sum\n", "    merge: sum\n    from: [b, a]\n"])
def test_sum_needs_no_from(extra):
    assert found(net(extra)) == []


# -- from-duplicate ------------------------------------------------------------------------------

def test_from_duplicate_points_at_the_repeat_and_notes_the_first():
    d = only(net("    merge: concat\n    from: [a, b, a]\n"))
    assert (str(d.position), d.code) == ("10:18", "from-duplicate")
    assert d.message == "core 'c' lists 'a' twice in `from:`"
    assert d.hint == "list each source once in `from:`"
    assert [(str(r.position), r.message) for r in d.related] == [("10:12", "first listed here")]


def test_from_duplicate_every_repeat_notes_the_first():
    text = net("    from:\n      - a\n      - a\n      - b\n      - a\n")
    diags = check(text).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("11:9", "from-duplicate"),
                                                          ("13:9", "from-duplicate")]
    assert [str(d.related[0].position) for d in diags] == ["10:9", "10:9"]


def test_from_duplicate_also_for_sum():
    assert found(net("    merge: sum\n    from: [b, b]\n")) == [("10:15", "from-duplicate")]


def test_from_distinct_sources_pass():
    assert found(net("    from: [a, b]\n")) == []

"""Rules of `dynapcnn_dsl.rules.cores`: core-count, core-name, core-index, core-index-duplicate,
legacy-chip. Each test states the exact (line:col, rule id) it expects."""

from __future__ import annotations

import pytest
from helpers import check_model as check  # model-stage rules, tested without the linker
from helpers import found_model as found
from helpers import only_model as only

HEAD = """\
dsl: 1
chip: {chip}
input: {{source: host, shape: [1, 16, 16], to: [c0]}}
cores:
"""
CONV = "{conv: {out_channels: 4, kernel: 1}}"


def net(cores: str, chip: str = "speck2f") -> str:
    return HEAD.format(chip=chip) + cores


def many(n: int) -> str:
    return "".join(f"  c{i}: {CONV}\n" for i in range(n))


# -- core-count ----------------------------------------------------------------------------------

def test_core_count_ten_cores_fail_at_the_cores_key():
    d = only(net(many(10)))
    assert (str(d.position), d.code) == ("4:1", "core-count")
    assert d.message == "the network has 10 cores; speck2f has 9"
    assert d.hint == "the chip has 9 cores: merge layers, or split the network over two chips"


def test_core_count_no_cores_fail_at_the_cores_key():
    d = only(HEAD.format(chip="speck2f").replace("cores:\n", "cores: {}\n"))
    assert (str(d.position), d.code) == ("4:1", "core-count")
    assert d.message == "the network has no cores"
    assert d.hint == "add at least one core under `cores:`"


def test_core_count_one_core_passes():
    assert found(net(many(1))) == []


def test_core_count_nine_cores_pass():
    assert found(net(many(9))) == []


@pytest.mark.parametrize("chip", ["speck2e", "speck2b", "dynapcnn"])
def test_core_count_on_every_chip(chip):
    problems = [p for p in found(net(many(10), chip)) if p[1] != "legacy-chip"]
    assert problems == [("4:1", "core-count")]


# -- core-name -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["readout", "input"])
def test_core_name_reserved_words(name):
    d = only(net(f"  c0: {CONV}\n  {name}: {CONV}\n"))
    assert (str(d.position), d.code) == ("6:3", "core-name")
    assert d.message == f"'{name}' is reserved and cannot name a core"
    assert d.hint == f"rename the core, e.g. '{name}_core'"


def test_core_name_dotted_scopes_pass():
    # dots join the scopes of template instances: block1.a (each part an identifier)
    assert found(net("  block1.a: {conv: {out_channels: 4, kernel: 3}}\n")) == []


@pytest.mark.parametrize("name", ["1x", "a..b", ".a", "a.1b", "-a", "a b", "a/b", "é"])
def test_core_name_invalid(name):
    d = only(net(f"  c0: {CONV}\n  {name}: {CONV}\n"))
    assert (str(d.position), d.code) == ("6:3", "core-name")
    assert d.message == f"'{name}' is not a valid core name"
    assert d.hint == "use a name of letters, digits, '_' and '-', starting with a letter or '_'"


@pytest.mark.parametrize("name", ["x", "_a", "_a-1", "Conv_2", "block-3", "Readout", "inputs"])
def test_core_name_valid(name):
    assert found(net(f"  c0: {CONV}\n  {name}: {CONV}\n")) == []


def test_core_name_quoted_number_key():
    d = only(net(f"  c0: {CONV}\n  '12': {CONV}\n"))
    assert (str(d.position), d.code) == ("6:3", "core-name")


# -- core-index ----------------------------------------------------------------------------------

@pytest.mark.parametrize("index", ["9", "-1", "100"])
def test_core_index_outside(index):
    d = only(net(f"  c0: {{index: {index}, conv: {{out_channels: 4, kernel: 1}}}}\n"))
    assert (str(d.position), d.code) == ("5:15", "core-index")
    assert d.message == f"core 'c0': index {index} is outside 0..8"


@pytest.mark.parametrize("index", [0, 8])
def test_core_index_bounds_pass(index):
    assert found(net(f"  c0: {{index: {index}, conv: {{out_channels: 4, kernel: 1}}}}\n")) == []


# -- core-index-duplicate ------------------------------------------------------------------------

def test_core_index_duplicate_points_at_the_second_and_notes_the_first():
    d = only(net("""\
  c0:
    index: 3
    conv: {out_channels: 4, kernel: 1}
  c1:
    index: 3
    conv: {out_channels: 4, kernel: 1}
"""))
    assert (str(d.position), d.code) == ("9:12", "core-index-duplicate")
    assert d.message == "cores 'c0' and 'c1' are both pinned to index 3"
    assert [(str(r.position), r.message) for r in d.related] == [("6:12", "'c0' is pinned here")]


def test_core_index_duplicate_three_times():
    text = net("".join(f"  c{i}: {{index: 3, conv: {{out_channels: 4, kernel: 1}}}}\n" for i in range(3)))
    diags = check(text).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("6:15", "core-index-duplicate"),
                                                          ("7:15", "core-index-duplicate")]
    assert [str(d.related[0].position) for d in diags] == ["5:15", "5:15"]


def test_core_index_different_pins_pass():
    text = net("".join(f"  c{i}: {{index: {i}, conv: {{out_channels: 4, kernel: 1}}}}\n" for i in range(9)))
    assert found(text) == []


def test_core_index_one_pinned_one_free_pass():
    assert found(net(f"  c0: {{index: 0, conv: {{out_channels: 4, kernel: 1}}}}\n  c1: {CONV}\n")) == []


# -- legacy-chip ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("chip", "canonical"), [
    ("speck2b", "speck2b"), ("dynapcnn", "dynapcnn"), ("DynapcnnDevKit", "dynapcnn"),
    ("Speck2bDevKit", "speck2b"),
])
def test_legacy_chip_warns_at_the_chip(chip, canonical):
    result = check(net(f"  c0: {CONV}\n", chip))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("2:7", "legacy-chip", "warning")
    assert d.message == f"{canonical} needs samna < 0.46"
    assert result.ok  # a warning does not make the file invalid


@pytest.mark.parametrize("chip", ["speck2e", "speck2f", "speck2fmodule"])
def test_legacy_chip_current_chips_pass(chip):
    assert found(net(f"  c0: {CONV}\n", chip)) == []

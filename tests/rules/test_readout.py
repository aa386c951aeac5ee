"""Rules of `dynapcnn_dsl.rules.readout`: readout-classes, readout-threshold, readout-chip,
readout-untested, readout-errata."""

from __future__ import annotations

import pytest
from helpers import check_model as check  # model-stage rules, tested without the linker
from helpers import found_model as found
from helpers import only_model as only

HEAD = """\
dsl: 1
chip: {chip}
input: {{source: host, shape: [1, 16, 16], to: [a]}}
cores:
  a: {{conv: {{out_channels: 64, kernel: 1}}}}
"""


def net(readout: str, chip: str = "speck2f") -> str:
    """Line 6 is `readout: {from: a, <readout>}`: `readout` starts at column 20."""
    return HEAD.format(chip=chip) + f"readout: {{from: a, {readout}}}\n"


# -- readout-classes -----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [16, 0, -1])
def test_readout_classes_outside(n):
    d = only(net(f"classes: {n}"))
    assert (str(d.position), d.code) == ("6:29", "readout-classes")
    assert d.message == f"the readout has {n} classes; allowed 1..15"
    assert d.hint == ("the readout has at most 15 classes (sources say 15, 16 and '< 15'; 15 is "
                      "the safe bound)")


@pytest.mark.parametrize("n", [1, 15])
def test_readout_classes_bounds_pass(n):
    assert found(net(f"classes: {n}")) == []


def test_no_readout_passes():
    assert found(HEAD.format(chip="speck2f")) == []


# -- readout-threshold ---------------------------------------------------------------------------

@pytest.mark.parametrize("t", [32768, -32769])
def test_readout_threshold_outside_16_bit(t):
    d = only(net(f"classes: 2, threshold: {t}"))
    assert (str(d.position), d.code) == ("6:43", "readout-threshold")
    assert d.message == f"readout threshold {t} is outside -32768..32767"
    assert d.hint == "the readout threshold is a 16-bit value"


@pytest.mark.parametrize("t", [32767, -32768, 0])
def test_readout_threshold_bounds_pass(t):
    assert found(net(f"classes: 2, threshold: {t}")) == []


# -- readout-chip --------------------------------------------------------------------------------

def test_readout_chip_speck2b_fails_at_the_readout_key():
    diags = check(net("classes: 2", "speck2b")).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("2:7", "legacy-chip"),
                                                          ("6:1", "readout-chip")]
    d = diags[1]
    assert d.severity.value == "error"
    assert d.message == "the readout of speck2b is not usable"
    assert d.hint == "read the classes from a monitored core instead (`monitor: true` on the last core)"


def test_readout_chip_speck2b_without_readout_passes():
    assert found(HEAD.format(chip="speck2b")) == [("2:7", "legacy-chip")]


# -- readout-untested ----------------------------------------------------------------------------

def test_readout_untested_dynapcnn_warns_at_the_readout_key():
    result = check(net("classes: 2", "dynapcnn"))
    assert [(str(d.position), d.code) for d in result.diagnostics] == [
        ("2:7", "legacy-chip"), ("6:1", "readout-untested")]
    d = result.diagnostics[1]
    assert d.severity.value == "warning"
    assert d.message == "the readout of dynapcnn is undocumented"
    assert d.hint == ("nobody has documented this readout: verify it on the device, or monitor "
                      "the last core")
    assert result.ok


@pytest.mark.parametrize("chip", ["speck2f", "speck2e"])
def test_readout_usable_chips_pass(chip):
    assert found(net("classes: 2", chip)) == []


# -- readout-errata ------------------------------------------------------------------------------

@pytest.mark.parametrize("chip", ["speck2f", "speck2e", "Speck2fDevKit"])
def test_readout_errata_off_on_speck2e_2f(chip):
    d = only(net("classes: 3, errata_remap: false", chip))
    assert (str(d.position), d.code) == ("6:46", "readout-errata")
    canonical = "speck2e" if "2e" in chip else "speck2f"
    assert d.message == (f"with errata_remap false, classes 2..3 would read the wrong features "
                         f"on {canonical}")
    assert d.hint == ("keep `errata_remap: true` (the default): the router sends class k to "
                      "feature 4*(k-1)")


@pytest.mark.parametrize("readout", [
    "classes: 3", "classes: 3, errata_remap: true", "classes: 1, errata_remap: false",
])
def test_readout_errata_remap_on_or_one_class_passes(readout):
    assert found(net(readout)) == []


def test_readout_errata_not_checked_on_dynapcnn():
    assert found(net("classes: 3, errata_remap: false", "dynapcnn")) == [
        ("2:7", "legacy-chip"), ("6:1", "readout-untested")]

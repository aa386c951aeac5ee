"""Rules of `dynapcnn_dsl.rules.chip_options`: decimator-chip, decimator-value,
congestion-balancer-chip, kill-bits-chip, kill-feature-range, each on the chips that have the
option and on those that do not."""

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
  a:
    conv: {{out_channels: 4, kernel: 1}}
"""
LEGACY = [("2:7", "legacy-chip")]


def net(option: str, chip: str = "speck2f") -> str:
    """`option` is line 7, indented under core `a` (its key at column 5)."""
    return HEAD.format(chip=chip) + f"    {option}\n"


# -- decimator-chip ------------------------------------------------------------------------------

@pytest.mark.parametrize("chip", ["speck2f", "speck2e"])
@pytest.mark.parametrize("ratio", [2, 512])
def test_decimator_chip_speck2e_2f_pass(chip, ratio):
    assert found(net(f"decimator: {ratio}", chip)) == []


@pytest.mark.parametrize("chip", ["dynapcnn", "speck2b"])
def test_decimator_chip_legacy_chips_fail_at_the_key(chip):
    diags = check(net("decimator: 2", chip)).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [*LEGACY, ("7:5", "decimator-chip")]
    assert diags[1].message == f"core 'a': {chip} has no output decimator"
    assert diags[1].hint == "the output decimator exists on speck2e and speck2f only"


# -- decimator-value -----------------------------------------------------------------------------

@pytest.mark.parametrize("ratio", [64, 1, 0, 3, 1024])
def test_decimator_value_not_encodable(ratio):
    d = only(net(f"decimator: {ratio}"))
    assert (str(d.position), d.code) == ("7:16", "decimator-value")
    assert d.message == f"core 'a': decimator {ratio} is not 2, 4, 8, 16, 32, 128, 256 or 512"
    assert d.hint == ("the decimator keeps 1 event in 2, 4, 8, 16, 32, 128, 256 or 512 "
                      "(there is no 64)")


@pytest.mark.parametrize("ratio", [2, 4, 8, 16, 32, 128, 256, 512])
def test_decimator_value_every_ratio_passes(ratio):
    assert found(net(f"decimator: {ratio}")) == []


def test_decimator_wrong_chip_and_value_both_reported():
    assert found(net("decimator: 64", "dynapcnn")) == [
        *LEGACY, ("7:5", "decimator-chip"), ("7:16", "decimator-value")]


# -- congestion-balancer-chip --------------------------------------------------------------------

@pytest.mark.parametrize("chip", ["speck2f", "speck2e"])
def test_congestion_balancer_speck2e_2f_pass(chip):
    assert found(net("congestion_balancer: true", chip)) == []


@pytest.mark.parametrize("chip", ["dynapcnn", "speck2b"])
def test_congestion_balancer_legacy_chips_fail_at_the_key(chip):
    diags = check(net("congestion_balancer: true", chip)).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [*LEGACY, ("7:5", "congestion-balancer-chip")]
    assert diags[1].message == f"core 'a': {chip} has no congestion balancer"
    assert diags[1].hint == "the input congestion balancer exists on speck2e and speck2f only"


@pytest.mark.parametrize("chip", ["dynapcnn", "speck2b"])
def test_congestion_balancer_false_passes_everywhere(chip):
    assert found(net("congestion_balancer: false", chip)) == LEGACY


# -- kill-bits-chip ------------------------------------------------------------------------------

@pytest.mark.parametrize("chip", ["dynapcnn", "speck2b"])
def test_kill_bits_legacy_chips_pass(chip):
    assert found(net("kill_features: [0, 3]", chip)) == LEGACY


@pytest.mark.parametrize("chip", ["speck2f", "speck2e"])
def test_kill_bits_speck2e_2f_fail_at_the_key(chip):
    d = only(net("kill_features: [0, 3]", chip))
    assert (str(d.position), d.code) == ("7:5", "kill-bits-chip")
    assert d.message == f"core 'a': {chip} has no kill bits"
    assert d.hint == ("kill bits exist on dynapcnn and speck2b only: zero the weights of those "
                      "features instead")


def test_kill_bits_empty_list_passes_everywhere():
    assert found(net("kill_features: []")) == []


# -- kill-feature-range --------------------------------------------------------------------------

@pytest.mark.parametrize(("feature", "col"), [("4", 24), ("-1", 24)])
def test_kill_feature_range_outside(feature, col):
    diags = check(net(f"kill_features: [0, {feature}]", "dynapcnn")).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [*LEGACY, (f"7:{col}", "kill-feature-range")]
    assert diags[1].message == f"core 'a': feature {feature} is outside 0..3"
    assert diags[1].hint == ("kill_features lists output features of this core: 0..out_channels-1, "
                             "each once")


def test_kill_feature_range_listed_twice():
    diags = check(net("kill_features: [1, 2, 1]", "speck2b")).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [*LEGACY, ("7:27", "kill-feature-range")]
    assert diags[1].message == "core 'a': feature 1 is listed twice"


def test_kill_feature_range_bounds_pass():
    assert found(net("kill_features: [0, 1, 2, 3]", "dynapcnn")) == LEGACY


def test_kill_feature_range_is_checked_on_every_chip():
    assert found(net("kill_features: [4]")) == [("7:5", "kill-bits-chip"),
                                                ("7:21", "kill-feature-range")]

"""Chip profiles (`dynapcnn_dsl.chips`, data in facts.py) against shared/HARDWARE.md."""

from __future__ import annotations

import pytest

from dynapcnn_dsl.chips import CoreMemory, chip_names, profiles, resolve_chip, shared_limits
from dynapcnn_dsl.chips import facts as data

KI = 1024


def spellings():
    for chip_id, fields in data.CHIPS.items():
        for name in (chip_id, *fields["boards"], *fields["aliases"]):
            yield chip_id, name


def test_the_four_chips():
    assert set(profiles()) == {"speck2f", "speck2e", "speck2b", "dynapcnn"}
    assert set(data.CHIPS) == set(profiles())


@pytest.mark.parametrize(("chip_id", "name"), list(spellings()))
def test_every_spelling_resolves(chip_id, name):
    for variant in (name, name.lower(), name.upper(), name.swapcase()):
        chip = resolve_chip(variant)
        assert chip is not None, variant
        assert chip.id == chip_id


@pytest.mark.parametrize(("name", "chip_id"), [
    ("speck2f", "speck2f"), ("Speck2fDevKit", "speck2f"), ("Speck2fModuleDevKit", "speck2f"),
    ("speck2fdevkit", "speck2f"), ("speck2fmodule", "speck2f"),
    ("speck2e", "speck2e"), ("Speck2eDevKit", "speck2e"), ("Speck2eTestBoard", "speck2e"),
    ("speck2edevkit", "speck2e"),
    ("speck2b", "speck2b"),
    ("dynapcnn", "dynapcnn"), ("DynapcnnDevKit", "dynapcnn"), ("dynapcnndevkit", "dynapcnn"),
])
def test_the_names_hardware_md_lists(name, chip_id):
    assert resolve_chip(name).id == chip_id


@pytest.mark.parametrize("name", ["", "speck", "speck2", "speck2g", "loihi", "speck2f ", "dynap-cnn"])
def test_unknown_names(name):
    assert resolve_chip(name) is None


def test_no_spelling_names_two_chips():
    seen: dict[str, str] = {}
    for chip_id, name in spellings():
        assert seen.setdefault(name.lower(), chip_id) == chip_id, name
    assert chip_names() == seen


def test_resolve_returns_the_shared_profile_object():
    assert resolve_chip("SPECK2F") is profiles()["speck2f"]


# -- memory --------------------------------------------------------------------------------------

HARDWARE_MEMORY = {
    0: (16 * KI, 64 * KI, 1 * KI), 1: (16 * KI, 64 * KI, 1 * KI), 2: (16 * KI, 64 * KI, 1 * KI),
    3: (32 * KI, 32 * KI, 1 * KI), 4: (32 * KI, 32 * KI, 1 * KI),
    5: (64 * KI, 16 * KI, 1 * KI), 6: (64 * KI, 16 * KI, 1 * KI),
    7: (16 * KI, 16 * KI, 1 * KI), 8: (16 * KI, 16 * KI, 1 * KI),
}


@pytest.mark.parametrize("chip_id", ["speck2f", "speck2e", "speck2b", "dynapcnn"])
def test_memory_table_matches_hardware_md(chip_id):
    memory = profiles()[chip_id].memory
    assert memory == tuple(CoreMemory(i, *m) for i, m in sorted(HARDWARE_MEMORY.items()))
    assert [m.index for m in memory] == list(range(9))


# -- features per chip ---------------------------------------------------------------------------

@pytest.mark.parametrize(("chip_id", "legacy", "kill_bits", "decimator", "balancer", "dvs", "readout"), [
    ("speck2f", False, False, True, True, True, "usable"),
    ("speck2e", False, False, True, True, True, "usable"),
    ("speck2b", True, True, False, False, True, "unusable"),
    ("dynapcnn", True, True, False, False, False, "unknown"),
])
def test_chip_features(chip_id, legacy, kill_bits, decimator, balancer, dvs, readout):
    c = profiles()[chip_id]
    assert (c.legacy, c.kill_bits, c.decimator, c.congestion_balancer, c.dvs_sensor, c.readout) == (
        legacy, kill_bits, decimator, balancer, dvs, readout)


@pytest.mark.parametrize(("chip_id", "module", "config"), [
    ("speck2f", "speck2f", "SpeckConfiguration"),
    ("speck2e", "speck2e", "SpeckConfiguration"),
    ("speck2b", "speck2b", "SpeckConfiguration"),
    ("dynapcnn", "dynapcnn", "DynapcnnConfiguration"),
])
def test_samna_names(chip_id, module, config):
    c = profiles()[chip_id]
    assert (c.samna_module, c.config_class) == (module, config)


def test_boards_and_aliases_are_tuples():
    for c in profiles().values():
        assert isinstance(c.boards, tuple)
        assert isinstance(c.aliases, tuple)


# -- limits --------------------------------------------------------------------------------------

def test_limits_match_hardware_md():
    lim = shared_limits()
    assert lim.cores == 9
    assert lim.kernel == (1, 16)
    assert lim.stride == (1, 2, 4, 8)
    assert lim.padding == (0, 7)
    assert lim.features == (1, 1024)
    assert lim.input_map == 128
    assert lim.output_map == 64
    assert lim.pool == (1, 2, 4)
    assert lim.dvs_pool == (1, 2, 4)
    assert lim.feature_shift == (0, 1023)
    assert lim.destinations == 2
    assert lim.threshold_high == (0, 32767)
    assert lim.threshold_low == (-32768, -1)
    assert lim.neuron_state == (-32768, 32767)
    assert lim.weight_bits == 8
    assert lim.readout_classes == 15
    assert lim.readout_layer == 12
    assert lim.dvs_monitor_layer == 13
    assert lim.dvs_sensor_size == 128
    assert lim.decimator_ratios == (2, 4, 8, 16, 32, 128, 256, 512)
    assert lim.leak_unreliable_cores == (0, 1)


def test_every_chip_shares_the_limits():
    limits = {c.limits for c in profiles().values()}
    assert limits == {shared_limits()}

"""The compiled kernel agrees with the pure-Python reference (tests/simulate_reference.py) event
for event, on random networks of every shape the chip allows: residual, concat, fan-in of 3 with
mixed pooling, DVS with crop and flips, leak with the slow clock, decimation, reset to zero."""

from __future__ import annotations

import numpy as np
import pytest
from simulate_docs import core, dest, document, dvs_layer, random_events, readout
from simulate_reference import reference

from dynapcnn_dsl.api import Document, simulate


def agree(doc, events, *, rate=None, until=None):
    """Run both; compare every recorded stream, the readout ticks and the final states."""
    result = simulate(doc, events, record="all", slow_clock_hz=rate, until_us=until, states=True)
    table = np.column_stack([events[f] for f in ("t", "x", "y", "p")])
    recorded, ticks, totals, states = reference(doc, table, rate, until, record_all=True)
    names = {i: f"core{i}" for i in range(9)}
    spikes = 0
    for source, rows in recorded.items():
        got = result.dvs if source == "dvs" else result.cores[names[source]]
        assert [tuple(int(v) for v in e) for e in got] == rows, f"{source} differs"
        spikes += len(rows)
    for name, arr in result.cores.items():
        if len(arr):
            assert int(name[4:]) in recorded
    for name, state in result.states.items():
        assert state.tolist() == states[int(name[4:])], f"{name}'s final state differs"
    if rate:
        assert result.readout is None or len(result.readout) == len(ticks)
    elif result.readout is not None:
        assert result.readout["count"][0].tolist() == totals
    return result, spikes


@pytest.mark.parametrize("seed", range(3))
def test_residual(seed):
    rng = np.random.default_rng(seed)
    doc = document(
        {
            0: core(2, 8, 8, 4, 3, padding=(1, 1), rng=rng, to=(dest(1), dest(2))),
            1: core(4, 8, 8, 4, 3, padding=(1, 1), rng=rng, to=(dest(2),)),
            2: core(4, 8, 8, 4, 3, padding=(1, 1), rng=rng, stride=(2, 2), to=(dest(12),)),
        },
        shape=(2, 8, 8),
        readout=readout(),
    )
    _, spikes = agree(doc, random_events(rng, 300, (2, 8, 8)))
    assert spikes > 100


@pytest.mark.parametrize("seed", range(3))
def test_concat_with_feature_shift(seed):
    rng = np.random.default_rng(seed)
    doc = document(
        {
            0: core(1, 7, 9, 3, 3, padding=(1, 0), rng=rng, to=(dest(2),)),
            1: core(1, 7, 9, 2, 3, padding=(1, 0), stride=(1, 1), rng=rng, to=(dest(2, shift=3),)),
            2: core(5, 5, 9, 4, 2, stride=(2, 1), rng=rng, zero=True),
        },
        shape=(1, 7, 9),
        layers=(0, 1),
    )
    _, spikes = agree(doc, random_events(rng, 300, (1, 7, 9)))
    assert spikes > 50


@pytest.mark.parametrize("seed", range(3))
def test_fan_in_of_three_with_mixed_pooling(seed):
    """Core 3 hears three cores, each pooled its own way; the host writes to two cores (the
    document's input has two slots, as the chip's), core 0 feeds the third."""
    rng = np.random.default_rng(seed)
    doc = document(
        {
            0: core(1, 16, 16, 2, 3, padding=(1, 1), rng=rng, to=(dest(3, pool=4), dest(2))),
            1: core(1, 16, 16, 2, 3, stride=(2, 2), padding=(1, 1), rng=rng, to=(dest(3, pool=2, shift=2),)),
            2: core(2, 16, 16, 2, 4, stride=(4, 4), rng=rng, to=(dest(3, shift=4),)),
            3: core(6, 4, 4, 8, 2, rng=rng, to=(dest(12),), decimate=2),
        },
        shape=(1, 16, 16),
        layers=(0, 1),
        readout=readout(window=1),
    )
    _, spikes = agree(doc, random_events(rng, 400, (1, 16, 16)), rate=1000)
    assert spikes > 100


@pytest.mark.parametrize("seed", range(4))
def test_dvs_with_crop_and_flips(seed):
    rng = np.random.default_rng(seed)
    flips = [((True, False), False), ((False, True), True), ((True, True), False), ((False, False), True)][
        seed
    ]
    doc = document(
        {
            0: core(2, 10, 12, 3, 3, rng=rng, to=(dest(1),)),
            1: core(3, 8, 10, 2, 2, rng=rng),
        },
        shape=(2, 32, 32),
        dvs=dvs_layer(
            pool=(2, 1),
            origin=(3, 5),
            cut=(14, 14) if not flips[1] else (12, 16),
            mirror=flips[0],
            diagonal=flips[1],
            merge=seed == 2,
            on=seed != 3,
        ),
    )
    doc["config"]["cnn_layers"][0]["dimensions"]["input_shape"]["size"] = {"x": 12, "y": 12}
    result, spikes = agree(doc, random_events(rng, 400, (2, 32, 32)))
    assert 0 < len(result.dvs) < 400 and spikes > len(result.dvs)


@pytest.mark.parametrize("seed", range(3))
def test_leak_with_slow_clock(seed):
    rng = np.random.default_rng(seed)
    doc = document(
        {
            0: core(2, 6, 6, 3, 3, rng=rng, bias=rng.integers(-3, 5, 3), leak=True, to=(dest(1),)),
            1: core(3, 4, 4, 5, 2, rng=rng, bias=rng.integers(-2, 3, 5), leak=True, to=(dest(12),)),
        },
        shape=(2, 6, 6),
        readout=readout(threshold=1),
    )
    result, spikes = agree(doc, random_events(rng, 100, (2, 6, 6), span_us=20_000), rate=733.3, until=25_000)
    assert result.summary.ticks == 19 and spikes > 50


def test_golden_document_of_the_dvs_resnet_example():
    """A real document as `build` writes it (all nine cores, residuals, readout), small input."""
    doc = Document.read("tests/golden/dvs-resnet.samna.json").data
    rng = np.random.default_rng(0)
    events = random_events(rng, 3, (2, 128, 128))
    result, spikes = agree(doc, events)
    assert spikes > 0 and result.readout is not None   # nothing reached it: winner None

"""Agreement with sinabs 3.1.3's IAFSqueeze, fed one input event per time step, on one core
(SIMULATION.md's last section): spike for spike and state for state when every weight is below
the threshold (subtractive reset), or with reset to zero (one spike per step at most)."""

from __future__ import annotations

import numpy as np
import pytest
from simulate_docs import core, document, random_events

from dynapcnn_dsl.api import simulate

torch = pytest.importorskip("torch")
sinabs_layers = pytest.importorskip("sinabs.layers")
from sinabs.activation import MembraneReset, MembraneSubtract, SingleSpike  # noqa: E402


def sinabs_run(layer, shape, events):
    """The same core as torch Conv2d + IAFSqueeze over [T, C, H, W], one event per step."""
    w = np.asarray(layer["weights"]).transpose(0, 1, 3, 2)            # [f][c][kx][ky] -> [ky][kx]
    dims = layer["dimensions"]
    conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], bias=False,
                           stride=(dims["stride"]["y"], dims["stride"]["x"]),
                           padding=(dims["padding"]["y"], dims["padding"]["x"]))
    conv.weight.data = torch.tensor(w, dtype=torch.float32)
    zero = layer["return_to_zero"]
    iaf = sinabs_layers.IAFSqueeze(batch_size=1, spike_threshold=float(layer["threshold_high"]),
                                   min_v_mem=float(layer["threshold_low"]),
                                   reset_fn=MembraneReset() if zero else MembraneSubtract(),
                                   **({"spike_fn": SingleSpike} if zero else {}))
    dense = torch.zeros((len(events["t"]), *shape))
    for step, (x, y, p) in enumerate(zip(events["x"], events["y"], events["p"], strict=True)):
        dense[step, p, y, x] = 1
    with torch.no_grad():
        spikes = iaf(conv(dense))
    return spikes.numpy(), iaf.v_mem.numpy()[0]


@pytest.mark.parametrize(("zero", "wrange", "seed"), [(False, (-9, 10), 0), (False, (-9, 10), 1),
                                                       (True, (-15, 40), 2), (True, (-15, 40), 3)])
def test_one_core_agrees_with_iafsqueeze(zero, wrange, seed):
    rng = np.random.default_rng(seed)
    shape = (2, 7, 9)
    layer = core(2, 7, 9, 3, 3, stride=(2, 1), padding=(1, 0), threshold=10, low=-12, zero=zero,
                 rng=rng, wrange=wrange)
    doc = document({0: layer}, shape=shape)
    events = random_events(rng, 400, shape)
    events["t"] = np.arange(400)                            # one event per time step
    result = simulate(doc, events, states=True)
    spikes, v_mem = sinabs_run(layer, shape, events)
    expected = np.zeros_like(spikes)
    for e in result.cores["core0"]:
        expected[e["t"], e["p"], e["y"], e["x"]] += 1
    assert spikes.sum() > 50
    assert np.array_equal(spikes, expected)
    assert np.array_equal(v_mem, result.states["core0"].transpose(0, 2, 1))


def test_sinabs_fires_more_with_large_weights_and_subtractive_reset():
    """The documented difference: sinabs checks every neuron every step, the chip only the
    neurons an event updates."""
    layer = core(1, 1, 1, 1, 1, weights=[[[[25]]]], threshold=10)
    doc = document({0: layer}, shape=(1, 1, 1))
    events = {"t": np.array([0, 1, 2]), "x": np.zeros(3, int), "y": np.zeros(3, int), "p": np.zeros(3, int)}
    ours = len(simulate(doc, events).cores["core0"])
    theirs, _ = sinabs_run(layer, (1, 1, 1), events)
    assert ours == 3 and theirs.sum() == 7    # MultiSpike: 25 -> 2 spikes (5 left), 30 -> 3, 25 -> 2

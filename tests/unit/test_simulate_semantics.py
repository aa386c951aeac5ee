"""Hand-computed checks of each point of shared/SIMULATION.md. Those marked [A] pin an
assumption (docs/simulation.md lists them): each test would fail if the assumption changed."""

from __future__ import annotations

import numpy as np
import pytest
from simulate_docs import core, dest, document, dvs_layer, events, readout

from dynapcnn_dsl.api import simulate

ZERO = [[[[0]]]]


def one_core(weights, *, shape=(1, 3, 3), k=None, **kw):
    c, h, w = shape
    weights = np.asarray(weights)
    return document({0: core(c, h, w, weights.shape[0], k or weights.shape[2], weights=weights, **kw)},
                    shape=shape)


def spikes(result, name="core0"):
    return [tuple(int(v) for v in e) for e in result.cores[name]]


def test_receptive_field_at_each_border_with_stride_and_padding_per_axis():
    """Input 5 wide, 4 high; kernel 3, stride (2, 1), padding (1, 0): output 3 x 2. Weight
    [kx][ky] = 10 * kx + ky + 1, threshold high so nothing fires: the state holds the weight
    each output neuron used, or 0 where the event is outside its field."""
    w = np.array([[[[10 * kx + ky + 1 for ky in range(3)] for kx in range(3)]]])
    doc = one_core(w, shape=(1, 4, 5), stride=(2, 1), padding=(1, 0), threshold=1000, low=-1000)
    state = lambda ev: simulate(doc, events([ev]), states=True).states["core0"][0]  # noqa: E731  [x][y]
    # x = 0, y = 0 (top-left corner): ox = 0 (kx = 1), ox = 1 would need kx = -1; oy = 0 (ky = 0)
    assert state((0, 0, 0, 0)).tolist() == [[11, 0], [0, 0], [0, 0]]
    # x = 4 (right border), y = 3 (bottom): ox = 2 (kx = 4 + 1 - 4 = 1), ox = 1 (kx = 3: no);
    # oy = 1 (ky = 2 with oy 1), oy = 0 would need ky = 3
    assert state((0, 4, 3, 0)).tolist() == [[0, 0], [0, 0], [0, 13]]
    # x = 1: ox = 0 (kx = 2) and ox = 1 (kx = 0); y = 1: oy = 0 (ky = 1) and oy = 1 (ky = 0)
    assert state((0, 1, 1, 0)).tolist() == [[22, 21], [2, 1], [0, 0]]


@pytest.mark.parametrize(("zero", "left"), [(False, 3), (True, 0)])
def test_reset_subtract_or_to_zero(zero, left):
    doc = one_core([[[[13]]]], shape=(1, 1, 1), threshold=10, zero=zero)
    result = simulate(doc, events([(0, 0, 0, 0)]), states=True)
    assert spikes(result) == [(0, 0, 0, 0)]
    assert result.states["core0"].ravel().tolist() == [left]


def test_clamp_at_threshold_low_after_every_update():
    """[A] state = max(state, threshold_low) after each update, as sinabs does."""
    doc = one_core([[[[-7]]]], shape=(1, 1, 1), threshold=10, low=-10)
    result = simulate(doc, events([(0, 0, 0, 0)] * 3), states=True)
    assert result.states["core0"].ravel().tolist() == [-10]      # -7, -14 -> -10, -17 -> -10


def test_saturation_at_the_int16_range():
    """[A] the state saturates at 32767 (it does not wrap to negative), with the int8 weights a
    configuration holds: from an initial state near the bound, and by many events from 0."""
    doc = one_core([[[[-128]]]], shape=(1, 1, 1), threshold=32767, low=-32768, initial=-32700)
    # -32700 - 128 = -32828: saturated to -32768 (wrapped, +32708 would fire)
    result = simulate(doc, events([(0, 0, 0, 0)]), states=True)
    assert spikes(result) == [] and result.states["core0"].ravel().tolist() == [-32768]
    up = one_core([[[[127]]]], shape=(1, 1, 1), threshold=32767, low=-32768, initial=32700)
    # 32700 + 127 = 32827: saturated to 32767, which fires and leaves 0 (unsaturated: 60 left;
    # wrapped: -32709 and no spike)
    result = simulate(up, events([(0, 0, 0, 0)]), states=True)
    assert spikes(result) == [(0, 0, 0, 0)] and result.states["core0"].ravel().tolist() == [0]
    ramp = one_core([[[[127]]]], shape=(1, 1, 1), threshold=32767, low=-32768)
    # 258 events bring the state to 32766; the 259th to 32893, saturated to 32767: a spike at
    # t = 258 and 0 left, then 127 more per event
    result = simulate(ramp, events([(t, 0, 0, 0) for t in range(261)]), states=True)
    assert spikes(result) == [(258, 0, 0, 0)] and result.states["core0"].ravel().tolist() == [254]


def test_at_most_one_spike_per_event_and_silent_until_the_next_update():
    doc = one_core([[[[35]]]], shape=(1, 1, 1), threshold=10)
    result = simulate(doc, events([(0, 0, 0, 0), (7, 0, 0, 0)]), states=True)
    # 35 -> one spike, 25 left above threshold; the next event: 60 -> one spike, 50 left
    assert spikes(result) == [(0, 0, 0, 0), (7, 0, 0, 0)]
    assert result.states["core0"].ravel().tolist() == [50]


def test_spikes_of_one_update_in_f_then_oy_then_ox_order():
    """[A] ascending f, then oy, then ox."""
    w = np.ones((2, 1, 2, 2), int) * 10
    doc = one_core(w, shape=(1, 3, 3), padding=(1, 1), threshold=10)
    result = simulate(doc, events([(0, 1, 1, 0)]))
    assert spikes(result) == [(0, x, y, f) for f in (0, 1) for y in (1, 2) for x in (1, 2)]


def test_depth_first_across_a_residual():
    """[A] slot 0's event and all it causes finish before slot 1's event is delivered, and a
    spike's consequences before the next spike of the same update."""
    one = [[[[10]]]]
    doc = document({
        0: core(1, 1, 2, 1, 1, weights=one, to=(dest(1), dest(2))),
        1: core(1, 1, 2, 1, 1, weights=one, to=(dest(2),)),
        2: core(1, 1, 2, 1, 1, weights=one, threshold=10),
    }, shape=(1, 1, 2), names={0: "a", 1: "b", 2: "sum"})
    result = simulate(doc, events([(5, 0, 0, 0)]), record="all")
    assert spikes(result, "a") == [(5, 0, 0, 0)]
    # depth first: a's spike -> b (slot 0) -> b's spike -> sum; then a -> sum (slot 1): two
    # spikes of `sum` for one input event, each after its own update
    assert spikes(result, "sum") == [(5, 0, 0, 0), (5, 0, 0, 0)]
    assert list(result.cores) == ["a", "b", "sum"]


def test_feature_shift_and_pooling_by_coordinate_division():
    w = np.zeros((8, 8, 1, 1), int)
    for f in range(8):
        w[f, f] = 10
    doc = document({
        0: core(1, 4, 4, 2, 1, weights=[[[[10]]], [[[0]]]], to=(dest(1, pool=2, shift=5),)),
        1: core(8, 2, 2, 8, 1, weights=w),
    }, shape=(1, 4, 4))
    result = simulate(doc, events([(0, 3, 2, 0), (1, 2, 3, 0)]), record="all")
    # (x 3, y 2) -> (1, 1) feature 0 + 5; the second event pools to the same neuron
    assert spikes(result, "core1") == [(0, 1, 1, 5), (1, 1, 1, 5)]


def test_events_outside_the_receiving_core_are_dropped_and_counted():
    """[A] an event beyond the receiving core's input map or features is dropped and counted."""
    doc = document({
        0: core(1, 2, 2, 2, 1, weights=[[[[10]]], [[[10]]]], to=(dest(1, shift=1),)),
        1: core(2, 1, 1, 1, 1, weights=[[[[10]], [[10]]]]),
    }, shape=(1, 2, 2))
    result = simulate(doc, events([(0, 0, 0, 0), (1, 1, 0, 0)]), record="all")
    # feature 0 -> 1 ok at (0, 0); feature 1 -> 2 is beyond 2 features; (1, 0) beyond 1x1
    assert spikes(result, "core1") == [(0, 0, 0, 0)]
    assert [c.dropped for c in result.summary.cores] == [0, 3]


def test_destination_slots_in_order_0_then_1():
    """[A] slot 0 first: here slot 0 feeds core 2 and slot 1 core 1, so core 2 fires first."""
    one = [[[[10]]]]
    doc = document({0: core(1, 1, 1, 1, 1, weights=one, to=(dest(2), dest(1))),
                    1: core(1, 1, 1, 1, 1, weights=one, to=(dest(3),)),
                    2: core(1, 1, 1, 1, 1, weights=one, to=(dest(3, shift=1),)),
                    3: core(2, 1, 1, 2, 1, weights=[[[[10]], [[0]]], [[[0]], [[10]]]])},
                   shape=(1, 1, 1))
    result = simulate(doc, events([(0, 0, 0, 0)]))
    assert spikes(result, "core3") == [(0, 0, 0, 1), (0, 0, 0, 0)]


def test_the_dvs_layer_pools_then_crops_then_mirrors_then_swaps():
    """sinabs's order: polarity, pooling, crop (then shift to the origin), mirror in the cropped
    size, then the diagonal."""
    doc = document({0: core(2, 6, 4, 1, 1, weights=np.zeros((1, 2, 1, 1)))}, shape=(2, 32, 32),
                   dvs=dvs_layer(pool=(2, 4), origin=(2, 1), cut=(7, 4), mirror=(True, False),
                                 diagonal=True, off=False))
    doc["config"]["cnn_layers"][0]["dimensions"]["input_shape"]["size"] = {"x": 4, "y": 6}
    result = simulate(doc, events([(0, 9, 13, 1), (1, 9, 13, 0), (2, 3, 13, 1), (3, 31, 0, 1)]))
    # (9, 13) pooled (4, 3); cropped (2, 2); mirrored in width 6: (3, 2); swapped: (2, 3)
    # the off event is dropped; (3, 13) pools to x 1 < origin 2; (31, 0) to y 0 < origin 1
    assert [tuple(int(v) for v in e) for e in result.dvs] == [(0, 2, 3, 1)]
    assert result.summary.dvs_dropped == 3


def test_dvs_merge_makes_every_event_feature_0():
    doc = document({0: core(1, 4, 4, 1, 1, weights=np.zeros((1, 1, 1, 1)))}, shape=(2, 4, 4),
                   dvs=dvs_layer(cut=(3, 3), merge=True))
    result = simulate(doc, events([(0, 1, 2, 1), (0, 2, 1, 0)]))
    assert [tuple(int(v) for v in e) for e in result.dvs] == [(0, 1, 2, 0), (0, 2, 1, 0)]


def test_decimator_passes_every_nth_spike_and_monitoring_sees_all():
    """[A] the N-th, 2N-th, ... spike is routed; [A] the monitor records every spike."""
    one = [[[[10]]]]
    doc = document({0: core(1, 1, 1, 1, 1, weights=one, to=(dest(1),), decimate=4),
                    1: core(1, 1, 1, 1, 1, weights=one)}, shape=(1, 1, 1))
    result = simulate(doc, events([(t, 0, 0, 0) for t in range(10)]))
    assert len(result.cores["core0"]) == 10
    assert [int(e["t"]) for e in result.cores["core1"]] == [3, 7]
    assert result.summary.cores[0].decimated == 8


def test_leak_ticks_before_events_at_their_time_and_can_fire():
    """Tick k at floor(k * 10^6 / rate) µs, before input events at the same or a later time;
    [A] a leak can make a neuron fire; the simulation ends with the last input event."""
    doc = one_core([[[[1]]]], shape=(1, 1, 1), threshold=3, bias=[1], leak=True)
    result = simulate(doc, events([(0, 0, 0, 0), (3000, 0, 0, 0)]), slow_clock_hz=1000.0, states=True)
    # tick 0 (t 0): 1; the event at 0: 2; tick 1 (t 1000): 3 fires -> 0; tick 2: 1; tick 3
    # (t 3000) before the event at 3000: 2; that event: 3 fires -> 0
    assert spikes(result) == [(1000, 0, 0, 0), (3000, 0, 0, 0)]
    assert result.summary.ticks == 4 and result.states["core0"].ravel().tolist() == [0]
    longer = simulate(doc, events([(0, 0, 0, 0)]), slow_clock_hz=3.0, until_us=1_000_000)
    assert longer.summary.ticks == 4                       # 0, 333333, 666666, 1000000 µs


def test_leak_without_a_slow_clock_is_a_warning():
    doc = one_core([[[[1]]]], shape=(1, 1, 1), threshold=3, bias=[1], leak=True)
    result = simulate(doc, events([(0, 0, 0, 0)]), states=True)
    assert [d.code for d in result.diagnostics] == ["simulate-leak-no-clock"]
    assert result.states["core0"].ravel().tolist() == [1]


def test_readout_moving_average_rounded_down_winner_and_threshold():
    """[A] a moving average over the last `window` ticks (zeros before the first), rounded
    down; [A] the period closes at the tick, before its leak; winner the lowest class on ties;
    above = strictly greater than the threshold. Errata: class k is feature 4(k-1)."""
    w = np.zeros((5, 1, 1, 1), int)
    w[0], w[4], w[1] = 10, 10, 10          # feature 1 is not a class under the errata remap
    doc = document({0: core(1, 1, 2, 5, 1, weights=w, to=(dest(12),))}, shape=(1, 1, 2),
                   readout=readout(threshold=0, window=16))
    # 16 events on x 0 between tick 0 (t 0) and tick 1 (t 1000), 40 on x 1 before tick 2
    rows = [(1 + i, 0, 0, 0) for i in range(16)] + [(1001 + i, 1, 0, 0) for i in range(40)]
    result = simulate(doc, events(rows), slow_clock_hz=1000.0, until_us=2000)
    r = result.readout
    assert r["t"].tolist() == [0, 1000, 2000]
    # each event makes features 0 and 4 fire: classes 1 and 2 count the same; sums 0, 16, 56
    assert r["average"].tolist() == [[0, 0], [1, 1], [3, 3]]
    assert r["winner"].tolist() == [1, 1, 1]
    assert r["above"].tolist() == [[False, False], [True, True], [True, True]]
    counted = simulate(doc, events(rows))
    assert counted.readout["count"].tolist() == [[56, 56]] and counted.summary.winner == 1


def test_outputs_keep_the_time_of_the_input_event_that_caused_them():
    one = [[[[10]]]]
    doc = document({0: core(1, 1, 1, 1, 1, weights=one, to=(dest(1),)),
                    1: core(1, 1, 1, 1, 1, weights=one)}, shape=(1, 1, 1))
    result = simulate(doc, events([(123, 0, 0, 0)]))
    assert [int(e["t"]) for e in result.cores["core1"]] == [123]


def test_monitored_cores_only_unless_record_all():
    one = [[[[10]]]]
    doc = document({0: core(1, 1, 1, 1, 1, weights=one, to=(dest(1),), monitor=False),
                    1: core(1, 1, 1, 1, 1, weights=one)}, shape=(1, 1, 1))
    assert list(simulate(doc, events([(0, 0, 0, 0)])).cores) == ["core1"]
    assert list(simulate(doc, events([(0, 0, 0, 0)]), record="all").cores) == ["core0", "core1"]


def test_readout_period_closes_before_the_leak_of_its_tick():
    """[A] the leak's spikes at tick k count in the period reported at tick k + 1."""
    doc = document({0: core(1, 1, 1, 1, 1, weights=ZERO, threshold=3, bias=[3], leak=True, to=(dest(12),))},
                   shape=(1, 1, 1), readout=readout(window=1))
    result = simulate(doc, events([(0, 0, 0, 0)]), slow_clock_hz=1000.0, until_us=1000)
    # tick 0 (t 0): reports the empty period, then the leak fires; tick 1 reports that spike
    assert result.readout["average"].tolist() == [[0], [1]]


def test_each_core_leaks_and_routes_before_the_next():
    """[A] core 0 leaks and its spike reaches core 1 before core 1 leaks: 8 - 20 + 5 stays
    below the threshold (leaking core 1 first would fire: 8 + 5 >= 10)."""
    doc = document({0: core(1, 1, 1, 1, 1, weights=ZERO, threshold=3, bias=[3], leak=True, to=(dest(1),)),
                    1: core(1, 1, 1, 1, 1, weights=[[[[-20]]]], threshold=10, low=-100, bias=[5],
                            leak=True, initial=8)}, shape=(1, 1, 1))
    result = simulate(doc, events([(0, 0, 0, 0)]), slow_clock_hz=1000.0, record="all", states=True)
    assert len(result.cores["core0"]) == 1 and len(result.cores["core1"]) == 0
    assert result.states["core1"].ravel().tolist() == [-7]


def test_unsimulated_features_are_warnings():
    """[A] the congestion balancer and kill bits are not simulated: the run says so."""
    doc = one_core([[[[10]]]], shape=(1, 1, 1))
    layer = doc["config"]["cnn_layers"][0]
    layer["input_congestion_balancer_enable"] = True
    layer["weights_kill_bit"] = np.ones((1, 1, 1, 1), bool)
    result = simulate(doc, events([(0, 0, 0, 0)]))
    assert [d.code for d in result.diagnostics] == ["simulate-congestion-balancer", "simulate-kill-bits"]
    assert len(result.cores["core0"]) == 1                 # the killed feature computes as if alive

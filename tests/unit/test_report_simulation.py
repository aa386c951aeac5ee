"""simulate's summary names the run's class without a readout: the one recorded core's most
active feature, lowest on ties (SIMULATION.md's rule, as evaluate applies it)."""

from __future__ import annotations

import numpy as np

from dynapcnn_dsl.report.simulation import feature_line
from dynapcnn_dsl.simulator import EVENT


def spikes(features: list[int]) -> np.ndarray:
    out = np.zeros(len(features), EVENT)
    out["p"] = features
    return out


def test_the_most_active_feature_is_the_class_with_what_it_rests_on():
    assert feature_line("head", spikes([2, 0, 2, 1, 2])) == \
        "head: class 2 (the feature that spiked most: 3 of 5 spikes)"


def test_a_tie_goes_to_the_lowest_feature_and_no_spike_is_no_class():
    assert feature_line("head", spikes([3, 1, 3, 1])).startswith("head: class 1 ")
    assert feature_line("head", spikes([])) == "head: no output spike, no class"

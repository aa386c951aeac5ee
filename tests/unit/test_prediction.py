"""A run's predicted class (simulator/prediction.py; shared/SIMULATION.md, "A recording's
class"): the readout's class that won the most slow-clock ticks (the largest total without a
clock), lowest class on ties; without a readout the top feature of the one recorded core; no
event at all is no prediction. The rule `simulate`'s summary, `compare` and `evaluate` share."""

from __future__ import annotations

import numpy as np
import pytest
from simulate_docs import core, dest, document, events, readout

from dynapcnn_dsl.api import simulate
from dynapcnn_dsl.simulator import predicted_class
from dynapcnn_dsl.simulator.prediction import readout_winner, ticks_won


def clocked(average: list[list[int]], count: list[list[int]] | None = None) -> np.ndarray:
    n = len(average[0])
    rows = np.zeros(len(average), [("t", "<i8"), ("average", "<i4", (n,)), ("winner", "<i2"),
                                   ("above", "?", (n,)), ("count", "<i8", (n,))])
    rows["average"] = average
    rows["count"] = average if count is None else count
    rows["winner"] = np.argmax(rows["average"], axis=1) + 1
    return rows


def totals(count: list[int]) -> np.ndarray:
    rows = np.zeros(1, [("t", "<i8"), ("count", "<i8", (len(count),)), ("winner", "<i2")])
    rows["count"] = count
    return rows


def test_the_class_that_won_the_most_ticks_not_the_last_tick():
    # class 3 wins two ticks, class 2 one, the last tick is empty (the old summary's "no events")
    r = clocked([[0, 5, 0], [0, 0, 7], [1, 0, 9], [0, 0, 0]])
    assert ticks_won(r).tolist() == [0, 1, 2]
    assert readout_winner(r) == 3


def test_empty_ticks_win_for_no_class_and_ties_go_to_the_lowest_class():
    assert readout_winner(clocked([[0, 0], [0, 0], [0, 4], [4, 0]])) == 1      # 1 tick each
    assert readout_winner(clocked([[0, 0], [0, 0], [0, 0]])) is None
    # events counted, every average rounded down to 0: the largest count decides
    assert readout_winner(clocked([[0, 0], [0, 0]], count=[[0, 3], [1, 0]])) == 2


def test_without_a_clock_the_largest_total():
    assert readout_winner(totals([3, 9, 9])) == 2
    assert readout_winner(totals([0, 0])) is None


def test_a_slow_clock_run_names_the_class_that_won_most_ticks():
    """A real run: class 2 takes the first ticks, class 1 the last one; the last tick alone
    would say class 1, the run's class is 2."""
    w2 = np.zeros((5, 2, 1, 1), int)
    w2[0, 0], w2[4, 1] = 10, 10                        # input feature 0 -> class 1, 1 -> class 2
    doc = document({0: core(2, 1, 1, 5, 1, weights=w2, to=(dest(12),))}, shape=(2, 1, 1),
                   readout=readout(window=1))
    rows = ([(1000 * k + 1, 0, 0, 1) for k in range(3)]            # ticks 1..3: class 2
            + [(1000 * k + 1 + i, 0, 0, 1) for k in range(3) for i in range(1, 3)]
            + [(3001 + i, 0, 0, 0) for i in range(5)])             # tick 4: class 1, more events
    rows.sort()
    result = simulate(doc, events(rows), slow_clock_hz=1000.0, until_us=4000)
    assert result.readout["winner"][-1] == 1
    assert ticks_won(result.readout).tolist() == [1, 3]
    assert result.summary.winner == predicted_class(result) == 2


def test_without_readout_the_top_feature_of_the_one_recorded_core():
    doc = document({0: core(1, 1, 1, 3, 1, weights=np.full((3, 1, 1, 1), 10))}, shape=(1, 1, 1))
    result = simulate(doc, events([(0, 0, 0, 0)]))
    assert predicted_class(result) == 0                        # all three fire once: lowest feature
    silent = simulate(doc, events([]))
    assert predicted_class(silent) is None


def test_a_core_must_be_named_when_several_are_recorded():
    one = np.full((1, 1, 1, 1), 10)
    doc = document({0: core(1, 1, 1, 1, 1, weights=one, to=(dest(1),)),
                    1: core(1, 1, 1, 1, 1, weights=one)}, shape=(1, 1, 1))
    result = simulate(doc, events([(0, 0, 0, 0)]), record="all")
    with pytest.raises(ValueError, match="name the core"):
        predicted_class(result)
    assert predicted_class(result, "core1") == 0

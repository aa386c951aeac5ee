"""helpers.assert_remade, the one comparison for numbers another CPU re-makes: last-place
differences of float arithmetic pass, a real change does not."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import REMADE_RTOL, assert_remade


def test_another_cpus_rounding_passes_a_real_change_fails():
    want = np.random.default_rng(0).normal(0, 0.1, (8, 8)).astype(np.float32)
    got = want.copy()
    got[3, 3] += 2.3e-5                  # what an AMD EPYC's training run left in the eye tracker
    assert_remade(got, want, "w")
    got[3, 3] += 10 * REMADE_RTOL * np.abs(want).max()
    with pytest.raises(AssertionError, match="w: differs by"):
        assert_remade(got, want, "w")


def test_integers_and_shapes_are_exact():
    assert_remade(np.arange(4), np.arange(4))
    with pytest.raises(AssertionError):
        assert_remade(np.arange(4) + 1, np.arange(4))
    with pytest.raises(AssertionError):
        assert_remade(np.zeros(3, np.float32), np.zeros(4, np.float32))

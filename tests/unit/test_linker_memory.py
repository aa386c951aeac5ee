"""Memory formulas (shared/HARDWARE.md), checked against the datasheet's worked example and
against hand computation."""

from __future__ import annotations

import pytest

from dynapcnn_dsl.chips import resolve_chip
from dynapcnn_dsl.link.data import MemoryUse
from dynapcnn_dsl.link.memory import ceil_log2, fits, ki, memory_use, shortfalls

KI = 1024


@pytest.mark.parametrize(("n", "e"), [(0, 0), (1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (9, 4),
                                      (16, 4), (17, 5), (1024, 10), (1025, 11), (2**40, 40)])
def test_ceil_log2_is_exact(n, e):
    assert ceil_log2(n) == e


def test_the_datasheet_worked_example():
    # conv 16 -> 32, 3x3, pad 1 on 64x64: kernel 16 * 2^(4+5) = 8 Ki; neuron 32 * 2^(6+6) = 128 Ki
    use = memory_use(c_in=16, c_out=32, kernel=3, out_h=64, out_w=64, bias=False)
    assert use == MemoryUse(kernel=8 * KI, neuron=128 * KI, bias=0)
    assert not any(fits(use, m) for m in resolve_chip("speck2f").memory)


@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "h", "w", "bias", "expected"),
    [
        (1, 1, 1, 1, 1, False, (1, 1, 0)),
        (2, 4, 3, 16, 16, True, (2 * 2**(4 + 2), 4 * 2**(4 + 4), 4)),
        (3, 5, 5, 17, 9, False, (3 * 2**(5 + 3), 5 * 2**(5 + 4), 0)),     # non powers of two
        (64, 64, 7, 16, 16, False, (256 * KI, 16 * KI, 0)),
        (32, 32, 7, 16, 16, False, (64 * KI, 8 * KI, 0)),
        (16, 10, 16, 1, 1, True, (16 * 2**(8 + 4), 10, 10)),
    ],
)
def test_formulas_by_hand(c_in, c_out, k, h, w, bias, expected):
    assert tuple(memory_use(c_in, c_out, k, h, w, bias)) == expected


def test_limits_are_inclusive():
    core0 = resolve_chip("speck2f").memory[0]
    exact = MemoryUse(core0.kernel, core0.neuron, core0.bias)
    assert fits(exact, core0)
    assert not fits(exact._replace(kernel=core0.kernel + 1), core0)
    assert shortfalls(exact._replace(neuron=core0.neuron + 1), core0) == ["neuron 65537 > 64 Ki"]


@pytest.mark.parametrize(("n", "text"), [(700, "700"), (1024, "1 Ki"), (1536, "1.5 Ki"),
                                         (16384, "16 Ki"), (17 * KI + 512, "17.5 Ki"),
                                         (65537, "65537"), (1100, "1100")])
def test_ki(n, text):
    assert ki(n) == text

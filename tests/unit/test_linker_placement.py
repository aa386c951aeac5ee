"""Placement: exact (finds a placement whenever one exists), deterministic, preferences that
never cost feasibility, and explanations a user can act on when no placement exists."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from pathlib import Path

from dynapcnn_dsl.chips import resolve_chip
from dynapcnn_dsl.link.data import MemoryUse
from dynapcnn_dsl.link.memory import fits
from dynapcnn_dsl.link.placement import Demand, candidates, place
from dynapcnn_dsl.pipeline import run_file, run_text

ROOT = Path(__file__).resolve().parents[2]
CHIP = resolve_chip("speck2f")
MEMORY = CHIP.memory
LIMITS = CHIP.limits

# Memory profiles (entries) that fit exactly one group of physical cores.
NEURON_HEAVY = MemoryUse(kernel=4096, neuron=65536, bias=0)     # cores 0-2
MIDDLE = MemoryUse(kernel=32768, neuron=32768, bias=0)          # cores 3-4
KERNEL_HEAVY = MemoryUse(kernel=65536, neuron=8192, bias=0)     # cores 5-6
SMALL = MemoryUse(kernel=1024, neuron=1024, bias=0)             # any core


def count_placements(demands: list[Demand]) -> int:
    """Number of complete placements, by a DP over sets of used physical cores."""
    cands = [candidates(d, MEMORY) for d in demands]
    ways = {0: 1}
    for options in cands:
        nxt: Counter[int] = Counter()
        for used, n in ways.items():
            for p in options:
                if not used & (1 << p):
                    nxt[used | (1 << p)] += n
        ways = nxt
    return sum(ways.values())


def demand(name: str, use: MemoryUse, *, pin: int | None = None, input_fed: bool = False,
           leak: bool = False) -> Demand:
    return Demand(name, use, pin, input_fed, leak)


# -- the chip-filling example: one placement up to swapping identical cores ----------------------

def test_chip_filling_example_has_one_placement_up_to_identical_cores_and_it_is_found():
    result = run_file(ROOT / "examples" / "chip-filling" / "network.yaml")
    assert result.ok, [d.message for d in result.diagnostics]
    linked = result.linked
    placed = {c.name: c.index for c in linked.cores}
    assert placed == {"wide1": 0, "wide2": 1, "wide3": 2, "mid1": 3, "mid2": 4,
                      "deep1": 5, "deep2": 6, "small1": 7, "head": 8}
    demands = [demand(c.name, c.memory) for c in linked.cores]
    # Groups of identical physical cores: 0-2, 3-4, 5-6, 7-8. Every valid placement is the one
    # found with cores swapped inside those groups: 3! * 2! * 2! * 2! = 48 of them.
    assert count_placements(demands) == math.factorial(3) * 2 * 2 * 2
    for d in demands:
        assert placed[d.name] in candidates(d, MEMORY)


# -- no placement: the message names the group and its figures ---------------------------------

FOUR_WIDE = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 64, 64], to: [wide1]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
  conv: {kernel: 3, padding: 1}
cores:
  wide1: {conv: {out_channels: 16}, to: [wide2]}
  wide2: {conv: {out_channels: 16}, to: [wide3]}
  wide3: {conv: {out_channels: 16}, to: [wide4]}
  wide4: {conv: {out_channels: 16}, to: [{core: small, pool: 4}]}
  small: {conv: {out_channels: 4}}
"""


def test_four_cores_that_need_cores_0_to_2_are_explained():
    result = run_text(FOUR_WIDE, "four.yaml")
    assert not result.ok
    [d] = [d for d in result.diagnostics if d.code == "placement"]
    assert str(d.position) == "7:1"  # the `cores` key
    assert d.message == (
        "no placement exists: 4 cores fit only into physical cores 0-2: "
        "'wide1' (kernel 512, neuron 64 Ki, bias 0); 'wide2' (kernel 4 Ki, neuron 64 Ki, bias 0); "
        "'wide3' (kernel 4 Ki, neuron 64 Ki, bias 0); 'wide4' (kernel 4 Ki, neuron 64 Ki, bias 0)"
    )


def test_a_pin_that_takes_the_only_big_core_is_named_in_the_explanation():
    demands = [demand("a", NEURON_HEAVY), demand("b", NEURON_HEAVY), demand("c", NEURON_HEAVY),
               demand("tiny", SMALL, pin=1)]
    p = place(demands, MEMORY, LIMITS)
    assert p.assignment is None
    assert set(p.shortage.cores) == {"a", "b", "c", "tiny"}
    assert p.shortage.physical == (0, 1, 2)


# -- first-fit fails, exact matching succeeds ----------------------------------------------------

FIRST_FIT_TRAP = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 64, 64], to: [stem]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
  conv: {kernel: 3, padding: 1}
cores:
  stem: {conv: {out_channels: 2}, to: [wide1]}      # small: fits any core, declared first
  wide1: {conv: {out_channels: 16}, to: [wide2]}    # neuron 64 Ki: cores 0-2 only
  wide2: {conv: {out_channels: 16}, to: [wide3]}
  wide3: {conv: {out_channels: 16}}
"""


def naive_first_fit(demands: list[Demand]) -> dict[str, int] | None:
    """What a simple tool does: each core, in order, takes the first free core it fits."""
    used: dict[int, str] = {}
    for d in demands:
        free = [m.index for m in MEMORY if m.index not in used and fits(d.use, m)]
        if not free:
            return None
        used[free[0]] = d.name
    return {n: p for p, n in used.items()}


def test_naive_first_fit_fails_where_a_placement_exists_and_it_is_found():
    result = run_text(FIRST_FIT_TRAP, "trap.yaml")
    assert result.ok, [d.message for d in result.diagnostics]
    linked = result.linked
    demands = [demand(c.name, c.memory) for c in linked.cores]
    assert naive_first_fit(demands) is None
    placed = {c.name: c.index for c in linked.cores}
    assert {placed["wide1"], placed["wide2"], placed["wide3"]} == {0, 1, 2}
    # The input core prefers cores 0-1, but that preference would cost a valid placement:
    # it yields, and takes the lowest core left.
    assert placed["stem"] == 3


# -- preferences and determinism ---------------------------------------------------------------

def test_input_cores_go_to_cores_0_and_1_when_that_costs_nothing():
    demands = [demand("x", SMALL), demand("y", SMALL), demand("in1", SMALL, input_fed=True),
               demand("in2", SMALL, input_fed=True)]
    p = place(demands, MEMORY, LIMITS)
    assert p.assignment == {"in1": 0, "in2": 1, "x": 2, "y": 3}


def test_leak_cores_avoid_cores_0_and_1_when_that_costs_nothing():
    p = place([demand("leaky", SMALL, leak=True), demand("plain", SMALL)], MEMORY, LIMITS)
    assert p.assignment == {"leaky": 2, "plain": 0}


def test_a_leak_core_fed_by_the_input_avoids_cores_0_1_first():
    # Leak is listed as broken on cores 0-1 (correctness); the input preference is for speed.
    text = FIRST_FIT_TRAP.replace("stem: {conv: {out_channels: 2}",
                                  "stem: {conv: {out_channels: 2, bias: true}")
    text = text.replace("wide1: {conv: {out_channels: 16}", "wide1: {conv: {out_channels: 1}")
    result = run_text(text, "leak.yaml")
    assert result.ok
    assert result.linked.core("stem").index == 2
    assert result.diagnostics == ()


def test_a_leak_core_pinned_to_core_0_is_warned_at_its_core_key():
    text = FIRST_FIT_TRAP.replace("stem: {conv: {out_channels: 2}",
                                  "stem: {index: 0, conv: {out_channels: 2, bias: true}")
    text = text.replace("wide1: {conv: {out_channels: 16}", "wide1: {conv: {out_channels: 1}")
    result = run_text(text, "leak.yaml")
    assert result.ok
    assert [(d.code, str(d.position)) for d in result.diagnostics] == [("leak-core", "8:3")]


def test_pins_are_respected():
    demands = [demand("a", SMALL, pin=8), demand("b", SMALL), demand("c", SMALL, pin=0)]
    assert place(demands, MEMORY, LIMITS).assignment == {"a": 8, "c": 0, "b": 1}


def test_placement_is_deterministic():
    demands = [demand(f"c{i}", use) for i, use in enumerate(
        [SMALL, KERNEL_HEAVY, NEURON_HEAVY, MIDDLE, SMALL, NEURON_HEAVY, KERNEL_HEAVY])]
    first = place(demands, MEMORY, LIMITS).assignment
    assert all(place(demands, MEMORY, LIMITS).assignment == first for _ in range(5))


# -- exactness and explanations against brute force ---------------------------------------------

PROFILES = [NEURON_HEAVY, MIDDLE, KERNEL_HEAVY, SMALL,
            MemoryUse(kernel=65536, neuron=65536, bias=0)]  # the last fits nowhere


def brute_force_exists(demands: list[Demand]) -> bool:
    cands = [set(candidates(d, MEMORY)) for d in demands]
    return any(all(p in c for p, c in zip(perm, cands, strict=True))
               for perm in itertools.permutations(range(9), len(demands)))


def test_exact_on_random_instances_and_every_shortage_is_a_hall_violation():
    rng = random.Random(20261126)
    for _ in range(300):
        n = rng.randint(1, 7)
        demands = []
        for i in range(n):
            pin = rng.choice([None] * 6 + list(range(9)))
            demands.append(demand(f"c{i}", rng.choice(PROFILES), pin=pin))
        pins = [d.pin for d in demands if d.pin is not None]
        if len(pins) != len(set(pins)):
            continue  # duplicate pins are a model-stage error, never placed
        p = place(demands, MEMORY, LIMITS)
        exists = brute_force_exists(demands)
        assert (p.assignment is not None) == exists
        if p.assignment is not None:
            assert sorted(p.assignment) == sorted(d.name for d in demands)
            assert len(set(p.assignment.values())) == n
            for d in demands:
                assert p.assignment[d.name] in candidates(d, MEMORY)
        else:
            group = [d for d in demands if d.name in p.shortage.cores]
            reach = set().union(*(candidates(d, MEMORY) for d in group))
            assert reach <= set(p.shortage.physical)
            assert len(p.shortage.physical) < len(group)

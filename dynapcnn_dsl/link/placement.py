"""Place logical cores on physical cores: exact, deterministic, and explained when impossible.

Placement is a bipartite matching between the network's cores and the chip's nine cores (a
core may go where its kernel, neuron and bias memory fit). With nine cores an exact answer is
cheap: augmenting paths decide whether a complete matching exists.

Choices are then fixed one core at a time, each taking the first physical core in its
preference list that still leaves a complete matching for the others. So the result is valid
whenever any valid placement exists (a preference never costs feasibility), the same input
always gives the same placement, and:

- cores with a bias (leak) avoid the cores where the datasheet lists leak as broken (the
  chip's `leak_unreliable_cores`, 0-1);
- other cores fed by the input go to the chip's `input_preferred_cores` (0-1: they compute in
  parallel; the datasheet's advice);
- the rest take the lowest free index, in the order the file declares them.

When no complete matching exists, Hall's theorem names the culprit: a group of k cores whose
memory fits fewer than k physical cores. It is found from a maximum matching by following
alternating paths from a core left over.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from dynapcnn_dsl.chips import CoreMemory, Limits
from dynapcnn_dsl.link.data import MemoryUse
from dynapcnn_dsl.link.memory import fits


class Demand(NamedTuple):
    """What one logical core asks of placement."""

    name: str
    use: MemoryUse
    pin: int | None
    input_fed: bool
    leak: bool


class Shortage(NamedTuple):
    """k cores that fit, all together, into fewer than k physical cores."""

    cores: tuple[str, ...]
    physical: tuple[int, ...]


class Placement(NamedTuple):
    assignment: dict[str, int] | None   # None when no valid placement exists
    shortage: Shortage | None


def candidates(d: Demand, memory: tuple[CoreMemory, ...]) -> list[int]:
    """Physical cores whose memory holds the core (only its pin, when pinned)."""
    allowed = [m.index for m in memory if fits(d.use, m)]
    return [d.pin] if d.pin is not None and d.pin in allowed else ([] if d.pin is not None else allowed)


def _matching(cands: dict[str, list[int]], taken: Iterable[int] = ()) -> dict[str, int]:
    """A maximum matching (Kuhn's augmenting paths), avoiding physical cores in `taken`."""
    blocked = set(taken)
    owner: dict[int, str] = {}

    def augment(name: str, seen: set[int]) -> bool:
        for p in cands[name]:
            if p in blocked or p in seen:
                continue
            seen.add(p)
            if p not in owner or augment(owner[p], seen):
                owner[p] = name
                return True
        return False

    for name in cands:
        augment(name, set())
    return {name: p for p, name in owner.items()}


def _shortage(cands: dict[str, list[int]], matched: dict[str, int]) -> Shortage:
    """From a core left unmatched, the cores and physical cores reachable by alternating
    paths: by König's theorem they violate Hall's condition (|physical| < |cores|)."""
    owner = {p: n for n, p in matched.items()}
    start = next(n for n in cands if n not in matched)
    cores, physical = [start], []
    queue = [start]
    while queue:
        name = queue.pop(0)
        for p in cands[name]:
            if p in physical:
                continue
            physical.append(p)
            other = owner.get(p)
            if other is not None and other not in cores:
                cores.append(other)
                queue.append(other)
    order = list(cands)
    return Shortage(tuple(sorted(cores, key=order.index)), tuple(sorted(physical)))


def _preferences(d: Demand, cands: list[int], limits: Limits) -> list[int]:
    """Leak avoidance (correctness) outranks the input preference (speed)."""
    if d.leak:
        avoid = limits.leak_unreliable_cores
        return [p for p in cands if p not in avoid] + [p for p in cands if p in avoid]
    preferred = limits.input_preferred_cores
    if d.input_fed:
        return [p for p in preferred if p in cands] + [p for p in cands if p not in preferred]
    return cands


def place(demands: list[Demand], memory: tuple[CoreMemory, ...], limits: Limits) -> Placement:
    """Assign every demand a physical core, or explain why no assignment exists."""
    cands = {d.name: candidates(d, memory) for d in demands}
    matched = _matching(cands)
    if len(matched) < len(demands):
        return Placement(None, _shortage(cands, matched))

    fixed: dict[str, int] = {}
    decide = [d for d in demands if d.pin is not None]
    decide += [d for d in demands if d.pin is None and d.input_fed]
    decide += [d for d in demands if d.pin is None and not d.input_fed]
    for d in decide:
        rest = {n: c for n, c in cands.items() if n not in fixed and n != d.name}
        for p in _preferences(d, cands[d.name], limits):
            if p in fixed.values():
                continue
            taken = [*fixed.values(), p]
            if len(_matching(rest, taken)) == len(rest):
                fixed[d.name] = p
                break
    return Placement(fixed, None)

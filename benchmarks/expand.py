"""Expansion grows linearly with what it produces (issue 9): two pairs of sizes, ten times apart.

- 100 vs 1000 chained `residual_block` instances (each two cores, positions copied from the
  template and the instance, references to each instance rewritten to its entry cores);
- 400 vs 4000 cores under `defaults:` (conv and neuron settings merged into every core, with
  the positions of what each core inherits).

Each figure is the in-process time of the expand phase alone on freshly loaded documents; the
baseline of each pair is the smaller size, measured in the same run, so the growth ratio is the
figure to read: about 10x is linear, 100x would be quadratic.

    python benchmarks/expand.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 15.0
"""10x more output may cost up to 15x the time (noise, caches); 100x would be quadratic."""

HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [8, 16, 16], to: [stem]}
"""


def instances(n: int) -> str:
    """`stem` -> block0 -> ... -> block{n-1} -> head, each block a residual_block instance."""
    lines = [HEAD, "cores:\n", "  stem: {conv: {out_channels: 8, kernel: 3, padding: 1}, to: [block0]}\n"]
    for i in range(n):
        nxt = f"block{i + 1}" if i + 1 < n else "head"
        lines.append(f"  block{i}: {{template: residual_block, with: {{channels: 8}}, to: [{nxt}]}}\n")
    lines.append("  head: {conv: {out_channels: 4, kernel: 1}}\n")
    return "".join(lines)


def defaulted(n: int) -> str:
    """n cores in a chain, their kernel, stride, neuron and monitor settings from `defaults:`."""
    lines = [HEAD.replace("to: [stem]", "to: [c0]"),
             "defaults:\n",
             "  conv: {kernel: 3, padding: 1, stride: {x: 1, y: 1}, bias: false}\n",
             "  neuron: {threshold: 1.0, min_v_mem: -1.0, reset: subtract}\n",
             "  monitor: false\n",
             "cores:\n"]
    for i in range(n):
        to = f", to: [c{i + 1}]" if i + 1 < n else ""
        lines.append(f"  c{i}: {{conv: {{out_channels: 8}}{to}}}\n")
    return "".join(lines)


def expand_ms(text: str, runs: int) -> tuple[float, int]:
    """Median ms of the expand phase on `runs` freshly loaded copies; the cores it produced."""
    from dynapcnn_dsl.expand import expand
    from dynapcnn_dsl.load import load_text

    samples, cores = [], 0
    for _ in range(runs):
        doc, problems = load_text(text, str(ROOT / "bench.yaml"))
        assert doc is not None, problems
        start = time.perf_counter()
        problems = expand(doc)
        samples.append(time.perf_counter() - start)
        assert problems == [], problems[:3]
        cores = len(doc.data["cores"])
    return statistics.median(samples) * 1000, cores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    worst = 0.0
    for what, make, small, large in (("template instances", instances, 100, 1000),
                                     ("cores under defaults", defaulted, 400, 4000)):
        expand_ms(make(small), 1)  # warm up: imports, the bundled template's first load
        base_ms, base_cores = expand_ms(make(small), args.runs)
        big_ms, big_cores = expand_ms(make(large), args.runs)
        ratio = big_ms / base_ms
        worst = max(worst, ratio)
        print(f"{what}: {small} -> {base_cores} cores in {base_ms:.1f} ms (baseline); "
              f"{large} -> {big_cores} cores in {big_ms:.1f} ms; growth {ratio:.1f}x for 10x "
              f"(goal <= {GOAL_RATIO:.0f}x) {'ok' if ratio <= GOAL_RATIO else 'OVER GOAL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Expansion grows linearly with what it produces (issue 9): two pairs of sizes, ten times apart.

- 100 vs 1000 chained `residual_block` instances (each two cores, positions copied from the
  template and the instance, references to each instance rewritten to its entry cores);
- 400 vs 4000 cores under `defaults:` (conv and neuron settings merged into every core, with
  the positions of what each core inherits).

Each figure is the in-process time of the expand phase alone on freshly loaded documents; the
baseline of each pair is the smaller size, measured in the same run, so the growth ratio is the
figure to read: about 10x is linear, 100x would be quadratic. The ratio is taken of the best of
N runs (the figure least disturbed by other work on a shared machine); medians are printed too,
and so is the growth of the output itself (source-map positions), the work a linear expansion
must do.

    python benchmarks/expand.py [--runs N]
"""

from __future__ import annotations

import argparse
import gc
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


def expand_ms(text: str, runs: int) -> tuple[float, float, int]:
    """Median and best ms of the expand phase on `runs` freshly loaded copies, and the size of
    what it produced (source-map entries: every position of every expanded value)."""
    from dynapcnn_dsl.expand import expand
    from dynapcnn_dsl.load import load_text

    samples, size = [], 0
    for _ in range(runs):
        doc, problems = load_text(text, str(ROOT / "bench.yaml"))
        assert doc is not None, problems
        gc.collect()  # the previous run's garbage is not this run's cost
        start = time.perf_counter()
        problems = expand(doc)
        samples.append(time.perf_counter() - start)
        assert problems == [], problems[:3]
        size = len(doc.source_map.keys) + len(doc.source_map.values)
    return statistics.median(samples) * 1000, min(samples) * 1000, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for what, make, small, large in (("template instances", instances, 100, 1000),
                                     ("cores under defaults", defaulted, 400, 4000)):
        expand_ms(make(small), 1)  # warm up: imports, the bundled template's first load
        base_med, base_best, base_size = expand_ms(make(small), args.runs)
        big_med, big_best, big_size = expand_ms(make(large), args.runs)
        ratio = big_best / base_best
        print(f"{what}: {small} vs {large}: output {base_size} vs {big_size} positions "
              f"({big_size / base_size:.1f}x); best {base_best:.0f} vs {big_best:.0f} ms: "
              f"{ratio:.1f}x (goal <= {GOAL_RATIO:.0f}x) {'ok' if ratio <= GOAL_RATIO else 'OVER GOAL'}"
              f"; median {base_med:.0f} vs {big_med:.0f} ms: {big_med / base_med:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

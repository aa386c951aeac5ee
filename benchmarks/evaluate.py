"""`evaluate` throughput on the demo network (the nine-core DVS ResNet, its weights), issue 21.

1. --jobs 1 against --jobs N (N: this machine's cores) over the same recordings, in-process
   through `dynapcnn_dsl.evaluate` (the pool's start-up included): the speed-up.
2. Time against the events of one recording (10k, 100k, 1M synthetic DVS events), --jobs 1.
3. Time against the number of recordings (4, 16 of 20k events), --jobs 1.

    python benchmarks/evaluate.py [--recordings N] [--events N] [--largest N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from simulate import EXAMPLE, synthetic_events  # noqa: E402


def timed(doc, pairs, jobs: int) -> float:
    import dynapcnn_dsl

    start = time.perf_counter()
    dynapcnn_dsl.evaluate(doc, pairs, jobs=jobs)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=32)
    parser.add_argument("--events", type=int, default=100_000, help="events per recording for --jobs")
    parser.add_argument("--largest", type=int, default=1_000_000, help="the largest recording of the scaling")
    args = parser.parse_args()

    import dynapcnn_dsl

    doc = dynapcnn_dsl.build(EXAMPLE / "network.yaml", EXAMPLE / "weights.safetensors", annotate=True)
    doc.simulate(synthetic_events(10, (2, 128, 128)))      # compiled (or loaded from the cache) first
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    pairs = [(synthetic_events(args.events, (2, 128, 128), seed=i), i % 11 + 1)
             for i in range(args.recordings)]
    one, many = timed(doc, pairs, 1), timed(doc, pairs, n)
    total = args.recordings * args.events
    print(f"demo network, {args.recordings} recordings of {args.events:,} synthetic DVS events")
    print(f"  --jobs 1:  {one:7.2f} s  {args.recordings / one:7.2f} recordings/s  "
          f"{total / one:12,.0f} events/s")
    print(f"  --jobs {n}:  {many:7.2f} s  {args.recordings / many:7.2f} recordings/s  {total / many:12,.0f} "
          f"events/s  ({one / many:.2f}x)")
    print("time against events per recording (one recording, --jobs 1):")
    base = None
    for events in (10_000, 100_000, args.largest):
        seconds = timed(doc, [(synthetic_events(events, (2, 128, 128)), 1)], 1)
        base = base or seconds
        print(f"  {events:>9,} events: {seconds:7.2f} s  ({seconds / base:6.1f}x the 10k time)")
    print("time against recordings (20k events each, --jobs 1):")
    base = None
    for count in (4, 16):
        rec = [(synthetic_events(20_000, (2, 128, 128), seed=i), 1) for i in range(count)]
        seconds = timed(doc, rec, 1)
        base = base or seconds
        print(f"  {count:>3} recordings: {seconds:7.2f} s  ({seconds / base:5.1f}x the 4-recording time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

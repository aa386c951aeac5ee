"""`compare` on the flagship example, its frames made a bounded window at a time, against the
same comparison with every frame made at once (the recording as one dense array, as before
issue 17/19): wall time and peak resident memory, each in a fresh process.

The events: SWEEPS sweeps of make_events.py's bar, one after the other (about 97,000 events
per 100 ms). Both runs must give the same verdict; the goal is a peak memory no larger than the
all-at-once run's, and a smaller one as the recording grows.

    python benchmarks/compare.py [--sweeps N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "dvs-resnet"

PROBE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np
import dynapcnn_dsl
from dynapcnn_dsl.verify import compare as module
if {at_once}:
    module.WINDOW_BYTES = module.MAX_WINDOW_BINS = 2 ** 62     # one window: the whole recording
start = time.perf_counter()
result = dynapcnn_dsl.compare({network!r}, {weights!r}, {model!r}, np.load({events!r}))
print(json.dumps({{"seconds": time.perf_counter() - start, "agrees": result.agrees,
                   "classes": [result.classes.chip, result.classes.model],
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(events: Path, at_once: bool) -> dict:
    code = PROBE.format(root=str(ROOT), at_once=at_once, network=str(EXAMPLE / "network.yaml"),
                        weights=str(EXAMPLE / "weights.safetensors"),
                        model=f"{EXAMPLE / 'model.py'}:DvsResNet", events=str(events))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(EXAMPLE))
    from make_events import SPAN_US, bar_events

    parts = [bar_events(seed=i) for i in range(args.sweeps)]
    for i, part in enumerate(parts):
        part["t"] += i * SPAN_US
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.npy"
        np.save(events, np.concatenate(parts))
        print(f"compare on examples/dvs-resnet, {sum(map(len, parts))} events over "
              f"{args.sweeps * SPAN_US // 1000} ms")
        baseline = run(events, at_once=True)
        windowed = run(events, at_once=False)
    for name, r in (("all frames at once (baseline)", baseline), ("bounded windows", windowed)):
        print(f"  {name:31s} {r['seconds']:6.1f} s  peak RSS {r['rss_mb']:7.0f} MB  classes {r['classes']}")
    print(f"  windowed / at once: time {windowed['seconds'] / baseline['seconds']:.2f}x, "
          f"peak memory {windowed['rss_mb'] / baseline['rss_mb']:.2f}x")
    same = windowed["agrees"] == baseline["agrees"] and windowed["classes"] == baseline["classes"]
    ok = same and windowed["rss_mb"] <= baseline["rss_mb"] * 1.05
    print("goal met" if ok else "GOAL MISSED: a different verdict, or more memory")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

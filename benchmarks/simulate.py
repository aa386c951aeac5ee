"""The simulator on a nine-core network (the DVS ResNet example, its own weights), issue 12.

1. In-process: input events/s and synaptic updates/s (neuron updates caused by events) of the
   compiled kernel, against the pure-Python reference of the same semantics
   (tests/simulate_reference.py) in the same run, on the same events; the ratio is of events/s.
   The reference is written to read like SIMULATION.md, not to be fast: it is the baseline
   the kernel must beat, the way a user would write it first.
2. Whole process: `dynapcnn-dsl simulate CONFIG.json --events EV.npy` against sinabs 3.1.3's
   time-stepped forward of the same network (Conv2d + IAFSqueeze per core, the same quantized
   weights and routing) over the same events binned at 1 ms, each in its own process,
   interleaved. Needs torch and sinabs (the test extra).

    python benchmarks/simulate.py [--events N] [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from _timing import compare  # noqa: E402

EXAMPLE = ROOT / "examples" / "dvs-resnet"
SPAN_US = 1_000_000
BIN_US = 1000


def synthetic_events(n: int, seed: int = 0) -> np.ndarray:
    """n DVS events over one second, uniform over the 128 x 128 sensor and both polarities."""
    from dynapcnn_dsl.simulate import EVENT

    rng = np.random.default_rng(seed)
    ev = np.empty(n, EVENT)
    ev["t"], ev["x"], ev["y"], ev["p"] = (np.sort(rng.integers(0, SPAN_US, n)), rng.integers(0, 128, n),
                                          rng.integers(0, 128, n), rng.integers(0, 2, n))
    return ev


def sinabs_forward(config: str, events: str) -> None:
    """sinabs's time-stepped forward of a feed-forward document: each core a Conv2d and an
    IAFSqueeze over all time steps at once, cores in topological order, a core's input the sum
    of its sources' spikes (sum-pooled, feature-shifted), as the chip routes them."""
    import torch
    from sinabs.layers import IAFSqueeze, SumPool2d

    from dynapcnn_dsl.api import Document

    doc = Document.read(config).data
    layers = doc["config"]["cnn_layers"]
    ev = np.load(events)
    shape = doc["input"]["shape"]
    steps = int(ev["t"].max()) // BIN_US + 1
    dense = torch.zeros((steps, *shape))
    np.add.at(dense.numpy(), (ev["t"] // BIN_US, ev["p"], ev["y"], ev["x"]), 1)
    dvs = doc["config"]["dvs_layer"]
    pooled = SumPool2d((dvs["pooling"]["y"], dvs["pooling"]["x"]))(dense)
    inputs: dict[int, torch.Tensor] = {d["layer"]: pooled for d in dvs["destinations"] if d["enable"]}
    done: set[int] = set()
    with torch.no_grad():
        while len(done) < sum("dimensions" in layer for layer in layers):
            for i, layer in enumerate(layers):
                sources = [j for j, src in enumerate(layers) for d in src["destinations"]
                           if d.get("enable") and d["layer"] == i]
                if i in done or "dimensions" not in layer or any(j not in done for j in sources):
                    continue
                dims = layer["dimensions"]
                w = torch.tensor(np.asarray(layer["weights"]).transpose(0, 1, 3, 2), dtype=torch.float32)
                conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], bias=False,
                                       stride=(dims["stride"]["y"], dims["stride"]["x"]),
                                       padding=(dims["padding"]["y"], dims["padding"]["x"]))
                conv.weight.data = w
                iaf = IAFSqueeze(batch_size=1, spike_threshold=float(layer["threshold_high"]),
                                 min_v_mem=float(layer["threshold_low"]))
                out = iaf(conv(inputs[i]))
                done.add(i)
                for d in layer["destinations"]:
                    if not d.get("enable") or d["layer"] == 12:
                        continue
                    target = layers[d["layer"]]["dimensions"]["input_shape"]
                    sent = torch.zeros((steps, target["feature_count"], target["size"]["y"],
                                        target["size"]["x"]))
                    pooled_out = SumPool2d(d["pooling"])(out)
                    sent[:, d["feature_shift"]:d["feature_shift"] + out.shape[1]] = pooled_out
                    inputs[d["layer"]] = inputs.get(d["layer"], 0) + sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--reference-events", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sinabs-forward", nargs=2, metavar=("CONFIG", "EVENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sinabs_forward:
        sinabs_forward(*args.sinabs_forward)
        return 0

    from simulate_reference import reference

    import dynapcnn_dsl

    doc = dynapcnn_dsl.build(EXAMPLE / "network.yaml", EXAMPLE / "weights.safetensors", annotate=True)
    events = synthetic_events(args.events)
    doc.simulate(events[:10])                       # compile (or load from the cache) first
    best = None
    for _ in range(args.runs):
        start = time.perf_counter()
        result = doc.simulate(events, record="all")
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    updates = result.summary.synaptic_updates
    print(f"nine-core DVS ResNet, {len(events)} synthetic DVS events over {SPAN_US // 1000} ms")
    print(f"  kernel:    {len(events) / best:12,.0f} input events/s  {updates / best:14,.0f} synaptic "
          f"updates/s  ({sum(c.spikes for c in result.summary.cores):,} spikes)")
    few = events[:args.reference_events]
    start = time.perf_counter()
    reference(doc.data, np.column_stack([few[f] for f in ("t", "x", "y", "p")]), record_all=True)
    ref_time = time.perf_counter() - start
    small = doc.simulate(few, record="all").summary.synaptic_updates
    print(f"  reference: {len(few) / ref_time:12,.0f} input events/s  {small / ref_time:14,.0f} synaptic "
          f"updates/s  (pure Python, first {len(few)} events)")
    print(f"  ratio:     {(len(events) / best) / (len(few) / ref_time):12,.0f}x input events/s")

    with tempfile.TemporaryDirectory() as tmp:
        config, ev = Path(tmp) / "config.json", Path(tmp) / "events.npy"
        doc.write(config)
        np.save(ev, events)
        ours = [sys.executable, "-m", "dynapcnn_dsl", "simulate", str(config), "--events", str(ev)]
        theirs = [sys.executable, __file__, "--sinabs-forward", str(config), str(ev)]
        check = subprocess.run(theirs, capture_output=True, text=True)
        if check.returncode:
            print(f"  sinabs forward failed: {check.stderr.strip().splitlines()[-1:]}")
            return 1
        cand, base = compare(ours, theirs, runs=args.runs)
    print(f"whole process, {len(events)} events ({SPAN_US // BIN_US} bins of {BIN_US} µs for sinabs):")
    print(f"  dynapcnn-dsl simulate:   median {cand.median:6.2f} s  best {cand.best:6.2f} s")
    print(f"  sinabs forward (1 ms):   median {base.median:6.2f} s  best {base.best:6.2f} s")
    print(f"  ratio (best):            {base.best / cand.best:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

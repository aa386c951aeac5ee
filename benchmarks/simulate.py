"""The simulator's speed on a busy nine-core network and on the demo network (issues 12, 21).

Two networks, both using all nine cores:
- busy: benchmarks/networks/kernel-full.yaml (1x1 kernels, 128 to 256 features per core, host
  input [128, 16, 16]) with random weights normal(0, 0.15): about 10^4 synaptic updates per
  input event, the load under which a per-event simulator is slowest against a dense one;
- demo: the DVS ResNet example (examples/dvs-resnet, its own weights) on synthetic DVS events
  uniform over the sensor: a few tens of updates per event.

For each:
1. In-process: synaptic updates/s (neuron updates caused by events) of the compiled kernel,
   against the pure-Python reference of the same semantics (tests/simulate_reference.py) on the
   first few events in the same run. The reference reads like SIMULATION.md, it is not fast.
2. Whole process: `dynapcnn-dsl simulate CONFIG.json --events EV.npy` against sinabs 3.1.3's
   time-stepped forward of the same network (Conv2d + IAFSqueeze per core, the same quantized
   weights and routing) over the same events binned at 1 ms, each in its own process,
   interleaved. Needs torch and sinabs (the test extra).

    python benchmarks/simulate.py [--events N] [--busy-events N] [--runs N] [--only busy|demo]
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
BUSY = ROOT / "benchmarks" / "networks" / "kernel-full.yaml"
BUSY_WEIGHTS = (0.0, 0.15)
"""mean and deviation of the busy network's random weights: busy, yet settling."""
SPAN_US = 1_000_000
BIN_US = 1000


def synthetic_events(n: int, shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """n events over one second, uniform over the [C, H, W] input (C 2: both polarities)."""
    from dynapcnn_dsl.simulator import EVENT

    rng = np.random.default_rng(seed)
    c, h, w = shape
    ev = np.empty(n, EVENT)
    ev["t"], ev["x"], ev["y"], ev["p"] = (np.sort(rng.integers(0, SPAN_US, n)), rng.integers(0, w, n),
                                          rng.integers(0, h, n), rng.integers(0, c, n))
    return ev


def busy_document():
    """kernel-full.yaml built with its random weights (seed 0)."""
    from safetensors.numpy import save_file

    import dynapcnn_dsl
    from dynapcnn_dsl.pipeline import run_file

    linked = run_file(BUSY).linked
    rng = np.random.default_rng(0)
    tensors = {f"{c.weights}.weight": rng.normal(*BUSY_WEIGHTS, linked.weight_shape(c)).astype(np.float32)
               for c in linked.cores}
    with tempfile.TemporaryDirectory() as tmp:
        save_file(tensors, str(Path(tmp) / "w.safetensors"))
        return dynapcnn_dsl.build(BUSY, Path(tmp) / "w.safetensors", annotate=True)


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
    if doc["input"]["source"] == "dvs":
        dvs = doc["config"]["dvs_layer"]
        pooled = SumPool2d((dvs["pooling"]["y"], dvs["pooling"]["x"]))(dense)
        inputs: dict[int, torch.Tensor] = {d["layer"]: pooled for d in dvs["destinations"] if d["enable"]}
    else:
        inputs = dict.fromkeys(doc["input"]["layers"], dense)
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


def measure(name: str, doc, events: np.ndarray, reference_events: int, runs: int) -> bool:
    from simulate_reference import reference

    doc.simulate(events[:10])                       # compile (or load from the cache) first
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        result = doc.simulate(events)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    updates = result.summary.synaptic_updates
    print(f"{name}: {len(events):,} synthetic events over {SPAN_US // 1000} ms, "
          f"{updates / len(events):,.0f} synaptic updates per event")
    print(f"  kernel:    {len(events) / best:12,.0f} input events/s  {updates / best:14,.0f} synaptic "
          f"updates/s  ({sum(c.spikes for c in result.summary.cores):,} spikes)")
    few = events[:reference_events]
    start = time.perf_counter()
    reference(doc.data, np.column_stack([few[f] for f in ("t", "x", "y", "p")]))
    ref_time = time.perf_counter() - start
    small = doc.simulate(few).summary.synaptic_updates
    print(f"  reference: {len(few) / ref_time:12,.0f} input events/s  {small / ref_time:14,.0f} synaptic "
          f"updates/s  (pure Python, first {len(few)} events)")
    print(f"  ratio:     {(updates / best) / (small / ref_time):12,.0f}x synaptic updates/s")

    with tempfile.TemporaryDirectory() as tmp:
        config, ev = Path(tmp) / "config.json", Path(tmp) / "events.npy"
        doc.write(config)
        np.save(ev, events)
        ours = [sys.executable, "-m", "dynapcnn_dsl", "simulate", str(config), "--events", str(ev)]
        theirs = [sys.executable, __file__, "--sinabs-forward", str(config), str(ev)]
        check = subprocess.run(theirs, capture_output=True, text=True)
        if check.returncode:
            print(f"  sinabs forward failed: {check.stderr.strip().splitlines()[-1:]}")
            return False
        cand, base = compare(ours, theirs, runs=runs)
    print(f"  whole process ({SPAN_US // BIN_US} bins of {BIN_US} µs for sinabs):")
    print(f"    dynapcnn-dsl simulate:   median {cand.median:6.2f} s  best {cand.best:6.2f} s")
    print(f"    sinabs forward (1 ms):   median {base.median:6.2f} s  best {base.best:6.2f} s")
    print(f"    ratio (best):            {base.best / cand.best:6.2f}x faster than sinabs")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events for the demo network")
    parser.add_argument("--busy-events", type=int, default=20_000, help="events for the busy network")
    parser.add_argument("--reference-events", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("busy", "demo"))
    parser.add_argument("--sinabs-forward", nargs=2, metavar=("CONFIG", "EVENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sinabs_forward:
        sinabs_forward(*args.sinabs_forward)
        return 0

    import dynapcnn_dsl

    ok = True
    if args.only in (None, "busy"):
        doc = busy_document()
        shape = tuple(doc.data["input"]["shape"])
        ok &= measure("busy nine-core network (kernel-full.yaml, random weights)", doc,
                      synthetic_events(args.busy_events, shape), max(args.reference_events // 100, 3),
                      args.runs)
    if args.only in (None, "demo"):
        doc = dynapcnn_dsl.build(EXAMPLE / "network.yaml", EXAMPLE / "weights.safetensors", annotate=True)
        ok &= measure("demo network (the nine-core DVS ResNet, its weights)", doc,
                      synthetic_events(args.events, (2, 128, 128)), args.reference_events, args.runs)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Write events.npy: synthetic DVS events for a simulation of this network (make demo).

A bar 8 pixels wide sweeps across the 128 x 128 sensor in 100 ms, its leading edge making on
events and its trailing edge off events, over background noise: about 100,000 events with
tonic's fields t (µs), x, y, p, sorted by time. A vertical bar moving right by default (class 1
of make_weights.py), or with `--horizontal` a horizontal bar moving down (class 2):

    python make_events.py [--horizontal]
    dynapcnn-dsl simulate config.samna.json --events events.npy --slow-clock-hz 1000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIZE, SPAN_US, EVENTS, NOISE = 128, 100_000, 100_000, 0.05


def bar_events(seed: int = 0, horizontal: bool = False) -> np.ndarray:
    """The events of one sweep; `horizontal` swaps x and y (a horizontal bar moving down)."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, SPAN_US, EVENTS))
    edge = (t * SIZE) // SPAN_US                       # the bar's leading edge moves right
    on = rng.random(EVENTS) < 0.5
    x = np.where(on, edge, edge - 8) + rng.integers(-1, 2, EVENTS)
    y = rng.integers(0, SIZE, EVENTS)
    noise = rng.random(EVENTS) < NOISE
    x = np.where(noise, rng.integers(0, SIZE, EVENTS), x)
    keep = (x >= 0) & (x < SIZE)
    events = np.zeros(int(keep.sum()), [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
    events["t"], events["x"], events["y"], events["p"] = t[keep], x[keep], y[keep], on[keep]
    if horizontal:
        events["x"], events["y"] = y[keep], x[keep]
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizontal", action="store_true", help="a horizontal bar moving down")
    args = parser.parse_args()
    events = bar_events(horizontal=args.horizontal)
    np.save(HERE / "events.npy", events)
    kind = "horizontal bar moving down" if args.horizontal else "vertical bar moving right"
    print(f"wrote events.npy: {len(events)} events over {SPAN_US // 1000} ms, a {kind}")


if __name__ == "__main__":
    main()

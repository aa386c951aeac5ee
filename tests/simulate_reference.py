"""A pure-Python reference of shared/SIMULATION.md, written apart from the compiled kernel.

It reads the configuration document directly (dicts and nested lists, no numpy in the loop),
follows SIMULATION.md's wording step by step, and routes depth-first by plain recursion. The
kernel (dynapcnn_dsl/simulator/kernel.py) must agree with it event for event; the benchmark
measures the kernel's speed against it.

`reference(doc, events, rate=None, until=None, record_all=False)` returns
(recorded: {source: [(t, x, y, p), ...]}, ticks: [(t, [counts per class])], totals, states)
with source a core index or "dvs", states {core: [f][x][y] nested lists}.
"""

from __future__ import annotations

import math
import sys

ERRATA_CHIPS = ("speck2e", "speck2f")
RATIOS = (2, 4, 8, 16, 32, 128, 256, 512)


def _tolist(value):
    return value.tolist() if hasattr(value, "tolist") else value


class Reference:
    def __init__(self, doc, rate=None, record_all=False):
        cfg = doc["config"]
        self.layers = {}
        for i, layer in enumerate(cfg["cnn_layers"]):
            if "dimensions" in layer:
                self.layers[i] = layer
        self.w = {i: _tolist(layer["weights"]) for i, layer in self.layers.items()}
        self.bias = {i: _tolist(layer["biases"]) for i, layer in self.layers.items()}
        # state[i][f][x][y], as neurons_initial_value
        self.state = {i: [[list(col) for col in plane] for plane in _tolist(layer["neurons_initial_value"])]
                      for i, layer in self.layers.items()}
        self.record_all = record_all
        self.source = doc["input"]["source"]
        self.input_layers = list(doc["input"]["layers"])
        self.dvs = cfg["dvs_layer"]
        ro = cfg.get("readout") or {"enable": False}
        self.readout_on = ro["enable"]
        self.errata = doc["chip"] in ERRATA_CHIPS
        feeding = [layer["dimensions"]["output_shape"]["feature_count"] for layer in self.layers.values()
                   if any(d["enable"] and d["layer"] == 12 for d in layer["destinations"])]
        most = max(feeding, default=0)
        self.classes = min(-(-most // 4) if self.errata else most, 15)
        self.period = [0] * self.classes
        self.recorded = {}
        self.decimator = dict.fromkeys(self.layers, 0)
        self.rate = rate
        self.ticks = []

    # -- a core, for one incoming event
    def enter(self, i, c, x, y, t):
        layer = self.layers[i]
        dims = layer["dimensions"]
        cin = dims["input_shape"]["feature_count"]
        if not (c < cin and x < dims["input_shape"]["size"]["x"] and y < dims["input_shape"]["size"]["y"]):
            return
        out = dims["output_shape"]
        k, sx, sy = dims["kernel_size"], dims["stride"]["x"], dims["stride"]["y"]
        px, py = dims["padding"]["x"], dims["padding"]["y"]
        spikes = []
        for f in range(out["feature_count"]):
            for oy in range(out["size"]["y"]):
                for ox in range(out["size"]["x"]):
                    kx = x + px - ox * sx
                    ky = y + py - oy * sy
                    inside = 0 <= kx < k and 0 <= ky < k
                    if inside and self.change(i, f, ox, oy, self.w[i][f][c][kx][ky]):
                        spikes.append((f, ox, oy))
        for f, ox, oy in spikes:
            self.route(i, f, ox, oy, t)

    def change(self, i, f, x, y, amount):
        """state += amount, saturating; fire and reset; clamp. True when it fired."""
        layer = self.layers[i]
        s = min(max(self.state[i][f][x][y] + amount, -32768), 32767)
        fired = s >= layer["threshold_high"]
        if fired:
            s = 0 if layer["return_to_zero"] else s - layer["threshold_high"]
        s = max(s, layer["threshold_low"])
        self.state[i][f][x][y] = s
        return fired

    # -- routing a spike
    def route(self, i, f, x, y, t):
        layer = self.layers[i]
        if layer["monitor_enable"] or self.record_all:
            self.recorded.setdefault(i, []).append((t, x, y, f))
        if layer.get("output_decimator_enable"):
            n = RATIOS[layer["output_decimator_interval"]]
            self.decimator[i] += 1
            if self.decimator[i] % n:
                return
        for d in layer["destinations"]:
            if not d["enable"]:
                continue
            if d["layer"] == 12:
                if self.readout_on:
                    k = f // 4 if self.errata else f
                    if (not self.errata or f % 4 == 0) and k < self.classes:
                        self.period[k] += 1
                continue
            self.enter(d["layer"], f + d["feature_shift"], x // d["pooling"], y // d["pooling"], t)

    # -- input
    def dvs_event(self, t, x, y, p):
        v = self.dvs
        if (p == 1 and not v["on_channel"]) or (p == 0 and not v["off_channel"]):
            return
        feature = 0 if v["merge"] else p
        x, y = x // v["pooling"]["x"], y // v["pooling"]["y"]
        o, cut = v["origin"], v["cut"]
        if not (o["x"] <= x <= cut["x"] and o["y"] <= y <= cut["y"]):
            return
        x, y = x - o["x"], y - o["y"]
        if v["mirror"]["x"]:
            x = (cut["x"] - o["x"] + 1) - 1 - x
        if v["mirror"]["y"]:
            y = (cut["y"] - o["y"] + 1) - 1 - y
        if v["mirror_diagonal"]:
            x, y = y, x
        if v["monitor_enable"] or self.record_all:
            self.recorded.setdefault("dvs", []).append((t, x, y, feature))
        for d in v["destinations"]:
            if d["enable"]:
                self.enter(d["layer"], feature, x, y, t)

    def tick(self, t):
        self.ticks.append((t, list(self.period)))
        self.period = [0] * self.classes
        for i in sorted(self.layers):
            layer = self.layers[i]
            if not layer["leak_enable"]:
                continue
            out = layer["dimensions"]["output_shape"]
            spikes = []
            for f in range(out["feature_count"]):
                for oy in range(out["size"]["y"]):
                    for ox in range(out["size"]["x"]):
                        if self.change(i, f, ox, oy, self.bias[i][f]):
                            spikes.append((f, ox, oy))
            for f, ox, oy in spikes:
                self.route(i, f, ox, oy, t)

    def run(self, events, until=None):
        k = 0

        def ticks_until(t):
            nonlocal k
            while self.rate and math.floor(k * 1_000_000 / self.rate) <= t:
                self.tick(math.floor(k * 1_000_000 / self.rate))
                k += 1

        for t, x, y, p in events:
            ticks_until(t)
            if self.source == "dvs":
                self.dvs_event(t, x, y, p)
            else:
                for i in self.input_layers:
                    self.enter(i, p, x, y, t)
        if until is not None or events:
            ticks_until(until if until is not None else events[-1][0])
        return self


def reference(doc, events, rate=None, until=None, record_all=False):
    sys.setrecursionlimit(100_000)
    ref = Reference(doc, rate, record_all)
    ref.run([tuple(int(v) for v in e) for e in events], until)
    return ref.recorded, ref.ticks, ref.period, ref.state

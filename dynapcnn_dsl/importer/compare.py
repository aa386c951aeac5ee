"""Does the chip compute what the model computes? The model, time-stepped on binned events,
against the simulation of the built configuration on the same events, core by core.

Each core is matched to the model's neuron module through its `weights:` prefix: the prefix
names the core's convolution in the model, and the neuron that follows that convolution in the
traced model is the core's output. Per core, the spike counts of both sides and the correlation
of their per-neuron counts; a wrong translation (a missing `average`, a dropped `batchnorm`, a
`from:` list in the wrong order) shows as a count off by a factor or a correlation near zero.

The two sides are not expected to be equal: the chip integrates event by event with quantized
weights and fires at most one spike per event; the model integrates per time bin in floating
point. Hence a verdict with tolerances rather than an equality. A network with biases is
simulated with one slow-clock tick per time bin, so the chip's leak adds each bias as often as
the model does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MIN_CORRELATION = 0.8
COUNT_RATIO = 2.0          # counts within a factor of 2 of each other
FEW_SPIKES = 20            # below this on both sides the counts say nothing


@dataclass(frozen=True)
class CoreComparison:
    core: str
    module: str | None            # the model's neuron module for this core
    chip_spikes: int
    model_spikes: int
    correlation: float | None     # None when neither side varies
    agrees: bool
    why: str                      # what is off, or "" when the core agrees


@dataclass(frozen=True)
class Comparison:
    cores: tuple[CoreComparison, ...]
    events: int
    bins: int
    bin_us: int

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.cores)

    def table(self) -> str:
        rows = [("core", "module", "chip spikes", "model spikes", "correlation", "verdict")]
        for c in self.cores:
            corr = "-" if c.correlation is None else f"{c.correlation:.3f}"
            rows.append((c.core, c.module or "-", str(c.chip_spikes), str(c.model_spikes), corr,
                         "agrees" if c.agrees else f"DIFFERS: {c.why}"))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5] for r in rows]
        verdict = ("the chip agrees with the model" if self.agrees else
                   f"the chip differs from the model on {sum(not c.agrees for c in self.cores)} "
                   "core(s): check their `average`, `batchnorm`, `from:` order and weights")
        return "\n".join([*lines, f"{self.events} events in {self.bins} bins of {self.bin_us} us: "
                          f"{verdict}"]) + "\n"


def judge(chip: np.ndarray, model: np.ndarray) -> tuple[float | None, bool, str]:
    """Correlation of per-neuron counts, and the verdict with its reason."""
    a, b = chip.ravel().astype(float), model.ravel().astype(float)
    total_a, total_b = a.sum(), b.sum()
    if total_a < FEW_SPIKES and total_b < FEW_SPIKES:
        return None, True, ""
    corr = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else None
    if min(total_a, total_b) == 0 or max(total_a, total_b) / min(total_a, total_b) > COUNT_RATIO:
        return corr, False, f"counts differ by more than {COUNT_RATIO:g}x"
    if corr is None or corr < MIN_CORRELATION:
        return corr, False, "the per-neuron counts do not correlate"
    return corr, True, ""


def dense(events: np.ndarray, shape: tuple[int, int, int], bin_us: int) -> np.ndarray:
    """Events as [T, C, H, W] counts per bin."""
    c, h, w = shape
    bins = int(events["t"].max()) // bin_us + 1 if len(events) else 1
    out = np.zeros((bins, c, h, w), dtype=np.float32)
    np.add.at(out, (events["t"] // bin_us, events["p"], events["y"], events["x"]), 1)
    return out


def neuron_modules(model: Any, input_shape: tuple[int, int, int]) -> dict[str, str]:
    """state_dict prefix of each convolution -> the neuron module that follows it."""
    from dynapcnn_dsl.importer.from_torch import graph_of
    from dynapcnn_dsl.importer.mapping import chain

    graph = graph_of(model, input_shape=input_shape)
    readers = graph.consumers()
    found: dict[str, str] = {}
    for node in graph.nodes:
        if node.op in ("conv", "linear") and node.prefix("weight"):
            _, neuron, _ = chain(readers, node)
            if neuron is not None and neuron.module:
                found[node.prefix("weight")] = neuron.module
    return found


def run_model(model: Any, modules: list[str], frames: np.ndarray) -> dict[str, np.ndarray]:
    """The model over the frames as one recording (the time axis as the batch of sinabs's
    squeezed layers): each neuron module's output summed over time, as [C, H, W].

    A squeezed layer made for training with `batch_size=B` would cut the recording into B
    separate samples, its states starting over in each: for the run every squeezed layer takes
    one sample of all the frames, and every state starts at 0, as on the chip."""
    import torch

    from dynapcnn_dsl.importer.from_torch import neuron_kind
    from dynapcnn_dsl.importer.neurons import reset, run_steps, spikes_of, stepped

    outputs: dict[str, np.ndarray] = {}
    handles = []
    squeezed = [m for m in model.modules() if hasattr(m, "squeeze_forward")]
    saved = [(m.batch_size, m.num_timesteps) for m in squeezed]
    for m in model.modules():
        if neuron_kind(m):   # only the neurons: other modules' reset_states may not be sinabs's
            reset(m)
    for m in squeezed:
        m.batch_size, m.num_timesteps = 1, -1
    for name in modules:
        def hook(_m: Any, _i: Any, out: Any, name: str = name) -> None:
            total = spikes_of(out).detach().sum(0).numpy()
            total = total.reshape(total.shape[0], 1, 1) if total.ndim == 1 else total
            outputs[name] = outputs[name] + total if name in outputs else total
        handles.append(model.get_submodule(name).register_forward_hook(hook))
    try:
        with torch.no_grad():
            if stepped(model):   # snnTorch, Norse: one time step per call
                run_steps(model, frames)
            else:
                model(torch.from_numpy(frames))
    finally:
        for h in handles:
            h.remove()
        for m, (batch, steps) in zip(squeezed, saved, strict=True):
            m.batch_size, m.num_timesteps = batch, steps
    return outputs


def chip_counts(spikes: np.ndarray, shape: tuple[int, int, int], logical: int) -> np.ndarray:
    """A core's recorded spikes as [C, H, W] counts (the readout's spread classes gathered)."""
    c, h, w = shape
    counts = np.zeros((c, h, w), dtype=np.int64)
    np.add.at(counts, (spikes["p"], spikes["y"], spikes["x"]), 1)
    return counts[0: 4 * logical: 4] if logical != c else counts


def compare(network: str | Path, weights: str | Path, model: str | Any, events: Any, *,
            bin_us: int = 1000, key: str | None = None) -> Comparison:
    """Run `model` (FILE.py:NAME, or an nn.Module with its weights loaded) and the simulation of
    `network` built with `weights` on the same `events` (a path or an event array), core by
    core. Raises BuildError / SimulationError / ImportFailure with the reasons."""
    from dynapcnn_dsl.api import build, simulate
    from dynapcnn_dsl.importer.from_torch import held_under, load_module, load_weights

    doc = build(network, weights, key=key, annotate=True)   # the simulation names cores by it
    linked = doc.linked
    loads = isinstance(model, str)
    if loads:
        model = load_module(model)
    # the cores' `weights:` may name the model under a prefix (a Lightning checkpoint's `model.`)
    model, _ = held_under(model, [f"{c.weights}.weight" for c in linked.cores], partial=True)
    if loads:
        from dynapcnn_dsl.weights.readers import read

        loaded, _ = read(weights, key=key)
        if loaded is not None:
            load_weights(model, dict(loaded.tensors), partial=True)
    table = _events(events)
    # A bias (a folded BatchNorm's shift too) is added by the model once per time step and by
    # the chip once per slow-clock tick: one tick per bin makes the two comparable.
    leaky = any(layer.get("leak_enable") for layer in doc.config["cnn_layers"])
    result = simulate(doc, table, record="all", slow_clock_hz=1e6 / bin_us if leaky else None)
    shape = tuple(linked.input.shape)
    frames = dense(table, shape, bin_us)
    modules = neuron_modules(model, shape)
    wanted = [modules[c.weights] for c in linked.cores if c.weights in modules]
    outputs = run_model(model, wanted, frames)
    rows = []
    for core in linked.cores:
        module = modules.get(core.weights)
        out = core.output_shape
        chip = chip_counts(result.cores.get(core.name, np.zeros(0, table.dtype)),
                           (core.out_features, out.height, out.width), linked.logical_out(core))
        mine = outputs.get(module) if module else None
        if mine is None:
            rows.append(CoreComparison(core.name, module, int(chip.sum()), 0, None, False,
                                       f"no neuron module of the model follows '{core.weights}'"))
            continue
        corr, ok, why = judge(chip, mine)
        rows.append(CoreComparison(core.name, module, int(chip.sum()), round(float(mine.sum())),
                                   corr, ok, why))
    return Comparison(tuple(rows), len(table), frames.shape[0], bin_us)


def _events(events: Any) -> np.ndarray:
    from dynapcnn_dsl.simulate import from_columns, read_events
    from dynapcnn_dsl.simulate.events import EVENT

    if isinstance(events, str | Path):
        return read_events(events)
    if isinstance(events, np.ndarray) and events.dtype == EVENT:
        return events
    return from_columns(events, "<events>")

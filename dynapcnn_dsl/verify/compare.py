"""Does the chip compute what the model computes? The model, time-stepped on binned events,
against the simulation of the built configuration on the same events: as classifiers first,
then core by core (the result types and their printing are in comparison.py).

As classifiers, when the model's output has one value per class of the network's head (the
readout's source, or the one core that sends nowhere): per time window and over the recording,
the class each side picks; the chip's over the recording by the simulator's own rule
(simulator/prediction.py). That is the first question, and the only one a model without
spiking modules (functional activations, an ANN, a head without a neuron) can answer.

Core by core, for the cores with a spiking counterpart: each core is matched to the model's
neuron module through its `weights:` prefix (the neuron that follows that convolution in the
traced model is the core's output). Per core, the spike counts of both sides and the
correlation of their per-neuron counts; a wrong translation (a missing `average`, a dropped
`batchnorm`, a `from:` list in the wrong order) shows as a count off by a factor or a
correlation near zero. Cores without a spiking counterpart are skipped with the reason.

The two sides are not expected to be equal: the chip integrates event by event with quantized
weights and fires at most one spike per event; the model integrates per time bin in floating
point. Hence a verdict with tolerances rather than an equality. A network with biases is
simulated with one slow-clock tick per time bin, so the chip's leak adds each bias as often as
the model does. Every size is bounded before it is allocated: the bins, the class windows, and
the dense frames, made and run a window at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from dynapcnn_dsl.config import Configuration, from_tree, to_tree
from dynapcnn_dsl.diagnostics import CodedError
from dynapcnn_dsl.verify.comparison import (
    FEW_SPIKES,
    ClassComparison,
    Comparison,
    CoreComparison,
    WindowClass,
)

__all__ = ["ClassComparison", "Comparison", "CoreComparison", "ModelFailure", "WindowClass", "compare"]

MIN_CORRELATION = 0.8
COUNT_RATIO = 2.0          # counts within a factor of 2 of each other


MAX_BINS = 200_000
"""The most time bins the model runs over (a recording's span / --bin-us): bounded before
anything is allocated, as the frames of one bin are dense, and because a spiking model steps
through the bins one by one (sinabs's IAF on 10^6 bins of a two-layer model: 275 s)."""
MAX_BIN_US = 10 ** 9
WINDOW_BYTES = 64 * 2 ** 20
MAX_WINDOW_BINS = 4096
"""Dense frames are made and run through the model a window at a time: at most this many bytes
of frames, and this many bins (the model's own activations grow with the bins)."""
DEFAULT_WINDOW_US = 100_000
MAX_WINDOWS = 10_000
"""The most time windows in which classes are compared (the default window widens to stay
under it; a --window-us that asks for more is refused)."""
MAX_OUTPUTS = 1024
"""A model output with more values per bin is a map, not classes: only its total is kept."""


class ModelFailure(CodedError):
    """The model itself failed on the events (its own exception, in one line): the model's
    fault, not the tool's, and not a problem with the network."""

    code = "compare-model-failed"
    file = "<model>"


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


def dense(events: np.ndarray, shape: tuple[int, int, int], bin_us: int, first_bin: int = 0,
          bins: int | None = None, polarity: str | None = None) -> np.ndarray:
    """Events as [T, C, H, W] counts per bin, for the bins first_bin .. first_bin + bins - 1.

    For a DVS input (`polarity` is the network's: both, on, off or merge) the model takes the
    sensor's events with the polarities the DVS layer passes (`on`: on events only, `off`: off
    events only): the polarity is the channel when the model takes two, every polarity goes to
    its one channel otherwise; only the events inside its [H, W] are counted."""
    c, h, w = shape
    if bins is None:
        bins = int(events["t"].max()) // bin_us + 1 - first_bin if len(events) else 1
    out = np.zeros((bins, c, h, w), dtype=np.float32)
    b = events["t"] // bin_us - first_bin
    p = events["p"]
    passed = np.ones(len(events), bool)
    if polarity is not None:
        passed = p == 1 if polarity == "on" else p == 0 if polarity == "off" else passed
        p = p if c == 2 else np.zeros(len(events), p.dtype)
    keep = passed & (b >= 0) & (b < bins) & (events["x"] < w) & (events["y"] < h) & (p < c)
    np.add.at(out, (b[keep], p[keep], events["y"][keep], events["x"][keep]), 1)
    return out


def frames_of(table: np.ndarray, shape: tuple[int, int, int], bin_us: int,
              polarity: str | None = None) -> Iterator[np.ndarray]:
    """The events as [T, C, H, W] count frames, a bounded window at a time (WINDOW_BYTES,
    MAX_WINDOW_BINS) in time order, for `run_model`: never one array over the whole span
    (`check_bins` bounds the span first)."""
    bins = (int(table["t"].max()) if len(table) else 0) // bin_us + 1
    step = max(1, min(MAX_WINDOW_BINS, WINDOW_BYTES // (4 * int(np.prod(shape)))))
    for first in range(0, bins, step):
        inside = table[(table["t"] >= first * bin_us) & (table["t"] < (first + step) * bin_us)]
        yield dense(inside, shape, bin_us, first, min(step, bins - first), polarity)


def neuron_modules(model: Any, input_shape: tuple[int, int, int]) -> dict[str, str]:
    """state_dict prefix of each convolution -> the module of the neuron that follows it (a
    spiking module, or the module whose forward calls an activation function)."""
    from dynapcnn_dsl.importer.from_torch import graph_of
    from dynapcnn_dsl.importer.graph import COMPUTE
    from dynapcnn_dsl.importer.mapping import chain

    graph = graph_of(model, input_shape=input_shape)
    readers = graph.consumers()
    found: dict[str, str] = {}
    for node in graph.nodes:
        if isinstance(node.op, COMPUTE) and node.prefix("weight"):
            _, neuron, _ = chain(readers, node)
            if neuron is not None:      # "" for a function called in the model's own forward
                found[node.prefix("weight")] = neuron.module or ""
    return found


def _per_bin(out: Any) -> np.ndarray:
    """A model's output as [T, K]: one row of values per time bin."""
    arr = out.detach().numpy() if hasattr(out, "detach") else np.asarray(out)
    return arr.reshape(arr.shape[0], -1) if arr.ndim else arr.reshape(1, 1)


def run_model(model: Any, modules: list[str], frames: Any,
              window_bins: int = 1) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The model over the frames as one recording (the time axis as the batch of sinabs's
    squeezed layers): each neuron module's output summed over time, as [C, H, W], and the
    model's output summed per window of `window_bins` bins, as [windows, K] (None when the
    output has more than MAX_OUTPUTS values per bin: a map, not classes).

    `frames` is an iterable of [T, C, H, W] windows, in time order (or one array): the neuron
    states carry over from one window to the next, as one long run.

    A squeezed layer made for training with `batch_size=B` would cut the recording into B
    separate samples, its states starting over in each: for the run every squeezed layer takes
    one sample of all the frames, and every state starts at 0, as on the chip. An exception of
    the model's own is a ModelFailure."""
    import torch

    from dynapcnn_dsl.importer.neurons import neuron_kind, reset, run_steps, spikes_of, stepped

    outputs: dict[str, np.ndarray] = {}
    sums: list[np.ndarray] = []          # [K] per window, in time order
    done = 0                             # bins run so far
    wide = False
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
            state = None
            for window in [frames] if isinstance(frames, np.ndarray) else frames:
                try:
                    if stepped(model):   # snnTorch, Norse: one time step per call
                        out, state = run_steps(model, window, state)
                    else:
                        out = model(torch.from_numpy(window))
                except Exception as exc:  # the user's code: any failure is the model's
                    text = (str(exc).strip().splitlines() or [""])[0]
                    raise ModelFailure(
                        f"the model failed on the events: {type(exc).__name__}: {text}"[:300],
                        f"the model runs on a [T, C, H, W] tensor of event counts per bin "
                        f"({list(window.shape)} here); check that its forward takes that") from None
                rows = _per_bin(spikes_of(out))
                wide = wide or rows.shape[1] > MAX_OUTPUTS
                if not wide:
                    _add_by_window(sums, rows, done, window_bins)
                done += len(rows)
    finally:
        for h in handles:
            h.remove()
        for m, (batch, steps) in zip(squeezed, saved, strict=True):
            m.batch_size, m.num_timesteps = batch, steps
    return outputs, None if wide else (np.array(sums) if sums else np.zeros((0, 0)))


def _add_by_window(sums: list[np.ndarray], rows: np.ndarray, first_bin: int, window_bins: int) -> None:
    """Add the output rows of bins first_bin.. to the sums of their windows (new windows
    appended: the windows arrive in time order)."""
    if not len(rows):
        return
    window = np.arange(first_bin, first_bin + len(rows)) // window_bins
    while len(sums) <= window[-1]:
        sums.append(np.zeros(rows.shape[1], np.float64))
    block = np.zeros((int(window[-1] - window[0]) + 1, rows.shape[1]), np.float64)
    np.add.at(block, window - window[0], rows)
    for i, row in enumerate(block):
        sums[int(window[0]) + i] += row


def chip_counts(spikes: np.ndarray, shape: tuple[int, int, int], logical: int) -> np.ndarray:
    """A core's recorded spikes as [C, H, W] counts (the readout's spread classes gathered)."""
    c, h, w = shape
    counts = np.zeros((c, h, w), dtype=np.int64)
    np.add.at(counts, (spikes["p"], spikes["y"], spikes["x"]), 1)
    return counts[0: 4 * logical: 4] if logical != c else counts


def compare(network: str | Path, weights: str | Path, model: str | Any, events: Any, *,
            bin_us: int = 1000, key: str | None = None, window_us: int | None = None,
            sensor_offset: tuple[int, int] | None = None, downsample: int | None = None) -> Comparison:
    """Run `model` (FILE.py:NAME, or an nn.Module with its weights loaded) and the simulation of
    `network` built with `weights` on the same `events` (a path or an event array).

    First as classifiers, when the model's output is one (as many values per bin as the head
    core has classes): the class each side picks per time window of `window_us` (100 ms by
    default) and over the whole recording. Then core by core, for the cores whose convolution
    a spiking module follows in the model; the others are skipped with the reason. A DVS
    recording from another camera is placed on the sensor with `sensor_offset` and
    `downsample` (as `simulate`), for both sides. Raises BuildError / SimulationError /
    ImportFailure / ModelFailure with the reasons (DslError for a weights file that became
    unreadable after the build)."""
    from dynapcnn_dsl.importer.from_torch import ImportFailure

    try:
        return _compared(network, weights, model, events, bin_us, key, window_us, sensor_offset, downsample)
    except (ImportFailure, ModelFailure) as exc:   # filed under the model's FILE.py:NAME
        raise exc.refiled(model if isinstance(model, str) else "<model>",
                          "--model is FILE.py:NAME") from exc.__cause__


def _compared(network: str | Path, weights: str | Path, model: str | Any, events: Any, bin_us: int,
              key: str | None, window_us: int | None, sensor_offset: tuple[int, int] | None,
              downsample: int | None) -> Comparison:
    from dynapcnn_dsl.api import build, placement_of, simulate
    from dynapcnn_dsl.importer.model_file import load_model
    from dynapcnn_dsl.simulator.run import placed

    doc = build(network, weights, key=key, annotate=True)   # the simulation names cores by it
    linked = doc.linked
    table = _events(events)
    placement = placement_of(sensor_offset, downsample, "<events>")
    table, off_sensor = placed(table, placement, linked.input.source, "<events>")
    check_bins(table, bin_us, window_us)
    bins = (int(table["t"].max()) if len(table) else 0) // bin_us + 1
    window_bins = (max(1, int(window_us) // bin_us) if window_us is not None else
                   max(1, DEFAULT_WINDOW_US // bin_us, -(-bins // MAX_WINDOWS)))
    # the cores' `weights:` may name the model under a prefix (a Lightning checkpoint's `model.`);
    # a module given loaded is taken with its weights as they are
    model = load_model(model, weights if isinstance(model, str) else None, key=key,
                       network_names=[f"{c.weights}.weight" for c in linked.cores]).model
    # A bias (a folded BatchNorm's shift too) is added by the model once per time step and by
    # the chip once per slow-clock tick: one tick per bin makes the two comparable.
    shape = _model_shape(model, linked)
    modules = neuron_modules(model, shape)
    judged = [c for c in linked.cores if c.weights in modules and _spiking(model, modules[c.weights])]
    head = _head(linked)
    # only the cores compared spike for spike and the head are recorded: the others are counted
    recorded = {c.name for c in judged} | ({head.name} if head is not None else set())
    configuration = from_tree(doc.data)
    leaky = any(layer.leak_enable for layer in configuration.config.cnn_layers)
    result = simulate(_monitoring(configuration, linked, recorded), table,
                      slow_clock_hz=1e6 / bin_us if leaky else None)
    spikes = {c.name: c.spikes for c in result.summary.cores}
    polarity = linked.input.polarity if linked.input.source == "dvs" else None
    frames = frames_of(table, shape, bin_us, polarity)
    outputs, sums = run_model(model, [modules[c.weights] for c in judged], frames, window_bins)
    rows = []
    for core in linked.cores:
        module = modules.get(core.weights)
        out = core.output_shape
        mine = outputs.get(module) if module else None
        if mine is None:
            rows.append(CoreComparison(core.name, None, spikes.get(core.name, 0), 0, None, True, "",
                                       _not_spiking(model, core.weights, module)))
            continue
        chip = chip_counts(result.cores.get(core.name, np.zeros(0, table.dtype)),
                           (core.out_features, out.height, out.width), linked.logical_out(core))
        corr, ok, why = judge(chip, mine)
        rows.append(CoreComparison(core.name, module, int(chip.sum()), round(float(mine.sum())),
                                   corr, ok, why))
    classes, skipped = _classes(linked, result, sums, bins, bin_us, window_bins)
    return Comparison(tuple(rows), len(table) + off_sensor, bins, bin_us, classes, off_sensor, skipped)


def _monitoring(configuration: Configuration, linked: Any, names: set[str]) -> dict[str, Any]:
    """The configuration with exactly the named cores monitored (the tensors are shared), as
    the tree `simulate` takes, so that the simulation records only what is compared."""
    from dataclasses import replace

    chip = configuration.config
    layers = list(chip.cnn_layers)
    for core in linked.cores:
        layers[core.index] = replace(layers[core.index], monitor_enable=core.name in names)
    dvs = None if chip.dvs_layer is None else replace(chip.dvs_layer, monitor_enable=False)
    return to_tree(replace(configuration, config=replace(chip, cnn_layers=tuple(layers), dvs_layer=dvs)))


def _model_shape(model: Any, linked: Any) -> tuple[int, int, int]:
    """The [C, H, W] the model takes: the network's input, except that a model fed by the DVS
    may declare the sensor's two polarity channels (a sinabs DVSLayer that merges them, or
    an `input_shape` attribute) where the network, merged or filtered, has one."""
    from dynapcnn_dsl.importer.torch_trace import input_shape_of

    shape = tuple(int(n) for n in linked.input.shape)
    declared = input_shape_of(model)
    if linked.input.source == "dvs" and declared is not None and declared[1:] == shape[1:] \
            and declared[0] == 2:
        return (2, shape[1], shape[2])
    return shape  # type: ignore[return-value]


def _spiking(model: Any, name: str) -> bool:
    from dynapcnn_dsl.importer.neurons import neuron_kind

    try:
        return neuron_kind(model.get_submodule(name)) is not None
    except AttributeError:
        return False


def _not_spiking(model: Any, prefix: str, module: str | None) -> str:
    """Why a core has no spiking counterpart to compare spike counts with."""
    if module is None:
        return f"nothing follows '{prefix}' in the model (a non-spiking head): judged by class"
    try:
        kind = type(model.get_submodule(module)).__name__ if module else type(model).__name__
    except AttributeError:
        kind = "module"
    if kind in ("ReLU", "ReLU6", "LeakyReLU", "Identity"):
        return f"'{module}' after '{prefix}' is a {kind}, not a spiking neuron: no spikes to compare"
    where = f"'{module}' ({kind})" if module else f"the model's forward ({kind})"
    return f"the activation after '{prefix}' is a function called in {where}: no spikes to compare"


def check_bins(table: np.ndarray, bin_us: int, window_us: int | None) -> None:
    """The bin width, the number of bins and of class windows bounded before any frame is made."""
    from dynapcnn_dsl.diagnostics import Diagnostic, Severity
    from dynapcnn_dsl.simulator import SimulationError

    def refuse(message: str, hint: str) -> None:
        raise SimulationError([Diagnostic("<events>", None, Severity.ERROR, "compare-bins", message, hint)])

    if isinstance(bin_us, bool) or not isinstance(bin_us, int | np.integer) or not 1 <= bin_us <= MAX_BIN_US:
        refuse(f"the bin width must be an integer in 1..{MAX_BIN_US} us, not {bin_us}",
               "--bin-us N: the model's time step in microseconds")
    if window_us is not None and (isinstance(window_us, bool) or not isinstance(window_us, int | np.integer)
                                  or not 1 <= window_us <= 2 ** 62):
        refuse(f"the class window must be a positive number of us, not {window_us}",
               "--window-us N: the time windows in which each side's class is compared")
    bins = (int(table["t"].max()) if len(table) else 0) // int(bin_us) + 1
    if bins > MAX_BINS:
        refuse(f"the events span {bins} bins of {bin_us} us: more than {MAX_BINS} model steps",
               "give a larger --bin-us, or cut the recording (are its times in microseconds?)")
    windows = -(-bins // max(1, int(window_us) // int(bin_us))) if window_us is not None else 0
    if windows > MAX_WINDOWS:
        refuse(f"{windows} class windows of {window_us} us: more than {MAX_WINDOWS}",
               "give a larger --window-us (the default widens with the recording)")


def _head(linked: Any) -> Any:
    """The core whose features are the classes: the readout's source, else the one core that
    sends to no other core (None when there are several)."""
    if linked.readout is not None:
        return linked.core(linked.readout.source)
    from dynapcnn_dsl.link.data import READOUT

    sinks = [c for c in linked.cores if all(link.target == READOUT for link in c.destinations)]
    return sinks[0] if len(sinks) == 1 else None


def _classes(linked: Any, result: Any, sums: np.ndarray | None, bins: int, bin_us: int,
             window_bins: int) -> tuple[ClassComparison | None, str]:
    """Chip and model as classifiers, or why they are not compared so."""
    from dynapcnn_dsl.simulator.prediction import predicted_class

    head = _head(linked)
    if head is None:
        return None, "no readout, and more than one core sends to no other core (no single head)"
    n = linked.logical_out(head)
    out = head.output_shape
    classifier = sums is not None and sums.ndim == 2 and sums.shape[1] == n and (
        (out.height, out.width) == (1, 1) or linked.readout is not None)
    if not classifier:
        return None, ""       # the model's output is a map, not classes: compared core by core
    first = 1 if linked.readout is not None else 0
    spikes = result.cores.get(head.name, np.zeros(0, [("t", "<i8"), ("p", "<i4")]))
    spread = 4 if n != head.out_features else 1      # the readout errata: class k on feature 4(k-1)
    assert sums is not None
    counts = np.zeros((len(sums), n), np.int64)            # the head's spikes per window and class
    classed = spikes[(spikes["p"] % spread == 0) & (spikes["p"] < spread * n)]
    np.add.at(counts, (np.minimum(classed["t"] // (window_bins * bin_us), len(sums) - 1),
                       classed["p"].astype(np.int64) // spread), 1)
    windows = []
    for w, (chip, model) in enumerate(zip(counts, sums, strict=True)):
        best = int(np.argmax(chip)) + first if chip.max() > 0 else None
        windows.append(WindowClass(w * window_bins * bin_us, min((w + 1) * window_bins, bins) * bin_us,
                                   best, _model_class(model[None], first)))
    chip_all = predicted_class(result, None if linked.readout is not None else head.name)
    total = sums.sum(axis=0)
    counted = bool(np.all(total >= 0) and np.all(total == np.round(total)))   # spike counts
    return ClassComparison(head.name, first, tuple(windows), chip_all, _model_class(sums, first),
                           int(counts.sum()), float(total.sum()) if counted else None), ""


def _model_class(values: np.ndarray, first: int) -> int | None:
    """The model's class over some bins: the output with the largest sum (spike counts or
    logits), lowest on ties; None when every output sums to the same value (nothing singled out)."""
    totals = values.sum(axis=0, dtype=np.float64)
    if not totals.size or totals.max() == totals.min():
        return None
    return int(np.argmax(totals)) + first


def _events(events: Any) -> np.ndarray:
    from dynapcnn_dsl.simulator import from_columns, read_events
    from dynapcnn_dsl.simulator.events import EVENT

    if isinstance(events, str | Path):
        return read_events(events)
    if isinstance(events, np.ndarray) and events.dtype == EVENT:
        return events
    return from_columns(events, "<events>")

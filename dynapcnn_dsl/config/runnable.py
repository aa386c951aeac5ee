"""What a configuration must hold to run, beyond what the schema says: the check the simulator
(simulate/machine.py) makes by hand today, on the typed values, with the reader's limits.

The schema allows any key to be absent (samna keeps its default there), so a valid document may
still lack what a used core computes with, send events to a core that is not configured, or hold
a tensor whose shape disagrees with the core's dimensions. `check(document)` takes the tree (as
the API is handed it) or the typed configuration and gives back the typed configuration, or the
problems as (document path, message) pairs: a tree goes through the reader's own checks first
(`reader.check_tree`: types, ranges, tensors; weights int8 as the chip facts say), so there is one
set of limits for reading a file and for running one.

This is the adapter for simulate/machine.py (issue 21): `read_machine` becomes `check(doc)`,
then one `Core` per used `CnnLayer` read from typed fields, with names from
`Configuration.core_names()`.
"""

from __future__ import annotations

from typing import Any

from dynapcnn_dsl.chips import resolve_chip
from dynapcnn_dsl.config.model import CnnLayer, Configuration, core_path

Problem = tuple[str, str]
"""(document path, what is wrong there)."""

NEEDED = ("return_to_zero", "threshold_high", "threshold_low", "weights", "biases", "neurons_initial_value")
"""The fields of a used core that a computation reads (the rest fall back to samna's defaults)."""


def check(document: dict[str, Any] | Configuration) -> tuple[Configuration | None, list[Problem]]:
    """The typed configuration and nothing wrong, or None and every problem found."""
    if isinstance(document, Configuration):
        configuration = document
    else:
        from dynapcnn_dsl.config.reader import check_tree

        typed, problems = check_tree(document)
        if typed is None:
            return None, problems
        configuration = typed
    problems = [*_cores(configuration), *_input(configuration)]
    return (None, problems) if problems else (configuration, [])


def _layer(layer: CnnLayer, where: str, used: set[int], readout: int) -> list[Problem]:
    dims = layer.dimensions
    if dims is None:   # an unused core: nothing runs there
        return []
    problems: list[Problem] = []
    shapes = (dims.input_shape, dims.output_shape)
    if any(s is None or s.feature_count is None or s.size is None or None in (s.size.x, s.size.y)
           for s in shapes) or dims.kernel_size is None:
        return [(f"{where}.dimensions", "must give the input and output shapes and the kernel size")]
    if None in (dims.stride, dims.padding):
        problems.append((f"{where}.dimensions", "must give the stride and the padding"))
    problems += [(f"{where}.{name}", "missing") for name in NEEDED if getattr(layer, name) is None]
    if problems:
        return problems
    c, f, k = dims.input_shape.feature_count, dims.output_shape.feature_count, dims.kernel_size  # type: ignore[union-attr]
    wo, ho = dims.output_shape.size.x, dims.output_shape.size.y  # type: ignore[union-attr]
    for name, shape in (("weights", (f, c, k, k)), ("biases", (f,)), ("neurons_initial_value", (f, wo, ho))):
        actual = getattr(layer, name).shape
        if actual != shape:
            problems.append((f"{where}.{name}", f"has shape {list(actual)}, expected {list(shape)}"))
    for s, slot in enumerate(layer.destinations):
        if not slot.enable:
            continue
        if slot.layer is None:
            problems.append((f"{where}.destinations[{s}].layer", "missing"))
        elif slot.layer != readout and slot.layer not in used:
            problems.append((f"{where}.destinations[{s}].layer", f"core {slot.layer} is not configured"))
    return problems


def _cores(configuration: Configuration) -> list[Problem]:
    chip = resolve_chip(configuration.chip)
    if chip is None:
        return [("chip", f"unknown chip {configuration.chip!r}")]
    used = set(configuration.used())
    layers = configuration.config.cnn_layers
    return [p for i in sorted(used)
            for p in _layer(layers[i], f"config.{core_path(i)}", used, chip.limits.readout_layer)]


def _input(configuration: Configuration) -> list[Problem]:
    inp = configuration.input
    if inp is None or inp.source is None or inp.shape is None:
        return [("input", "must give the source and the shape of the input")]
    used = set(configuration.used())
    if inp.source == "dvs":
        dvs = configuration.config.dvs_layer
        if dvs is None or None in (dvs.pooling, dvs.origin, dvs.cut, dvs.mirror, dvs.destinations):
            return [("config.dvs_layer",
                     "the input is the DVS: give its pooling, crop, flips and destinations")]
        targets = dvs.targets()
    else:
        targets = inp.layers or ()
    return [("input", f"events go to core {t}, which is not configured") for t in targets if t not in used]

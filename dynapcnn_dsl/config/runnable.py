"""What a configuration must hold to run, beyond what the schema says: the one check the
simulator makes before it builds its run-time values (simulator/machine.py).

The schema allows any key to be absent (samna keeps its default there), so a valid document may
still lack what a used core computes with, send events to a core that is not configured, or hold
a tensor whose shape disagrees with the core's dimensions. `check(document)` takes the tree (as
the API is handed it) or the typed configuration and gives back the typed configuration, or the
problems as (document path, what is wrong there) pairs. A tree goes through the reader's own
checks first (`reader.check_tree`: types, ranges, tensors; weights int8 as the chip facts say),
so there is one set of limits for reading a file and for running one. Typed values are taken as
the reader (or emit) made them: their ranges are not checked again.

A field the simulation reads but whose samna default is harmless (monitoring, a destination's
pooling and feature shift, leak, the decimator and the congestion balancer) may be absent; the
rest is named, field by field, as "missing".
"""

from __future__ import annotations

from typing import Any

from dynapcnn_dsl.chips import ChipProfile, resolve_chip
from dynapcnn_dsl.config.model import CnnLayer, Configuration, core_path

Problem = tuple[str, str]
"""(document path, what is wrong there)."""

NEEDED = ("threshold_high", "threshold_low", "return_to_zero", "weights", "biases", "neurons_initial_value")
"""The fields of a used core that a computation reads and that have no harmless default."""

DVS_NEEDED = ("on_channel", "off_channel", "merge", "pooling", "origin", "cut", "mirror", "mirror_diagonal",
              "monitor_enable", "destinations")
"""The fields of the DVS layer that a DVS input runs through."""


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
    chip = resolve_chip(configuration.chip)
    if chip is None:
        return None, [("chip", f"unknown chip {configuration.chip!r}")]
    problems = [*_cores(configuration, chip), *_input(configuration), *_readout(configuration)]
    return (None, problems) if problems else (configuration, [])


def _missing(value: Any, where: str, names: tuple[str, ...]) -> list[Problem]:
    """`where.name: missing` for each name the value leaves at None (the value itself missing:
    `where: missing`)."""
    if value is None:
        return [(where, "missing")]
    return [(f"{where}.{name}", "missing") for name in names if getattr(value, name) is None]


def _dimensions(layer: CnnLayer, where: str) -> list[Problem]:
    dims = layer.dimensions
    where = f"{where}.dimensions"
    problems = _missing(dims, where, ("input_shape", "output_shape", "padding", "stride", "kernel_size"))
    for name in ("input_shape", "output_shape"):
        shape = getattr(dims, name)
        if shape is not None:
            problems += _missing(shape, f"{where}.{name}", ("feature_count", "size"))
            if shape.size is not None:
                problems += _missing(shape.size, f"{where}.{name}.size", ("x", "y"))
    for name in ("padding", "stride"):
        pair = getattr(dims, name)
        if pair is not None:
            problems += _missing(pair, f"{where}.{name}", ("x", "y"))
    return problems


def _layer(layer: CnnLayer, where: str, used: set[int], chip: ChipProfile) -> list[Problem]:
    problems = [*_dimensions(layer, where), *_missing(layer, where, NEEDED)]
    if chip.decimator and layer.output_decimator_enable and layer.output_decimator_interval is None:
        problems.append((f"{where}.output_decimator_interval", "missing"))
    if problems:
        return problems
    dims = layer.dimensions
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
        elif slot.layer != chip.limits.readout_layer and slot.layer not in used:
            problems.append((f"{where}.destinations[{s}].layer", f"core {slot.layer} is not configured"))
    return problems


def _cores(configuration: Configuration, chip: ChipProfile) -> list[Problem]:
    used = set(configuration.used())
    layers = configuration.config.cnn_layers
    return [p for i in sorted(used) for p in _layer(layers[i], f"config.{core_path(i)}", used, chip)]


def _input(configuration: Configuration) -> list[Problem]:
    inp = configuration.input
    problems = _missing(inp, "input", ("source", "shape"))
    if problems:
        return problems
    if inp.source == "dvs":  # type: ignore[union-attr]
        dvs = configuration.config.dvs_layer
        if dvs is None:
            return [("config.dvs_layer", "missing")]
        problems = _missing(dvs, "config.dvs_layer", DVS_NEEDED)
        for name in ("pooling", "origin", "cut", "mirror"):
            pair = getattr(dvs, name)
            if pair is not None:
                problems += _missing(pair, f"config.dvs_layer.{name}", ("x", "y"))
        problems += [(f"config.dvs_layer.destinations[{s}].layer", "missing")
                     for s, slot in enumerate(dvs.destinations or ()) if slot.enable and slot.layer is None]
        if problems:
            return problems
        targets = dvs.targets()
    else:
        problems = _missing(inp, "input", ("layers",))
        if problems:
            return problems
        targets = inp.layers  # type: ignore[union-attr, assignment]
    used = set(configuration.used())
    return [("input", f"events go to core {t}, which is not configured") for t in targets if t not in used]


def _readout(configuration: Configuration) -> list[Problem]:
    readout = configuration.config.readout
    if readout is None or not readout.enable:
        return []
    return _missing(readout, "config.readout", ("threshold",))

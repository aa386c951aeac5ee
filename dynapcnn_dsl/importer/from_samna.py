"""A samna configuration object (as the samna bridge reads it) as a configuration document.

A samna configuration holds the nine cores as samna's defaults plus what was set, and nothing of
the input: samna does not record where the host writes its events. The document that
`from_document` decompiles says both, so this step supplies them:

- used cores: those with weights, a destination or a monitor, and those another core or the DVS
  sends to; every other slot is written as an unused core (what `build` writes);
- the input: the DVS, when its layer sends to a core (its shape inverted from pooling, origin and
  cut); otherwise the host, writing to the cores no other core feeds, all of one input shape.
  That last part is a reading, not a fact of the configuration: a note says so.

Typed values in, typed values out (dynapcnn_dsl.config): samna itself is only ever imported by
the bridge.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from dynapcnn_dsl.chips.facts import LIMITS
from dynapcnn_dsl.config import CnnLayer, Configuration, DvsLayer, Input, from_tree, to_tree, unused_layer
from dynapcnn_dsl.diagnostics import CodedError

READOUT_LAYER = LIMITS["readout_layer"]


class NotANetwork(CodedError, ValueError):
    """The configuration describes no network this language can write; the message says why."""

    code = "import-source"
    file = "<samna configuration>"


def _enabled(layer: CnnLayer) -> list[int]:
    return [int(d.layer) for d in layer.enabled() if d.layer is not None]


def _used(layers: tuple[CnnLayer, ...], dvs_targets: tuple[int, ...]) -> list[int]:
    used = {i for i, layer in enumerate(layers)
            if np.size(layer.weights if layer.weights is not None else []) or layer.monitor_enable
            or _enabled(layer)}
    used |= {t for i in list(used) for t in _enabled(layers[i]) if t != READOUT_LAYER}
    return sorted(used | set(dvs_targets))


def _dvs_input(dvs: DvsLayer, targets: tuple[int, ...]) -> Input:
    if dvs.pooling is None or dvs.cut is None:
        raise NotANetwork("the DVS layer sends to cores but does not give its pooling and crop")
    px, py = dvs.pooling.x, dvs.pooling.y
    cut = dvs.cut
    on = dvs.on_channel if dvs.on_channel is not None else True
    off = dvs.off_channel if dvs.off_channel is not None else True
    both = on and off and not dvs.merge
    # the crop [origin, cut] is taken after pooling: the sensor area up to it, before pooling
    return Input(source="dvs", shape=(2 if both else 1, (cut.y + 1) * py, (cut.x + 1) * px),  # type: ignore[operator]
                 layers=targets)


def _host_input(layers: tuple[CnnLayer, ...], used: list[int]) -> tuple[Input, list[int]]:
    fed = {t for i in used for t in _enabled(layers[i])}
    entries = [i for i in used if i not in fed]
    if not entries:
        raise NotANetwork("every used core is fed by another core and the DVS sends nowhere: "
                          "no core takes the input")
    plain: dict[int, tuple[Any, Any, Any]] = {}
    for i in entries:
        dims = layers[i].dimensions
        shape = dims.input_shape if dims is not None else None
        if shape is None or shape.size is None:
            raise NotANetwork(f"core {i} takes the input but does not give its input shape")
        plain[i] = (shape.feature_count, shape.size.y, shape.size.x)
    if len(set(plain.values())) > 1:
        raise NotANetwork("the cores no other core feeds (" + ", ".join(
            f"{i}: {list(v)}" for i, v in plain.items()) + ") differ in input shape: one host "
            "input cannot feed them all")
    return Input(source="host", shape=plain[entries[0]], layers=tuple(entries)), entries


def as_configuration(read: Configuration) -> tuple[Configuration, list[int]]:
    """The configuration read by `samna_bridge.read_samna` as a document `from_document`
    decompiles, and the cores taken as the host input's (empty for a DVS input, which the
    configuration states)."""
    config = read.config
    layers = config.cnn_layers
    dvs_targets = config.dvs_layer.targets() if config.dvs_layer is not None else ()
    used = _used(layers, dvs_targets)
    if not used:
        raise NotANetwork("the configuration uses no core")
    if dvs_targets:
        inp, guessed = _dvs_input(config.dvs_layer, dvs_targets), []  # type: ignore[arg-type]
    else:
        inp, guessed = _host_input(layers, used)
    cores = tuple(layer if i in used else unused_layer(len(layer.destinations))
                  for i, layer in enumerate(layers))
    return replace(read, config=replace(config, cnn_layers=cores), input=inp), guessed


def as_document(read: dict[str, Any] | Configuration) -> tuple[dict[str, Any], list[int]]:
    """`as_configuration` on a document tree (`samna_bridge.from_samna`), giving its tree."""
    configuration, guessed = as_configuration(read if isinstance(read, Configuration) else from_tree(read))
    return to_tree(configuration), guessed

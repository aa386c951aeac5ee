"""A samna configuration object (as the samna bridge reads it) as a configuration document.

A samna configuration holds the nine cores as samna's defaults plus what was set, and nothing of
the input: samna does not record where the host writes its events. The document that
`from_document` decompiles says both, so this step supplies them:

- used cores: those with weights, a destination or a monitor, and those another core or the DVS
  sends to; every other slot is written as an unused core (what `build` writes);
- the input: the DVS, when its layer sends to a core (its shape inverted from pooling, origin and
  cut); otherwise the host, writing to the cores no other core feeds, all of one input shape.
  That last part is a reading, not a fact of the configuration: a note says so.

Plain data in, plain data out: samna itself is only ever imported by the bridge.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynapcnn_dsl.chips.facts import LIMITS
from dynapcnn_dsl.documents import unused_core

READOUT_LAYER = LIMITS["readout_layer"]


class NotANetwork(ValueError):
    """The configuration describes no network this language can write; the message says why."""


def _enabled(destinations: list[dict[str, Any]]) -> list[int]:
    return [int(d["layer"]) for d in destinations if d.get("enable")]


def _used(layers: list[dict[str, Any]], dvs_targets: list[int]) -> list[int]:
    used = {i for i, layer in enumerate(layers)
            if np.size(layer.get("weights", [])) or layer.get("monitor_enable")
            or _enabled(layer.get("destinations", []))}
    used |= {t for i in list(used) for t in _enabled(layers[i]["destinations"]) if t != READOUT_LAYER}
    return sorted(used | set(dvs_targets))


def _dvs_input(dvs: dict[str, Any], targets: list[int]) -> dict[str, Any]:
    px, py = dvs["pooling"]["x"], dvs["pooling"]["y"]
    cut = dvs["cut"]
    both = dvs.get("on_channel", True) and dvs.get("off_channel", True) and not dvs.get("merge")
    # the crop [origin, cut] is taken after pooling: the sensor area up to it, before pooling
    return {"source": "dvs", "shape": [2 if both else 1, (cut["y"] + 1) * py, (cut["x"] + 1) * px],
            "layers": targets}


def _host_input(layers: list[dict[str, Any]], used: list[int]) -> tuple[dict[str, Any], list[int]]:
    fed = {t for i in used for t in _enabled(layers[i]["destinations"])}
    entries = [i for i in used if i not in fed]
    if not entries:
        raise NotANetwork("every used core is fed by another core and the DVS sends nowhere: "
                          "no core takes the input")
    shapes = {i: layers[i]["dimensions"]["input_shape"] for i in entries}
    plain = {i: (s["feature_count"], s["size"]["y"], s["size"]["x"]) for i, s in shapes.items()}
    if len(set(plain.values())) > 1:
        raise NotANetwork("the cores no other core feeds (" + ", ".join(
            f"{i}: {list(v)}" for i, v in plain.items()) + ") differ in input shape: one host "
            "input cannot feed them all")
    return {"source": "host", "shape": list(plain[entries[0]]), "layers": entries}, entries


def as_document(read: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """The document of a configuration read by `samna_bridge.from_samna`, and the cores taken as
    the host input's (empty for a DVS input, which the configuration states)."""
    config = dict(read["config"])
    layers = config["cnn_layers"]
    dvs = config.get("dvs_layer") or {}
    dvs_targets = _enabled(dvs.get("destinations", []))
    used = _used(layers, dvs_targets)
    if not used:
        raise NotANetwork("the configuration uses no core")
    if dvs_targets:
        inp, guessed = _dvs_input(dvs, dvs_targets), []
    else:
        inp, guessed = _host_input(layers, used)
    config["cnn_layers"] = [layer if i in used else unused_core() for i, layer in enumerate(layers)]
    return {**read, "config": config, "input": inp}, guessed

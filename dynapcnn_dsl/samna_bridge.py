"""The bridge to samna: the only module that imports it, and only when called.

- `to_samna(document)` builds a real `samna.<chip>.configuration.<Class>`, a plain walk of
  setattr calls over the document's `config` tree, then runs samna's own
  `validate_configuration` and turns a refusal into a diagnostic.
- `from_samna(config, chip)` reads a configuration object (taken from a running device, or
  filled by samna's own `from_json`) back into a document, so it can be diffed against a build.

Walk conventions, as sinabs uses samna: `dimensions` is assigned as one nested dict; fixed-size
arrays of objects (`cnn_layers`, `destinations`) are indexed and their items set in place; other
sub-objects (`dvs_layer.pooling`, ...) are set field by field; tensors are given as nested lists.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import numpy as np

from dynapcnn_dsl.chips import ChipProfile, resolve_chip
from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.documents import to_plain

ASSIGNED_WHOLE = ("dimensions",)
"""Sub-objects assigned as one nested dict rather than walked."""


class SamnaError(Exception):
    """samna is missing or refused the configuration; carries the diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def available() -> bool:
    """True when a samna package is installed (without importing it)."""
    return importlib.util.find_spec("samna") is not None


def _import(chip: ChipProfile) -> tuple[Any, Any]:
    try:
        chip_module = importlib.import_module(f"samna.{chip.samna_module}")
        config_module = importlib.import_module(f"samna.{chip.samna_module}.configuration")
    except ImportError as exc:
        raise SamnaError(Diagnostic(
            "<samna>", None, Severity.ERROR, "samna-missing",
            f"samna for {chip.id} cannot be imported: {exc}",
            "install it with `pip install 'dynapcnn-dsl[samna]'` (samna >= 0.46 supports speck2e "
            "and speck2f only)")) from exc
    return chip_module, config_module


def _chip(document: dict[str, Any]) -> ChipProfile:
    chip = resolve_chip(str(document.get("chip", "")))
    if chip is None:
        raise SamnaError(Diagnostic("<document>", None, Severity.ERROR, "document-chip",
                                    f"unknown chip {document.get('chip')!r} in the document",
                                    "the document was not written by dynapcnn-dsl"))
    return chip


def _is_object_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _apply(target: Any, tree: dict[str, Any]) -> None:
    for name, value in tree.items():
        if isinstance(value, dict) and name not in ASSIGNED_WHOLE:
            _apply(getattr(target, name), value)  # a sub-object, set field by field
        elif _is_object_list(value):
            items = getattr(target, name)  # a fixed-size array of objects, set in place
            for i, item in enumerate(value):
                _apply(items[i], item)
        else:
            setattr(target, name, to_plain(value))


def to_samna(document: dict[str, Any]) -> Any:
    """A real samna configuration object for the document, validated by samna itself."""
    chip = _chip(document)
    from dynapcnn_dsl.documents import structure_only

    if structure_only(document):
        raise SamnaError(Diagnostic("<document>", None, Severity.ERROR, "document-structure-only",
                                    "the document was built without weights: it has no tensors "
                                    "or thresholds to load", "build it with a weights file"))
    chip_module, config_module = _import(chip)
    config = getattr(config_module, chip.config_class)()
    try:
        _apply(config, document["config"])
    except (AttributeError, TypeError, ValueError, IndexError) as exc:
        raise SamnaError(Diagnostic("<samna>", None, Severity.ERROR, "samna-rejected",
                                    f"samna refused a value of the document: {exc}",
                                    "the document was edited by hand, or was written for "
                                    "another chip or samna version")) from exc
    ok, message = chip_module.validate_configuration(config)
    if not ok:
        raise SamnaError(Diagnostic("<samna>", None, Severity.ERROR, "samna-invalid",
                                    f"samna's validate_configuration refused the configuration: "
                                    f"{message}", "the message is samna's own; please report it "
                                    "as a dynapcnn-dsl bug, since the rules should have caught it"))
    return config


# -- reading back -------------------------------------------------------------------------------

VALUE, TENSOR = "value", "tensor"
XY = {"x": VALUE, "y": VALUE}
SHAPE = {"feature_count": VALUE, "size": XY}


def layer_spec(chip: ChipProfile) -> dict[str, Any]:
    """The attributes of one cnn layer that the document carries, for this chip."""
    spec: dict[str, Any] = {
        "dimensions": {"input_shape": SHAPE, "output_shape": SHAPE, "padding": XY, "stride": XY,
                       "kernel_size": VALUE},
        "weights": TENSOR, "biases": TENSOR, "neurons_initial_value": TENSOR,
        "threshold_high": VALUE, "threshold_low": VALUE, "return_to_zero": VALUE,
        "leak_enable": VALUE, "monitor_enable": VALUE,
        "destinations": ("items", 2, {"enable": VALUE, "layer": VALUE, "pooling": VALUE,
                                      "feature_shift": VALUE}),
    }
    if chip.congestion_balancer:
        spec["input_congestion_balancer_enable"] = VALUE
    if chip.decimator:
        spec["output_decimator_enable"] = VALUE
        spec["output_decimator_interval"] = VALUE
    if chip.kill_bits:
        spec.update(weights_kill_bit=TENSOR, biases_kill_bit=TENSOR, neurons_value_kill_bit=TENSOR)
    return spec


def config_spec(chip: ChipProfile) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "cnn_layers": ("items", chip.limits.cores, layer_spec(chip)),
        "dvs_layer": {
            "pass_sensor_events": VALUE,
            "destinations": ("items", 2, {"enable": VALUE, "layer": VALUE}),
            "pooling": XY, "origin": XY, "cut": XY, "mirror": XY, "mirror_diagonal": VALUE,
            "merge": VALUE, "on_channel": VALUE, "off_channel": VALUE, "monitor_enable": VALUE,
        },
    }
    if chip.readout != "unusable":  # dynapcnn's is undocumented, but a network may use it
        spec["readout"] = {"enable": VALUE, "threshold": VALUE, "low_pass_filter_disable": VALUE,
                           "low_pass_filter32_not16": VALUE, "monitor_enable": VALUE}
    return spec


def _read(source: Any, spec: Any) -> Any:
    if spec == VALUE:
        return to_plain(source)
    if spec == TENSOR:
        return np.asarray(source)
    if isinstance(spec, tuple):
        _, count, item = spec
        return [_read(source[i], item) for i in range(count)]
    return {name: _read(getattr(source, name), sub) for name, sub in spec.items()}


def from_samna(config: Any, chip: str) -> dict[str, Any]:
    """A document holding what a samna configuration object says (tensors as numpy arrays)."""
    from dynapcnn_dsl.documents import FORMAT, VERSION

    profile = resolve_chip(chip)
    if profile is None:
        raise ValueError(f"unknown chip {chip!r}")
    return {
        "format": FORMAT, "version": VERSION, "chip": profile.id,
        "samna": {"module": f"samna.{profile.samna_module}.configuration",
                  "class": profile.config_class},
        "generator": "samna (read back by dynapcnn-dsl)",
        "config": _read(config, {name: sub for name, sub in config_spec(profile).items()
                                 if hasattr(config, name)}),
    }

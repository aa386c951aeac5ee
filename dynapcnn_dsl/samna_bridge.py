"""The bridge to samna: the only module that imports it, and only when called.

- `to_samna(document)` builds a real `samna.<chip>.configuration.<Class>`, a plain walk of
  setattr calls over the document's `config` tree, then runs samna's own
  `validate_configuration` and turns a refusal into a diagnostic.
- `from_samna(config, chip)` reads a configuration object (taken from a running device, or
  filled by samna's own `from_json`) back into a document, so it can be diffed against a build.

Both walk the typed values of `dynapcnn_dsl.config` field by field, so this module names no
attribute of the configuration itself. Walk conventions, as sinabs uses samna: an object the model
marks `whole` (a layer's dimensions) is assigned as one nested dict; fixed-size arrays of objects
(the cores, the destination slots) are indexed and their items set in place; other sub-objects
(the DVS layer's pooling, ...) are set field by field; tensors are given as nested lists. Fields
a chip's configuration lacks (the decimator, the kill bits, ...) are read only where the model
says the chip has them.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from dynapcnn_dsl.chips import ChipProfile, resolve_chip
from dynapcnn_dsl.config import ABSENT, FORMAT, VERSION, ChipConfig, Configuration, SamnaClass, TreeError
from dynapcnn_dsl.config import from_tree as typed_configuration
from dynapcnn_dsl.config import to_tree as tree_of
from dynapcnn_dsl.config.fields import key_of, on_chip
from dynapcnn_dsl.config.writer import to_plain
from dynapcnn_dsl.diagnostics import Diagnostic, DslError, Severity


class SamnaError(DslError):
    """samna is missing or refused the configuration; `diagnostic` says why (one reason)."""


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


def _chip(name: str) -> ChipProfile:
    chip = resolve_chip(name)
    if chip is None:
        raise SamnaError(Diagnostic("<document>", None, Severity.ERROR, "document-chip",
                                    f"unknown chip {name!r} in the document",
                                    "the document was not written by dynapcnn-dsl"))
    return chip


def _rejected(exc: Exception) -> SamnaError:
    return SamnaError(Diagnostic("<samna>", None, Severity.ERROR, "samna-rejected",
                                 f"samna refused a value of the document: {exc}",
                                 "the document was edited by hand, or was written for "
                                 "another chip or samna version"))


def _apply(target: Any, value: Any) -> None:
    """Set every field the typed value holds on the samna object, as the conventions above say."""
    for f in fields(value):
        item = getattr(value, f.name)
        if item is None or item is ABSENT:
            continue   # absent from the document: samna keeps its default
        name = key_of(f)
        if is_dataclass(item) and not f.metadata.get("whole"):
            _apply(getattr(target, name), item)   # a sub-object, set field by field
        elif isinstance(item, tuple) and item and all(is_dataclass(v) for v in item):
            items = getattr(target, name)          # a fixed-size array of objects, set in place
            for i, sub in enumerate(item):
                _apply(items[i], sub)
        else:
            setattr(target, name, to_plain(tree_of(item)))


def to_samna(document: dict[str, Any] | Configuration) -> Any:
    """A real samna configuration object for the document (its tree or its typed values),
    validated by samna itself."""
    name = document.chip if isinstance(document, Configuration) else str(document.get("chip", ""))
    chip = _chip(name)
    try:
        configuration = document if isinstance(document, Configuration) else typed_configuration(document)
    except TreeError as exc:
        raise _rejected(exc) from exc
    if configuration.structure_only:
        raise SamnaError(Diagnostic("<document>", None, Severity.ERROR, "document-structure-only",
                                    "the document was built without weights: it has no tensors "
                                    "or thresholds to load", "build it with a weights file"))
    chip_module, config_module = _import(chip)
    config = getattr(config_module, chip.config_class)()
    try:
        _apply(config, configuration.config)
    except (AttributeError, TypeError, ValueError, IndexError) as exc:
        raise _rejected(exc) from exc
    ok, message = chip_module.validate_configuration(config)
    if not ok:
        raise SamnaError(Diagnostic("<samna>", None, Severity.ERROR, "samna-invalid",
                                    f"samna's validate_configuration refused the configuration: "
                                    f"{message}", "the message is samna's own; please report it "
                                    "as a dynapcnn-dsl bug, since the rules should have caught it"))
    return config


# -- reading back -------------------------------------------------------------------------------

def _read(source: Any, cls: type, chip: ChipProfile) -> Any:
    """The typed value of class `cls` that a samna object holds: every field the chip has."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        name, meta = key_of(f), f.metadata
        if not on_chip(f, chip) or not hasattr(source, name):
            continue
        item = getattr(source, name)
        if "node" in meta:
            values[f.name] = _read(item, meta["node"], chip)
        elif "nodes" in meta:
            count = meta["count"](chip.limits)[1]
            values[f.name] = tuple(_read(item[i], meta["nodes"], chip) for i in range(count))
        elif meta.get("struct") is not None:
            values[f.name] = _read(item, meta["struct"], chip)
        elif "tensor" in meta:
            values[f.name] = np.asarray(item)
        else:
            values[f.name] = to_plain(item)
    return cls(**values)


def read_samna(config: Any, chip: str) -> Configuration:
    """The typed configuration a samna configuration object holds (tensors as numpy arrays)."""
    profile = resolve_chip(chip)
    if profile is None:
        raise ValueError(f"unknown chip {chip!r}")
    return Configuration(
        format=FORMAT, version=VERSION, chip=profile.id,
        samna=SamnaClass(module=f"samna.{profile.samna_module}.configuration", class_=profile.config_class),
        generator="samna (read back by dynapcnn-dsl)",
        config=_read(config, ChipConfig, profile))


def from_samna(config: Any, chip: str) -> dict[str, Any]:
    """A document holding what a samna configuration object says (tensors as numpy arrays)."""
    return tree_of(read_samna(config, chip))

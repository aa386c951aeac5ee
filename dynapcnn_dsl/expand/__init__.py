"""Phase 2: expand the loaded data before it meets the models.

Template instances become scoped cores (`templates.py`), then `defaults:` is merged under every
core. Expansion works on plain data and copies source positions along, so a value taken from
`defaults:` is reported at the line in `defaults:` where the user wrote it, and a value from a
template at the instance (with a note pointing into the template).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path as FsPath
from typing import Any

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.load.source import SourceDocument

MERGED_SECTIONS = ("conv", "neuron")
"""Sections of a core that merge key by key with the defaults."""


def _merge_defaults(data: dict[str, Any], doc: SourceDocument) -> None:
    defaults = data.get("defaults")
    cores = data.get("cores")
    if not isinstance(defaults, dict) or not isinstance(cores, dict):
        return
    smap = doc.source_map
    for name, core in cores.items():
        if not isinstance(core, dict):
            continue
        for key, default in defaults.items():
            here = ("cores", name, key)
            if key in MERGED_SECTIONS and isinstance(default, dict):
                section = core.get(key)
                if section is None and key == "conv":
                    continue  # a missing conv stays missing: the model says so at the core
                if section is None:
                    section = core[key] = {}
                    smap.keys.setdefault(here, smap.keys[("defaults", key)])
                if not isinstance(section, dict):
                    continue
                for sub, value in default.items():
                    if sub not in section:
                        section[sub] = value
                        smap.copy_subtree(("defaults", key, sub), (*here, sub))
            elif key not in core and key not in MERGED_SECTIONS:
                core[key] = default
                smap.copy_subtree(("defaults", key), here)


def expand(doc: SourceDocument, *, templates: Iterable[str | FsPath] = (),
           base: FsPath | None = None) -> list[Diagnostic]:
    """Expand templates, then merge defaults, in place; returns the problems found."""
    from dynapcnn_dsl.expand.templates import expand_templates

    problems: list[Diagnostic] = []
    if isinstance(doc.data, dict):
        cores = doc.data.get("cores")
        if isinstance(cores, dict) and any(isinstance(c, dict) and "template" in c
                                           for c in cores.values()):
            problems = expand_templates(doc, [FsPath(t) for t in templates], base)
        _merge_defaults(doc.data, doc)
    return problems

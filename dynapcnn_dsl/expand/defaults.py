"""`defaults:` merged under every core, with the positions of what each core inherits.

A value taken from `defaults:` is reported at the line in `defaults:` where the user wrote it:
its positions are copied (per subtree, from the source map's index) to the core's path.
"""

from __future__ import annotations

from typing import Any

from dynapcnn_dsl.load.source import SourceMap

MERGED_SECTIONS = ("conv", "neuron")
"""Sections of a core that merge key by key with the defaults."""

FROM_CHECKPOINT = {"neuron": ("threshold", "min_v_mem")}
"""Defaults that a section bound to the checkpoint (`neuron: {weights: P}`) does not take."""


def merge_defaults(data: dict[str, Any], smap: SourceMap) -> None:
    """Merge `defaults:` under every core of `data`, in place; a core's own value wins."""
    defaults = data.get("defaults")
    cores = data.get("cores")
    if not isinstance(defaults, dict) or not isinstance(cores, dict):
        return
    # Each default's positions are taken once and pasted under every core that inherits it.
    taken = {path: smap.positions_under(path) for path in _default_paths(defaults)}
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
                    smap.set_key(here, smap.keys.get(("defaults", key)), keep=True)
                if not isinstance(section, dict):
                    continue
                skip = FROM_CHECKPOINT.get(key, ()) if "weights" in section else ()
                for sub, value in default.items():
                    if sub not in section and sub not in skip:
                        section[sub] = value
                        smap.paste((*here, sub), taken["defaults", key, sub])
            elif key not in core and key not in MERGED_SECTIONS:
                core[key] = default
                smap.paste(here, taken["defaults", key])


def _default_paths(defaults: dict[str, Any]) -> list[tuple[str, ...]]:
    """The paths whose positions a core can inherit: each default, and each key of a section."""
    paths: list[tuple[str, ...]] = []
    for key, default in defaults.items():
        paths.append(("defaults", key))
        if key in MERGED_SECTIONS and isinstance(default, dict):
            paths.extend(("defaults", key, sub) for sub in default)
    return paths

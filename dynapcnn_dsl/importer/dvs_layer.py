"""sinabs's DVSLayer, the network's input: known by its class name (its package imports samna,
which this tool never imports), its settings read as the `input:` keys of a DVS input."""

from __future__ import annotations

from typing import Any

from dynapcnn_dsl.importer.graph import Input


def is_dvs(module: Any) -> bool:
    """Whether a module is sinabs's DVSLayer."""
    cls = type(module)
    return cls.__name__ == "DVSLayer" and cls.__module__.startswith("sinabs.")


def dvs_input(module: Any, input_shape: tuple[int, int, int] | None = None) -> Input:
    """The DVS input a sinabs DVSLayer is; `input_shape` (the import's --input-shape, which
    graph_of checked against the layer's size) with 1 channel merges the polarities."""
    c, h, w = input_shape or module.input_shape
    ky, kx = module.get_pooling()
    pool = None if (ky, kx) == (1, 1) else int(kx) if kx == ky else {"x": int(kx), "y": int(ky)}
    crop = None
    (top, bottom), (left, right) = module.get_roi()
    if (top, left) != (0, 0) or (bottom, right) != (h // ky, w // kx):
        crop = {"origin": {"x": int(left), "y": int(top)},
                "size": {"x": int(right - left), "y": int(bottom - top)}}
    flip = module.flip_layer
    flipped = {"x": bool(flip.flip_x), "y": bool(flip.flip_y), "diagonal": bool(flip.swap_xy)} \
        if flip.flip_x or flip.flip_y or flip.swap_xy else None
    return Input((int(c), int(h), int(w)), "dvs", pool, crop, flipped,
                 "merge" if module.merge_polarities or c == 1 else None)


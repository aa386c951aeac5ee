"""Bit-for-bit comparison of our configurations with sinabs 3.1.3's own, for the same model.

sinabs's config builder runs against the samna stand-in (tests/sinabs_samna.py). Our document
goes through the samna bridge into the same stand-in classes, so both sides are compared as the
same objects, field by field (`to_dict`), every tensor entry included.

The fields sinabs never writes are set on both sides the same way before comparing:
- `monitor_enable`: sinabs monitors its exit layers unless told otherwise (`monitor_layers`, in its
  own layer indices), as the importer marks the cores no other core reads `monitor: true`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sinabs_config(backend: Any, model: Any, input_shape: tuple[int, int, int], *,
                  dvs_input: bool = False, cores: list[int] | None = None,
                  monitor: list[Any] | tuple[Any, ...] | None = None,
                  device: str = "speck2fmodule") -> dict[str, Any]:
    """sinabs's configuration for `model`, as a dict of the stand-in's fields.

    `cores`: the physical core of each of sinabs's layers, in the order of its layer indices
    (which follow the model's order); by default sinabs places them itself. `monitor` is copied:
    sinabs rewrites the list it is given in place (-1 becomes the last layer's index). Our placement keeps
    leaky cores off cores 0-1 (the datasheet's advice), sinabs's does not, so the tests pass ours
    (see `placement`)."""
    import contextlib
    import io

    network = backend.DynapcnnNetwork(model, input_shape=input_shape, dvs_input=dvs_input,
                                      discretize=True)
    layer2core: dict[int, int] | str = "auto"
    if cores is not None:
        layer2core = dict(zip(sorted(network.dynapcnn_layers), cores, strict=True))
    with contextlib.redirect_stdout(io.StringIO()):  # sinabs prints "Network is valid"
        config = network.make_config(layer2core_map=layer2core, device=device,
                                     monitor_layers=list(monitor) if monitor is not None else None)
    return config.to_dict()


def placement(document: Any) -> list[int]:
    """Our physical core of each core, in the network file's order."""
    return [core.index for core in document.linked.cores]


def our_config(document: Any) -> dict[str, Any]:
    """Our built document through the samna bridge, as a dict of the stand-in's fields."""
    from dynapcnn_dsl.samna_bridge import to_samna

    data = document.data if hasattr(document, "data") else document
    return to_samna(data).to_dict()


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Every field that differs, as `path: ours != theirs` (tensors: the first entry that does)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = [f"{path}.{k}: only in {'ours' if k in ours else 'sinabs'}"
               for k in sorted(set(ours) ^ set(theirs))]
        for key in sorted(set(ours) & set(theirs)):
            out += differences(ours[key], theirs[key], f"{path}.{key}" if path else key)
        return out
    if isinstance(ours, list) and isinstance(theirs, list) and ours and isinstance(ours[0], dict):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items != {len(theirs)}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(ours, list) or isinstance(theirs, list):
        a, b = np.asarray(ours), np.asarray(theirs)
        if a.shape != b.shape:
            return [f"{path}: shape {list(a.shape)} != {list(b.shape)}"]
        bad = np.argwhere(a != b)
        if bad.size:
            at = tuple(bad[0])
            return [f"{path}{list(map(int, at))}: {a[at]} != {b[at]} ({len(bad)} entries differ)"]
        return []
    return [] if ours == theirs else [f"{path}: {ours!r} != {theirs!r}"]


def imported_build(model: Any, out: Any, **kw: Any) -> tuple[Any, Any]:
    """A torch model imported (keywords as `importer.import_torch` takes them), written to the
    folder `out` and built: (the import's result, the built Document)."""
    from dynapcnn_dsl import importer
    from dynapcnn_dsl.api import build

    result = importer.import_torch(model, **kw)
    assert result.ok, [d.message for d in result.diagnostics]
    return result, build(*importer.write(result, out))

"""samna as sinabs 3.1.3's DynapCNN backend sees it, for the parity tests: the strict double's
configuration classes plus the runtime names sinabs's modules touch when they are imported.

Two conversions sinabs relies on are allowed here (the strict double refuses them): a dict
{x, y} assigned to the DVS layer's pooling, origin, cut and mirror, and a one-element torch bool
tensor assigned to `leak_enable` (the double takes that everywhere).

`sinabs.backend.dynapcnn` imports samna, samnagui, `samna.specksim.nodes`, and names
`samna.device.DeviceInfo` in an annotation. Its config builder then needs only
`samna.<chip>.configuration` and `validate_configuration`, which the strict double provides. The
runtime names (devices, graphs, the GUI, specksim) are here so the import works; using any of
them raises, because there is no chip in a test. The real samna is never installed or imported.

`sinabs_backend()` is a context manager: it puts these modules into sys.modules, imports a fresh
`sinabs.backend.dynapcnn` bound to them, yields it, and takes both away again, so tests that make
samna absent or install their own double are not disturbed.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
import samna_double

OFFLINE = ("the samna stand-in configures only: there is no device, graph, GUI or specksim in "
           "the tests")


class Offline:
    """What a runtime name resolves to: a class whose use raises."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(OFFLINE)

    def __class_getitem__(cls, item: Any) -> type[Offline]:
        return cls


def _offline(name: str) -> types.ModuleType:
    """A module every attribute of which is `Offline` (classes and functions alike)."""
    module = samna_double._module(name, True)
    module.__getattr__ = lambda attr: Offline if not attr.startswith("__") else _missing(name, attr)
    return module


def _missing(module: str, attr: str) -> Any:
    raise AttributeError(f"module {module!r} has no attribute {attr!r}")


def modules() -> dict[str, types.ModuleType]:
    """The strict double's modules plus the runtime ones sinabs imports."""
    mods = samna_double.modules(dict_vectors=True)
    root = mods["samna"]
    for name in ("device", "graph", "ui", "specksim", "specksim.nodes"):
        full = f"samna.{name}"
        mods[full] = _offline(full)
    root.device, root.graph, root.ui = mods["samna.device"], mods["samna.graph"], mods["samna.ui"]
    root.specksim = mods["samna.specksim"]
    root.specksim.nodes = mods["samna.specksim.nodes"]
    # source and sink node classes (BasicSourceNode_speck2f_event_input_event, ...) are runtime
    root.__getattr__ = lambda attr: (Offline if attr.startswith(("BasicSourceNode_", "BasicSinkNode_"))
                                     else _missing("samna", attr))
    mods["samnagui"] = _offline("samnagui")
    return mods


def _drop(prefixes: tuple[str, ...]) -> dict[str, Any]:
    gone = {n: m for n, m in sys.modules.items() if n in prefixes or n.startswith(
        tuple(p + "." for p in prefixes))}
    for name in gone:
        del sys.modules[name]
    return gone


@contextlib.contextmanager
def sinabs_backend() -> Iterator[types.ModuleType]:
    """`sinabs.backend.dynapcnn`, imported against the stand-in, for the duration of the block."""
    pytest.importorskip("sinabs", reason="sinabs 3.1.3 is a test dependency (make test installs it)")
    owned = ("samna", "samnagui", "sinabs.backend.dynapcnn")
    saved = _drop(owned)
    sys.modules.update(modules())
    try:
        import sinabs.backend.dynapcnn as backend

        yield backend
    finally:
        _drop(owned)
        sys.modules.update(saved)
        import sinabs.backend as parent

        if "sinabs.backend.dynapcnn" in saved:
            parent.dynapcnn = saved["sinabs.backend.dynapcnn"]
        elif hasattr(parent, "dynapcnn"):
            del parent.dynapcnn

"""Weights that a notebook already holds: a state_dict, a mapping of names to numpy arrays or
torch tensors, a checkpoint dict holding one (opened at `key`), or an nn.Module.

The result is the same `WeightsFile` a file gives, named `<memory>`, so binding reports the same
diagnostics. Anything else is a diagnostic, never a TypeError. Tensors are converted to numpy
without copying when torch allows it: the later steps never write into them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dynapcnn_dsl.diagnostics import Diagnostic, error, listed
from dynapcnn_dsl.weights.readers import WeightsFile, _lookup, _state_dict_keys, _to_numpy

MEMORY = "<memory>"


def _is_torch(value: Any) -> bool:
    return type(value).__module__.partition(".")[0] == "torch"


def _array(name: str, value: Any) -> tuple[np.ndarray | None, Diagnostic | None]:
    if isinstance(value, np.ndarray):
        return value, None
    if _is_torch(value) and hasattr(value, "detach"):
        if getattr(value, "is_meta", False):      # a shape without values: refused by _to_numpy
            return _to_numpy(name, value, MEMORY)
        try:
            value = value.cpu()
        except (RuntimeError, NotImplementedError, TypeError, ValueError) as exc:
            return None, error(MEMORY, "weights-dtype", f"tensor '{name}' cannot be read as numbers: {exc}",
                               "pass a state_dict of dense tensors that hold their values")
        return _to_numpy(name, value, MEMORY)
    return None, None


def from_memory(obj: Any, *, key: str | None = None) -> tuple[WeightsFile | None, list[Diagnostic]]:
    """The tensors of `obj` by name, or the reason they cannot be used."""
    if hasattr(obj, "state_dict") and callable(obj.state_dict) and not isinstance(obj, Mapping):
        obj = obj.state_dict()  # an nn.Module (or anything that offers its state_dict)
    if not isinstance(obj, Mapping):
        return None, [error(MEMORY, "weights-format", f"weights given as a {type(obj).__name__}, which is "
                            "not a path, a mapping of names to tensors, or an nn.Module",
                            "pass model.state_dict(), the module itself, or a file path")]
    if key is not None:
        found = _lookup(dict(obj), key)
        if found is None:
            return None, [error(MEMORY, "weights-key", f"the checkpoint has no key '{key}'",
                                _options_hint(obj))]
        return from_memory(found)
    tensors: dict[str, np.ndarray] = {}
    bad: list[str] = []
    refused: list[Diagnostic] = []
    for name, value in obj.items():
        array, problem = _array(name, value) if isinstance(name, str) else (None, None)
        if problem is not None:
            refused.append(problem)
        elif array is None:
            bad.append(repr(name))
        else:
            tensors[name] = array
    if refused:
        return None, refused
    if bad:
        nested = [k for k in _state_dict_keys(dict(obj)) if k]
        if nested:
            return None, [error(MEMORY, "weights-key", "the mapping is a checkpoint, not a state_dict",
                                f"name the state_dict with key=: {', '.join(nested)}")]
        return None, [error(
            MEMORY, "weights-format", f"entries {listed(bad, 5)} are not named numpy arrays or "
            "torch tensors", "pass a state_dict: names (str) to tensors")]
    if not tensors:
        return None, [error(MEMORY, "weights-format", "the mapping holds no tensors",
                            "pass model.state_dict() of the trained model")]
    return WeightsFile(MEMORY, "memory", tensors), []


def _options_hint(obj: Mapping[Any, Any]) -> str:
    options = _state_dict_keys(dict(obj))
    return f"state_dicts in this mapping: {', '.join(options)}" if options else \
        "this mapping holds no state_dict under any key"

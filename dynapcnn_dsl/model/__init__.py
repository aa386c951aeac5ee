"""Phase 3: plain data -> a validated `Network` model, or positioned diagnostics."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.load.source import SourceDocument
from dynapcnn_dsl.model.network import DSL_VERSION, Network
from dynapcnn_dsl.strict import data_path, diagnostics_from_error

__all__ = ["DSL_VERSION", "Network", "build_model"]

_SALVAGEABLE = ("defaults", "readout")
"""Optional top-level sections that can be set aside when they are broken."""


def build_model(doc: SourceDocument) -> tuple[Network | None, list[Diagnostic], bool]:
    """Validate the document's data against the language; all structural problems at once.

    Returns (network, diagnostics, complete). When only some cores (or the optional `defaults:`
    and `readout:` sections) are malformed, the network is rebuilt without them so the design
    rules can still check the rest: one run reports every problem. Such a partial network has
    `complete` False and must never be linked or built.
    """
    try:
        return Network.model_validate(doc.data), [], True
    except ValidationError as exc:
        errors = exc.errors()
    diagnostics = diagnostics_from_error(errors, doc.data, Network, doc.source_map)
    salvaged = _without_broken_parts(doc.data, errors)
    if salvaged is None:
        return None, diagnostics, False
    try:
        return Network.model_validate(salvaged), diagnostics, False
    except ValidationError:
        return None, diagnostics, False


def _without_broken_parts(data: Any, errors: list[Any]) -> dict[str, Any] | None:
    """A copy of `data` without the cores and optional sections that failed, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("cores"), dict):
        return None
    broken_cores: set[str] = set()
    broken_sections: set[str] = set()
    for err in errors:
        path, _ = data_path(err["loc"], data)
        if len(path) >= 2 and path[0] == "cores":
            broken_cores.add(str(path[1]))
        elif path and path[0] in _SALVAGEABLE:
            broken_sections.add(str(path[0]))
        else:
            return None  # the chip, the input or the file's frame is broken: nothing to check
    cores = {k: v for k, v in data["cores"].items() if k not in broken_cores}
    if not cores:
        return None
    salvaged = {k: v for k, v in data.items() if k not in broken_sections}
    salvaged["cores"] = cores
    return salvaged

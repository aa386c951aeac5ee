"""Phase 3: plain data -> a validated `Network` model, or positioned diagnostics."""

from __future__ import annotations

from pydantic import ValidationError

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.load.source import SourceDocument
from dynapcnn_dsl.model.errors import diagnostics_from_error
from dynapcnn_dsl.model.network import DSL_VERSION, Network

__all__ = ["DSL_VERSION", "Network", "build_model"]


def build_model(doc: SourceDocument) -> tuple[Network | None, list[Diagnostic]]:
    """Validate the document's data against the language; all structural problems at once."""
    try:
        return Network.model_validate(doc.data), []
    except ValidationError as exc:
        return None, diagnostics_from_error(exc.errors(), doc.data, Network, doc.source_map)

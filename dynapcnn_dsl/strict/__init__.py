"""Strict file models and their errors, shared by the phases that validate a file's structure.

Two phases read a file's structure with pydantic: `expand` (template files and instances) and
`model` (networks). Both use the same strict configuration and turn pydantic's errors into the
same positioned diagnostics, so both live here, below either phase: a phase never imports a
phase that runs after it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from dynapcnn_dsl.strict.errors import data_path, diagnostics_from_error

__all__ = ["StrictModel", "data_path", "diagnostics_from_error"]


class StrictModel(BaseModel):
    """Strict types (YAML already typed them), no unknown keys, immutable once validated."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True,
    )

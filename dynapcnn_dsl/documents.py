"""The configuration document's old home, kept for its importers: the model, reader, writer and
schema live in `dynapcnn_dsl.config`; what is left here is telling a document file from other
JSON by its first bytes, and the tree-level helpers older callers use.

This module imports no phase of the compiler (no network models, no pipeline): diffing two
documents needs only this, config/, chips/ and the diff.
"""

from __future__ import annotations

import json
import os

from dynapcnn_dsl.config.fields import tensors
from dynapcnn_dsl.config.model import FORMAT, TENSORS, VERSION, WEIGHT_FIELDS
from dynapcnn_dsl.config.reader import (
    MAX_ERRORS,
    from_json,
    parse_configuration,
    parse_document,
    read_configuration,
    read_document,
    validate,
)
from dynapcnn_dsl.config.schema import DRAFT, SCHEMA_ID, document_schema, schema_text
from dynapcnn_dsl.config.tree import structure_only, unused_core
from dynapcnn_dsl.config.writer import to_json, to_plain

__all__ = ["DRAFT", "FORMAT", "MAX_ERRORS", "SCHEMA_ID", "TENSORS", "VERSION", "WEIGHT_FIELDS",
           "document_schema", "from_json", "is_document_file", "looks_like_document", "parse_configuration",
           "parse_document", "read_configuration", "read_document", "schema_text", "structure_only",
           "tensors", "to_json", "to_plain", "unused_core", "validate"]


# -- telling a document from other JSON ------------------------------------------------------------

def looks_like_document(head: bytes) -> bool:
    """True when the first bytes of a JSON file carry this tool's `format` header."""
    return json.dumps(FORMAT).encode() in head[:4096]


def is_document_file(path: str | os.PathLike[str]) -> bool:
    """A .json file whose first bytes carry this tool's `format` header (sniffed, not parsed:
    the document is parsed once, by `read_document`)."""
    if not os.fspath(path).lower().endswith(".json"):
        return False
    try:
        with open(path, "rb") as fh:
            return looks_like_document(fh.read(4096))
    except OSError:
        return False


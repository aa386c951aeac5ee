"""The configuration document's old home, kept for its importers: the model, reader, writer and
schema live in `dynapcnn_dsl.config`; what is left here is telling a document file from other
JSON by its first bytes, and the tree-level helpers older callers use.

This module imports no phase of the compiler (no network models, no pipeline): diffing two
documents needs only this, config/, chips/ and the diff.
"""

from __future__ import annotations

import json
import os
import re

from dynapcnn_dsl.config.fields import tensors
from dynapcnn_dsl.config.model import FORMAT, TENSORS, VERSION, WEIGHT_FIELDS, has_header
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


FIRST_KEY = re.compile(rb'\s*\{\s*"format"\s*:\s*"' + re.escape(FORMAT.encode()) + rb'"')
"""A document that opens with its `format` key (build's layout): told without parsing."""

SNIFF_ONLY_ABOVE = 256 * 1024 * 1024
"""A .json file larger than this is told by its first bytes only (never parsed twice)."""


def is_document_file(path: str | os.PathLike[str]) -> bool:
    """A .json file whose top-level object has this tool's `"format"`: decided by content,
    whatever the order of the keys (`jq -S` sorts `format` after the whole `config`, and a
    network's `name` may hold the header's text). A file that is not valid JSON (a damaged
    document, or a network with YAML in it) is told by the header in its first bytes, so a
    damaged document is still reported as one."""
    import orjson

    if not os.fspath(path).lower().endswith(".json"):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            if FIRST_KEY.match(head):        # as build writes it: `format` first, nothing to parse
                return True
            if os.fstat(fh.fileno()).st_size > SNIFF_ONLY_ABOVE:
                return looks_like_document(head)
            raw = head + fh.read()
    except OSError:
        return False
    body = raw.lstrip()
    try:   # no whitespace after the root's bracket: see _parse on orjson's memory pool
        data = orjson.loads(body[:1] + body[1:].lstrip())
    except orjson.JSONDecodeError:
        return looks_like_document(head)
    return has_header(data)


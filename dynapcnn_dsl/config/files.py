"""Telling a configuration document's file from other JSON, by its first bytes or its content.

A `.json` given to `diff`, `simulate` or `evaluate` is a network written in JSON or a document
`build` wrote; the document's `format` header tells them apart (filekinds.py maps the suffix to
both kinds, this module decides). Nothing here parses more than it must: a document as build
writes it is told from its first bytes.
"""

from __future__ import annotations

import json
import os
import re

from dynapcnn_dsl.config.model import FORMAT, has_header


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

    from dynapcnn_dsl.filekinds import DOCUMENT, kinds

    if DOCUMENT not in kinds(path):
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
    try:   # no whitespace after the root's bracket: see reader._parse on orjson's memory pool
        data = orjson.loads(body[:1] + body[1:].lstrip())
    except orjson.JSONDecodeError:
        return looks_like_document(head)
    return has_header(data)

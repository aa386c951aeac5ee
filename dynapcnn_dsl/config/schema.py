"""The draft-07 JSON schema of the configuration document, generated from the typed values.

Each class of `model.py` is an object of the schema, each field a property (its metadata says
what it allows, from the chip facts); fields without a default are required. The CNN layer, the
DVS layer and the readout are definitions, referred to where they are used. The schema is
published as schema/document.schema.json (`make schema` regenerates it; a test keeps it fresh).
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from typing import Any

from dynapcnn_dsl.chips import Limits
from dynapcnn_dsl.config.fields import key_of, obj, tensors
from dynapcnn_dsl.config.model import Configuration

DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_ID = "https://dynapcnn-dsl.dev/schema/document.schema.json"
TITLE = "dynapcnn-dsl configuration document"


def _tensor(axes: int, kind: str, lo: int, hi: int, description: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "boolean"} if kind == "bool" else {"type": "integer", "minimum": lo,
                                                                       "maximum": hi}
    for _ in range(axes):
        node = {"type": "array", "items": node}
    node["description"] = description
    return node


class _Builder:
    """Walks the classes once, collecting the definitions that fields refer to."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.definitions: dict[str, Any] = {}

    def object(self, cls: type, description: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required = []
        for f in fields(cls):
            properties[key_of(f)] = self.field(f)
            if f.default is MISSING:
                required.append(key_of(f))
        return obj(description, properties, required=tuple(required))

    def ref(self, cls: type, name: str) -> dict[str, Any]:
        if name not in self.definitions:
            self.definitions[name] = self.object(cls, cls.DESCRIPTION)  # type: ignore[attr-defined]
        return {"$ref": f"#/definitions/{name}"}

    def field(self, f: Any) -> dict[str, Any]:
        meta = f.metadata
        if "tensor" in meta:
            return _tensor(*tensors()[meta["tensor"]])
        if "node" in meta:
            return self.ref(meta["node"], meta["ref"]) if meta["ref"] else self.object(meta["node"],
                                                                                       meta["description"])
        if "nodes" in meta:
            cls = meta["nodes"]
            item = self.ref(cls, meta["ref"]) if meta["ref"] else self.object(cls, cls.DESCRIPTION)
            if meta["nullable_items"]:
                item = {"anyOf": [{"type": "null"}, item]}
            fewest, most = meta["count"](self.limits)
            array: dict[str, Any] = {"type": "array"}
            if fewest is not None:
                array["minItems"] = fewest
            return {**array, "maxItems": most, "items": item, "description": meta["description"]}
        return meta["schema"](self.limits)


def document_schema() -> dict[str, Any]:
    """The draft-07 schema of a configuration document, from the typed values and the chip facts."""
    from dynapcnn_dsl.chips import shared_limits

    builder = _Builder(shared_limits())
    body = builder.object(Configuration, Configuration.DESCRIPTION)
    return {"$schema": DRAFT, "$id": SCHEMA_ID, "title": TITLE, **body,
            "definitions": builder.definitions}


def schema_text() -> str:
    return json.dumps(document_schema(), indent=2) + "\n"

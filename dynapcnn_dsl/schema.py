"""The JSON schema of network files, generated from the models for editors.

The YAML language server that editors use validates draft-07 only, so pydantic's draft 2020-12
output is lowered: `$defs` becomes `definitions`, a `$ref` with sibling keywords (ignored by
draft-07) is wrapped in `allOf` so its description still shows on hover, and `prefixItems` is
never produced (the models use no tuples). `schema/network.schema.json` is this output,
committed; a test fails when it is stale.
"""

from __future__ import annotations

import json
from typing import Any

DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_ID = "https://dynapcnn-dsl.dev/schema/network.schema.json"
TEMPLATE_SCHEMA_ID = "https://dynapcnn-dsl.dev/schema/template.schema.json"


def _lower(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _lower(v) for k, v in node.items()}
        if "$ref" in node:
            node["$ref"] = node["$ref"].replace("#/$defs/", "#/definitions/")
            if len(node) > 1:
                ref = node.pop("$ref")
                node = {"allOf": [{"$ref": ref}], **node}
        return node
    if isinstance(node, list):
        return [_lower(v) for v in node]
    return node


def _defaultable(definitions: dict[str, Any]) -> None:
    """Fields that `defaults:` can supply are not required in a core as written.

    The tool validates cores after merging `defaults:`; an editor sees the file before, so a
    `kernel` given only under `defaults.conv` must not be flagged as missing there.
    """
    from dynapcnn_dsl.model.network import ConvDefaults, NeuronDefaults

    for section, defaults in (("Conv", ConvDefaults), ("Neuron", NeuronDefaults)):
        node = definitions.get(section, {})
        if "required" in node:
            node["required"] = [f for f in node["required"] if f not in defaults.model_fields]
            if not node["required"]:
                del node["required"]


def _schema(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.pop("$defs", {})
    return raw, definitions


def network_schema() -> dict[str, Any]:
    """The draft-07 JSON schema for network files.

    The models validate a network after templates are expanded; an editor sees it before, so
    a core may also be a template instance ({template, with, to, weights}): `if` it has a
    `template` key, `then` it is one, `else` a core.
    """
    from dynapcnn_dsl.expand.models import TemplateInstance
    from dynapcnn_dsl.model.network import Network

    raw, definitions = _schema(Network)
    instance, more = _schema(TemplateInstance)
    definitions.update(more)
    definitions["TemplateInstance"] = instance
    # Explicit, not `anyOf`: with anyOf a mistake in a core makes an editor report that the core
    # is neither alternative ("Missing property 'template'", every key "not allowed") instead of
    # the mistake itself. A mapping with `template:` is an instance, any other a core.
    raw["properties"]["cores"]["additionalProperties"] = {
        "if": {"required": ["template"]},
        "then": {"$ref": "#/$defs/TemplateInstance"},
        "else": {"$ref": "#/$defs/Core"}}
    _defaultable(definitions)
    body = _lower(raw)
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        **body,
        "definitions": {name: _lower(d) for name, d in sorted(definitions.items())},
    }


def template_schema() -> dict[str, Any]:
    """The draft-07 JSON schema for template files."""
    from dynapcnn_dsl.expand.models import TemplateFile

    raw, definitions = _schema(TemplateFile)
    return {
        "$schema": DRAFT,
        "$id": TEMPLATE_SCHEMA_ID,
        **_lower(raw),
        "definitions": {name: _lower(d) for name, d in sorted(definitions.items())},
    }


def schema_text(kind: str = "network") -> str:
    schema = template_schema() if kind == "template" else network_schema()
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"

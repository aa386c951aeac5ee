"""The schema of network files, read at a path: a key's description, the keys a mapping takes,
the values a setting takes. The same schema editors use (`dynapcnn_dsl.schema`), so the hover
says what the YAML language server would."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from dynapcnn_dsl.load.source import NodePath

IsInstance = Callable[[str], bool]
"""Whether the core of that name is a template instance (its schema is the instance's)."""


@lru_cache(maxsize=2)
def _schema(template: bool = False) -> dict[str, Any]:
    from dynapcnn_dsl.schema import network_schema, template_schema

    return template_schema() if template else network_schema()


def _resolve(node: Any, template: bool = False) -> dict[str, Any]:
    """A node with its `$ref` (also one wrapped in `allOf`) followed; its own description kept."""
    if not isinstance(node, dict):
        return {}
    seen = 0
    while seen < 8:
        seen += 1
        ref = node.get("$ref")
        if ref is None and isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
            ref = node["allOf"][0].get("$ref")
        if not isinstance(ref, str):
            return node
        target = _schema(template)["definitions"].get(ref.rsplit("/", 1)[-1], {})
        own = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
        node = {**target, **own}
    return node


def _alternatives(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [_resolve(a) for key in ("oneOf", "anyOf") for a in node.get(key, [])] or [node]


def _child(node: dict[str, Any], part: str | int, here: NodePath, is_instance: IsInstance,
           ) -> dict[str, Any] | None:
    for alt in _alternatives(node):
        if isinstance(part, int):
            if isinstance(alt.get("items"), dict):
                return _resolve(alt["items"])
            continue
        props = alt.get("properties", {})
        if part in props:
            return _resolve(props[part])
        extra = alt.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            if "if" in extra:  # a core or a template instance
                return _resolve(extra["then"] if is_instance(part) else extra["else"])
            return _resolve(extra)
    return None


def node_at(path: NodePath, is_instance: IsInstance) -> dict[str, Any] | None:
    """The schema of the node at `path`, or None where the schema has nothing to say."""
    node: dict[str, Any] | None = _resolve(_schema())
    for i, part in enumerate(path):
        if node is None:
            return None
        node = _child(node, part, path[:i], is_instance)
    return node


def description(path: NodePath, is_instance: IsInstance, *, template: bool = False) -> str | None:
    """What the key at `path` means; in a template file (`template`), its own keys from the
    template schema, and its cores' keys from the network's (they are cores)."""
    if template and path[:1] != ("cores",):
        node: dict[str, Any] | None = _resolve(_schema(True), True)
        for part in path:
            props = node.get("properties", {}) if node else {}
            extra = node.get("additionalProperties") if node else None
            sub = props.get(part) if isinstance(part, str) else None
            sub = sub if sub is not None else extra  # a parameter's name: any key
            node = _resolve(sub, True) if isinstance(sub, dict) else None
        return node.get("description") if node else None
    node = node_at(path, is_instance)
    return node.get("description") if node else None


def keys(path: NodePath, is_instance: IsInstance) -> dict[str, str]:
    """The keys the mapping at `path` takes, with their descriptions."""
    node = node_at(path, is_instance)
    out: dict[str, str] = {}
    for alt in _alternatives(node or {}):
        for key, sub in alt.get("properties", {}).items():
            out.setdefault(key, _resolve(sub).get("description", ""))
    return out


def values(path: NodePath, is_instance: IsInstance) -> list[str]:
    """The values the setting at `path` takes, as YAML text: its enum, true/false, examples."""
    node = node_at(path, is_instance)
    out: list[str] = []
    for alt in _alternatives(node or {}):
        for value in (*alt.get("enum", ()), *alt.get("examples", ())):
            text = "true" if value is True else "false" if value is False else str(value)
            if text not in out:
                out.append(text)
        if alt.get("type") == "boolean":
            out.extend(v for v in ("true", "false") if v not in out)
    return out

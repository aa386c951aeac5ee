"""The names one network file defines and uses, with where each is written.

Taken from the loaded document *before* the pipeline runs on it: expansion rewrites the data
and the source map in place (an instance becomes its cores, a reference to it the names of its
entry cores), while definition, references and rename work on the names the user wrote.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dynapcnn_dsl.load.source import NodePath, SourceDocument
from dynapcnn_dsl.lsp.text import Span, name_span

REFERENCE_KINDS = ("to", "from", "readout", "input", "entry", "exit")


class Name(NamedTuple):
    """A core name where it is written: its definition (`kind` "core" or "instance") or a
    reference (`kind` one of REFERENCE_KINDS), or a template name (`kind` "template")."""

    name: str
    kind: str
    span: Span
    path: NodePath


class Instance(NamedTuple):
    """A template instance as written: the template's name and the `with:` values."""

    template: str
    params: dict[str, Any]


class Key(NamedTuple):
    """A mapping key where it is written, with its path (for the schema's description)."""

    path: NodePath
    span: Span


class Index(NamedTuple):
    definitions: dict[str, Name]
    references: tuple[Name, ...]
    templates: tuple[Name, ...]
    instances: dict[str, Instance]
    keys: tuple[Key, ...]

    def names_at(self, line: int, char: int) -> Name | None:
        """The definition, reference or template name under the cursor."""
        for n in (*self.definitions.values(), *self.references, *self.templates):
            if n.span.contains(line, char):
                return n
        return None

    def key_at(self, line: int, char: int) -> Key | None:
        return next((k for k in self.keys if k.span.contains(line, char)), None)

    def owner(self, name: str) -> str | None:
        """The core or instance a reference means: itself when defined, else the instance
        whose expansion makes it (`block1.b` is made by `block1`)."""
        if name in self.definitions:
            return name
        head = name.split(".", 1)[0]
        return head if "." in name and head in self.instances else None

    def uses_of(self, name: str) -> list[Name]:
        """Every reference to `name`, and to the cores its expansion makes (`name.x`)."""
        return [r for r in self.references if r.name == name or r.name.startswith(name + ".")]


EMPTY = Index({}, (), (), {}, ())


def index(doc: SourceDocument, lines: list[str]) -> Index:
    """The index of a loaded (not yet expanded) document."""
    data, smap = doc.data, doc.source_map
    if not isinstance(data, dict):
        return EMPTY
    definitions: dict[str, Name] = {}
    references: list[Name] = []
    templates: list[Name] = []
    instances: dict[str, Instance] = {}

    def ref(path: NodePath, value: Any, kind: str) -> None:
        if isinstance(value, dict):
            path, value = (*path, "core"), value.get("core")
        if isinstance(value, str) and value:
            references.append(Name(value, kind, name_span(lines, smap.values.get(path)), path))

    def refs(path: NodePath, values: Any, kind: str) -> None:
        if isinstance(values, list):
            for i, value in enumerate(values):
                ref((*path, i), value, kind)
        elif isinstance(values, str | dict):  # a single name where a list belongs: still a name
            ref(path, values, kind)

    cores = data.get("cores")
    for name, core in (cores.items() if isinstance(cores, dict) else ()):
        path = ("cores", name)
        is_instance = isinstance(core, dict) and "template" in core
        definitions[name] = Name(name, "instance" if is_instance else "core",
                                 name_span(lines, smap.keys.get(path)), path)
        if not isinstance(core, dict):
            continue
        refs((*path, "to"), core.get("to"), "to")
        refs((*path, "from"), core.get("from"), "from")
        if is_instance:
            template = core["template"]
            params = core.get("with")
            instances[name] = Instance(template if isinstance(template, str) else "",
                                       params if isinstance(params, dict) else {})
            if isinstance(template, str):
                tpath = (*path, "template")
                templates.append(Name(template, "template", name_span(lines, smap.values.get(tpath)),
                                      tpath))
    inp = data.get("input")
    if isinstance(inp, dict):
        refs(("input", "to"), inp.get("to"), "input")
    readout = data.get("readout")
    if isinstance(readout, dict):
        ref(("readout", "from"), readout.get("from"), "readout")
    refs(("entry",), data.get("entry"), "entry")  # a template file's entry and exit cores
    ref(("exit",), data.get("exit"), "exit")
    keys = tuple(Key(path, name_span(lines, pos)) for path, pos in smap.keys.items()
                 if path and isinstance(path[-1], str))
    return Index(definitions, tuple(references), tuple(templates), instances, keys)

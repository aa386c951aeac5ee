"""What the editor asks about a checked file, answered from its `Snapshot`.

Plain values in and out (0-based lines, code-point characters, `Span`s): the server turns them
into the protocol's types. Nothing here runs the pipeline: a snapshot is what it found.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.lsp import schema_help
from dynapcnn_dsl.lsp.analysis import Snapshot, is_template
from dynapcnn_dsl.lsp.context import context
from dynapcnn_dsl.lsp.text import Span, name_span, token_span
from dynapcnn_dsl.rules.cores import NAME, RESERVED

DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")


class Edit(NamedTuple):
    span: Span
    text: str


class Completion(NamedTuple):
    label: str
    kind: str          # "core" | "key" | "value" | "template" | "param"
    detail: str = ""


class Fix(NamedTuple):
    title: str
    diagnostic: Diagnostic
    edits: tuple[Edit, ...]
    preferred: bool = True


# ---------------------------------------------------------------------------- finding templates
def find_template(snapshot: Snapshot, name: str, cache: Any = None) -> Any:
    """The template `name` as the pipeline finds it from this file (a `Template`), or None."""
    from dynapcnn_dsl.expand.lookup import Template, TemplateLibrary

    base = snapshot.path.parent
    library = TemplateLibrary(base, [Path(t) for t in snapshot.settings.templates], cache)
    found = library.get(name, base)
    return found if isinstance(found, Template) else None


def template_names(snapshot: Snapshot, cache: Any = None) -> list[str]:
    """Template names a `template:` may take: the `.yaml`/`.yml` files beside the network, in
    the settings' template directories and among the bundled templates that the pipeline
    would take as templates from this file (loaded through `cache`, once)."""
    from dynapcnn_dsl.expand.lookup import bundled_dirs
    from dynapcnn_dsl.filekinds import TEMPLATE, kinds

    dirs = [snapshot.path.parent, *(Path(t) for t in snapshot.settings.templates), *bundled_dirs()]
    names: list[str] = []
    for d in dirs:
        try:
            stems = sorted({f.stem for f in d.iterdir() if TEMPLATE in kinds(f)})
        except OSError:
            continue
        names += [s for s in stems if s not in names and find_template(snapshot, s, cache) is not None]
    return names


# ---------------------------------------------------------------------------------------- hover
def hover(snapshot: Snapshot, line: int, char: int, cache: Any = None) -> tuple[str, Span] | None:
    """Markdown about the name or key under the cursor, and the span it is about."""
    idx = snapshot.index
    name = idx.names_at(line, char)
    if name is not None:
        if name.kind == "template":
            template = find_template(snapshot, name.name, cache)
            return (_template_text(template, None) if template else f"template `{name.name}` "
                    "(not found)"), name.span
        text = _name_text(snapshot, name.name, cache)
        return (text, name.span) if text else None
    key = idx.key_at(line, char)
    if key is None:
        return None
    path = key.path
    if len(path) == 4 and path[0] == "cores" and path[2] == "with" and path[1] in idx.instances:
        about = _param_text(snapshot, str(path[1]), str(path[3]), cache)
    else:
        data = snapshot.result.source.data if snapshot.result.source else None
        about = schema_help.description(path, lambda n: n in idx.instances, template=is_template(data))
    return (f"**{path[-1]}**: {about}", key.span) if about else None


def _param_text(snapshot: Snapshot, instance: str, param: str, cache: Any) -> str | None:
    """A template parameter, as its template declares it (`with:` keys are parameters)."""
    template = find_template(snapshot, snapshot.index.instances[instance].template, cache)
    p = template.model.params.get(param) if template is not None else None
    if p is None:
        return None
    bounds = [f"{p.type}"] + ([f"default `{p.default}`"] if p.default is not None else ["required"])
    if p.min is not None or p.max is not None:
        bounds.append(f"{'' if p.min is None else f'{p.min:g}'}..{'' if p.max is None else f'{p.max:g}'}")
    if p.choices:
        bounds.append("one of " + ", ".join(f"`{c}`" for c in p.choices))
    return f"parameter of template `{template.name}` ({'; '.join(bounds)})" + (
        f": {p.description}" if p.description else "")


def _name_text(snapshot: Snapshot, name: str, cache: Any) -> str | None:
    idx = snapshot.index
    if name in idx.instances:
        inst = idx.instances[name]
        template = find_template(snapshot, inst.template, cache)
        head = f"**{name}**: instance of template `{inst.template}`"
        if template is None:
            return head + " (the template is not found)"
        body = _template_text(template, inst.params)
        made = [c for c in _linked_cores(snapshot) if c["name"].startswith(name + ".")]
        cores = "\n".join(f"- {_core_line(c)}" for c in made) or \
            "\n".join(f"- `{name}.{c}`" for c in template.model.cores)
        return f"{head}\n\n{body}\n\nexpands to:\n{cores}"
    core = next((c for c in _linked_cores(snapshot) if c["name"] == name), None)
    if core is not None:
        return _core_text(snapshot, core)
    linked = snapshot.result.linked
    if name == "readout":
        r = linked.readout if linked is not None else None
        return "**readout**: the chip's readout layer" + (
            f": {r.classes} classes from `{r.source}`" if r else " (see `readout:`)")
    if name == "input" and linked is not None:
        i = linked.input
        targets = ", ".join(f"`{d.target}`" for d in i.destinations)
        return (f"**input**: {i.source} events {i.shape}" + (f" -> {i.output_shape}" if i.output_shape !=
                                                              i.shape else "") + f", to {targets}")
    if name in idx.definitions:
        return f"**{name}**: core (not linked: the file has errors, or the network is not placed)"
    return None


def _linked_cores(snapshot: Snapshot) -> list[dict[str, Any]]:
    linked = snapshot.result.linked
    if linked is None:
        return []
    from dynapcnn_dsl.report.inspect import inspect_data

    return inspect_data(linked)["cores"]


def _core_line(core: dict[str, Any]) -> str:
    return (f"`{core['name']}` on core {core['index']}: {core['input_shape']} -> "
            f"{[core['out_features'], *core['output_shape'][1:]]}")


def _core_text(snapshot: Snapshot, core: dict[str, Any]) -> str:
    linked = snapshot.result.linked
    assert linked is not None
    pin = " (pinned)" if core["pinned"] else ""
    lines = [f"**{core['name']}**: physical core {core['index']}{pin} of {linked.chip.id}", "",
             f"- input {core['input_shape']}, conv {core['out_features']} features, kernel "
             f"{core['kernel']}, stride {core['stride']}, padding {core['padding']}, output "
             f"{[core['out_features'], *core['output_shape'][1:]]}"]
    memory = "; ".join(f"{kind} {int(m['used'])} of {int(m['available'])} ({m['percent']:g}%)"
                       for kind, m in core["memory"].items())
    lines.append(f"- memory: {memory}")
    for d in core["destinations"]:
        extras = [f"pool {d['pool']}"] if d["pool"] != 1 else []
        if d["feature_shift"]:
            extras.append(f"feature shift {d['feature_shift']}")
        lines.append(f"- to `{d['core']}` (layer {d['layer']}, slot {d['slot']})"
                     + (f": {', '.join(extras)}" if extras else ""))
    if len(core["sources"]) > 1:
        sources = ", ".join(f"`{s['core']}`" + (f" (shift {s['feature_shift']})"
                                                 if s["feature_shift"] else "") for s in core["sources"])
        lines.append(f"- merges ({core['merge']}): {sources}")
    elif core["sources"]:
        lines.append(f"- from `{core['sources'][0]['core']}`")
    return "\n".join(lines)


def _template_text(template: Any, given: dict[str, Any] | None) -> str:
    model = template.model
    lines = [f"template `{template.name}` ({template.path})"]
    if model.description:
        lines.append(f"\n{model.description}")
    if model.params:
        lines.append("\nparameters:")
        for key, p in model.params.items():
            value = (given or {}).get(key, p.default)
            shown = "**required**" if value is None else f"`{value}`"
            lines.append(f"- `{key}` ({p.type}) = {shown}" + (f": {p.description}" if p.description else ""))
    return "\n".join(lines)


# ------------------------------------------------------------------- definition and references
def definition(snapshot: Snapshot, line: int, char: int, cache: Any = None) -> list[tuple[Path, Span]]:
    name = snapshot.index.names_at(line, char)
    if name is None:
        return []
    if name.kind == "template":
        template = find_template(snapshot, name.name, cache)
        return [(template.path, Span(0, 0, 0))] if template else []
    owner = snapshot.index.owner(name.name)
    if owner is None:
        return []
    if owner != name.name:  # `block1.b`: core b of block1's template, in the template file
        made = _template_core(snapshot, owner, name.name[len(owner) + 1:], cache)
        if made is not None:
            return [made]
    return [(snapshot.path, snapshot.index.definitions[owner].span)]


def _template_core(snapshot: Snapshot, instance: str, core: str, cache: Any) -> tuple[Path, Span] | None:
    """Where the template of `instance` defines `core` (for a one-level name such as `b`)."""
    template = find_template(snapshot, snapshot.index.instances[instance].template, cache)
    if template is None:
        return None
    pos = template.doc.source_map.keys.get(("cores", core))
    if pos is None:
        return None
    return template.path, Span(pos.line - 1, pos.col - 1, pos.col - 1 + len(core))


def references(snapshot: Snapshot, line: int, char: int, *, declaration: bool = True,
               ) -> list[tuple[Path, Span]]:
    idx = snapshot.index
    name = idx.names_at(line, char)
    if name is None:
        return []
    if name.kind == "template":
        return [(snapshot.path, t.span) for t in idx.templates if t.name == name.name]
    owner = idx.owner(name.name)
    if owner is None:
        return []
    spans = [r.span for r in idx.uses_of(owner) if idx.owner(r.name) == owner]
    if declaration:
        spans.insert(0, idx.definitions[owner].span)
    return [(snapshot.path, s) for s in spans]


# --------------------------------------------------------------------------------------- rename
def rename_target(snapshot: Snapshot, line: int, char: int) -> tuple[str, Span] | None:
    """The core (or instance) a rename at the cursor renames, and the span of the name there."""
    name = snapshot.index.names_at(line, char)
    if name is None or name.kind == "template":
        return None
    owner = snapshot.index.owner(name.name)
    if owner is None or owner != name.name:  # `block1.b` is renamed by renaming `block1`
        return None
    return owner, name.span


def rename(snapshot: Snapshot, line: int, char: int, new: str) -> list[Edit]:
    """Edits renaming the core under the cursor everywhere it is named; ValueError when `new`
    cannot name it."""
    target = rename_target(snapshot, line, char)
    if target is None:
        raise ValueError("no core name here to rename")
    old = target[0]
    idx = snapshot.index
    if new in RESERVED or not all(NAME.match(p) for p in new.split(".")):  # the core-name rule's
        raise ValueError(f"'{new}' is not a valid core name: letters, digits, '_' and '-', "
                         "starting with a letter or '_', not 'readout' or 'input'")
    if new != old and new in idx.definitions:
        raise ValueError(f"a core named '{new}' already exists")
    edits = [Edit(idx.definitions[old].span, new)]
    edits += [Edit(r.span, new + r.name[len(old):]) for r in idx.uses_of(old) if idx.owner(r.name) == old]
    return edits


# ----------------------------------------------------------------------------------- completion
def _wants_core(path: tuple[Any, ...]) -> bool:
    """Whether a value at `path` is a core name: in `to:` and `from:` lists, `input.to` and
    `readout.from` (also as `{core: ...}`)."""
    tail = tuple(p for p in path if not isinstance(p, int))
    if tail[-1:] == ("core",):
        tail = tail[:-1]
    if tail in (("input", "to"), ("readout", "from")):
        return True
    return len(tail) == 3 and tail[0] == "cores" and tail[2] in ("to", "from")


def completion(snapshot: Snapshot, lines: list[str], line: int, char: int,
               cache: Any = None) -> list[Completion]:
    """What may be written at the cursor: core names where a core is expected, keys where a
    key is, a setting's values, template names and a template's parameters."""
    ctx = context(lines, line, char)
    if ctx is None:
        return []
    idx = snapshot.index
    path = ctx.path
    if ctx.wants == "value":
        if _wants_core(path):
            names = list(idx.definitions)
            names += [n for n in snapshot.made if n not in names]
            if tuple(p for p in path if not isinstance(p, int))[-1:] != ("from",) and path[:1] == ("cores",):
                names.append("readout")
            return [Completion(n, "core", _kind_of(snapshot, n)) for n in names]
        if path[:1] == ("cores",) and path[-1:] == ("template",):
            return [Completion(n, "template", "template") for n in template_names(snapshot, cache)]
        return [Completion(v, "value", "") for v in
                schema_help.values(tuple(path), lambda n: n in idx.instances)]
    if len(path) == 3 and path[0] == "cores" and path[2] == "with" and path[1] in idx.instances:
        template = find_template(snapshot, idx.instances[path[1]].template, cache)
        if template is None:
            return []
        return [Completion(k, "param", p.description or p.type) for k, p in template.model.params.items()]
    if len(path) == 2 and path[0] == "cores" and path[1] not in idx.definitions:
        path = (*path[:1], "")  # a core being written: a core's keys
    keys = schema_help.keys(tuple(path), lambda n: n in idx.instances)
    return [Completion(k, "key", about) for k, about in keys.items()]


def _kind_of(snapshot: Snapshot, name: str) -> str:
    if name == "readout":
        return "the readout layer"
    if name in snapshot.index.instances:
        return f"instance of {snapshot.index.instances[name].template}"
    core = next((c for c in _linked_cores(snapshot) if c["name"] == name), None)
    return f"core {core['index']}" if core else "core"


# ------------------------------------------------------------------------------------ quick fixes
def fixes(snapshot: Snapshot, diagnostics: list[Diagnostic]) -> list[Fix]:
    """A quick fix for each diagnostic whose hint has one obvious edit: a did-you-mean, and a
    few others whose hint names the one value to write."""
    out: list[Fix] = []
    lines = snapshot.lines
    for d in diagnostics:
        if d.file != snapshot.file or d.position is None:
            continue
        hint = d.hint or ""
        match = DID_YOU_MEAN.search(hint)
        if match:
            word = match.group(1)
            out.append(Fix(f"Change to '{word}'", d, (Edit(name_span(lines, d.position), word),)))
        elif d.code == "dsl-version":
            out.append(Fix("Write `dsl: 1`", d, (Edit(token_span(lines, d.position), "1"),)))
        elif d.code == "readout-errata":
            out.append(Fix("Keep `errata_remap: true`", d, (Edit(token_span(lines, d.position), "true"),)))
        elif d.code == "yaml-tag":
            span = token_span(lines, d.position)
            text = lines[span.line]
            end = span.end + (len(text[span.end:]) - len(text[span.end:].lstrip(" ")))
            out.append(Fix("Remove the tag", d, (Edit(Span(span.line, span.start, end), ""),)))
        elif d.code == "core-name" and (m := re.search(r"e\.g\. '([^']+)'", hint)):
            span = name_span(lines, d.position)
            try:
                edits = rename(snapshot, span.line, span.start, m.group(1))
            except ValueError:
                continue
            out.append(Fix(f"Rename the core to '{m.group(1)}'", d, tuple(edits)))
    return out

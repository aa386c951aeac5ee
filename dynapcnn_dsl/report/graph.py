"""The core graph as Graphviz DOT and as Mermaid (which GitHub renders in Markdown).

Nodes are the input, each core (with its physical core and shapes) and the readout; edges are
destination links labelled with their pooling and feature shift when they are not 1 and 0.
"""

from __future__ import annotations

from dynapcnn_dsl.chips import INPUT, READOUT
from dynapcnn_dsl.link.data import Link, LinkedNetwork


def _edge_label(link: Link) -> str:
    parts = []
    if link.pool != 1:
        parts.append(f"pool {link.pool}")
    if link.feature_shift:
        parts.append(f"shift {link.feature_shift}")
    return ", ".join(parts)


def _links(linked: LinkedNetwork) -> list[Link]:
    return [*linked.input.destinations, *(d for c in linked.cores for d in c.destinations)]


def _node_id(name: str) -> str:
    """An identifier both formats accept (template names contain dots)."""
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _node_ids(names: list[str]) -> dict[str, str]:
    """One distinct identifier per node: `a-b` and `a_b` would both be `n_a_b`, so a later
    name whose identifier is taken gets the first free `_2`, `_3`... suffix."""
    wanted = {name: _node_id(name) for name in names}
    taken = set(wanted.values())
    ids: dict[str, str] = {}
    for name, base in wanted.items():
        ident, n = base, 1
        while ident in ids.values() or (ident != base and ident in taken):
            n += 1
            ident = f"{base}_{n}"
        ids[name] = ident
    return ids


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_quote(*lines: str) -> str:
    """A DOT string; several lines are joined with DOT's own line break, `\\n`."""
    return '"' + "\\n".join(_dot_escape(line) for line in lines) + '"'


def _labels(linked: LinkedNetwork) -> dict[str, list[str]]:
    """Node labels as lines of text, shared by both formats."""
    inp = linked.input
    labels = {INPUT: [f"input ({inp.source})", str(inp.output_shape)]}
    for c in linked.cores:
        out = c.output_shape._replace(features=c.out_features)
        labels[c.name] = [c.name, f"core {c.index}", f"{c.input_shape} -> {out}"]
    if linked.readout is not None:
        labels[READOUT] = ["readout", f"{linked.readout.classes} classes"]
    return labels


def to_dot(linked: LinkedNetwork) -> str:
    lines = [f"digraph {_dot_quote(linked.name or 'network')} {{", "  rankdir=LR;",
             '  node [shape=box, fontname="Helvetica"];']
    labels = _labels(linked)
    ids = _node_ids(list(labels))
    for name, label in labels.items():
        shape = "box" if name not in (INPUT, READOUT) else "ellipse"
        lines.append(f"  {ids[name]} [shape={shape}, label={_dot_quote(*label)}];")
    for link in _links(linked):
        label = _edge_label(link)
        attrs = f" [label={_dot_quote(label)}]" if label else ""
        lines.append(f"  {ids[link.source]} -> {ids[link.target]}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(linked: LinkedNetwork) -> str:
    lines = ["flowchart LR"]
    labels = _labels(linked)
    ids = _node_ids(list(labels))
    for name, label in labels.items():
        text = _mermaid_text("<br/>".join(label))
        lines.append(f"  {ids[name]}([{text}])" if name in (INPUT, READOUT) else f"  {ids[name]}[{text}]")
    for link in _links(linked):
        label = _edge_label(link)
        arrow = f" -->|{_mermaid_text(label)}| " if label else " --> "
        lines.append(f"  {ids[link.source]}{arrow}{ids[link.target]}")
    return "\n".join(lines) + "\n"

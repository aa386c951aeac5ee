"""Resolve names into a graph of links: who sends to whom, in what order, and what loops.

The graph keeps unresolved references as data (`unknown`) instead of failing, so the link rules
can report every dangling name with a did-you-mean in one run.
"""

from __future__ import annotations

from typing import NamedTuple

from dynapcnn_dsl.chips import INPUT, READOUT
from dynapcnn_dsl.link.data import Link
from dynapcnn_dsl.load.source import NodePath
from dynapcnn_dsl.model.network import Network


class Reference(NamedTuple):
    """A name used in the file, where, and in what role."""

    name: str
    path: NodePath
    role: str  # "to" | "input-to" | "from" | "readout-from"


class Graph(NamedTuple):
    links: tuple[Link, ...]              # every resolved link, input first, then by core
    unknown: tuple[Reference, ...]       # names that resolve to nothing
    readout_links: tuple[Link, ...]      # links into the readout (0 or 1 when consistent)
    incoming: dict[str, tuple[Link, ...]]
    outgoing: dict[str, tuple[Link, ...]]
    reachable: frozenset[str]            # cores reached from the input
    order: tuple[str, ...]               # reachable cores, each after all its (non-loop) sources
    back_edges: tuple[Link, ...]         # links that close a cycle


def resolve(network: Network) -> Graph:
    cores = network.cores
    links: list[Link] = []
    unknown: list[Reference] = []

    for i, ref in enumerate(network.input.to):
        path = ("input", "to", i)
        if ref.core in cores:
            links.append(Link(INPUT, ref.core, i, 1, 0, path))
        else:
            unknown.append(Reference(ref.core, ref.name_path(path), "input-to"))

    readout_from = network.readout.from_ if network.readout is not None else None
    for source, core in cores.items():
        slot = 0
        for i, ref in enumerate(core.to):
            path = ("cores", source, "to", i)
            if ref.core == READOUT or ref.core in cores:
                links.append(Link(source, ref.core, i, ref.pool, ref.feature_shift, path, ref.average))
            else:
                unknown.append(Reference(ref.core, ref.name_path(path), "to"))
            slot = i + 1
        listed = any(ref.core == READOUT for ref in core.to)
        if source == readout_from and not listed:
            # `readout: {from: X}` implies X's next free destination slot (layer 12).
            links.append(Link(source, READOUT, slot, 1, 0, ("readout", "from")))

    if readout_from is not None and readout_from not in cores:
        unknown.append(Reference(readout_from, ("readout", "from"), "readout-from"))
    for target, core in cores.items():
        for i, name in enumerate(core.from_ or []):
            if name != INPUT and name not in cores:
                unknown.append(Reference(name, ("cores", target, "from", i), "from"))

    incoming: dict[str, list[Link]] = {name: [] for name in cores}
    outgoing: dict[str, list[Link]] = {name: [] for name in (INPUT, *cores)}
    for link in links:
        outgoing[link.source].append(link)
        if link.target != READOUT:
            incoming[link.target].append(link)

    reachable, order, back_edges = _walk(cores, outgoing)
    return Graph(
        links=tuple(links),
        unknown=tuple(unknown),
        readout_links=tuple(link for link in links if link.target == READOUT),
        incoming={k: tuple(v) for k, v in incoming.items()},
        outgoing={k: tuple(v) for k, v in outgoing.items()},
        reachable=frozenset(reachable),
        order=tuple(order),
        back_edges=tuple(back_edges),
    )


def _walk(cores: dict, outgoing: dict[str, list[Link]]) -> tuple[set[str], list[str], list[Link]]:
    """Depth-first walks from the input, then from every core not yet seen (so loops in
    unreachable parts are found too). Returns the cores reached from the input, those cores in
    topological order (ignoring loop-closing links), and the loop-closing links."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    postorder: list[str] = []
    back: list[Link] = []

    def visit(start: str) -> None:
        stack = [(start, iter(outgoing.get(start, ())))]
        state[start] = 1
        while stack:
            node, edges = stack[-1]
            for link in edges:
                t = link.target
                if t == READOUT:
                    continue
                if state.get(t) == 1:
                    back.append(link)
                elif t not in state:
                    state[t] = 1
                    stack.append((t, iter(outgoing.get(t, ()))))
                    break
            else:
                stack.pop()
                state[node] = 2
                postorder.append(node)

    visit(INPUT)
    reachable = {n for n in postorder if n != INPUT}
    order = [n for n in reversed(postorder) if n != INPUT]
    for name in cores:
        if name not in state:
            visit(name)
    return reachable, order, back

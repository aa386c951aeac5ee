"""Link-stage rules about names and the shape of the core graph: dangling references, `from:`
lists that disagree with the links, the readout's source, loops and unreachable cores."""

from __future__ import annotations

from collections.abc import Iterator

from dynapcnn_dsl.chips import INPUT, READOUT
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.link.context import LinkContext
from dynapcnn_dsl.rules.registry import LINK, Finding, rule
from dynapcnn_dsl.suggest import did_you_mean


def _names(ctx: LinkContext, *extra: str) -> list[str]:
    return [*ctx.network.cores, *extra]


@rule("dest-unknown", Severity.ERROR, "name a core declared under `cores:` (or `readout`)", stage=LINK)
def dest_unknown(ctx: LinkContext) -> Iterator[Finding]:
    """Every destination names a declared core (or the readout)."""
    for ref in ctx.graph.unknown:
        if ref.role in ("to", "input-to"):
            extra = (READOUT,) if ref.role == "to" else ()
            who = "the input" if ref.role == "input-to" else f"core '{ref.path[1]}'"
            yield Finding(ref.path, f"{who} sends to '{ref.name}', which is not a core",
                          hint=did_you_mean(ref.name, _names(ctx, *extra)))


@rule("from-unknown", Severity.ERROR, "list cores declared under `cores:` (or `input`)", stage=LINK)
def from_unknown(ctx: LinkContext) -> Iterator[Finding]:
    """Every `from:` entry names a declared core or the input."""
    for ref in ctx.graph.unknown:
        if ref.role == "from":
            yield Finding(ref.path, f"core '{ref.path[1]}' lists '{ref.name}' in `from:`, which "
                          "is not a core", hint=did_you_mean(ref.name, _names(ctx, INPUT)))


@rule("readout-from-unknown", Severity.ERROR, "name the core whose output features are the classes",
      stage=LINK)
def readout_from_unknown(ctx: LinkContext) -> Iterator[Finding]:
    """The readout reads from a declared core."""
    for ref in ctx.graph.unknown:
        if ref.role == "readout-from":
            yield Finding(ref.path, f"the readout reads from '{ref.name}', which is not a core",
                          hint=did_you_mean(ref.name, _names(ctx)))


@rule("readout-missing", Severity.ERROR,
      "add a `readout:` section (from, classes), or remove `readout` from `to:`", stage=LINK)
def readout_missing(ctx: LinkContext) -> Iterator[Finding]:
    """Sending to `readout` needs a `readout:` section that says how many classes it has."""
    if ctx.network.readout is None:
        for link in ctx.graph.readout_links:
            yield Finding(link.path, f"core '{link.source}' sends to the readout, but the file has "
                          "no `readout:` section")


@rule("readout-conflict", Severity.ERROR,
      "the readout reads one core: send only that core to `readout`", stage=LINK)
def readout_conflict(ctx: LinkContext) -> Iterator[Finding]:
    """Only the core named in `readout.from` may send to the readout."""
    r = ctx.network.readout
    if r is None or r.from_ not in ctx.network.cores:
        return  # an unknown source is readout-from-unknown's to report
    for link in ctx.graph.readout_links:
        if link.source != r.from_:
            yield Finding(link.path, f"core '{link.source}' sends to the readout, which reads from "
                          f"'{r.from_}'", related=((("readout", "from"), "the readout's source"),))


@rule("from-mismatch", Severity.ERROR,
      "`from:` lists exactly the cores whose `to:` names this core", stage=LINK)
def from_mismatch(ctx: LinkContext) -> Iterator[Finding]:
    """A `from:` list and the links into a core agree: the list orders the sources, it cannot
    add or drop one."""
    for name, core in ctx.network.cores.items():
        if core.from_ is None:
            continue
        senders = [link.source for link in ctx.graph.incoming.get(name, ())]
        for i, src in enumerate(core.from_):
            known = src == INPUT or src in ctx.network.cores
            if known and src not in senders:
                who = "the input does" if src == INPUT else f"'{src}' does"
                yield Finding(("cores", name, "from", i),
                              f"core '{name}' lists '{src}' in `from:`, but {who} not send to it")
        for link in ctx.graph.incoming.get(name, ()):
            if link.source not in core.from_:
                yield Finding(("cores", name, "from"),
                              f"core '{link.source}' sends to '{name}' but is missing from its "
                              "`from:` list", at_key=True, related=((link.path, "sent from here"),))


@rule("recurrent", Severity.ERROR,
      "remove the loop, or set `allow_recurrent: true` if it is intended (it may deadlock the chip)",
      stage=LINK)
def recurrent(ctx: LinkContext) -> Iterator[Finding]:
    """A loop between cores (or a core to itself) needs an explicit opt-in."""
    if not ctx.network.allow_recurrent:
        for link in ctx.graph.back_edges:
            yield Finding(link.path, _loop(link.source, link.target))


@rule("recurrent-allowed", Severity.WARNING,
      "loops may deadlock the chip when events circulate faster than they drain", stage=LINK)
def recurrent_allowed(ctx: LinkContext) -> Iterator[Finding]:
    """With `allow_recurrent: true` a loop is accepted, and still pointed out."""
    if ctx.network.allow_recurrent:
        for link in ctx.graph.back_edges:
            yield Finding(link.path, _loop(link.source, link.target))


def _loop(source: str, target: str) -> str:
    if source == target:
        return f"core '{source}' sends to itself"
    return f"core '{source}' sends back to '{target}', closing a loop"


@rule("core-unreachable", Severity.WARNING,
      "connect the core to the input through `to:` lists, or remove it", stage=LINK)
def core_unreachable(ctx: LinkContext) -> Iterator[Finding]:
    """A core no event can reach is left out of the build. (Not reported while a destination
    is dangling: reachability then follows from the mistake, and dest-unknown names it.)"""
    if any(ref.role in ("to", "input-to") for ref in ctx.graph.unknown):
        return
    for name in ctx.network.cores:
        if name not in ctx.graph.reachable:
            yield Finding(("cores", name), f"core '{name}' receives no events from the input: it is "
                          "left out of the build", at_key=True)

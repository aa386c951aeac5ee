"""From a model graph to the network language: which operations become which core, and why
the others cannot be on the chip.

A core is exactly convolution -> (folded BatchNorm) -> neuron -> per-destination pooling. So
every Conv2d or Linear starts a core, its BatchNorm and neuron must follow it directly, and
everything between one core's neuron and the next convolution (poolings, `+`, `torch.cat`,
flatten) must be something a destination link can do: sum pooling (averaging scales the
receiver), a sum at the receiver's input, or a concatenation by feature shift. Whatever is left
is reported with the module that did it and the reason, every problem in one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dynapcnn_dsl.chips import shared_limits
from dynapcnn_dsl.diagnostics import Diagnostic, Position, Severity
from dynapcnn_dsl.importer.graph import (
    COMPUTE,
    IAF,
    LINKS,
    Add,
    AvgPool,
    BatchNorm,
    Cat,
    Conv,
    Flatten,
    Input,
    Linear,
    ModelGraph,
    Node,
    Other,
    Pool,
    ReLU,
)
from dynapcnn_dsl.importer.plan import Dest, Plan, PlannedCore

RELU_NOTE = ("ReLU: an ANN converted as sinabs.from_model does (spike_threshold 1.0, "
             "min_v_mem -1.0, subtract)")


@dataclass(frozen=True)
class Term:
    """One source of a core's input: a core (or `input`), pooled by `pool` on the way."""

    source: str
    pool: int = 1
    average: bool = False


class _Mapper:
    def __init__(self, graph: ModelGraph, chip: str) -> None:
        self.g = graph
        self.chip = chip
        self.limits = shared_limits()            # the chip facts: cores, destinations per core
        self.readers = graph.consumers()
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[tuple[str, str]] = set()
        self.owner: dict[str, str] = {}          # conv/bn/neuron node -> the core computing it
        self.used_links: set[str] = set()
        self.chains: dict[str, tuple[Node | None, Node | None]] = {}
        self.input_pool = 1
        self.too_many_shared = False             # refused for its calls: fan-outs follow from it

    # -- reporting ---------------------------------------------------------------------------
    def report(self, code: str, node: Node, message: str, hint: str,
               severity: Severity = Severity.ERROR) -> None:
        if (code, node.name) in self.reported:
            return
        self.reported.add((code, node.name))
        file, line = self.g.source, None
        if node.where:
            head, _, tail = node.where.rpartition(":")
            if tail.isdigit():
                file, line = head, int(tail)
        self.diagnostics.append(Diagnostic(file, Position(line, 1) if line else None, severity,
                                           code, message.replace("{node}", node.label), hint))

    # -- cores -------------------------------------------------------------------------------
    def core_chain(self, compute: Node) -> tuple[Node | None, Node | None]:
        """The BatchNorm and neuron that follow a conv or linear, reporting what else does."""
        bn, neuron, readers = chain(self.readers, compute)
        node = bn or compute
        if neuron is None and readers and not all(isinstance(r.op, Other) for r in readers):
            # (a refused operation after the convolution, a LIF say, is reported as itself)
            names = ", ".join(r.label for r in readers)
            self.report("import-no-neuron", node, "{node} feeds " + names + " with no neuron "
                        "in between: on the chip a core is convolution -> neuron, and only "
                        "spikes travel between cores",
                        "put a spiking layer (sinabs IAF, or ReLU for an ANN to convert) right "
                        "after each convolution and its BatchNorm; two convolutions in a row "
                        "can be fused into one by hand")
        return bn, neuron

    def check_node(self, node: Node) -> None:
        """Refusals that depend on one node alone."""
        op = node.op
        if isinstance(op, Other) and not node.inputs and not self.readers[node.name] \
                and node.name not in self.g.outputs:
            return   # a constant made and never used (snnTorch's init_leaky()): nothing runs
        if isinstance(op, Other):
            self.report("import-unsupported", node, "{node} cannot run on the chip: " + op.why,
                        "leave it out of the part of the model that goes on the chip"
                        if op.hint is None else op.hint)
        elif isinstance(op, Conv):
            kh, kw = op.kernel
            if kh != kw:
                self.report("import-kernel", node, f"{{node}} has a {kh}x{kw} kernel; the chip's "
                            "kernels are square", "use a square kernel (pad the smaller side "
                            "with zero weights)")
            if tuple(op.dilation) != (1, 1):
                self.report("import-kernel", node, "{node} is dilated; the chip's convolutions "
                            "are not", "write the dilated kernel out as a larger one with zeros")
            if op.groups != 1:
                self.report("import-kernel", node, f"{{node}} has groups={op.groups}; the "
                            "chip's convolutions connect every input feature",
                            "write the grouped kernel out as a full one with zeros")
        elif isinstance(op, Pool):
            kh, kw = op.kernel
            if kh != kw or tuple(op.stride) != (kh, kw):
                self.report("import-pool", node, f"{{node}} pools {kh}x{kw} with stride "
                            f"{tuple(op.stride)}; the chip pools square windows with stride "
                            "equal to the window", "use a square pooling whose stride is its size")
        elif isinstance(op, Linear) and op.in_map[0] != op.in_map[1]:
            h, w = op.in_map
            self.report("import-kernel", node, f"{{node}} reads a {h}x{w} map: as a core its "
                        f"kernel would be {h}x{w}, and the chip's kernels are square",
                        "make the map square before the flatten (crop or pad)")
        elif isinstance(op, Cat) and op.dim not in (1, -3):
            self.report("import-merge", node, f"{{node}} concatenates along dim {op.dim}; "
                        "the chip concatenates features (dim 1)", "concatenate along dim=1")

    # -- what reaches a core's input -----------------------------------------------------------
    def resolve(self, name: str, consumer: Node, pool: int = 1, average: bool | None = None,
                inside: str | None = None) -> list[Term] | None:
        """The sources of a value, as (core, pooling) terms; None when it cannot be a link."""
        node = self.g.node(name)
        op = node.op
        if isinstance(op, IAF | ReLU):
            core = self.owner.get(node.name)
            if core is None:
                return None  # reported as a neuron that follows no convolution
            return [Term(core, pool, bool(average))]
        if isinstance(op, Input):
            return [Term("input", pool, bool(average))]
        if isinstance(op, Pool):
            self.used_links.add(name)
            is_avg = isinstance(op, AvgPool)
            if average is not None and average != is_avg:
                self.report("import-pool", node, "{node} mixes average and sum pooling on one "
                            "path; a chip destination pools once, summing, and `average` scales "
                            "the receiver by one factor", "use one kind of pooling on each path")
                return None
            k = op.kernel[0]
            return self.resolve(node.inputs[0], consumer, pool * k, is_avg, inside)
        if isinstance(op, Flatten):
            self.used_links.add(name)
            return self.resolve(node.inputs[0], consumer, pool, average, inside)
        if isinstance(op, Add | Cat):
            self.used_links.add(name)
            if inside is not None and inside != op.word:
                self.report("import-merge", node, "{node} is nested in a "
                            f"{'sum' if inside == 'add' else 'concatenation'}: a core's input is "
                            "either a sum or a concatenation of its sources",
                            "give the inner combination its own core")
                return None
            terms: list[Term] = []
            for i in node.inputs:
                got = self.resolve(i, consumer, pool, average, op.word)
                if got is None:
                    return None
                terms += got
            return terms
        return None  # conv / bn / other: reported where they are

    # -- the whole graph -----------------------------------------------------------------------
    def run(self) -> Plan | None:
        g = self.g
        for node in g.nodes:
            self.check_node(node)
        computes = [n for n in g.nodes if isinstance(n.op, COMPUTE)]
        names = core_names(computes)
        chains = self.chains
        for c in computes:
            bn, neuron = self.core_chain(c)
            chains[c.name] = (bn, neuron)
            for part in (c, bn, neuron):
                if part is not None:
                    self.owner[part.name] = names[c.name]
        for node in g.nodes:
            if isinstance(node.op, BatchNorm) and node.name not in self.owner:
                self.report("import-batchnorm", node, "{node} follows no convolution directly, "
                            "so it cannot be folded into one", "put the BatchNorm right after a "
                            "Conv2d (before its neuron)")
            if isinstance(node.op, IAF | ReLU) and node.name not in self.owner \
                    and not self.reads_refused(node):
                self.report("import-no-neuron", node, "{node} follows no convolution: a chip "
                            "neuron sits right after its core's convolution (and BatchNorm)",
                            "a sum of convolution outputs before one neuron is not a core: sum "
                            "spikes instead (after each convolution's own neuron)")
        self.shared(computes)
        inputs: dict[str, tuple[str | None, list[Term]]] = {}
        for c in computes:
            terms = self.resolve(c.inputs[0], c)
            if terms is None:
                continue
            add_or_cat = self.combiner(c.inputs[0])
            inputs[names[c.name]] = (add_or_cat, terms)
        dangling = {n.name for n in g.nodes if isinstance(n.op, LINKS) and n.name not in self.used_links
                    and not self.after_refusal(n)}
        for node in g.nodes:
            # the outermost of nested sums only (`a + b + c` is one mistake)
            if node.name in dangling and not any(r.name in dangling for r in self.readers[node.name]):
                self.report("import-dangling", node, "{node} is not followed by a convolution: "
                            "the chip pools, sums and concatenates only on the way into a core",
                            "end the model with a core's neuron (its spikes are the output), or "
                            "leave this operation to the host")
        dests = self.destinations(computes, names, inputs)
        if any(d.is_error for d in self.diagnostics):
            return None
        return self.plan(computes, names, chains, inputs, dests)

    def shared(self, computes: list[Node]) -> None:
        """A module called more than once (weight sharing, or a loop over time steps in
        `forward`) is a core per call: said by a warning naming the module, or refused, naming
        it, when the calls need more cores than the chip has."""
        calls: dict[str, list[Node]] = {}
        for c in computes:
            if c.module:
                calls.setdefault(c.module, []).append(c)
        shared = {m: ns for m, ns in calls.items() if len(ns) > 1}
        too_many = self.too_many_shared = bool(shared) and len(computes) > self.limits.cores
        for nodes in shared.values():
            uses = f"{{node}} is called {len(nodes)} times"
            if too_many:
                self.report("import-shared", nodes[0], f"{uses}: a core computes one call, so the "
                            f"model's {len(computes)} calls of convolutions need {len(computes)} "
                            f"cores, and the chip has {self.limits.cores}",
                            "call each module once per time step: a loop over time steps belongs "
                            "outside `forward` (the chip runs the one-step network on every event); "
                            "give a shared layer its own copy where it is used again")
            else:
                self.report("import-shared", nodes[0], f"{uses} (its weights shared): each call "
                            "becomes a core of its own, with the same `weights:`",
                            "nothing to do if the sharing is meant: each core holds its own copy of "
                            "the weights on the chip", Severity.WARNING)

    def reads_refused(self, node: Node) -> bool:
        """Whether a node reads an operation already refused (a ReLU after a leaky neuron): the
        refusal says it all, once."""
        return any(isinstance(self.g.node(i).op, Other) for i in node.inputs)

    def after_refusal(self, node: Node) -> bool:
        """Whether a link reads, through other links, something already refused (a
        convolution's output without its neuron, an unsupported operation)."""
        for i in node.inputs:
            src = self.g.node(i)
            if isinstance(src.op, (*COMPUTE, BatchNorm, Other)) \
                    or (isinstance(src.op, LINKS) and self.after_refusal(src)):
                return True
        return False

    def combiner(self, name: str) -> str | None:
        """'add' or 'cat' when the core's input combines several sources."""
        node = self.g.node(name)
        while isinstance(node.op, Pool | Flatten):
            node = self.g.node(node.inputs[0])
        return node.op.word if isinstance(node.op, Add | Cat) else None

    def destinations(self, computes: list[Node], names: dict[str, str],
                     inputs: dict[str, tuple[str | None, list[Term]]]) -> dict[str, list[Dest]]:
        dests: dict[str, list[Dest]] = {"input": []}
        for core, (_, terms) in inputs.items():
            for t in terms:
                dests.setdefault(t.source, []).append(Dest(core, t.pool, t.average))
        by_core = {names[c.name]: c for c in computes}
        for source, ds in dests.items():
            if len(ds) > self.limits.destinations and not self.too_many_shared:
                node = self.chain_end(by_core[source]) if source in by_core else self.input_node()
                self.report("import-destinations", node, "{node} is read by "
                            f"{len(ds)} cores ({', '.join(d.core for d in ds)}); a core sends "
                            f"to at most {self.limits.destinations}", "let one receiver forward to "
                            "the others through an identity-like core, or restructure the branches")
            if source == "input":
                dests[source] = self.input_destinations(ds)
        return dests

    def input_destinations(self, ds: list[Dest]) -> list[Dest]:
        """Pooling on the input is the DVS layer's (one sum pooling for all its destinations)."""
        pools = {(d.pool, d.average) for d in ds}
        if not ds or pools == {(1, False)}:
            return ds
        inp = self.input_node()
        assert isinstance(inp.op, Input)
        (pool, average), = pools if len(pools) == 1 else ((0, True),)
        if inp.op.source != "dvs" or average:
            self.report("import-pool", inp, "the model pools its input ("
                        + ", ".join(f"{'average' if d.average else 'sum'} {d.pool} before "
                                    f"'{d.core}'" for d in ds)
                        + "); " + ("events from the host reach a core unpooled"
                                   if inp.op.source != "dvs" else
                                   "the DVS layer sum-pools, once for all its destinations"),
                        "pool on the host, or import with --dvs so the DVS layer sum-pools "
                        "(SumPool2d, the same for every path)")
            return ds
        self.input_pool = pool
        return [Dest(d.core) for d in ds]

    def chain_end(self, compute: Node) -> Node:
        bn, neuron = self.chains[compute.name]
        return neuron or bn or compute

    def input_node(self) -> Node:
        return next(n for n in self.g.nodes if isinstance(n.op, Input))

    # -- the plan ------------------------------------------------------------------------------
    def plan(self, computes: list[Node], names: dict[str, str],
             chains: dict[str, tuple[Node | None, Node | None]],
             inputs: dict[str, tuple[str | None, list[Term]]],
             dests: dict[str, list[Dest]]) -> Plan:
        outputs = set(self.g.outputs)
        cores: list[PlannedCore] = []
        tensors: list[str] = []
        for c in computes:
            name = names[c.name]
            bn, neuron = chains[c.name]
            combiner, terms = inputs[name]
            merge, from_ = None, ()
            if combiner == "cat":
                merge, from_ = "concat", tuple(t.source for t in terms)
            elif len(terms) > 1:
                merge = "sum"
            neuron_keys, note = self.neuron(c, neuron)
            out = (neuron or bn or c).name
            modules = tuple(f"{n.module} ({n.kind})" if n.kind else n.module
                            for n in (c, bn, neuron) if n is not None and n.module)
            cores.append(PlannedCore(
                name=name, conv=conv_keys(c), weights=c.prefix("weight") or name,
                neuron=neuron_keys, to=tuple(dests.get(name, ())), merge=merge, from_=from_,
                batchnorm=bn.prefix("weight") if bn else None,
                batchnorm_eps=bn.op.eps if bn and isinstance(bn.op, BatchNorm) and bn.op.eps != 1e-5
                else None,
                monitor=out in outputs, modules=modules, neuron_note=note,
            ))
            for n in (c, bn):
                if n is not None:
                    tensors += [t for t in n.tensors.values()]
            if neuron is not None and "weights" in neuron_keys:
                tensors += [neuron.tensors["spike_threshold"], neuron.tensors["min_v_mem"]]
        inp = self.input_node()
        assert isinstance(inp.op, Input)
        input_keys = inp.op.keys()
        if self.input_pool != 1:
            input_keys["pool"] = self.input_pool
        input_keys["to"] = [d.core for d in dests["input"]]
        return Plan(chip=self.chip, input=input_keys, cores=tuple(cores),
                    tensors=tuple(dict.fromkeys(tensors)), name=self.g.name)

    def neuron(self, compute: Node, neuron: Node | None) -> tuple[dict, str | None]:
        """The `neuron:` keys of a core, and the comment that explains them."""
        if neuron is None:
            self.report("import-output-neuron", compute, "{node} ends the model without a "
                        "neuron; every core has one, so it gets threshold 1.0 and min_v_mem -1.0 "
                        "(what sinabs.from_model's add_spiking_output adds)",
                        "add the spiking layer to the model to choose these values yourself",
                        Severity.WARNING)
            return {"threshold": 1.0, "min_v_mem": -1.0}, "no neuron in the model: sinabs's defaults"
        p = neuron.op
        if isinstance(p, ReLU):
            return {"threshold": 1.0, "min_v_mem": -1.0}, RELU_NOTE
        assert isinstance(p, IAF)
        reset = {"reset": p.reset} if p.reset == "zero" or p.explicit_reset else {}
        t = neuron.tensors
        if "spike_threshold" in t and "min_v_mem" in t:
            return {"weights": neuron.prefix("spike_threshold"), **reset}, p.note
        keys = {"threshold": float(p.threshold)}
        note = p.note
        if p.min_v_mem is None:
            keys["min_v_mem"] = -float(p.threshold)
            self.report("import-min-v-mem", neuron, "{node} has no lower bound on its state; the "
                        f"chip needs one: min_v_mem {-float(p.threshold):g} (minus the "
                        "threshold) is written", "set min_v_mem on the model's neuron (sinabs "
                        "would take -32768, which forces the quantization scale down to 1)",
                        Severity.WARNING)
            note = "; ".join(filter(None, (note, "the model's neuron is unbounded below: min_v_mem "
                                                    "is minus the threshold")))
        else:
            keys["min_v_mem"] = float(p.min_v_mem)
        return {**keys, **reset}, note


def chain(readers: dict[str, list[Node]], compute: Node) -> tuple[Node | None, Node | None, list[Node]]:
    """The BatchNorm and the neuron that directly follow a conv or linear (None when absent),
    and, when there is no neuron, what reads the convolution instead."""
    bn = None
    after = readers[compute.name]
    if len(after) == 1 and isinstance(after[0].op, BatchNorm):   # BatchNorm2d, or 1d after a Linear
        bn = after[0]
        after = readers[bn.name]
    if len(after) == 1 and isinstance(after[0].op, IAF | ReLU):
        return bn, after[0], []
    return bn, None, after


def conv_keys(node: Node) -> dict:
    """The `conv:` keys of a conv or linear node (a linear's kernel is set by `linear_kernel`)."""
    p = node.op
    assert isinstance(p, Conv | Linear)
    keys: dict
    if isinstance(p, Linear):
        keys = {"out_channels": p.out_features, "kernel": p.in_map[0]}
    else:
        sy, sx = p.stride
        py, px = p.padding
        keys = {"out_channels": p.out_channels, "kernel": p.kernel[0]}
        if (sy, sx) != (1, 1):
            keys["stride"] = sx if sx == sy else {"x": sx, "y": sy}
        if (py, px) != (0, 0):
            keys["padding"] = px if px == py else {"x": px, "y": py}
    if p.bias:
        keys["bias"] = True
    return keys


def core_names(computes: list[Node]) -> dict[str, str]:
    """Core names from module names: sanitised ('layer1.conv1' -> 'layer1_conv1', '0' ->
    'conv0') and made unique."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for c in computes:
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", c.module or c.name).strip("_-") or c.op.word
        if not re.match(r"[A-Za-z_]", base) or base in ("input", "readout"):
            base = ("fc" if isinstance(c.op, Linear) else "conv") + base
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        names[c.name] = name
    return names


def to_plan(graph: ModelGraph, chip: str = "speck2f") -> tuple[Plan | None, list[Diagnostic]]:
    """Map a graph to the network it is on the chip; None (with the reasons) when it is not one."""
    mapper = _Mapper(graph, chip)
    plan = mapper.run()
    return plan, sorted(mapper.diagnostics, key=Diagnostic.sort_key)

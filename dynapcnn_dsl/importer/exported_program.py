"""torch.export's program read, call by call, into the model graph.

Operations are read from ATen (conv2d, linear, batch_norm, avg_pool2d, add, cat, flatten, relu,
max_pool2d, ...), so a functional call (`F.relu(x)`, `x + y`) and a module call give the same
node; a composite module (sinabs's SumPool2d, which is an LPPool2d of norm 1; the DVSLayer) is
collapsed into one node; each neuron module is the one unit call `torch_trace.py` made of it.
Tensors are named by the state_dict names torch.export lifts them from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from torch import nn

from dynapcnn_dsl.importer.dvs_layer import dvs_input, is_dvs
from dynapcnn_dsl.importer.graph import (
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
    Operation,
    Other,
    ReLU,
    SumPool,
)
from dynapcnn_dsl.importer.model_file import model_name
from dynapcnn_dsl.importer.neurons import describe
from dynapcnn_dsl.importer.torch_trace import STATE, UNIT_OP

ONE_STEP = ("write `forward` for one time step (the chip runs the network on every event) and loop "
            "over time outside it")
FRAME = re.compile(r'File "([^"]+)", line (\d+)')
DROPPED = {"dropout", "feature_dropout", "alpha_dropout", "clone", "alias", "detach", "contiguous",
           "_assert_tensor_metadata", "lift_fresh_copy"}
FLATTEN = {"flatten", "view", "reshape", "_unsafe_view"}
WHY = {
    "max_pool2d": ("max pooling: the chip's pooling sums the events of its window",
                   "use AvgPool2d (then `average: true` scales the next core) or sinabs's SumPool2d"),
    "mul": ("a multiplication: between cores only spikes travel, summed or pooled",
            "fold constant scales into the next layer's weights"),
    "select": ("an indexing (x[t] picks a time step from a recording): the chip is given one step "
               "at a time", ONE_STEP),
    "copy_": ("a write into a tensor (outputs recorded per time step): only spikes leave a core",
              ONE_STEP),
    "zeros": ("a tensor made in forward (to record outputs over time steps): only spikes leave a core",
              ONE_STEP),
    "stack": ("a stack of tensors (outputs recorded per time step): only spikes leave a core",
              ONE_STEP),
}


class ExportedProgramReader:
    """Reads one torch.export program, in its call order, into model-graph nodes: each call
    named after the module stack it ran in and the line of the user's file that made it, so
    that every diagnostic names the user's own module."""

    def __init__(self, model: nn.Module, program: Any, source: str, file: Path | None,
                 dvs_input: bool, input_shape: tuple[int, int, int],
                 own_values: set[str] | None = None) -> None:
        self.model = model
        self.ep = program
        self.source = source
        self.file = file.resolve() if file else None
        self.file_text = str(file) if file else source
        self.dvs_input = dvs_input
        self.input_shape = input_shape
        sig = program.graph_signature
        self.lifted = {**sig.inputs_to_parameters, **sig.inputs_to_buffers}
        self.nodes: list[Node] = []
        self.alias: dict[str, str] = {}          # fx node -> graph node it stands for
        self.units: dict[str, str] = {}          # composite module call -> graph node name
        self.input_name: str | None = None
        self.neurons: dict[str, str] = {}        # neuron module -> the graph node of its last call
        self.own_values = own_values or set()    # neuron parameters written as values, not names

    def where(self, fx: Any) -> str | None:
        if self.file is None:
            return None
        frames = FRAME.findall(fx.meta.get("stack_trace") or "")
        mine = [int(line) for f, line in frames if Path(f).resolve() == self.file]
        return f"{self.file_text}:{mine[-1]}" if mine else None

    def module_of(self, fx: Any) -> tuple[str | None, nn.Module | None]:
        stack = fx.meta.get("nn_module_stack") or {}
        if not stack:
            return None, None
        qual = list(stack.values())[-1][0]
        qual = re.sub(r"^L\['self'\]\.?", "", qual)
        try:
            return (qual or None), (self.model.get_submodule(qual) if qual else self.model)
        except AttributeError:
            return qual or None, None

    def composite(self, fx: Any) -> tuple[str, nn.Module] | None:
        """The innermost module of a call that is collapsed into one node (sum pooling)."""
        stack = fx.meta.get("nn_module_stack") or {}
        for qual, _ in reversed(list(stack.values())):
            qual = re.sub(r"^L\['self'\]\.?", "", qual)
            try:
                module = self.model.get_submodule(qual) if qual else self.model
            except AttributeError:
                continue
            if isinstance(module, nn.LPPool2d) and float(module.norm_type) == 1.0:
                return qual, module
        return None

    def add(self, fx: Any, op: Operation, inputs: list[Any], **fields: Any) -> None:
        qual, module = self.module_of(fx)
        kind = fields.pop("kind", None) or (type(module).__name__ if module is not None and qual
                                            else str(fx.target).split(".")[1])
        node = Node(fx.name, op, tuple(self.ref(i) for i in inputs), module=fields.pop("module", qual),
                    kind=kind, where=self.where(fx), **fields)
        self.nodes.append(node)
        self.alias[fx.name] = fx.name

    def ref(self, fx: Any) -> str:
        return self.alias[fx.name]

    def tensor(self, fx: Any) -> str | None:
        return self.lifted.get(fx.name) if fx is not None else None

    @staticmethod
    def shape(fx: Any) -> tuple[int, ...]:
        return tuple(int(n) for n in fx.meta["val"].shape)

    def run(self) -> ModelGraph:
        for fx in self.ep.graph.nodes:
            if fx.op == "placeholder":
                if fx.name not in self.lifted:
                    self.input_name = fx.name
                    self.nodes.append(Node(fx.name, Input(tuple(self.input_shape),  # type: ignore[arg-type]
                                                          "dvs" if self.dvs_input else "host"),
                                           kind="input"))
                    self.alias[fx.name] = fx.name
            elif fx.op == "call_function":
                self.call(fx)
        outputs = [self.alias.get(a.name) for a in _flat(self.ep.graph.output_node().args)]
        tensors = {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        return ModelGraph(tuple(self.nodes), tensors, tuple(o for o in outputs if o), self.source,
                          name=model_name(self.model))

    def call(self, fx: Any) -> None:
        target = str(fx.target)
        op = target.split(".")[1] if target.startswith("aten.") else target
        comp = self.composite(fx)
        if comp is not None:
            self.collapse(fx, *comp)
            return
        args = list(fx.args)
        if target.startswith(UNIT_OP.replace("::", ".")):
            self.unit(fx, args)
        elif op in DROPPED or (op == "dropout"):
            self.alias[fx.name] = self.ref(args[0])
        elif op == "conv2d":
            self.conv(fx, args)
        elif op == "linear":
            self.linear(fx, args)
        elif op in ("batch_norm", "_native_batch_norm_legit_no_training"):
            eps = args[7] if op == "batch_norm" else args[6]
            names = [self.tensor(a) for a in args[1:5]]
            self.add(fx, BatchNorm(float(eps)), [args[0]],
                     tensors=dict(zip(("weight", "bias", "running_mean", "running_var"), names,
                                      strict=True)))
        elif op == "avg_pool2d":
            k = _pair(args[1])
            stride = _pair(args[2]) if len(args) > 2 and args[2] else k
            if k == stride == (1, 1):      # an identity pooling (AvgPool2d(1, 1)): nothing to do
                self.alias[fx.name] = self.ref(args[0])
                return
            self.add(fx, AvgPool(k, stride), [args[0]])
        elif op in ("add", "add_") and len(args) == 2 and all(hasattr(a, "meta") for a in args) \
                and fx.kwargs.get("alpha", 1) == 1:
            module = self.module_of(fx)[1]
            self.add(fx, Add(), args, kind="Merge" if type(module).__name__ == "Merge" else "+")
        elif op == "cat":
            dim = args[1] if len(args) > 1 else fx.kwargs.get("dim", 0)
            self.add(fx, Cat(int(dim)), list(args[0]), kind="torch.cat")
        elif op in FLATTEN:
            self.add(fx, Flatten(), [args[0]])
        elif op in ("relu", "relu_"):
            self.add(fx, ReLU(), [args[0]])
        elif op == "getitem" and args and self.alias.get(args[0].name):
            self.alias[fx.name] = self.ref(args[0])
        else:
            why, hint = WHY.get(op, (f"'{op}' is no operation of a chip core or link", None))
            inputs = [a for a in args if hasattr(a, "meta") and a.name in self.alias]
            self.add(fx, Other(why, hint), inputs)

    def collapse(self, fx: Any, qual: str, module: nn.Module) -> None:
        """Every ATen call of one sum-pooling module call becomes one node."""
        call = list((fx.meta.get("nn_module_stack") or {}).keys())[-1]
        if call in self.units:
            self.alias[fx.name] = self.units[call]
            return
        k, s = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
        first = next(a for a in fx.args if hasattr(a, "meta"))
        if k == s == (1, 1):               # an identity pooling (SumPool2d(1)): nothing to do
            self.alias[fx.name] = self.ref(first)
            self.units[call] = self.ref(first)
            return
        self.add(fx, SumPool(k, s), [first], kind=type(module).__name__)
        self.units[call] = fx.name

    def unit(self, fx: Any, args: list[Any]) -> None:
        qual = args[1]
        if qual.endswith(STATE):    # a neuron's state output (snnTorch's mem) stands for the neuron
            self.alias[fx.name] = self.neurons.get(qual[: -len(STATE)], self.ref(args[0]))
            return
        module = self.model.get_submodule(qual)
        if is_dvs(module):
            # The DVS layer is the input: the network's input node takes its settings.
            inp = self.alias[args[0].name]
            self.nodes = [Node(n.name, dvs_input(module, self.input_shape), n.inputs,
                               kind=type(module).__name__, module=qual) if n.name == inp else n
                          for n in self.nodes]
            self.alias[fx.name] = inp
            return
        found = describe(module)
        assert found is not None
        self.neurons[qual] = fx.name
        if found.iaf is None:
            self.add(fx, Other(found.why, found.hint), [args[0]], module=qual, kind=type(module).__name__)
            return
        names = {role: f"{qual}.{role}" for role in ("spike_threshold", "min_v_mem")}
        tensors = {role: name for role, name in names.items() if found.framework == "sinabs"
                   and name in self.model.state_dict() and name not in self.own_values}
        self.add(fx, found.iaf, [args[0]], module=qual, kind=type(module).__name__, tensors=tensors)

    def conv(self, fx: Any, args: list[Any]) -> None:
        defaults = [None, None, None, [1, 1], [0, 0], [1, 1], 1]
        x, w, b, stride, padding, dilation, groups = args + defaults[len(args):]
        out_c, _, kh, kw = self.shape(w)
        if isinstance(padding, str):
            padding = [0, 0] if padding == "valid" else [kh // 2, kw // 2]
        tensors = {"weight": self.tensor(w)}
        if b is not None:
            tensors["bias"] = self.tensor(b)
        self.add(fx, Conv(out_c, (kh, kw), _pair(stride), _pair(padding), _pair(dilation), int(groups),
                          b is not None), [x], tensors={k: v for k, v in tensors.items() if v})

    def linear(self, fx: Any, args: list[Any]) -> None:
        x, w = args[0], args[1]
        b = args[2] if len(args) > 2 else None
        out_f, _ = self.shape(w)
        tensors = {"weight": self.tensor(w)}
        if b is not None:
            tensors["bias"] = self.tensor(b)
        self.add(fx, Linear(out_f, self.flattened_map(x), b is not None), [x],
                 tensors={k: v for k, v in tensors.items() if v})

    def flattened_map(self, x: Any) -> tuple[int, int]:
        """The (h, w) of the map a Linear reads flattened: through flattens, dropouts, sums and
        sum-pooling units wherever the flatten is (sinabs's non-sequential models sum two
        flattened branches); (1, 1) when it reads a vector."""
        before = x
        while before.op == "call_function":
            op = str(before.target).split(".")[1] if str(before.target).startswith("aten.") else ""
            if op not in FLATTEN | DROPPED | {"add", "add_"}:
                break
            before = next(a for a in before.args if hasattr(a, "meta"))
        shape = self.shape(before)
        return (shape[-2], shape[-1]) if len(shape) == 4 else (1, 1)


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    v = list(v)
    return (int(v[0]), int(v[-1]))


def _flat(args: Any) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, list | tuple):
            out += _flat(a)
        elif hasattr(a, "name"):
            out.append(a)
    return out

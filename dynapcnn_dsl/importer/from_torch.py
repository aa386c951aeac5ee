"""A torch module as a model graph, traced with torch.export.

torch.export records every operation of `forward` as an ATen call, `+` and `torch.cat` with
their operand order included (torch.fx's symbolic tracer, which sinabs uses, follows module calls
only and loses them), and keeps, on each call, the stack of modules it ran in. Neuron modules
are made units before the trace: their `forward` (stateful, data-dependent) is replaced, for the
trace only, by one opaque custom operation tagged with the module's name, so each neuron is one
node whose parameters are read from the module itself.

Operations are read from ATen (conv2d, linear, batch_norm, avg_pool2d, add, cat, flatten, relu,
max_pool2d, ...), so a functional call (`F.relu(x)`, `x + y`) and a module call give the same
node; a composite module (sinabs's SumPool2d, which is an LPPool2d of norm 1; the DVSLayer) is
collapsed into one node. Tensors are named by the state_dict names torch.export lifts them from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dynapcnn_dsl.diagnostics import listed
from dynapcnn_dsl.importer.graph import Graph, Node
from dynapcnn_dsl.importer.neurons import describe, state_names

UNIT_OP = "dynapcnn_dsl_import::unit"


@torch.library.custom_op(UNIT_OP, mutates_args=())
def _unit(x: torch.Tensor, tag: str, shape: list[int]) -> torch.Tensor:
    """Stands for one module (a neuron, the DVS layer) during the trace: only its shape counts."""
    return x.new_zeros(shape)


@_unit.register_fake
def _unit_fake(x: torch.Tensor, tag: str, shape: list[int]) -> torch.Tensor:
    return x.new_empty(shape)


class ImportFailure(Exception):
    """A model that cannot be traced or read; the message says why, the hint (when the cause
    is known) what to do."""

    def __init__(self, message: str, hint: str | None = None, trace: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.trace = trace


# -- what neuron modules are (sinabs, snnTorch, Norse: see neurons.py) -------------------------
def neuron_kind(module: nn.Module) -> str | None:
    """'iaf' for an integrate-and-fire neuron module the chip computes, 'leaky' for a neuron
    module it cannot compute, None for any other module."""
    found = describe(module)
    return None if found is None else ("iaf" if found.kind == "iaf" else "leaky")


def is_dvs(module: nn.Module) -> bool:
    """sinabs's DVSLayer, known by name: its package imports samna, which we never import."""
    cls = type(module)
    return cls.__name__ == "DVSLayer" and cls.__module__.startswith("sinabs.")


def dvs_params(module: nn.Module, input_shape: tuple[int, int, int] | None = None) -> dict[str, Any]:
    """The `input:` keys of a sinabs DVSLayer; `input_shape` (the import's --input-shape, which
    graph_of checked against the layer's size) with 1 channel merges the polarities."""
    c, h, w = input_shape or module.input_shape
    params: dict[str, Any] = {"source": "dvs", "shape": [int(c), int(h), int(w)]}
    ky, kx = module.get_pooling()
    if (ky, kx) != (1, 1):
        params["pool"] = int(kx) if kx == ky else {"x": int(kx), "y": int(ky)}
    (top, bottom), (left, right) = module.get_roi()
    if (top, left) != (0, 0) or (bottom, right) != (h // ky, w // kx):
        params["crop"] = {"origin": {"x": int(left), "y": int(top)},
                          "size": {"x": int(right - left), "y": int(bottom - top)}}
    flip = module.flip_layer
    if flip.flip_x or flip.flip_y or flip.swap_xy:
        params["flip"] = {"x": bool(flip.flip_x), "y": bool(flip.flip_y), "diagonal": bool(flip.swap_xy)}
    if module.merge_polarities or c == 1:
        params["polarity"] = "merge"
    return params


# -- loading a user's file ---------------------------------------------------------------------
def load_module(spec: str) -> nn.Module:
    """`path/file.py:NAME`: a module class constructible without arguments, a function
    returning a module, or a module the file made. This runs the file's code, as `python file.py`
    would."""
    import importlib.machinery
    import importlib.util
    import sys

    from dynapcnn_dsl.filekinds import PYTHON, kinds

    path_text, _, name = spec.rpartition(":")
    path = Path(path_text)
    if not path_text or not name or PYTHON not in kinds(path):
        raise ImportFailure(f"'{spec}' is not FILE.py:NAME")
    if not path.is_file():
        raise ImportFailure(f"{path_text}: no such file")
    module_name = f"_dynapcnn_import_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
    # the loader named, not guessed from the suffix (which the file kinds read in any case)
    loader = importlib.util.spec_from_file_location(
        module_name, path, loader=importlib.machinery.SourceFileLoader(module_name, str(path)))
    assert loader is not None and loader.loader is not None
    code = importlib.util.module_from_spec(loader)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # the model's own sibling modules import as they do for the user
    try:
        sys.modules[module_name] = code
        loader.loader.exec_module(code)
        factory = getattr(code, name, None)
        if factory is None:
            found = [n for n, v in vars(code).items()
                     if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module_name]
            raise ImportFailure(f"{path_text} defines no '{name}'"
                                + (f" (its modules: {', '.join(found)})" if found else ""))
        # a module the file made (`snn = SNN(batch_size=8)`, as sinabs's test models do) is
        # taken as it is; a class or function is called
        model = factory if isinstance(factory, nn.Module) else factory()
    except ImportFailure:
        raise
    except Exception as exc:
        hint = None
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            hint = (f"'{exc.name.partition('.')[0]}' is not importable here: install it if it is a "
                    "package (sinabs's DynapcnnNetwork needs samna), or check its name if it is a "
                    "module of your own")
        raise ImportFailure(f"running {spec} failed: {type(exc).__name__}: {exc}"
                            f"{_user_line(exc, path)}", hint) from exc
    finally:
        sys.path.remove(folder)
    if not isinstance(model, nn.Module):
        raise ImportFailure(f"{spec} gave a {type(model).__name__}, not a torch.nn.Module")
    return model


def _user_line(exc: BaseException, path: Path) -> str:
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve() == path.resolve()]
    return f" (at {path}:{frames[-1].lineno})" if frames else ""


def neuron_states(model: nn.Module) -> set[str]:
    """The state_dict names of the neurons' states: a sinabs StatefulLayer's buffers (v_mem, ...;
    "not parameters", as sinabs says; its spike_threshold and min_v_mem are parameters)."""
    return {f"{q}.{name}" if q else name for q, m in model.named_modules() for name in state_names(m)}


class _Holder(nn.Module):
    """A module holding the model under one attribute name, as a LightningModule holds its
    network as `self.model`: so the state_dict names are the checkpoint's."""

    def __init__(self, name: str, inner: nn.Module) -> None:
        super().__init__()
        self.add_module(name, inner)
        self.held = name
        self.model_name = inner.model_name if isinstance(inner, _Holder) else type(inner).__name__
        if hasattr(inner, "input_shape"):
            self.input_shape = inner.input_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.held)(x)


def held_under(model: nn.Module, names: Iterable[str], *, partial: bool = False) -> tuple[nn.Module, str]:
    """The model as `names` (a checkpoint's, or a network's `weights:`) call its tensors.

    When they lack the model's own names but hold them under one prefix (`model.` for a
    Lightning checkpoint), the model is nested under that prefix, so the network's `weights:`
    names are the checkpoint's and the next checkpoint binds as it is. Every one of the model's
    tensors must be there under the prefix, or with `partial` (an imported weights file, which
    holds only what the cores bind) as many as under no other prefix. Nothing is guessed when
    two prefixes fit as well. Returns the model (nested or not) and the prefix ('' if none)."""
    own = sorted(set(model.state_dict()) - neuron_states(model))
    names = set(names)
    if not own or any(k in names for k in own):
        return model, ""
    prefixes = {n[: -len(k)] for n in names for k in own if n.endswith("." + k)}
    held = {p: sum(p + k in names for k in own) for p in prefixes}
    best = max(held.values(), default=0)
    found = [p for p, n in held.items() if n == best and (partial or n == len(own))]
    if best == 0 or len(found) != 1:
        return model, ""
    prefix = found[0]
    for name in reversed(prefix.rstrip(".").split(".")):
        if not name.isidentifier():
            return model, ""
        model = _Holder(name, model)
    return model, prefix


def load_weights(model: nn.Module, tensors: dict[str, np.ndarray], *, partial: bool = False) -> list[str]:
    """A checkpoint's tensors into the model; neuron states (v_mem, ...) are never loaded. With
    `partial`, the model keeps its own values for what the file lacks (an imported weights file
    holds only what the cores bind), but a file holding none of them is refused: the model
    would run on its initial weights. A checkpoint of the ANN a spiking model was converted from
    (sinabs's from_model) lacks the neurons' spike_threshold and min_v_mem: those are kept from
    the model, and their names returned (the caller says so)."""
    own = model.state_dict()
    states = neuron_states(model)
    wanted = {k for k in own if k not in states and (k in tensors or not partial)}
    if partial and not wanted and own:
        raise ImportFailure("the weights file holds none of the model's tensors (it names "
                            f"{listed(sorted(tensors), 3)}; the model {listed(sorted(own), 3)})",
                            "give the model whose state_dict the network's `weights:` name")
    missing = sorted(wanted - set(tensors))
    kept = [k for k in missing if k in neuron_parameters(model)]
    if kept and (len(kept) < len(missing) or len(kept) == len(wanted)):
        kept = []          # more than the neurons missing, or nothing but them: not an ANN's checkpoint
    missing = [k for k in missing if k not in kept]
    if missing:
        raise ImportFailure(f"the weights file lacks {len(missing)} of the model's tensors: "
                            f"{listed(missing, 6)}", "give this model's checkpoint (`--key` "
                            "names the state_dict inside a larger checkpoint)")
    wanted -= set(kept)
    for k in sorted(wanted):
        if tuple(own[k].shape) != tuple(tensors[k].shape):
            raise ImportFailure(f"'{k}' is {list(tensors[k].shape)} in the weights file, "
                                f"{list(own[k].shape)} in the model", "give the checkpoint of this "
                                "model as it is built (the same layer sizes)")
    model.load_state_dict({k: torch.as_tensor(np.array(tensors[k])) for k in wanted}, strict=False)
    return kept


def neuron_parameters(model: nn.Module) -> set[str]:
    """The state_dict names of the neurons' own parameters (sinabs's spike_threshold and
    min_v_mem): what an ANN's checkpoint cannot hold for the spiking model made from it."""
    return {f"{q}.{name}" if q else name for q, m in model.named_modules()
            if describe(m) is not None for name, _ in m.named_parameters(recurse=False)}


# -- tracing -----------------------------------------------------------------------------------
class _Units:
    """Replace the forward of neuron modules and the DVS layer by the unit op, and undo it.

    A neuron's stand-in returns what the module returns: its spikes, or (spikes, state) for the
    snnTorch and Norse calls that hand the state back, so the model's own forward runs as it is.
    The state is a second unit (snnTorch's `mem`, a tensor the model may return) or None (Norse's
    state tuples, which a forward only passes on to the next call)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.patched: list[nn.Module] = []

    def __enter__(self) -> _Units:
        for qual, module in self.model.named_modules():
            found = describe(module)
            if found is not None or is_dvs(module):
                module.forward = self._stand_in(qual, module, found.outputs if found else "spikes",
                                                found.framework if found else "")
                self.patched.append(module)
        return self

    @staticmethod
    def _stand_in(qual: str, module: nn.Module, outputs: str, framework: str) -> Callable[..., Any]:
        def forward(x: torch.Tensor, *_state: Any, **_kw: Any) -> Any:
            shape = list(x.shape)
            weights = getattr(module, "input_weights", None)   # Norse's LILinearCell, recurrent cells
            if isinstance(weights, torch.Tensor) and weights.dim() == 2:
                shape = [*shape[:-1], int(weights.shape[0])]
            if is_dvs(module):
                c, h, w = module.get_output_shape()
                shape = [shape[0], 1 if x.shape[1] == 1 else c, h, w]   # 1 channel: merged polarity
            spikes = _unit(x, qual, shape)
            if outputs == "spikes":
                return spikes
            return spikes, (_unit(x, qual + STATE, shape) if framework == "snntorch" else None)
        return forward

    def __exit__(self, *exc: object) -> None:
        for module in self.patched:
            del module.forward


STATE = "#state"
"""The tag suffix of a neuron's state output (snnTorch's `mem`): the same node as its spikes."""


def export(model: nn.Module, input_shape: tuple[int, int, int]) -> Any:
    """torch.export of the model on one [1, C, H, W] input, in eval mode. A failure is one
    message: the module whose forward failed and torch's one-line reason (the traceback is kept
    on the exception, for --verbose)."""
    import logging
    import traceback

    model.eval()
    example = torch.zeros(1, *input_shape)
    quiet = logging.getLogger("torch")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)     # torch.export logs the whole traceback of a failure
    try:
        with _Units(model):
            return torch.export.export(model, (example,), strict=False)
    except Exception as exc:
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else ""
        where = _failing_module(model, exc)
        raise ImportFailure(
            f"torch.export could not trace the model{where}: {type(exc).__name__}: {reason}",
            "check that the model runs on one input of --input-shape (batch 1) and computes one "
            "time step per call; --verbose shows torch's traceback",
            trace="".join(traceback.format_exception(exc))) from exc
    finally:
        quiet.setLevel(level)


def _failing_module(model: nn.Module, exc: BaseException) -> str:
    """' in 'name' (Class)': the innermost of the model's modules running when `exc` was raised."""
    names = {id(m): q for q, m in model.named_modules()}
    found = None
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen and found is None:   # torch may re-raise
        seen.add(id(link))
        tb = link.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get("self")
            if id(owner) in names and tb.tb_frame.f_code.co_name == "forward":
                found = owner
            tb = tb.tb_next
        link = link.__cause__ or link.__context__
    if found is None or found is model:
        return ""
    return f" in '{names[id(found)]}' ({type(found).__name__})"


def input_shape_of(model: nn.Module) -> tuple[int, int, int] | None:
    """The input shape a model declares: its DVSLayer's, or an `input_shape` attribute."""
    for module in model.modules():
        if is_dvs(module):
            return tuple(int(n) for n in module.input_shape)  # type: ignore[return-value]
    shape = getattr(model, "input_shape", None)
    if shape is not None and len(shape) == 3:
        return tuple(int(n) for n in shape)  # type: ignore[return-value]
    return None


# -- reading the exported graph ------------------------------------------------------------------
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


class _Reader:
    def __init__(self, model: nn.Module, program: Any, source: str, file: Path | None,
                 dvs_input: bool, input_shape: tuple[int, int, int]) -> None:
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
        self.own_values: set[str] = set()        # neuron parameters written as values, not names

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

    def add(self, fx: Any, op: str, inputs: list[Any], **fields: Any) -> None:
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

    def run(self) -> Graph:
        for fx in self.ep.graph.nodes:
            if fx.op == "placeholder":
                if fx.name not in self.lifted:
                    self.input_name = fx.name
                    params: dict[str, Any] = {"source": "dvs" if self.dvs_input else "host",
                                              "shape": list(self.input_shape)}
                    self.nodes.append(Node(fx.name, "input", (), kind="input", params=params))
                    self.alias[fx.name] = fx.name
            elif fx.op == "call_function":
                self.call(fx)
        outputs = [self.alias.get(a.name) for a in _flat(self.ep.graph.output_node().args)]
        tensors = {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        name = self.model.model_name if isinstance(self.model, _Holder) else type(self.model).__name__
        return Graph(tuple(self.nodes), tensors, tuple(o for o in outputs if o), self.source, name=name)

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
            self.add(fx, "batchnorm", [args[0]], params={"eps": float(eps)},
                     tensors=dict(zip(("weight", "bias", "running_mean", "running_var"), names,
                                      strict=True)))
        elif op == "avg_pool2d":
            k = _pair(args[1])
            stride = _pair(args[2]) if len(args) > 2 and args[2] else k
            if k == stride == (1, 1):      # an identity pooling (AvgPool2d(1, 1)): nothing to do
                self.alias[fx.name] = self.ref(args[0])
                return
            self.add(fx, "avgpool", [args[0]], params={"kernel": k, "stride": stride})
        elif op in ("add", "add_") and len(args) == 2 and all(hasattr(a, "meta") for a in args) \
                and fx.kwargs.get("alpha", 1) == 1:
            module = self.module_of(fx)[1]
            self.add(fx, "add", args, kind="Merge" if type(module).__name__ == "Merge" else "+")
        elif op == "cat":
            dim = args[1] if len(args) > 1 else fx.kwargs.get("dim", 0)
            self.add(fx, "cat", list(args[0]), params={"dim": int(dim)}, kind="torch.cat")
        elif op in FLATTEN:
            self.add(fx, "flatten", [args[0]])
        elif op in ("relu", "relu_"):
            self.add(fx, "neuron", [args[0]], params={"kind": "relu"})
        elif op == "getitem" and args and self.alias.get(args[0].name):
            self.alias[fx.name] = self.ref(args[0])
        else:
            why, hint = WHY.get(op, (f"'{op}' is no operation of a chip core or link", None))
            inputs = [a for a in args if hasattr(a, "meta") and a.name in self.alias]
            params = {"why": why, **({"hint": hint} if hint else {})}
            self.add(fx, "other", inputs, params=params)

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
        self.add(fx, "sumpool", [first], params={"kernel": k, "stride": s}, kind=type(module).__name__)
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
            self.nodes = [Node(n.name, n.op, n.inputs, kind=type(module).__name__, module=qual,
                               params=dvs_params(module, self.input_shape)) if n.name == inp else n
                          for n in self.nodes]
            self.alias[fx.name] = inp
            return
        found = describe(module)
        assert found is not None
        self.neurons[qual] = fx.name
        if found.kind != "iaf":
            self.add(fx, "other", [args[0]], module=qual, kind=type(module).__name__,
                     params={"why": found.why, "hint": found.hint})
            return
        names = {role: f"{qual}.{role}" for role in ("spike_threshold", "min_v_mem")}
        tensors = {role: name for role, name in names.items() if found.framework == "sinabs"
                   and name in self.model.state_dict() and name not in self.own_values}
        self.add(fx, "neuron", [args[0]], module=qual, kind=type(module).__name__,
                 params=found.params, tensors=tensors)

    def conv(self, fx: Any, args: list[Any]) -> None:
        defaults = [None, None, None, [1, 1], [0, 0], [1, 1], 1]
        x, w, b, stride, padding, dilation, groups = args + defaults[len(args):]
        out_c, in_c, kh, kw = self.shape(w)
        if isinstance(padding, str):
            padding = [0, 0] if padding == "valid" else [kh // 2, kw // 2]
        tensors = {"weight": self.tensor(w)}
        if b is not None:
            tensors["bias"] = self.tensor(b)
        self.add(fx, "conv", [x], params={
            "out_channels": out_c, "in_channels": in_c * int(groups), "kernel": (kh, kw),
            "stride": _pair(stride), "padding": _pair(padding), "dilation": _pair(dilation),
            "groups": int(groups), "bias": b is not None}, tensors={k: v for k, v in tensors.items() if v})

    def linear(self, fx: Any, args: list[Any]) -> None:
        x, w = args[0], args[1]
        b = args[2] if len(args) > 2 else None
        out_f, in_f = self.shape(w)
        in_map = self.flattened_map(x)
        tensors = {"weight": self.tensor(w)}
        if b is not None:
            tensors["bias"] = self.tensor(b)
        self.add(fx, "linear", [x], params={"out_features": out_f, "in_features": in_f,
                                            "bias": b is not None, "in_map": in_map},
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
        return shape[-2:] if len(shape) == 4 else (1, 1)


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


def graph_of(model: nn.Module, *, input_shape: tuple[int, int, int] | None = None,
             dvs: bool = False, source: str = "<model>", file: Path | None = None,
             own_values: Iterable[str] = ()) -> Graph:
    """Trace a module into a model graph (raises ImportFailure with the reason). `own_values`:
    neuron parameters the checkpoint lacked (an ANN's, see load_weights), written out as values
    so that the next checkpoint of the same training binds as it is."""
    shape = input_shape or input_shape_of(model)
    if shape is None:
        raise ImportFailure("the model does not say its input shape: give --input-shape C,H,W")
    own = next((tuple(int(n) for n in m.input_shape) for m in model.modules() if is_dvs(m)), None)
    if own is not None and (tuple(shape[1:]) != own[1:] or shape[0] not in (1, 2)):
        raise ImportFailure(f"--input-shape {','.join(map(str, shape))} does not fit the model's "
                            f"DVSLayer, made for {own[1]}x{own[2]} events",
                            f"give --input-shape 2,{own[1]},{own[2]} (or 1,{own[1]},{own[2]} to "
                            "merge the polarities), or leave it out")
    program = export(model, shape)
    has_dvs = any(is_dvs(m) for m in model.modules())
    reader = _Reader(model, program, source, file, dvs or has_dvs, shape)
    reader.own_values = set(own_values)
    return reader.run()

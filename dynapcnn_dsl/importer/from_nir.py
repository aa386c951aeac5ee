"""A NIR graph (a `.nir` file, or an in-memory `nir.NIRGraph`) as a model graph.

NIR is the interchange snnTorch, Norse, sinabs, Rockpool, Spyx and others write. Its nodes map
one to one onto the model graph: Conv2d, IF, SumPool2d, AvgPool2d, Flatten, Affine/Linear;
several edges into one node are NIR's implicit sum and become an explicit `add`.

An IF neuron is what NIR defines: it integrates r * input, fires above v_threshold and resets to
v_reset, so `reset: zero` when v_reset is 0, and a refusal otherwise (the chip resets to 0 or
subtracts the threshold). A LIF whose time constants are all infinite (no leak: snnTorch writes
its `Leaky(beta=1)` so, tau = dt / (1 - beta) and r = tau / dt) is that IF; any other LIF, a
CubaLIF (its synaptic current carries input over steps), LI, Delay and a bare Threshold are
refused, one message each. NIR has no lower bound of the state: min_v_mem = -threshold is
written with a comment and one warning that names the neurons. NIR has no concatenation.

Supported: the `nir` package from 1.0.6 up to (not including) 1.1 (SUPPORTED), checked when a
graph is read.
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import select
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from dynapcnn_dsl.chips import host_limits, shared_limits
from dynapcnn_dsl.diagnostics import CodedError, Diagnostic, Severity
from dynapcnn_dsl.filekinds import NIR, kinds
from dynapcnn_dsl.importer.graph import (
    IAF,
    Add,
    AvgPool,
    Conv,
    Flatten,
    Input,
    Linear,
    ModelGraph,
    Node,
    Operation,
    Other,
    SumPool,
)

NIR_NOTE = "NIR has no lower bound of the state: minus the threshold"
SUPPORTED = ((1, 0, 6), (1, 1, 0))
"""The nir versions read: from the first (included) to the second (excluded)."""

REFUSED = {
    "LIF": "a leaky neuron (a finite time constant tau): the chip's neurons integrate and fire "
           "without a leak",
    "CubaLIF": "a current-based leaky neuron (a synaptic current and a leaking membrane): the "
               "chip's neurons integrate and fire without either",
    "LI": "a leaky integrator without spikes: only spikes leave a chip core",
    "CubaLI": "a current-based leaky integrator: only spikes leave a chip core",
    "I": "an integrator without spikes: only spikes leave a chip core",
    "Delay": "a delay: the chip delivers each event at once",
    "Threshold": "a threshold without integration: a chip neuron integrates its input",
    "Scale": "a scaling between layers: only spikes travel between cores (fold it into the "
             "next layer's weights)",
    "Conv1d": "a 1-D convolution: the chip's kernels are 2-D and square",
    "NIRGraph": "a nested NIR graph: flatten it into one graph first",
}


class NirFailure(CodedError):
    """A NIR file or graph that cannot be read; the message says why."""

    code = "import-source"
    file = "<NIR graph>"


def _array(v: Any) -> np.ndarray:
    return np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)


def _pair(v: Any) -> tuple[int, int]:
    a = np.atleast_1d(_array(v)).astype(int)
    return (int(a[0]), int(a[-1]))


def _constant(v: Any) -> float | None:
    a = _array(v).ravel()
    return float(a[0]) if a.size and np.all(a == a[0]) else None


def _order(nodes: dict[str, Any], edges: list[tuple[str, str]]) -> list[str]:
    """The nodes in topological order (NIR keeps its edges as an unordered list). Iterative, so
    a chain of any length is no deeper for Python than a chain of two."""
    preds: dict[str, list[str]] = {k: [] for k in nodes}
    for s, d in edges:
        if d in preds:
            preds[d].append(s)
    done: list[str] = []
    state: dict[str, int] = {}          # 1: on the current path, 2: done
    for root in sorted(nodes, key=lambda k: (type(nodes[k]).__name__ != "Input", k)):
        if state.get(root):
            continue
        stack = [(root, iter(preds[root]))]
        state[root] = 1
        while stack:
            key, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                state[key] = 2
                done.append(key)
            elif state.get(nxt) == 1:
                raise NirFailure(f"the NIR graph has a cycle through '{key}'; recurrent networks are "
                                 "written in network.yaml with `allow_recurrent: true`")
            elif not state.get(nxt):
                if nxt not in preds:
                    raise NirFailure(f"the NIR graph has an edge from '{nxt}', which is not one of its nodes")
                state[nxt] = 1
                stack.append((nxt, iter(preds[nxt])))
    return done


def _positive(pair: tuple[int, int], what: str, key: str) -> tuple[int, int]:
    """A kernel or stride read from the file: at least 1 on each axis (a stride of 0 would
    divide by zero, a negative one count backwards)."""
    if min(pair) < 1:
        raise NirFailure(f"node '{key}' has {what} {list(pair)}: each must be at least 1")
    return pair


class NirGraphReader:
    """Reads a NIR graph's nodes, in topological order, into model-graph nodes, computing each
    node's output shape on the way (a Linear after a Flatten needs the (h, w) of the map)."""

    def __init__(self, graph: Any, source: str, input_shape: tuple[int, int, int] | None,
                 dvs: bool) -> None:
        self.g = graph
        self.source = source
        self.input_shape = input_shape
        self.dvs = dvs
        self.nodes: list[Node] = []
        self.tensors: dict[str, np.ndarray] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.defaulted: list[str] = []

    def run(self) -> ModelGraph:
        nodes: dict[str, Any] = dict(self.g.nodes)
        edges = [(str(s), str(d)) for s, d in self.g.edges]
        outputs: list[str] = []
        for key in _order(nodes, edges):
            node = nodes[key]
            preds = [s for s, d in edges if d == key]
            kind = type(node).__name__
            if kind == "Output":
                outputs += [self.ref(p) for p in preds]
                continue
            if len(preds) > 1:               # NIR's implicit sum at fan-in
                self.nodes.append(Node(f"{key}.sum", Add(), tuple(self.ref(p) for p in preds),
                                       module=key, kind="sum of its inputs"))
                self.shapes[f"{key}.sum"] = self.shapes[preds[0]]
                preds = [f"{key}.sum"]
            self.read(key, kind, node, preds)
        return ModelGraph(tuple(self.nodes), self.tensors, tuple(outputs), self.source,
                          name=Path(self.source).stem if NIR in kinds(self.source) else None)

    def ref(self, key: str) -> str:
        return key

    def add(self, key: str, op: Operation, preds: list[str], shape: tuple[int, ...], kind: str,
            **fields: Any) -> None:
        self.nodes.append(Node(key, op, tuple(preds), module=key, kind=kind, **fields))
        self.shapes[key] = shape

    def read(self, key: str, kind: str, node: Any, preds: list[str]) -> None:
        shape_in = self.shapes.get(preds[0]) if preds else None
        if kind == "Input":
            shape = tuple(int(n) for n in np.atleast_1d(_array(node.input_type["input"])))
            if self.input_shape is not None:
                shape = self.input_shape
            if len(shape) != 3:
                raise NirFailure(f"the NIR input '{key}' is {list(shape)}, not [C, H, W]: give "
                                 "--input-shape C,H,W")
            limits = shared_limits()
            if min(shape) < 1 or max(shape[1:]) > limits.input_map or shape[0] > limits.features[1]:
                raise NirFailure(f"the NIR input '{key}' is {list(shape)}: a chip's input is at most "
                                 f"{limits.features[1]} channels of {limits.input_map} x {limits.input_map}")
            self.add(key, Input(shape, "dvs" if self.dvs else "host"), [], shape, "Input")
        elif kind == "Conv2d":
            self.conv(key, node, preds, shape_in)
        elif kind in ("Affine", "Linear"):
            w = _array(node.weight)
            self.tensors[f"{key}.weight"] = w
            tensors = {"weight": f"{key}.weight"}
            bias = _array(node.bias) if kind == "Affine" else None
            if bias is not None and np.any(bias):
                self.tensors[f"{key}.bias"] = bias
                tensors["bias"] = f"{key}.bias"
            in_map = self.flattened_map(preds)
            out_features, _ = int(w.shape[0]), int(w.shape[1])    # [out, in]: any other is refused
            self.add(key, Linear(out_features, in_map, "bias" in tensors), preds, (w.shape[0], 1, 1),
                     kind, tensors=tensors)
        elif kind in ("SumPool2d", "AvgPool2d"):
            k = _positive(_pair(node.kernel_size), "kernel size", key)
            s = _positive(_pair(node.stride), "stride", key)
            if _pair(node.padding) != (0, 0):
                self.add(key, Other("a padded pooling: the chip pools whole windows"), preds,
                         shape_in or (), kind)
                return
            c, h, w = shape_in
            self.add(key, SumPool(k, s) if kind == "SumPool2d" else AvgPool(k, s), preds,
                     (c, (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1), kind)
        elif kind == "Flatten":
            self.add(key, Flatten(), preds, (int(np.prod(shape_in)),), kind)
        elif kind == "IF" or (kind == "LIF" and _no_leak(node)):
            self.neuron(key, kind, node, preds, shape_in)
        else:
            why = REFUSED.get(kind, f"NIR's {kind} has no counterpart on the chip")
            self.add(key, Other(why), preds, shape_in or (), kind)

    def flattened_map(self, preds: list[str]) -> tuple[int, int]:
        """The (h, w) of the map a Linear reads flattened, through NIR's implicit sums."""
        before = preds[0]
        node = next((n for n in self.nodes if n.name == before), None)
        while node is not None and isinstance(node.op, Add):
            node = next((n for n in self.nodes if n.name == node.inputs[0]), None)
        if node is not None and isinstance(node.op, Flatten):
            shape = self.shapes.get(node.inputs[0], ())
            if len(shape) == 3:
                return shape[1], shape[2]
        return (1, 1)

    def conv(self, key: str, node: Any, preds: list[str], shape_in: tuple[int, ...] | None) -> None:
        w = _array(node.weight)
        out_c, _, kh, kw = (int(n) for n in w.shape)
        stride = _positive(_pair(node.stride), "stride", key)
        _positive((kh, kw), "kernel size", key)
        padding = node.padding
        if isinstance(padding, str):
            padding = (0, 0) if padding == "valid" else (kh // 2, kw // 2)
        padding = _pair(padding)
        dilation = _positive(_pair(node.dilation), "dilation", key)
        self.tensors[f"{key}.weight"] = w
        tensors = {"weight": f"{key}.weight"}
        bias = _array(node.bias)
        if np.any(bias):
            self.tensors[f"{key}.bias"] = bias
            tensors["bias"] = f"{key}.bias"
        _, h, wd = shape_in if shape_in and len(shape_in) == 3 else (0, 0, 0)
        shape = (out_c, (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1,
                 (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1)
        self.add(key, Conv(out_c, (kh, kw), stride, padding, dilation, int(node.groups), "bias" in tensors),
                 preds, shape, "Conv2d", tensors=tensors)

    def neuron(self, key: str, kind: str, node: Any, preds: list[str],
               shape_in: tuple[int, ...] | None) -> None:
        threshold = _constant(node.v_threshold)
        r = 1.0 if kind == "LIF" else _constant(node.r)   # a LIF without leak: gain r*dt/tau = 1
        v_reset = _constant(node.v_reset) if getattr(node, "v_reset", None) is not None else 0.0
        why, hint = None, "leave this layer on the host, or export it as an IF with r 1 and v_reset 0"
        if threshold is None or threshold <= 0:
            why = "its thresholds are not one positive value; a chip core has one threshold"
        elif r != 1.0:
            why = "its input resistance r is not 1"
            hint = "fold r into the previous layer's weights and export r = 1"
        elif v_reset is None or v_reset != 0.0:
            shown = "different values" if v_reset is None else f"{v_reset:g}"
            why = f"it resets to v_reset {shown}; the chip resets to 0 or subtracts the threshold"
            hint = "export the neuron with v_reset 0 (the chip's reset to zero)"
        if why is not None:
            self.add(key, Other(why, hint), preds, shape_in or (), kind)
            return
        self.defaulted.append(key)
        note = NIR_NOTE if kind == "IF" else f"a LIF without leak (tau infinite) is an IF; {NIR_NOTE}"
        self.add(key, IAF(threshold, -threshold, "zero", explicit_reset=True, note=note), preds,
                 shape_in or (), kind)

    def warning(self) -> list[Diagnostic]:
        if not self.defaulted:
            return []
        return [Diagnostic(self.source, None, Severity.WARNING, "import-nir-value",
                           f"NIR has no lower bound of an IF neuron's state: "
                           f"{', '.join(repr(k) for k in self.defaulted)} get "
                           "`min_v_mem: -threshold`, and `reset: zero` (NIR's IF resets to v_reset "
                           "0), written out in network.yaml", "edit the values in network.yaml if "
                           "the model was bounded otherwise, or subtracted the threshold (sinabs's "
                           "to_nir writes its IAF, which subtracts, as an IF: `reset: subtract`)")]


def _no_leak(node: Any) -> bool:
    """Whether a NIR LIF is an IF: every time constant infinite (no decay), with r infinite too
    (snnTorch's r = tau / dt, an input gain of 1)."""
    tau, r = _array(node.tau), _array(node.r)
    return bool(tau.size and np.all(np.isinf(tau)) and np.all(np.isinf(r)))


def check_version(version: str) -> None:
    """Refuse a nir package outside SUPPORTED: its graphs may mean something else."""
    import re

    parts = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    parts = parts + (0,) * (3 - len(parts))
    low, high = SUPPORTED
    if not low <= parts < high:
        shown = ".".join(map(str, low)), ".".join(map(str, high))
        raise NirFailure(f"nir {version} is installed; this tool reads NIR with nir {shown[0]} up to "
                         f"(not including) {shown[1]}")


def read_nir(path: str | Path) -> Any:
    """A `.nir` file through the nir package (an HDF5 file: nothing in it is executed). Every
    HDF5 access happens in a child process (`read_tree`): what the headers declare is bounded
    first (`check_file`), and HDF5, which is C code, loops forever or crashes on some damaged
    files (found by tests/importer/test_fuzz_nir.py): the child is stopped after READ_SECONDS,
    and its death is a diagnostic. The nodes are then built here from the plain tree it read."""
    try:
        import h5py  # noqa: F401  (the child needs it: fail here, with the install hint)
        import nir
    except ImportError:
        raise NirFailure("reading a .nir file needs the nir package, which is not installed: "
                         "pip install 'dynapcnn-dsl[nir]' (or pip install nir)") from None
    check_version(nir.__version__)
    tree = read_tree(path)
    if "type_check" in tree:
        raise NirFailure(f"cannot read {path} as NIR: its graph has a 'type_check' key")
    tree["type_check"] = True
    try:
        return nir.dict2NIRNode(tree)
    except READ_FAILURES as exc:   # nir's refusals: node constructors and type inference
        raise NirFailure(f"cannot read {path} as NIR: {type(exc).__name__}: {exc}") from exc


READ_FAILURES = (OSError, KeyError, ValueError, TypeError, AttributeError, IndexError, AssertionError,
                 RuntimeError, ZeroDivisionError, OverflowError, RecursionError, NotImplementedError)
"""What h5py and nir (its node constructors and type inference) raise on a file that is HDF5
but not a NIR graph it can build: found by mutating NIR files (tests/importer/test_fuzz_nir.py)."""

READ_SECONDS = host_limits().nir_read_seconds
"""How long the child process may take to read a NIR file's tree (bounded in size already)."""


def read_tree(path: str | Path) -> dict[str, Any]:
    """The file's `node` group as nir's `hdf2dict` gives it (nested dicts of arrays and str),
    read by a forked child process that writes it as an `.npz` of plain arrays (no pickle);
    in-process where fork is not available."""
    if not hasattr(os, "fork"):
        return _tree(path)
    import h5py  # noqa: F401  (imported before the fork: each child would import them again)
    import nir.serialization  # noqa: F401

    import dynapcnn_dsl.weights.readers  # noqa: F401
    with tempfile.TemporaryDirectory(prefix="dynapcnn-nir-") as folder:
        out = Path(folder)
        sys.stdout.flush()
        sys.stderr.flush()
        done, alive = os.pipe()        # `alive` closes when the child ends, however it ends
        pid = os.fork()
        if pid == 0:                                         # the child: read, write, exit
            code = 1
            os.close(done)
            faulthandler.disable()      # a crash of HDF5 is reported by the parent, not as a trace
            try:
                try:
                    _save_tree(_tree(path), out / "tree.npz")
                    code = 0
                except NirFailure as exc:
                    (out / "failure.txt").write_text(exc.message, encoding="utf-8")
                except READ_FAILURES as exc:
                    (out / "failure.txt").write_text(f"cannot read {path} as NIR: "
                                                     f"{type(exc).__name__}: {exc}", encoding="utf-8")
            finally:
                os._exit(code)
        os.close(alive)
        try:
            status = _wait(pid, done, READ_SECONDS)
        finally:
            os.close(done)
        if status is None:
            raise NirFailure(f"reading {path} took more than {READ_SECONDS} s (the HDF5 library loops "
                             "on some damaged files): nothing was imported")
        if (out / "failure.txt").exists():
            raise NirFailure((out / "failure.txt").read_text(encoding="utf-8"))
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not (out / "tree.npz").exists():
            why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {status}"
            raise NirFailure(f"the HDF5 library failed reading {path} ({why}): the file is damaged")
        return _load_tree(out / "tree.npz")


def _wait(pid: int, done: int, seconds: float) -> int | None:
    """The child's wait status, or None after killing it when it took longer than `seconds`
    (an interrupt of the parent kills it too). `done` is the read end of a pipe whose other
    end only the child holds: it reads as closed the moment the child ends."""
    try:
        ready, _, _ = select.select([done], [], [], seconds)
        if ready:
            return os.waitpid(pid, 0)[1]
        return None
    finally:
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _tree(path: str | Path) -> dict[str, Any]:
    import h5py
    from nir.serialization import hdf2dict

    check_file(path)
    with h5py.File(str(path), "r") as f:
        return hdf2dict(f["node"])


def _save_tree(tree: dict[str, Any], file: Path) -> None:
    """The tree as arrays keyed by their HDF5 paths ('/' never occurs in an HDF5 name), str as
    0-d unicode arrays, empty groups listed: savez without pickles."""
    arrays: dict[str, np.ndarray] = {}
    groups: list[str] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        groups.append(prefix)
        for key, value in node.items():
            where = f"{prefix}/{key}"
            if isinstance(value, dict):
                walk(value, where)
            elif isinstance(value, bytes):
                arrays[where] = np.array(value.decode("utf-8", "replace"))
            elif isinstance(value, str):
                arrays[where] = np.array(value)
            else:
                arr = np.asarray(value)
                if arr.dtype.hasobject:
                    arr = np.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                                    for v in arr.reshape(-1)]).reshape(arr.shape)
                arrays[where] = arr

    walk(tree, "")
    index = {f"a{i}": where for i, where in enumerate(arrays)}
    np.savez(file, __paths__=np.array(list(index.values()), dtype=str),
             __groups__=np.array(groups, dtype=str), **{k: arrays[where] for k, where in index.items()})


def _load_tree(file: Path) -> dict[str, Any]:
    tree: dict[str, Any] = {}

    def at(where: str) -> dict[str, Any]:
        node = tree
        for part in where.split("/")[1:]:
            node = node.setdefault(part, {})
        return node

    with np.load(file, allow_pickle=False) as npz:
        for where in npz["__groups__"].tolist():
            at(where)
        for i, where in enumerate(npz["__paths__"].tolist()):
            arr = npz[f"a{i}"]
            parent, _, key = where.rpartition("/")
            at(parent)[key] = str(arr[()]) if arr.dtype.kind == "U" and arr.ndim == 0 else \
                (arr[()] if arr.ndim == 0 else arr)
    return tree


def check_file(path: str | Path) -> None:
    """Walk the file's HDF5 headers, reading no tensor: groups nested at most `nir_depth` deep,
    at most a few groups and items per node of `nir_nodes`, tensors declaring at most the
    entries (and bytes) a weights file may (weights.readers.MAX_ENTRIES), no soft or external
    link (a cycle, or another file read in). A NirFailure says which bound is passed."""
    import h5py

    from dynapcnn_dsl.weights.readers import MAX_ENTRIES, MAX_ITEMSIZE

    limits = host_limits()
    entries = size = items = 0
    try:
        with h5py.File(str(path), "r") as f:
            if not isinstance(f.get("node", getlink=True), h5py.HardLink) or \
                    not isinstance(f["node"], h5py.Group):
                raise NirFailure(f"{path} is HDF5 but not NIR: it has no 'node' group")
            stack = [(f["node"], 1)]
            while stack:
                group, depth = stack.pop()
                if depth > limits.nir_depth:
                    raise NirFailure(f"{path} nests groups deeper than {limits.nir_depth} ({group.name})")
                for key in group:
                    items += 1
                    if items > 16 * limits.nir_nodes:
                        raise NirFailure(f"{path} holds more than {16 * limits.nir_nodes:,} groups and "
                                         f"tensors (a NIR graph of at most {limits.nir_nodes:,} nodes)")
                    link = group.get(key, getlink=True)
                    if not isinstance(link, h5py.HardLink):
                        raise NirFailure(f"{path}: {group.name}/{key} is a {type(link).__name__}; a NIR "
                                         "file holds its own data")
                    item = group[key]
                    if isinstance(item, h5py.Group):
                        stack.append((item, depth + 1))
                    elif isinstance(item, h5py.Dataset) and item.shape is not None:
                        n = math.prod(item.shape)
                        entries, size = entries + n, size + n * item.dtype.itemsize
                        if entries > MAX_ENTRIES or size > MAX_ENTRIES * MAX_ITEMSIZE:
                            raise NirFailure(
                                f"{path} declares tensors of more than {MAX_ENTRIES:,} entries ({item.name}: "
                                f"{list(item.shape)} {item.dtype}): nothing was loaded")
    except NirFailure:
        raise
    except READ_FAILURES as exc:
        raise NirFailure(f"cannot read {path} as NIR: {type(exc).__name__}: {exc}") from exc


def graph_of(nir_graph: Any, *, source: str = "<NIR graph>",
             input_shape: tuple[int, int, int] | None = None,
             dvs: bool = False) -> tuple[ModelGraph, list[Diagnostic]]:
    """The model graph of a NIR graph, and the warning naming what NIR could not carry."""
    import nir

    check_version(nir.__version__)
    nodes = getattr(nir_graph, "nodes", None)
    if not isinstance(nodes, dict):
        raise NirFailure(f"{type(nir_graph).__name__} is not a NIR graph (no nodes)")
    limit = host_limits().nir_nodes
    if len(nodes) > limit or len(getattr(nir_graph, "edges", ())) > 4 * limit:
        raise NirFailure(f"the NIR graph has {len(nodes):,} nodes; a graph imported for one chip has at "
                         f"most {limit:,}")
    reader = NirGraphReader(nir_graph, source, input_shape, dvs)
    try:
        graph = reader.run()
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError,
            OverflowError) as exc:
        raise NirFailure(f"the NIR graph is not one this tool reads: {type(exc).__name__}: "
                         f"{exc}") from exc
    return graph, reader.warning()

"""Names are data, never text (issue 19): every importer is fed names holding newlines, quotes,
`#`, `:` and control characters; the written network.yaml, parsed back, holds exactly those
names where the network names tensors, no key the names tried to inject, comments on one line;
and it builds as intended. Every value the writer emits is a plain YAML scalar of its own type
(a numpy integer is a number: `stride: "2"` was a bug), checked for every importer."""

from __future__ import annotations

import contextlib
import io
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import EXAMPLES, write_weights
from ruamel.yaml import YAML

import dynapcnn_dsl
from dynapcnn_dsl import importer
from dynapcnn_dsl.importer.writer import comment_text, flow, scalar

EVIL = ("a\ndecimator: 2", "q\"uo'te #c: x", "ctl\x1b\x07\r\x00end", "line\u2028sep", "tab\there: [1]")
"""Each would inject a key, end a comment or a string, or hide text, if written as raw text."""

TOP = {"dsl", "name", "chip", "quantize", "input", "cores", "readout"}
CORE = {"index", "conv", "weights", "batchnorm", "neuron", "merge", "from", "monitor", "to",
        "decimator", "congestion_balancer", "kill_features"}
NUMBERS = {"out_channels", "kernel", "stride", "padding", "in_channels", "index", "pool",
           "feature_shift", "threshold", "min_v_mem", "classes", "initial_state", "x", "y"}


def parsed(text: str) -> dict[str, Any]:
    return YAML(typ="safe", pure=True).load(text)


def check_plain(node: Any, key: str = "") -> None:
    """Every value a plain scalar of its own type: numbers are numbers, never strings."""
    if isinstance(node, dict):
        for k, v in node.items():
            assert isinstance(k, str), k
            check_plain(v, k)
    elif isinstance(node, list):
        for v in node:
            check_plain(v, key)
    else:
        assert isinstance(node, str | int | float | bool), (key, node)
        if key in NUMBERS:
            assert isinstance(node, int | float) and not isinstance(node, bool), (key, node)


def check_written(result: importer.Imported, tmp_path: Path) -> dict[str, Any]:
    """The written file's structure (no injected keys), its scalars, and that it builds."""
    assert result.ok, [d.message for d in result.diagnostics]
    data = parsed(result.text)
    assert set(data) <= TOP, set(data) - TOP
    for name, core in data["cores"].items():
        assert set(core) <= CORE, (name, set(core) - CORE)
    assert all("decimator" not in core for core in data["cores"].values())    # none injected
    check_plain(data)
    raw = [c for c in result.text if c != "\n" and (unicodedata.category(c) in ("Cc", "Zl", "Zp"))]
    assert not raw, raw                       # no control character or line break left unescaped
    network, weights = importer.write(result, tmp_path / "out")
    built = importer.build_written(network, weights)
    assert built.ok, [d.message for d in built.diagnostics]
    return data


def names_written(data: dict[str, Any]) -> set[str]:
    """Every tensor prefix the network names (`weights:`, `neuron: {weights}`, `batchnorm:`)."""
    out = set()
    for core in data["cores"].values():
        for value in (core.get("weights"), (core.get("neuron") or {}).get("weights")):
            if isinstance(value, str):
                out.add(value)
    return out


def test_scalars_round_trip_through_the_yaml_library():
    for name in (*EVIL, "yes", "0", "", "~", "-", "a: b", "[x]", "{y}", "é", "\ufeff"):
        assert parsed(f"k: {scalar(name)}\n") == {"k": name}
        assert parsed(f"k: {flow({name: [name]})}\n") == {"k": {name: [name]}}
    assert flow({"stride": np.int64(2), "kernel": (np.int32(3), 3), "bias": np.bool_(False),
                 "threshold": np.float32(0.5)}) == "{stride: 2, kernel: [3, 3], bias: false, threshold: 0.5}"


def test_a_comment_stays_on_its_line():
    for name in EVIL:
        text = f"k: 1  # {comment_text(name)}\n"
        assert parsed(text) == {"k": 1} and text.count("\n") == 1


def nir_graph(names: tuple[str, ...]) -> Any:
    import nir

    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([2, 8, 8])})}
    edges, prev, c_in = [], "input", 2
    for i, name in enumerate(names):
        w = np.random.default_rng(i).uniform(-1, 1, (4, c_in, 3, 3)).astype(np.float32)
        nodes[name] = nir.Conv2d(input_shape=np.array([8, 8]), weight=w, stride=np.int64(1),
                                 padding=np.int64(1), dilation=1, groups=1, bias=np.zeros(4, np.float32))
        shape = (4, 8, 8)
        nodes[f"{name}:if"] = nir.IF(r=np.ones(shape, np.float32), v_reset=np.zeros(shape, np.float32),
                                     v_threshold=np.full(shape, 2.0, np.float32))
        edges += [(prev, name), (name, f"{name}:if")]
        prev, c_in = f"{name}:if", 4
    nodes["output"] = nir.Output(output_type={"output": np.array([4, 8, 8])})
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_nir_node_names_are_data(tmp_path):
    result = importer.import_nir(nir_graph(EVIL[:3]), source="evil\ndecimator: 4.nir")
    data = check_written(result, tmp_path)
    assert names_written(data) == set(EVIL[:3])
    assert set(result.tensors) == {f"{n}.weight" for n in EVIL[:3]}


def test_nir_file_names_are_data(tmp_path):
    import nir

    path = tmp_path / "evil\n# x: 'y'.nir"
    nir.write(str(path), nir_graph(EVIL[3:]))
    data = check_written(importer.import_nir(path), tmp_path)
    assert data["name"] == "evil\n# x: 'y'"
    assert names_written(data) == set(EVIL[3:])


def test_torch_module_names_are_data(tmp_path):
    import sinabs.layers as sl
    from torch import nn

    model = nn.Sequential()
    model.add_module(EVIL[0], nn.Conv2d(2, 4, 3, padding=1, bias=False))
    model.add_module(EVIL[1], sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0))
    model.add_module(EVIL[2], nn.Conv2d(4, 4, 3, stride=2, padding=1, bias=False))
    model.add_module(EVIL[4], sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0))
    result = importer.import_torch(model, input_shape=(2, 8, 8), source="evil\n#x.py:Net")
    data = check_written(result, tmp_path)
    assert names_written(data) == set(EVIL[:3]) | {EVIL[4]}
    assert next(iter(data["cores"].values()))["conv"]["padding"] == 1


def test_document_annotations_are_data(tmp_path):
    doc = dynapcnn_dsl.build(EXAMPLES / "dvs-resnet" / "network.yaml",
                             EXAMPLES / "dvs-resnet" / "weights.safetensors", annotate=True).data
    slots = doc["annotations"]["cnn_layers"]
    used = [i for i, s in enumerate(slots) if s]
    for i, name in zip(used, EVIL, strict=False):
        slots[i]["core"] = name
    doc["source"]["network"] = "evil\ndecimator: 2"
    data = check_written(importer.import_document(doc), tmp_path)
    assert not set(EVIL) & set(data["cores"])          # not core names: `core<i>` instead
    assert {f"core{i}" for i in used[: len(EVIL)]} <= set(data["cores"])


def test_a_samna_object_decompiles_to_plain_scalars(tmp_path, monkeypatch):
    import samna_double

    from dynapcnn_dsl.samna_bridge import to_samna

    samna_double.install(monkeypatch)
    net = EXAMPLES / "dvs-resnet" / "network.yaml"
    write_weights(net, tmp_path / "w.npz", biases=True)
    config = to_samna(dynapcnn_dsl.build(net, tmp_path / "w.npz").data)
    check_written(importer.import_samna(config, "speck2f"), tmp_path)


def test_a_dynapcnn_network_imports_to_plain_scalars(tmp_path):
    zoo = pytest.importorskip("zoo")
    from sinabs_samna import sinabs_backend

    with sinabs_backend() as backend, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = backend.DynapcnnNetwork(zoo.SumPoolChain().seq, input_shape=(2, 16, 16), dvs_input=False)
        with contextlib.redirect_stdout(io.StringIO()):
            net.make_config(device="speck2fmodule")
        data = check_written(importer.import_sinabs(net, source="evil\nname: x"), tmp_path)
    assert all(isinstance(c.get("index"), int) for c in data["cores"].values())

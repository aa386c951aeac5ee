"""The mapper and the writer on hand-made graphs (no torch): what becomes a core, what is
refused and why, and how the network file is printed."""

from __future__ import annotations

import numpy as np
import pytest

from dynapcnn_dsl.importer import from_graph
from dynapcnn_dsl.importer.graph import (
    IAF,
    Add,
    AvgPool,
    BatchNorm,
    Cat,
    Conv,
    Input,
    ModelGraph,
    Node,
    SumPool,
)
from dynapcnn_dsl.importer.mapping import to_plan
from dynapcnn_dsl.importer.writer import flow, scalar
from dynapcnn_dsl.pipeline import run_text


def inp(shape=(2, 8, 8), source="host") -> Node:
    return Node("x", Input(shape, source))


def conv(name: str, src: str, c_out: int = 4, k=(3, 3)) -> Node:
    return Node(name, Conv(c_out, k, (1, 1), (1, 1)), (src,), module=name, kind="Conv2d",
                where=f"m.py:{len(name)}", tensors={"weight": f"{name}.weight"})


def spk(name: str, src: str, threshold=1.0, min_v_mem=-1.0) -> Node:
    return Node(name, IAF(threshold, min_v_mem, "subtract"), (src,), module=name, kind="IAF")


def pool(name: str, src: str, k: int = 2, op: str = "sumpool", stride: int | None = None) -> Node:
    kind = SumPool if op == "sumpool" else AvgPool
    return Node(name, kind((k, k), (stride or k, stride or k)), (src,), module=name, kind=op)


def graph(*nodes: Node, outputs=None) -> ModelGraph:
    tensors = {t: np.ones(1, np.float32) for n in nodes for t in n.tensors.values()}
    return ModelGraph(nodes, tensors, tuple(outputs or [nodes[-1].name]), "m.py")


def codes(g: ModelGraph) -> list[tuple[str, str]]:
    _, diagnostics = to_plan(g)
    return [(d.code, d.message.split(" ", 1)[0]) for d in diagnostics]


def test_a_chain_with_pooling_becomes_two_cores_that_validate():
    g = graph(inp(), conv("a", "x"), spk("sa", "a"), pool("p", "sa", 2, "avgpool"),
              conv("b", "p"), spk("sb", "b"))
    result = from_graph(g)
    assert result.ok
    assert "    to: [{core: b, pool: 2, average: true}]\n" in result.text
    assert "  b:                                              # b (Conv2d), sb (IAF)\n" in result.text


def test_the_written_text_is_a_valid_network_before_any_weights():
    g = graph(inp(), conv("a", "x"), spk("sa", "a"), conv("b", "sa"), spk("sb", "b"),
              conv("c", "sb"), spk("sc", "c"),
              Node("s", Add(), ("sa", "sc")), conv("d", "s"), spk("sd", "d"))
    result = from_graph(g)
    checked = run_text(result.text, "network.yaml")
    assert checked.ok, [d.message for d in checked.diagnostics]


@pytest.mark.parametrize(("nodes", "expected"), [
    # a pooling between a convolution and its neuron
    ((inp(), conv("a", "x"), pool("p", "a"), spk("sa", "p")),
     [("import-no-neuron", "'sa'"), ("import-no-neuron", "'a'")]),    # sorted by position
    # a BatchNorm after the neuron
    ((inp(), conv("a", "x"), spk("sa", "a"),
      Node("bn", BatchNorm(1e-5), ("sa",), module="bn", kind="BatchNorm2d"),
      conv("b", "bn"), spk("sb", "b")),
     [("import-batchnorm", "'bn'")]),
    # pooling whose stride is not its window
    ((inp(), conv("a", "x"), spk("sa", "a"), pool("p", "sa", 2, stride=1), conv("b", "p"),
      spk("sb", "b")),
     [("import-pool", "'p'")]),
    # a concatenation along the map
    ((inp(), conv("a", "x"), spk("sa", "a"), conv("b", "sa"), spk("sb", "b"),
      Node("cat", Cat(2), ("sa", "sb"), kind="torch.cat"), conv("c", "cat"),
      spk("sc", "c")),
     [("import-merge", "'torch.cat'")]),
    # a sum nested in a concatenation
    ((inp(), conv("a", "x"), spk("sa", "a"), conv("b", "sa"), spk("sb", "b"),
      Node("s", Add(), ("sa", "sb"), kind="+"),
      Node("cat", Cat(1), ("s", "sb"), kind="torch.cat"), conv("c", "cat"),
      spk("sc", "c")),
     [("import-merge", "'+'")]),
    # host input pooled before the first core
    ((inp(), pool("p", "x"), conv("a", "p"), spk("sa", "a")), [("import-pool", "the")]),
    # mixed average and sum pooling on one path
    ((inp(), conv("a", "x"), spk("sa", "a"), pool("p1", "sa", 2, "avgpool"), pool("p2", "p1"),
      conv("b", "p2"), spk("sb", "b")),
     [("import-pool", "'p1'")]),
])
def test_refusals_name_the_module(nodes, expected):
    assert codes(graph(*nodes)) == expected


def test_dvs_input_pooling_goes_to_the_dvs_layer():
    g = graph(inp((2, 32, 32), "dvs"), pool("p", "x", 4), conv("a", "p"), spk("sa", "a"))
    plan, diagnostics = to_plan(g)
    assert diagnostics == []
    assert plan.input["pool"] == 4 and plan.input["to"] == ["a"]


def test_a_neuron_without_lower_bound_gets_minus_the_threshold_with_a_warning():
    g = graph(inp(), conv("a", "x"), spk("sa", "a", threshold=2.0, min_v_mem=None))
    result = from_graph(g)
    assert [(d.severity.value, d.code) for d in result.diagnostics] == [("warning", "import-min-v-mem")]
    assert "neuron: {threshold: 2.0, min_v_mem: -2.0}" in result.text
    assert "# the model's neuron is unbounded below: min_v_mem is minus the threshold" in result.text


def test_core_names_are_sanitised_and_unique():
    g = graph(inp(), conv("0", "x"), spk("s0", "0"),
              Node("b.c", Conv(4, (1, 1)), ("s0",), module="block.conv", kind="Conv2d",
                   tensors={"weight": "block.conv.weight"}),
              spk("s1", "b.c"),
              Node("b_c", Conv(4, (1, 1)), ("s1",), module="block_conv", kind="Conv2d",
                   tensors={"weight": "block_conv.weight"}),
              spk("s2", "b_c"))
    plan, _ = to_plan(g)
    assert [(c.name, c.weights) for c in plan.cores] == [
        ("conv0", "0"), ("block_conv", "block.conv"), ("block_conv_2", "block_conv")]


@pytest.mark.parametrize(("value", "text"), [
    ("0", '"0"'), ("seq.3", "seq.3"), ("yes", '"yes"'), ("a b", '"a b"'), (True, "true"),
    (1e-05, "1e-05"), (-1.0, "-1.0"), (3, "3"),
])
def test_scalars_are_quoted_only_when_needed(value, text):
    assert scalar(value) == text


def test_flow_style():
    assert flow({"core": "b", "pool": 2, "to": ["x", {"y": 1}]}) == "{core: b, pool: 2, to: [x, {y: 1}]}"


def test_two_convolutions_in_a_row_are_refused_at_the_first():
    g = graph(inp(), conv("a", "x"), conv("b", "a"), spk("sb", "b"))
    plan, diagnostics = to_plan(g)
    assert plan is None
    assert [(d.code, d.message) for d in diagnostics] == [(
        "import-no-neuron", "'a' (Conv2d) feeds 'b' (Conv2d) with no neuron in between: on the "
        "chip a core is convolution -> neuron, and only spikes travel between cores")]

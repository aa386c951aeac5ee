"""`graph`: DOT and Mermaid text of the core graph, and SVG where Graphviz is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dynapcnn_dsl.cli import run
from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.report.graph import to_dot, to_mermaid

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-residual" / "network.yaml"
DVS = ROOT / "examples" / "dvs-speck2f" / "network.yaml"


def test_dot_has_a_node_per_core_and_an_edge_per_link():
    dot = to_dot(run_file(SEED).linked)
    assert dot.startswith('digraph "seed-residual" {')
    assert 'n_conv1 [shape=box, label="conv1\\ncore 0\\n[1, 16, 16] -> [2, 16, 16]"];' in dot
    edges = [line.strip() for line in dot.splitlines() if "->" in line and "label=" not in line]
    assert edges == ["n_input -> n_conv1;", "n_conv1 -> n_conv2;", "n_conv1 -> n_conv3;",
                     "n_conv2 -> n_conv3;"]


def test_edges_carry_pooling_and_the_readout_is_a_node():
    dot = to_dot(run_file(DVS).linked)
    assert 'n_stem -> n_block [label="pool 2"];' in dot
    assert "n_classifier -> n_readout;" in dot
    mermaid = to_mermaid(run_file(DVS).linked)
    assert mermaid.splitlines()[0] == "flowchart LR"
    assert '  n_stem -->|"pool 2"| n_block' in mermaid
    assert '  n_readout(["readout<br/>11 classes"])' in mermaid


def test_feature_shifts_are_labelled():
    from helpers import check

    result = check("""\
dsl: 1
chip: speck2f
defaults: {neuron: {threshold: 1.0, min_v_mem: -1.0}}
input: {source: host, shape: [1, 8, 8], to: [a, b]}
cores:
  a: {conv: {out_channels: 3, kernel: 1}, to: [cat]}
  b: {conv: {out_channels: 5, kernel: 1}, to: [cat]}
  cat: {merge: concat, from: [a, b], conv: {out_channels: 2, kernel: 1}}
""")
    dot = to_dot(result.linked)
    assert 'n_b -> n_cat [label="shift 3"];' in dot


def test_cli_writes_dot_and_mermaid_and_svg_when_possible(tmp_path, capsys):
    prefix = tmp_path / "net"
    assert run(["graph", str(SEED), "-o", str(prefix)]) == 0
    assert (tmp_path / "net.dot").read_text() == to_dot(run_file(SEED).linked)
    assert (tmp_path / "net.mmd").read_text() == to_mermaid(run_file(SEED).linked)
    assert (tmp_path / "net.svg").exists() == (shutil.which("dot") is not None)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (`dot`) is not installed")
def test_svg_is_rendered_by_graphviz(capsys):
    assert run(["graph", "--format", "svg", str(DVS)]) == 0
    svg = capsys.readouterr().out
    assert "<svg" in svg and "classifier" in svg


def test_svg_without_graphviz_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as exc:
        run(["graph", "--format", "svg", str(SEED)])
    assert exc.value.code == 2
    assert "needs Graphviz" in capsys.readouterr().err


def test_names_that_look_alike_get_distinct_node_ids():
    """`a-b` and `a_b` would both be `n_a_b`: one node with a self-loop. Each gets its own."""
    from helpers import check

    result = check("""\
dsl: 1
chip: speck2f
defaults: {neuron: {threshold: 1.0, min_v_mem: -1.0}}
input: {source: host, shape: [1, 8, 8], to: [a-b]}
cores:
  a-b: {conv: {out_channels: 2, kernel: 1}, to: [a_b]}
  a_b: {conv: {out_channels: 2, kernel: 1}, to: [a_b_2]}
  a_b_2: {conv: {out_channels: 2, kernel: 1}}
""")
    dot, mermaid = to_dot(result.linked), to_mermaid(result.linked)
    assert "  n_a_b -> n_a_b_3;" in dot and "  n_a_b_3 -> n_a_b_2;" in dot
    assert "  n_a_b --> n_a_b_3" in mermaid
    nodes = [line.split()[0] for line in dot.splitlines() if " [shape=" in line and "label" in line]
    assert sorted(nodes) == ["n_a_b", "n_a_b_2", "n_a_b_3", "n_input"]

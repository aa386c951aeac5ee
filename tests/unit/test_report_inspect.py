"""`inspect`: the figures it shows agree with the datasheet's formulas, computed here
independently from the shapes, for every example; JSON and text agree with the linked network."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dynapcnn_dsl.cli import run
from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.report.inspect import inspect_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/network.yaml"))


def formula(c_in: int, c_out: int, k: int, h: int, w: int, bias: bool) -> tuple[int, int, int]:
    """shared/HARDWARE.md, written with math.log2 rather than the linker's bit tricks."""
    e = lambda n: math.ceil(math.log2(n)) if n > 1 else 0  # noqa: E731
    return (c_in * 2 ** (e(k * k) + e(c_out)), c_out * 2 ** (e(h) + e(w)), c_out if bias else 0)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_memory_in_inspect_agrees_with_the_formulas(example):
    result = run_file(example)
    assert result.ok
    data = inspect_data(result.linked)
    memory = result.linked.chip.memory
    for core in data["cores"]:
        c_in, _, _ = core["input_shape"]
        _, h, w = core["output_shape"]
        linked = result.linked.core(core["name"])
        expected = formula(c_in, core["out_features"], core["kernel"], h, w, linked.has_bias)
        got = tuple(core["memory"][k]["used"] for k in ("kernel", "neuron", "bias"))
        assert got == expected, core["name"]
        physical = memory[core["index"]]
        assert [core["memory"][k]["available"] for k in ("kernel", "neuron", "bias")] == [
            physical.kernel, physical.neuron, physical.bias]
        for kind in ("kernel", "neuron", "bias"):
            m = core["memory"][kind]
            assert m["used"] <= m["available"]
            assert m["percent"] == round(100 * m["used"] / m["available"], 1)


def test_the_seed_network_links_to_the_destinations_of_the_faq():
    data = inspect_data(run_file(ROOT / "examples" / "seed-residual" / "network.yaml").linked)
    by_name = {c["name"]: c for c in data["cores"]}
    assert [by_name[n]["index"] for n in ("conv1", "conv2", "conv3")] == [0, 1, 2]
    assert [d["layer"] for d in by_name["conv1"]["destinations"]] == [1, 2]
    assert [d["layer"] for d in by_name["conv2"]["destinations"]] == [2]
    assert by_name["conv3"]["destinations"] == []


def test_totals_sum_the_cores():
    linked = run_file(ROOT / "examples" / "chip-filling" / "network.yaml").linked
    t = inspect_data(linked)["totals"]
    assert t["kernel"]["used"] == sum(c.memory.kernel for c in linked.cores)
    assert t["kernel"]["available"] == 3 * 16384 + 2 * 32768 + 2 * 65536 + 2 * 16384
    assert t["neuron"]["available"] == 3 * 65536 + 2 * 32768 + 2 * 16384 + 2 * 16384


def test_cli_json(capsys):
    assert run(["inspect", "--format", "json", str(ROOT / "examples/dvs-speck2f/network.yaml")]) == 0
    envelope = json.loads(capsys.readouterr().out)
    (out,) = envelope["files"]
    assert out["valid"] is True
    assert out["network"]["chip"] == "speck2f"
    assert out["network"]["readout"] == {"from": "classifier", "classes": 11, "errata_remap": True}
    assert out["network"]["input"]["output_shape"] == [2, 64, 64]


def test_cli_text_table(capsys):
    assert run(["inspect", str(ROOT / "examples/chip-filling/network.yaml")]) == 0
    out = capsys.readouterr().out
    assert "chip-filling on speck2f: 9 of 9 cores" in out
    assert "64 Ki/64 Ki 100%" in out
    assert "mid1@3 (pool 2)" in out


def test_cli_invalid_network_prints_diagnostics_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dsl: 1\nchip: speck2f\ninput: {source: host, shape: [1, 8, 8], to: [a]}\n"
                   "cores:\n  a: {conv: {out_channels: 2, kernel: 1}, to: [b]}\n")
    assert run(["inspect", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "5:48: error[dest-unknown]: core 'a' sends to 'b', which is not a core" in out
    assert run(["inspect", "--format", "json", str(bad)]) == 1
    (data,) = json.loads(capsys.readouterr().out)["files"]
    assert data["valid"] is False and data["network"] is None
    assert [d["code"] for d in data["diagnostics"]] == ["dest-unknown"]

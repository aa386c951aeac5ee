"""Bounds of expansion (issue 9, class 1): the number of expanded cores, the nesting depth and
the integers of `${...}` expressions, each a positioned error at the instance or expression.

Timing is not asserted here: benchmarks/expand.py shows that expansion grows linearly.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dynapcnn_dsl.chips import language_limits
from dynapcnn_dsl.expand import expand
from dynapcnn_dsl.expand.expressions import ExpressionError, evaluate
from dynapcnn_dsl.load import load_file
from dynapcnn_dsl.pipeline import Stage, run_file

NET = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [8, 16, 16], to: [x]}
cores:
  x:
    template: t1
"""
"""The instance `x` (5:3, where errors about the cores it expands into are reported) of t1."""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def nesting(directory: Path, levels: int, fanout: int) -> None:
    """t1 .. t{levels}: each has `fanout` cores that are instances of the next; the last is a
    one-core template."""
    for i in range(1, levels + 1):
        body = "".join(f"  i{j}: {{template: t{i + 1}}}\n" for j in range(fanout))
        write(directory, f"t{i}.yaml", f"template: 1\ncores:\n{body}entry: [i0]\nexit: i0\n")
    write(directory, f"t{levels + 1}.yaml",
          "template: 1\ncores:\n  c: {conv: {out_channels: 8, kernel: 1}}\nentry: [c]\nexit: c\n")


def codes(result) -> list[tuple[str, str, str]]:
    return [(Path(d.file).name, str(d.position), d.code) for d in result.diagnostics]


def test_templates_that_multiply_stop_at_the_core_limit(tmp_path):
    """Four templates that each instantiate the next 30 times would make 810,000 cores."""
    nesting(tmp_path, 3, 30)
    result = run_file(write(tmp_path, "net.yaml", NET), until=Stage.RULES)
    assert codes(result) == [("net.yaml", "5:3", "template-size")]
    limit = language_limits().expanded_cores
    assert f"past {limit} cores" in result.diagnostics[0].message
    assert not result.ok


def test_nesting_past_the_depth_limit_is_one_depth_error(tmp_path):
    """Nine templates deep, each using the next twice: 256 instances reach the limit, one
    error says so, and it does not call it a loop."""
    depth = language_limits().template_depth
    nesting(tmp_path, depth, 2)
    result = run_file(write(tmp_path, "net.yaml", NET), until=Stage.RULES)
    assert codes(result) == [("net.yaml", "5:3", "template-depth")]
    chain = " -> ".join(f"t{i}" for i in range(1, depth + 2))
    assert result.diagnostics[0].message == f"templates nest more than {depth} deep: {chain}"


def test_nesting_at_the_depth_limit_expands(tmp_path):
    depth = language_limits().template_depth
    nesting(tmp_path, depth - 1, 1)
    result = run_file(write(tmp_path, "net.yaml", NET), until=Stage.RULES)
    assert result.diagnostics == ()
    assert list(result.source.data["cores"]) == ["x." + ".".join(["i0"] * (depth - 1)) + ".c"]


def test_a_network_of_four_thousand_expanded_cores_is_within_the_limit(tmp_path):
    cores = "".join(f"  c{i}: {{conv: {{out_channels: 8, kernel: 1}}, to: [c{i + 1}]}}\n" for i in range(99))
    write(tmp_path, "wide.yaml", f"template: 1\ncores:\n{cores}  c99: {{conv: {{out_channels: 8, "
          "kernel: 1}}\nentry: [c0]\nexit: c99\n")
    instances = "".join(f"  w{i}: {{template: wide, to: [w{i + 1}]}}\n" for i in range(39))
    net = NET.replace("to: [x]", "to: [w0]").replace("  x:\n    template: t1\n", instances)
    doc, problems = load_file(write(tmp_path, "net.yaml", net + "  w39: {template: wide}\n"))
    assert problems == []
    assert expand(doc) == []
    assert len(doc.data["cores"]) == 4000 <= language_limits().expanded_cores


# ---------------------------------------------------------------------------- expression integers
BIG = language_limits().int_max


@pytest.mark.parametrize(("text", "params"), [
    ("k * k", {"k": 2**62}),
    ("k + k", {"k": BIG}),
    ("k", {"k": 10**5000}),          # a parameter beyond the bound is refused, never printed
    ("-k - 2", {"k": BIG}),
    ("9999999999 * 9999999999", {}),
])
def test_integers_beyond_the_bound_are_refused_before_growing(text, params):
    with pytest.raises(ExpressionError) as info:
        evaluate(text, params)
    assert f"beyond ±{BIG}" in str(info.value)


def test_the_bound_itself_is_allowed():
    assert evaluate("k - 1 + 1", {"k": BIG}) == BIG


def test_a_null_byte_in_an_expression_is_not_an_expression():
    with pytest.raises(ExpressionError, match="is not an expression"):
        evaluate("k\0", {"k": 1})


def test_an_expression_beyond_the_bound_is_reported_at_the_expression(tmp_path):
    write(tmp_path, "t1.yaml", """\
        template: 1
        params:
          k: {type: int}
        cores:
          c: {conv: {out_channels: "${k * k * k * k * k}", kernel: 1}}
        entry: [c]
        exit: c
    """)
    result = run_file(write(tmp_path, "net.yaml", NET + "    with: {k: 100000}\n"), until=Stage.RULES)
    assert codes(result) == [("t1.yaml", "5:28", "template-expression")]
    assert "beyond" in result.diagnostics[0].message

"""Templates: the bundled templates expanded, `evaluate()`, nesting and loops, where templates
are found, and every template diagnostic at its exact (file, line:col).

Networks are written to tmp_path and checked with `run_file`, so that a template next to the
network file is found and nothing in the current directory is. Templates for nesting and loops
live in tests/corpus/invalid/templates/ (LIB) or are written next to the network.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.expand.expressions import ExpressionError, evaluate
from dynapcnn_dsl.pipeline import Result, Stage, run_file

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "templates"
LIB = ROOT / "tests" / "corpus" / "invalid" / "templates"

HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [8, 16, 16], to: [stem]}
cores:
  stem:
    conv: {out_channels: 8, kernel: 3, padding: 1}
    to: [block1]
"""
"""Lines 1-7 of most networks below: `stem` sends to the instance `block1` (line 8)."""

HEAD_TAIL = """\
  head:
    conv: {out_channels: 4, kernel: 1}
"""

ONE_CORE = """\
template: 1
cores:
  x:
    conv: {out_channels: 8, kernel: 1}
entry: [x]
exit: x
"""



def one_core(name: str) -> str:
    """A template of one core called `name`."""
    return (ONE_CORE.replace("  x:", f"  {name}:").replace("[x]", f"[{name}]")
            .replace("exit: x", f"exit: {name}"))


# ------------------------------------------------------------------------------------ helpers
def run(tmp_path: Path, text: str, *, name: str = "net.yaml", **kw) -> Result:
    return run_file(write(tmp_path, name, text), **kw)


def cores(tmp_path: Path, text: str, **kw) -> dict:
    """The expanded `cores:` of a network that must expand without problems."""
    result = run(tmp_path, text, until=Stage.RULES, **kw)
    assert result.diagnostics == (), [f"{d.position} {d.code}: {d.message}" for d in result.diagnostics]
    return result.source.data["cores"]


def where(result: Result) -> list[tuple[str, str, str]]:
    """[(file name, "line:col", code), ...] in report order."""
    return [(Path(d.file).name, str(d.position), d.code) for d in result.diagnostics]


def one(result: Result, code: str) -> Diagnostic:
    hits = [d for d in result.diagnostics if d.code == code]
    assert len(hits) == 1, where(result)
    return hits[0]


def line_at(file: str, position) -> str:
    return Path(file).read_text(encoding="utf-8").splitlines()[position.line - 1][position.col - 1:]


# ========================================================================= the bundled templates
def test_the_bundled_templates_are_the_four_documented_ones():
    assert sorted(p.stem for p in BUNDLED.glob("*.yaml")) == [
        "concat_block", "conv_pool", "residual_block", "residual_block_downsample"]


def test_residual_block(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8}
    to: [head]
""" + HEAD_TAIL)
    assert list(got) == ["stem", "block1.a", "block1.b", "head"]  # expanded in place
    assert got["stem"]["to"] == ["block1.a", "block1.b"]           # both slots: main path, skip
    a, b = got["block1.a"], got["block1.b"]
    assert a["conv"] == {"out_channels": 8, "kernel": 3, "padding": 1}
    assert b["conv"] == {"out_channels": 8, "kernel": 3, "padding": 1}
    assert a["neuron"] == b["neuron"] == {"threshold": 1.0}
    assert a["to"] == ["block1.b"]
    assert b["merge"] == "sum" and "merge" not in a
    assert b["to"] == ["head"]                                      # the instance's `to:`
    assert (a["weights"], b["weights"]) == ("block1.a", "block1.b")
    assert "weights" not in got["stem"] and "weights" not in got["head"]


@pytest.mark.parametrize("kernel", [1, 3, 5, 7, 15])
def test_padding_is_kernel_floordiv_2(tmp_path, kernel):
    got = cores(tmp_path, HEAD + f"""\
  block1:
    template: residual_block
    with: {{channels: 8, kernel: {kernel}, threshold: 2.5}}
""")
    for core in ("block1.a", "block1.b"):
        assert got[core]["conv"] == {"out_channels": 8, "kernel": kernel, "padding": kernel // 2}
        assert got[core]["neuron"] == {"threshold": 2.5}
    assert got["block1.b"]["to"] == []  # an instance without `to:` sends nowhere


def test_residual_block_downsample(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: residual_block_downsample
    with: {channels: 16, kernel: 5}
    to: [head]
""" + HEAD_TAIL)
    assert list(got) == ["stem", "block1.a", "block1.proj", "block1.b", "head"]
    assert got["stem"]["to"] == ["block1.a", "block1.proj"]
    assert got["block1.a"]["conv"] == {"out_channels": 16, "kernel": 5, "stride": 2, "padding": 2}
    assert got["block1.proj"]["conv"] == {"out_channels": 16, "kernel": 1, "stride": 2}
    assert got["block1.b"]["conv"] == {"out_channels": 16, "kernel": 5, "padding": 2}
    assert got["block1.a"]["to"] == got["block1.proj"]["to"] == ["block1.b"]
    assert got["block1.b"]["merge"] == "sum"
    assert got["block1.b"]["to"] == ["head"]
    assert [got[c]["weights"] for c in ("block1.a", "block1.proj", "block1.b")] == [
        "block1.a", "block1.proj", "block1.b"]


def test_concat_block(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: concat_block
    with: {narrow: 2, wide: 3, out_channels: 4, small: 1, large: 7}
    to: [head]
""" + HEAD_TAIL)
    assert list(got) == ["stem", "block1.narrow", "block1.wide", "block1.cat", "head"]
    assert got["stem"]["to"] == ["block1.narrow", "block1.wide"]
    assert got["block1.narrow"]["conv"] == {"out_channels": 2, "kernel": 1, "padding": 0}
    assert got["block1.wide"]["conv"] == {"out_channels": 3, "kernel": 7, "padding": 3}
    cat = got["block1.cat"]
    assert cat["merge"] == "concat"
    assert cat["from"] == ["block1.narrow", "block1.wide"]          # scoped, in order
    assert cat["conv"] == {"out_channels": 4, "kernel": 1}
    assert cat["to"] == ["head"]
    assert cat["weights"] == "block1.cat"


def test_concat_block_defaults(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: concat_block
    with: {narrow: 2, wide: 3, out_channels: 4}
""")
    assert got["block1.narrow"]["conv"] == {"out_channels": 2, "kernel": 3, "padding": 1}
    assert got["block1.wide"]["conv"] == {"out_channels": 3, "kernel": 5, "padding": 2}


@pytest.mark.parametrize(("with_", "expected"), [
    ("{channels: 8}", [{"core": "head", "pool": 2}]),              # default pool 2
    ("{channels: 8, pool: 4}", [{"core": "head", "pool": 4}]),
    ("{channels: 8, pool: 1}", ["head"]),                           # pool 1: a plain name
])
def test_conv_pool_gives_its_pool_to_the_instance_destinations(tmp_path, with_, expected):
    got = cores(tmp_path, HEAD + f"""\
  block1:
    template: conv_pool
    with: {with_}
    to: [head]
""" + HEAD_TAIL)
    assert list(got) == ["stem", "block1.conv", "head"]
    assert got["stem"]["to"] == ["block1.conv"]
    assert got["block1.conv"]["conv"] == {"out_channels": 8, "kernel": 3, "padding": 1}
    assert got["block1.conv"]["to"] == expected
    assert got["block1.conv"]["weights"] == "block1.conv"


def test_conv_pool_pools_every_destination(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: conv_pool
    with: {channels: 8, kernel: 5}
    to: [head, {core: other, feature_shift: 4}]
""" + HEAD_TAIL + """\
  other:
    conv: {out_channels: 4, kernel: 1}
""")
    assert got["block1.conv"]["conv"]["padding"] == 2
    assert got["block1.conv"]["to"] == [{"core": "head", "pool": 2},
                                        {"core": "other", "feature_shift": 4, "pool": 2}]


# ---------------------------------------------------------------------------------- weights
def test_an_instance_weights_prefix_replaces_its_name(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8}
    weights: backbone.res1
""")
    assert got["block1.a"]["weights"] == "backbone.res1.a"
    assert got["block1.b"]["weights"] == "backbone.res1.b"


def test_a_template_cores_own_weights_name_is_scoped_by_the_prefix(tmp_path):
    write(tmp_path, "named.yaml", """\
        template: 1
        cores:
          x:
            conv: {out_channels: 8, kernel: 1}
            weights: layer0
        entry: [x]
        exit: x
    """)
    got = cores(tmp_path, HEAD + """\
  block1:
    template: named
  block2:
    template: named
    weights: net
""")
    assert got["block1.x"]["weights"] == "block1.layer0"
    assert got["block2.x"]["weights"] == "net.layer0"


def test_a_weights_mapping_binds_the_named_cores_to_the_models_names(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8}
    weights: {a: layer1.conv1, b: layer1.conv2}
  block2:
    template: residual_block
    with: {channels: 8}
    weights: {b: layer2.conv2}
""")
    assert got["block1.a"]["weights"] == "layer1.conv1"
    assert got["block1.b"]["weights"] == "layer1.conv2"
    assert got["block2.a"]["weights"] == "block2.a"  # not in the mapping: `<instance>.<core>`
    assert got["block2.b"]["weights"] == "layer2.conv2"


SINABS_BLOCK = """\
    template: 1
    params:
      prefix: {type: str}
    cores:
      x:
        conv: {out_channels: 8, kernel: 1}
        weights: "${prefix}.conv1"
        batchnorm: "${prefix}.bn1"
        neuron: {weights: "${prefix}.spk1"}
        to: [y]
      y:
        conv: {out_channels: 8, kernel: 1}
        batchnorm: {weights: bn2, eps: 0.001}
        neuron: {weights: spk2}
    entry: [x]
    exit: y
"""


def sinabs_blocks(tmp_path: Path, instances: str) -> dict:
    """The expanded cores of HEAD plus `instances` of SINABS_BLOCK."""
    write(tmp_path, "sinabs_block.yaml", SINABS_BLOCK)
    return cores(tmp_path, HEAD + instances)


def test_names_a_template_computes_from_its_params_are_the_models_own(tmp_path):
    got = sinabs_blocks(tmp_path, """\
  block1:
    template: sinabs_block
    with: {prefix: layer1.0}
""")
    x, y = got["block1.x"], got["block1.y"]
    assert (x["weights"], x["batchnorm"], x["neuron"]["weights"]) == ("layer1.0.conv1", "layer1.0.bn1",
                                                                       "layer1.0.spk1")
    # written as plain names, batchnorm and neuron weights are under the prefix as `weights:` is
    assert (y["weights"], y["batchnorm"], y["neuron"]["weights"]) == (
        "block1.y", {"weights": "block1.bn2", "eps": 0.001}, "block1.spk2")


def test_a_weights_prefix_scopes_batchnorm_and_neuron_weights_of_a_template(tmp_path):
    got = sinabs_blocks(tmp_path, """\
  block1:
    template: sinabs_block
    with: {prefix: layer1.0}
    weights: {x: stem2.conv}
  block2:
    template: sinabs_block
    with: {prefix: layer2.0}
    weights: net.block2
""")
    assert got["block1.x"]["weights"] == "stem2.conv"
    assert got["block1.x"]["batchnorm"] == "layer1.0.bn1"
    assert got["block2.y"]["batchnorm"]["weights"] == "net.block2.bn2"
    assert got["block2.y"]["neuron"]["weights"] == "net.block2.spk2"


def test_a_mapping_names_a_nested_instance_by_its_core_name(tmp_path):
    write(tmp_path, "outer.yaml", """\
        template: 1
        cores:
          inner: {template: residual_block, with: {channels: 8}, weights: {a: conv1}}
        entry: [inner]
        exit: inner
    """)
    got = cores(tmp_path, HEAD + """\
  block1:
    template: outer
  block2:
    template: outer
    weights: {inner: layer2}
""")
    # the inner mapping's names are the template's own, so they go under the outer prefix
    assert (got["block1.inner.a"]["weights"], got["block1.inner.b"]["weights"]) == (
        "block1.conv1", "block1.inner.b")
    # mapped, the nested instance takes the model's name as its prefix, in place of what the
    # template wrote (as a mapped core's `weights:` replaces the template's)
    assert (got["block2.inner.a"]["weights"], got["block2.inner.b"]["weights"]) == (
        "layer2.a", "layer2.b")


def test_template_weights_unknown_at_the_mapping_key(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8}
    weights: {a: layer1.conv1, bb: layer1.conv2, skip: layer1.downsample}
""")
    assert where(result) == [("net.yaml", "11:32", "template-weights-unknown"),
                             ("net.yaml", "11:50", "template-weights-unknown")]
    typo, other = result.diagnostics
    assert typo.message == "template 'residual_block' has no core 'bb' to bind to 'layer1.conv2'"
    assert typo.hint == "did you mean 'b'?"
    assert other.hint == "its cores: a, b"


# ------------------------------------------------------------------------------- references
def test_the_input_layer_reaching_an_instance_fills_both_slots(tmp_path):
    got = run(tmp_path, HEAD.replace("to: [stem]", "to: [block1]") + """\
  block1:
    template: residual_block
    with: {channels: 8}
""", until=Stage.RULES)
    assert got.source.data["input"]["to"] == ["block1.a", "block1.b"]


def test_a_long_form_reference_to_an_instance_keeps_its_fields(tmp_path):
    got = cores(tmp_path, HEAD.replace("to: [block1]", "to: [{core: block1, feature_shift: 0}]") + """\
  block1:
    template: residual_block
    with: {channels: 8}
""")
    assert got["stem"]["to"] == [{"core": "block1.a", "feature_shift": 0},
                                 {"core": "block1.b", "feature_shift": 0}]


def test_a_pool_towards_a_single_entry_instance_stays_on_the_link(tmp_path):
    got = cores(tmp_path, HEAD.replace("to: [block1]", "to: [{core: block1, pool: 2}]") + """\
  block1:
    template: conv_pool
    with: {channels: 8, pool: 1}
""")
    assert got["stem"]["to"] == [{"core": "block1.conv", "pool": 2}]


def test_from_and_readout_from_an_instance_mean_its_exit(tmp_path):
    result = run(tmp_path, """\
        dsl: 1
        chip: speck2f
        input: {source: host, shape: [4, 16, 16], to: [left, right]}
        defaults:
          neuron: {threshold: 1.0, min_v_mem: -1.0}
        cores:
          left:
            template: conv_pool
            with: {channels: 2, pool: 1}
            to: [cat]
          right:
            template: conv_pool
            with: {channels: 3, pool: 1}
            to: [cat]
          cat:
            merge: concat
            from: [right, left]
            conv: {out_channels: 4, kernel: 1}
            to: [res]
          res:
            template: residual_block
            with: {channels: 4, kernel: 1}
        readout: {from: res, classes: 4}
    """)
    assert result.ok, where(result)
    data = result.source.data
    assert data["input"]["to"] == ["left.conv", "right.conv"]
    assert data["cores"]["cat"]["from"] == ["right.conv", "left.conv"]
    assert data["readout"]["from"] == "res.b"
    cat = result.linked.core("cat")
    assert [(s.source, s.feature_shift) for s in cat.sources] == [("right.conv", 0), ("left.conv", 3)]
    assert result.linked.readout.source == "res.b"


def test_a_bad_destination_in_the_instance_to_is_reported_there(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8}
    to: [haed]
""" + HEAD_TAIL)
    assert where(result) == [("net.yaml", "11:10", "dest-unknown")]
    d = result.diagnostics[0]
    assert "did you mean 'head'?" in d.hint
    (note,) = d.related
    assert Path(note.file) == BUNDLED / "residual_block.yaml"
    assert line_at(note.file, note.position).startswith("b:")


def test_a_sender_with_a_third_destination_is_refused(tmp_path):
    result = run(tmp_path, HEAD.replace("to: [block1]", "to: [head, block1]") + """\
  block1:
    template: residual_block
    with: {channels: 8}
""" + HEAD_TAIL)
    assert where(result) == [("net.yaml", "7:5", "dest-max")]
    assert "3 destinations" in result.diagnostics[0].message


# =============================================================================== evaluate()
@pytest.mark.parametrize(("text", "value"), [
    ("k", 3), (" k ", 3), ("k // 2", 1), ("k + 1", 4), ("k - 5", -2), ("k * k", 9),
    ("k % 2", 1), ("(k + 1) * 2", 8), ("k + 1 * 2", 5), ("-k", -3), ("-(k - 5)", 2),
    ("7 // 2", 3), ("-7 // 2", -4), ("big * big", 10**12), ("t", 1.5), ("flag", True),
    ("name", "relu"),
])
def test_evaluate(text, value):
    params = {"k": 3, "big": 10**6, "t": 1.5, "flag": True, "name": "relu"}
    assert evaluate(text, params) == value


@pytest.mark.parametrize(("text", "message"), [
    ("abs(k)", "uses something other than parameters"),
    ("k.real", "uses something other than parameters"),
    ("__import__('os').getcwd()", "uses something other than parameters"),
    ("k ** 2", "uses something other than parameters"),
    ("k / 2", "uses something other than parameters"),
    ("k if k else 1", "uses something other than parameters"),
    ("k < 2", "uses something other than parameters"),
    ("k[0]", "uses something other than parameters"),
    ("+k", "uses something other than parameters"),
    ("1.5", "uses something other than parameters"),
    ("'a'", "uses something other than parameters"),
    ("True", "uses something other than parameters"),
    ("t * 2", "arithmetic works on integers only"),
    ("k + t", "arithmetic works on integers only"),
    ("flag + 1", "arithmetic works on integers only"),
    ("name + name", "arithmetic works on integers only"),
    ("k // 0", "divides by zero"),
    ("k % (k - k)", "divides by zero"),
    ("k +", "is not an expression"),
    ("", "is not an expression"),
    ("k = 1", "is not an expression"),
])
def test_evaluate_refuses(text, message):
    params = {"k": 3, "t": 1.5, "flag": True, "name": "relu"}
    with pytest.raises(ExpressionError) as info:
        evaluate(text, params)
    assert message in str(info.value)


def test_evaluate_unknown_name_suggests_a_parameter():
    with pytest.raises(ExpressionError) as info:
        evaluate("kernal // 2", {"kernel": 3, "channels": 8})
    assert str(info.value) == "'kernal' is not a parameter; did you mean 'kernel'?"
    with pytest.raises(ExpressionError) as info:
        evaluate("zzz", {"kernel": 3})
    assert str(info.value) == "'zzz' is not a parameter"


def test_evaluate_never_calls_anything():
    called = []
    with pytest.raises(ExpressionError, match="uses something other than parameters"):
        evaluate("f(1)", {"f": called.append})
    with pytest.raises(ExpressionError, match="uses something other than parameters"):
        evaluate("(lambda: f(1))()", {"f": called.append})
    assert called == []


@pytest.mark.parametrize("value", ["relu", True], ids=["str", "bool"])
def test_evaluate_unary_minus_works_on_numbers_only(value):
    with pytest.raises(ExpressionError, match="numbers only"):
        evaluate("-p", {"p": value})


def test_evaluate_unary_minus_takes_a_float_for_a_lower_threshold():
    assert evaluate("-threshold", {"threshold": 1.5}) == -1.5


@pytest.mark.parametrize("text", ["-" * 5000 + "1", "+".join(["k"] * 5000)], ids=["unary", "sum"])
def test_evaluate_refuses_pathological_nesting(text):
    with pytest.raises(ExpressionError):
        evaluate(text, {"k": 1})


# ======================================================================== nesting and loops
NESTED = HEAD + """\
  block1:
    template: stem_residual
    with: {channels: 8}
    to: [head]
""" + HEAD_TAIL + """\
readout: {from: block1, classes: 8}
"""


def test_a_template_using_a_template(tmp_path):
    result = run(tmp_path, NESTED, templates=[LIB])
    assert result.ok, where(result)
    got = result.source.data["cores"]
    assert list(got) == ["stem", "block1.pre", "block1.res.a", "block1.res.b", "head"]
    assert got["stem"]["to"] == ["block1.pre"]
    assert got["block1.pre"]["to"] == ["block1.res.a", "block1.res.b"]
    assert got["block1.res.a"]["to"] == ["block1.res.b"]
    assert got["block1.res.b"]["to"] == ["head"]
    assert got["block1.res.a"]["conv"] == {"out_channels": 8, "kernel": 1, "padding": 0}
    assert [got[c]["weights"] for c in ("block1.pre", "block1.res.a", "block1.res.b")] == [
        "block1.pre", "block1.res.a", "block1.res.b"]
    assert result.source.data["readout"]["from"] == "block1.res.b"


def test_an_instance_whose_entry_is_an_instance(tmp_path):
    write(tmp_path, "wrap.yaml", """\
        template: 1
        params:
          ch: {type: int}
        cores:
          res:
            template: residual_block
            with: {channels: "${ch}", kernel: 1}
            to: [post]
          post:
            conv: {out_channels: "${ch}", kernel: 1}
        entry: [res]
        exit: post
    """)
    got = cores(tmp_path, HEAD + """\
  block1:
    template: wrap
    with: {ch: 8}
""")
    assert list(got) == ["stem", "block1.res.a", "block1.res.b", "block1.post"]
    assert got["stem"]["to"] == ["block1.res.a", "block1.res.b"]
    assert got["block1.res.b"]["to"] == ["block1.post"]


def test_a_bad_value_passed_through_a_nested_template_is_reported_at_the_network_with(tmp_path):
    write(tmp_path, "wrap.yaml", """\
        template: 1
        params:
          ch: {type: int}
        cores:
          res:
            template: residual_block
            with: {channels: "${ch}"}
        entry: [res]
        exit: res
    """)
    result = run(tmp_path, HEAD + """\
  block1:
    template: wrap
    with: {ch: 2048}
""")
    assert where(result) == [("net.yaml", "10:16", "template-param")]
    d = result.diagnostics[0]
    assert "'channels' of template 'residual_block' must be at most 1024, not 2048" in d.message
    (note,) = d.related
    assert Path(note.file).name == "wrap.yaml" and str(note.position) == "7:22"


def test_an_instance_weights_prefix_reaches_nested_templates(tmp_path):
    got = cores(tmp_path, NESTED.replace("with: {channels: 8}", "with: {channels: 8}\n    weights: net"),
                templates=[LIB])
    assert got["block1.pre"]["weights"] == "net.pre"
    assert got["block1.res.a"]["weights"] == "net.res.a"
    assert got["block1.res.b"]["weights"] == "net.res.b"


def test_a_nested_template_is_found_next_to_the_template_that_uses_it(tmp_path):
    """`inner` is in lib/ beside `outer`, not beside the network (issue 9: lib/ is below the
    network's directory now, as a template outside the search path is refused)."""
    write(tmp_path, "net/lib/outer.yaml", ONE_CORE.replace(
        "    conv: {out_channels: 8, kernel: 1}\n", "    template: inner\n"))
    write(tmp_path, "net/lib/inner.yaml", ONE_CORE)
    result = run(tmp_path, HEAD + """\
  block1:
    template: lib/outer
""", name="net/net.yaml")
    assert result.ok, where(result)


def instance(name: str) -> str:
    """HEAD and an instance `block1` of the template `name` (its `template:` value at 9:15)."""
    return HEAD + f"  block1:\n    template: {name}\n"


def test_a_template_that_uses_itself(tmp_path):
    write(tmp_path, "self.yaml", """\
        template: 1
        cores:
          x:
            conv: {out_channels: 8, kernel: 1}
            to: [again]
          again:
            template: self
        entry: [x]
        exit: x
    """)
    result = run(tmp_path, instance("self"))
    assert where(result) == [("net.yaml", "8:3", "template-recursion")]
    d = result.diagnostics[0]
    assert d.message == "template 'self' uses itself: self -> self"
    (note,) = d.related
    assert Path(note.file).name == "self.yaml" and str(note.position) == "7:15"


def test_two_templates_that_use_each_other(tmp_path):
    for me, other in (("ping", "pong"), ("pong", "ping")):
        write(tmp_path, f"{me}.yaml", ONE_CORE.replace(
            "    conv: {out_channels: 8, kernel: 1}\n", f"    template: {other}\n"))
    result = run(tmp_path, instance("ping"))
    assert where(result) == [("net.yaml", "8:3", "template-recursion")]
    d = result.diagnostics[0]
    assert d.message == "template 'ping' uses itself: ping -> pong -> ping"
    assert [Path(n.file).name for n in d.related] == ["pong.yaml"]


@pytest.mark.parametrize("name", ["loop_self", "loop_a"])
def test_the_corpus_loops_are_refused(tmp_path, name):
    result = run(tmp_path, instance(name), templates=[LIB])
    assert where(result) == [("net.yaml", "8:3", "template-recursion")]


@pytest.mark.parametrize("spelling", ["s.yaml", "./s"])
def test_a_loop_through_a_path_is_found_at_once(tmp_path, spelling):
    write(tmp_path, "s.yaml", ONE_CORE.replace(
        "    conv: {out_channels: 8, kernel: 1}\n", f"    template: {spelling}\n"))
    result = run(tmp_path, instance("s"))
    d = one(result, "template-recursion")
    assert d.message.count("->") == 1, d.message


# ============================================================================ the search path
def test_a_template_next_to_the_network_file(tmp_path):
    write(tmp_path, "my_block.yaml", ONE_CORE)
    for spelling in ("my_block", "my_block.yaml"):
        got = cores(tmp_path, instance(spelling))
        assert list(got) == ["stem", "block1.x"]


def test_a_template_at_a_relative_path(tmp_path):
    """Below the network's directory, or (issue 9) below a --templates directory."""
    write(tmp_path, "net/blocks/my_block.yaml", ONE_CORE)
    got = cores(tmp_path, instance("blocks/my_block"), name="net/net.yaml")
    assert list(got) == ["stem", "block1.x"]
    write(tmp_path, "lib/blocks/my_block.yaml", ONE_CORE)
    got = cores(tmp_path, instance("../lib/blocks/my_block"), name="net/net.yaml",
                templates=[tmp_path / "lib"])
    assert list(got) == ["stem", "block1.x"]


def test_a_template_from_a_templates_directory(tmp_path):
    write(tmp_path, "lib/my_block.yaml", ONE_CORE)
    text = instance("my_block")
    assert where(run(tmp_path, text, name="net/net.yaml")) == [
        ("net.yaml", "9:15", "template-not-found")]
    for directory in (tmp_path / "lib", str(tmp_path / "lib")):
        got = cores(tmp_path, text, name="net/net.yaml", templates=[directory])
        assert list(got) == ["stem", "block1.x"]


def test_the_network_directory_comes_first_then_templates_dirs_then_bundled(tmp_path):
    """Three `conv_pool`s: next to the file (core `mine`), in --templates (core `lib`), bundled."""
    def conv_pool(core: str) -> str:
        return one_core(core)

    write(tmp_path, "lib/conv_pool.yaml", conv_pool("lib"))
    text = instance("conv_pool") + "    with: {channels: 8}\n"
    assert list(cores(tmp_path, text, name="net/net.yaml")) == ["stem", "block1.conv"]
    assert list(cores(tmp_path, instance("conv_pool"), name="net/net.yaml",
                      templates=[tmp_path / "lib"])) == ["stem", "block1.lib"]
    write(tmp_path, "net/conv_pool.yaml", conv_pool("mine"))
    assert list(cores(tmp_path, instance("conv_pool"), name="net/net.yaml",
                      templates=[tmp_path / "lib"])) == ["stem", "block1.mine"]


def test_templates_dirs_are_searched_in_order(tmp_path):
    write(tmp_path, "one/blk.yaml", one_core("first"))
    write(tmp_path, "two/blk.yaml", one_core("second"))
    got = cores(tmp_path, instance("blk"), templates=[tmp_path / "two", tmp_path / "one"])
    assert list(got) == ["stem", "block1.second"]


def test_a_display_name_does_not_change_where_templates_are_found(tmp_path):
    write(tmp_path, "my_block.yaml", ONE_CORE)
    path = write(tmp_path, "net.yaml", instance("my_block"))
    result = run_file(path, display_name="net.yaml")
    assert result.ok, where(result)


# ======================================================================== every diagnostic
def test_template_not_found_suggests_a_bundled_template(tmp_path):
    result = run(tmp_path, instance("residual_blok"))
    assert where(result) == [("net.yaml", "9:15", "template-not-found")]
    d = result.diagnostics[0]
    assert "'residual_blok'" in d.message
    assert d.hint == "did you mean 'residual_block'?"


def test_template_not_found_lists_the_bundled_templates_when_nothing_is_close(tmp_path):
    d = run(tmp_path, instance("xyzzy")).diagnostics[0]
    assert d.code == "template-not-found"
    assert d.hint == ("bundled templates: concat_block, conv_pool, residual_block, "
                      "residual_block_downsample")


def test_template_not_found_suggests_templates_dirs(tmp_path):
    write(tmp_path, "lib/squeeze_block.yaml", ONE_CORE)
    d = run(tmp_path, instance("squeeze_blok"), templates=[tmp_path / "lib"]).diagnostics[0]
    assert (d.code, d.hint) == ("template-not-found", "did you mean 'squeeze_block'?")


def test_template_not_found_suggests_a_template_next_to_the_file(tmp_path):
    write(tmp_path, "squeeze_block.yaml", ONE_CORE)
    d = run(tmp_path, instance("squeeze_blok")).diagnostics[0]
    assert (d.code, d.hint) == ("template-not-found", "did you mean 'squeeze_block'?")


@pytest.mark.parametrize(("template", "expected"), [
    ("""\
        template: 1
        params:
          k: {type: int, defualt: 3}
        cores:
          x: {conv: {out_channels: 8, kernel: 1}}
        entry: [x]
        exit: x
    """, [("bad.yaml", "3:18", "unknown-key")]),
    ("""\
        template: 2
        cores:
          x: {conv: {out_channels: 8, kernel: 1}}
        entry: [x]
        exit: x
    """, [("bad.yaml", "1:11", "dsl-version")]),
    ("""\
        template: 1
        cores:
          x: {conv: {out_channels: 8, kernel: 1}}
        exit: x
    """, [("bad.yaml", "1:1", "missing-key")]),
    ("template: 1\ncores: [\n", [("bad.yaml", "3:1", "yaml-syntax")]),
], ids=["unknown-key", "version", "no-entry", "yaml-syntax"])
def test_template_invalid_reports_the_template_file_itself(tmp_path, template, expected):
    write(tmp_path, "bad.yaml", template)
    result = run(tmp_path, instance("bad"))
    assert where(result) == [*expected, ("net.yaml", "9:15", "template-invalid")]
    own = result.diagnostics[0]
    assert own.file == str((tmp_path / "bad.yaml").resolve())
    invalid = result.diagnostics[-1]
    assert "the template 'bad'" in invalid.message and "bad.yaml" in invalid.message
    assert not result.ok


def test_template_invalid_own_diagnostic_hint(tmp_path):
    write(tmp_path, "bad.yaml", """\
        template: 1
        params:
          k: {type: int, defualt: 3}
        cores:
          x: {conv: {out_channels: 8, kernel: 1}}
        entry: [x]
        exit: x
    """)
    own = run(tmp_path, instance("bad")).diagnostics[0]
    assert "did you mean 'default'?" in own.hint


def test_template_param_unknown_at_the_with_key(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8, kernal: 5, colour: red}
""")
    assert where(result) == [("net.yaml", "10:25", "template-param-unknown"),
                             ("net.yaml", "10:36", "template-param-unknown")]
    typo, other = result.diagnostics
    assert typo.message == "template 'residual_block' has no parameter 'kernal'"
    assert typo.hint == "did you mean 'kernel'?"
    assert other.hint == "its params: channels, kernel, threshold"


def test_template_param_missing_at_the_template_name(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: concat_block
    with: {narrow: 2}
""")
    assert where(result) == [("net.yaml", "9:15", "template-param-missing"),
                             ("net.yaml", "9:15", "template-param-missing")]
    wide, out = result.diagnostics
    assert wide.message == "template 'concat_block' needs 'wide' (features of the large-kernel branch)"
    assert wide.hint == "add `wide: ...` under `with:`"
    assert "'out_channels'" in out.message


@pytest.mark.parametrize(("with_", "col", "problem"), [
    ("{channels: 8.5}", "22", "'channels' of template 'conv_pool' must be an int, not 8.5"),
    ("{channels: true}", "22", "'channels' of template 'conv_pool' must be an int, not True"),
    ("{channels: '8'}", "22", "'channels' of template 'conv_pool' must be an int, not '8'"),
    ("{channels: 0}", "22", "'channels' of template 'conv_pool' must be at least 1, not 0"),
    ("{channels: 1025}", "22", "'channels' of template 'conv_pool' must be at most 1024, not 1025"),
    ("{channels: 8, pool: 3}", "31", "'pool' of template 'conv_pool' must be one of 1, 2, 4, not 3"),
    ("{channels: 8, threshold: on}", "36",
     "'threshold' of template 'conv_pool' must be a float, not 'on'"),
])
def test_template_param_at_the_with_value(tmp_path, with_, col, problem):
    result = run(tmp_path, HEAD + f"""\
  block1:
    template: conv_pool
    with: {with_}
""")
    assert where(result) == [("net.yaml", f"10:{col}", "template-param")]
    assert result.diagnostics[0].message == problem
    assert result.diagnostics[0].hint  # the parameter's description


def test_a_float_param_takes_an_int(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: conv_pool
    with: {channels: 8, threshold: 3}
""")
    assert got["block1.conv"]["neuron"] == {"threshold": 3}


EXPRESSIONS = """\
template: 1
params:
  k: {type: int, default: 3}
  t: {type: float, default: 1.0}
cores:
  x:
    conv: {out_channels: 8, kernel: "${kk}", padding: "${k / 2}"}
    neuron: {threshold: "${t * 2}"}
    to: [y]
  y:
    conv: {out_channels: "${len(k)}", kernel: "${k // (k - 3)}"}
entry: [x]
exit: y
"""


def test_template_expression_is_reported_in_the_template_file(tmp_path):
    write(tmp_path, "expr.yaml", EXPRESSIONS)
    result = run(tmp_path, instance("expr"))
    assert where(result) == [("expr.yaml", "7:37", "template-expression"),
                             ("expr.yaml", "7:55", "template-expression"),
                             ("expr.yaml", "8:25", "template-expression"),
                             ("expr.yaml", "11:26", "template-expression"),
                             ("expr.yaml", "11:47", "template-expression")]
    messages = [d.message for d in result.diagnostics]
    assert messages[0] == "in template 'expr': 'kk' is not a parameter; did you mean 'k'?"
    assert "'k / 2' uses something other than parameters" in messages[1]
    assert "'t * 2': arithmetic works on integers only" in messages[2]
    assert "'len(k)' uses something other than parameters" in messages[3]
    assert "'k // (k - 3)' divides by zero" in messages[4]
    assert all(d.file == str((tmp_path / "expr.yaml").resolve()) for d in result.diagnostics)
    assert not result.ok


def test_a_partial_expression_is_substituted_into_the_string(tmp_path):
    write(tmp_path, "named.yaml", """\
        template: 1
        params:
          layer: {type: int}
        cores:
          x:
            conv: {out_channels: 8, kernel: 1}
            weights: "features.${layer * 2}.conv"
        entry: [x]
        exit: x
    """)
    got = cores(tmp_path, instance("named") + "    with: {layer: 3}\n")
    assert got["block1.x"]["weights"] == "block1.features.6.conv"


def test_unary_minus_on_a_string_is_a_template_expression(tmp_path):
    write(tmp_path, "neg.yaml", """\
        template: 1
        params:
          s: {type: str, default: "x"}
        cores:
          x:
            conv: {out_channels: 8, kernel: "${-s}"}
        entry: [x]
        exit: x
    """)
    result = run(tmp_path, instance("neg"))
    assert where(result) == [("neg.yaml", "6:37", "template-expression")]


def test_a_bad_exit_pool_expression_is_a_template_expression(tmp_path):
    write(tmp_path, "ep.yaml", """\
        template: 1
        params:
          pool: {type: int, default: 2}
        cores:
          x:
            conv: {out_channels: 8, kernel: 1}
        entry: [x]
        exit: {core: x, pool: "${pol}"}
    """)
    result = run(tmp_path, instance("ep") + "    to: [head]\n" + HEAD_TAIL)
    assert where(result) == [("ep.yaml", "8:23", "template-expression")]


def test_template_reference_outside_the_template(tmp_path):
    write(tmp_path, "ref.yaml", """\
        template: 1
        cores:
          a:
            conv: {out_channels: 8, kernel: 1}
            to: [bb, {core: head}]
          b:
            conv: {out_channels: 8, kernel: 1}
            to: [readout]
        entry: [a]
        exit: b
    """)
    result = run(tmp_path, instance("ref") + HEAD_TAIL)
    assert where(result) == [("ref.yaml", "5:10", "template-reference"),
                             ("ref.yaml", "5:14", "template-reference")]
    bb, head = result.diagnostics
    assert bb.message == "core 'a' of template 'ref' sends to 'bb', which is not one of its cores"
    assert bb.hint == "did you mean 'b'?"
    assert "'head'" in head.message and "exit core also sends to the instance's `to:`" in head.hint


@pytest.mark.parametrize(("entry", "exit_", "message"), [
    ("[main]", "x", "template 'bad' names 'main' as its entry, which is not one of its cores"),
    ("[x, {core: skip, pool: 2}]", "x", "names 'skip' as its entry"),
    ("[x]", "{core: out, pool: 2}", "names 'out' as its exit"),
])
def test_template_entry_naming_an_unknown_core(tmp_path, entry, exit_, message):
    write(tmp_path, "bad.yaml", ONE_CORE.replace("entry: [x]", f"entry: {entry}")
          .replace("exit: x", f"exit: {exit_}"))
    result = run(tmp_path, instance("bad"))
    assert where(result) == [("net.yaml", "9:15", "template-entry")]
    assert message in result.diagnostics[0].message


def test_template_pool_conflicting_with_the_entry_pool(tmp_path):
    result = run(tmp_path, HEAD.replace("to: [block1]", "to: [{core: block1, pool: 4}]") + """\
  block1:
    template: entry_pool
""", templates=[LIB])
    assert where(result) == [("net.yaml", "7:10", "template-pool")]
    d = result.diagnostics[0]
    assert d.message == ("'block1' takes its entry 'block1.a' with pool 2, but this link asks "
                         "for pool 4")


def test_the_same_pool_as_the_entry_is_fine(tmp_path):
    for link in ("block1", "{core: block1, pool: 2}"):
        got = cores(tmp_path, HEAD.replace("to: [block1]", f"to: [{link}]") + """\
  block1:
    template: entry_pool
""", templates=[LIB])
        assert got["stem"]["to"] == [{"core": "block1.a", "pool": 2}]


def test_template_pool_from_the_input_layer(tmp_path):
    result = run(tmp_path, HEAD.replace("to: [stem]", "to: [stem, block1]").replace(
        "to: [block1]", "to: []") + """\
  block1:
    template: entry_pool
""", templates=[LIB])
    assert where(result) == [("net.yaml", "3:54", "template-pool")]
    assert "which the input layer cannot do" in result.diagnostics[0].message


def test_template_name_collision(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8}
  block1.b:
    conv: {out_channels: 8, kernel: 1}
""")
    assert where(result) == [("net.yaml", "8:3", "template-name-collision")]
    assert result.diagnostics[0].message == ("instance 'block1' makes a core 'block1.b', but a core "
                                             "of that name already exists")


def test_two_instances_of_a_template_do_not_collide(tmp_path):
    got = cores(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8}
    to: [block2]
  block2:
    template: residual_block
    with: {channels: 8}
""")
    assert list(got) == ["stem", "block1.a", "block1.b", "block2.a", "block2.b"]
    assert got["block1.b"]["to"] == ["block2.a", "block2.b"]


def test_an_unknown_key_in_an_instance_names_the_instance(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: residual_block
    whith: {channels: 8}
""")
    assert where(result) == [("net.yaml", "10:5", "unknown-key")]
    assert "'block1'" in result.diagnostics[0].message


# ------------------------------------------------------- design rules caused by a with: value
def test_a_design_rule_is_reported_at_the_with_value_with_a_note_in_the_template(tmp_path):
    result = run(tmp_path, instance("free_kernel") + "    with: {kernel: 17}\n",
                 templates=[LIB])
    assert where(result) == [("net.yaml", "10:20", "conv-kernel")]
    d = result.diagnostics[0]
    assert "core 'block1.conv': kernel 17 is outside 1..16" in d.message
    (note,) = d.related
    assert Path(note.file) == LIB / "free_kernel.yaml"
    assert line_at(note.file, note.position) == '"${kernel}"}'


def test_channels_that_break_a_sum_point_at_the_instance_and_into_the_template(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 4}
""")
    assert where(result) == [("net.yaml", "8:3", "merge-sum")]
    d = result.diagnostics[0]
    assert "'stem' [8, 16, 16], 'block1.a' [4, 16, 16]" in d.message
    template_notes = [n for n in d.related if Path(n.file) == BUNDLED / "residual_block.yaml"]
    assert len(template_notes) == 1
    assert line_at(template_notes[0].file, template_notes[0].position).startswith("b:")


def test_the_largest_kernel_the_bundled_bounds_allow_fits_the_chip(tmp_path):
    result = run(tmp_path, HEAD + """\
  block1:
    template: residual_block
    with: {channels: 8, kernel: 15}
""")
    assert result.ok, where(result)  # kernel 15, padding 7: both within the chip's ranges


def test_a_computed_value_is_reported_at_the_with_value_it_came_from(tmp_path):
    write(tmp_path, "plus2.yaml", """\
        template: 1
        params:
          k: {type: int}
        cores:
          x:
            conv: {out_channels: 8, kernel: "${k + 2}"}
        entry: [x]
        exit: x
    """)
    result = run(tmp_path, instance("plus2") + "    with: {k: 15}\n")
    assert where(result) == [("net.yaml", "10:15", "conv-kernel")]
    assert [Path(n.file).name for n in result.diagnostics[0].related] == ["plus2.yaml"]


@pytest.mark.parametrize("kind", ["str", "bool"])
def test_bounds_on_a_parameter_that_is_no_number_are_a_template_error(tmp_path, kind):
    """Issue 9: `{type: str, min: 1}` crashed the expander (comparing a string with a number)."""
    write(tmp_path, "bounded.yaml", f"""\
        template: 1
        params:
          act: {{type: {kind}, min: 1}}
        cores:
          x: {{conv: {{out_channels: 8, kernel: 1}}}}
        entry: [x]
        exit: x
    """)
    result = run(tmp_path, instance("bounded") + "    with: {act: relu}\n")
    assert where(result) == [("bounded.yaml", "3:8", "invalid-value"),
                             ("net.yaml", "9:15", "template-invalid")]
    assert f"a {kind} parameter takes `choices` instead" in result.diagnostics[0].message

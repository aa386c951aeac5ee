"""The rule registry (`dynapcnn_dsl.rules.registry`): what every rule must carry, switching rules
off, and how findings become positioned diagnostics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import BASE, check

from dynapcnn_dsl.diagnostics import Position, Severity
from dynapcnn_dsl.rules import REGISTRY, Finding, Rule, RuleContext, apply, rule, run_rules

KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RULE_TESTS = Path(__file__).resolve().parent
MODULES = ("chip_options", "conv", "cores", "destinations", "input", "merge", "neuron", "readout",
           "checkpoint", "link_references", "link_shapes", "link_merges", "link_memory", "link_average")


def context(text: str) -> RuleContext:
    result = check(text)
    assert result.network is not None
    return RuleContext(result.network, result.chip, result.source.source_map)


BAD = BASE.replace("kernel: 3", "kernel: 17, stride: 3")
"""Two findings from two rules: conv-kernel at 9:37 and conv-stride at 9:49."""


def test_the_registry_is_not_empty():
    assert len(REGISTRY) >= 30


@pytest.mark.parametrize("rule_id", sorted(REGISTRY))
def test_every_rule_is_complete(rule_id):
    r = REGISTRY[rule_id]
    assert r.id == rule_id
    assert KEBAB.match(r.id), r.id
    assert isinstance(r.severity, Severity)
    assert isinstance(r.hint, str)
    assert r.hint.strip()
    assert r.doc.strip(), f"{rule_id} has no docstring"
    assert r.doc == (r.check.__doc__ or "").strip()
    assert callable(r.check)


def test_ids_are_unique_across_modules():
    ids = [r.id for r in REGISTRY.values()]
    assert len(ids) == len(set(ids))


def test_registering_an_id_twice_is_refused():
    before = dict(REGISTRY)

    def again(ctx):  # pragma: no cover - never registered
        return iter(())

    with pytest.raises(ValueError, match="conv-kernel"):
        rule("conv-kernel", Severity.ERROR, "hint")(again)
    assert before == REGISTRY


@pytest.mark.parametrize("rule_id", sorted(REGISTRY))
def test_every_rule_lives_in_a_rule_module_with_its_own_test_file(rule_id):
    module = REGISTRY[rule_id].check.__module__.rsplit(".", 1)[-1]
    assert module in MODULES
    tests = (RULE_TESTS / f"test_{module}.py").read_text(encoding="utf-8")
    assert f'"{rule_id}"' in tests, f"{rule_id} is not tested in test_{module}.py"


def test_severities_in_use():
    warnings = {r.id for r in REGISTRY.values() if r.severity is Severity.WARNING}
    assert warnings == {"legacy-chip", "dest-duplicate", "dvs-chip", "readout-untested",
                        "core-unreachable", "recurrent-allowed", "pool-remainder",
                        "feature-layout", "leak-core", "no-output"}


# -- run_rules -----------------------------------------------------------------------------------

def test_run_rules_runs_every_rule():
    diags = run_rules(context(BAD))
    assert [(str(d.position), d.code) for d in diags] == [("9:37", "conv-kernel"),
                                                          ("9:49", "conv-stride")]


def test_disabled_switches_a_rule_off():
    diags = run_rules(context(BAD), disabled=["conv-kernel"])
    assert [(str(d.position), d.code) for d in diags] == [("9:49", "conv-stride")]


def test_disabled_takes_several_ids_and_any_iterable():
    assert run_rules(context(BAD), disabled=("conv-kernel", "conv-stride")) == []
    assert run_rules(context(BAD), disabled=iter(["conv-kernel", "conv-stride"])) == []


def test_disabling_an_unknown_id_changes_nothing():
    assert len(run_rules(context(BAD), disabled=["no-such-rule"])) == 2


def test_disabled_reaches_through_the_pipeline():
    from dynapcnn_dsl.pipeline import run_text

    result = run_text(BAD, "t.yaml", disabled=["conv-stride"])
    assert [d.code for d in result.diagnostics] == ["conv-kernel"]


def test_a_disabled_warning_leaves_a_legacy_file_clean():
    from dynapcnn_dsl.pipeline import run_text

    assert run_text(BASE.replace("speck2f", "dynapcnn"), disabled=["legacy-chip"]).diagnostics == ()


# -- apply: findings to diagnostics --------------------------------------------------------------

def make_rule(*findings: Finding, severity: Severity = Severity.ERROR) -> Rule:
    def check_fn(ctx):
        yield from findings

    return Rule("test-rule", severity, "the rule's hint", check_fn, "doc")


CORE = ("cores", "a")


def test_several_findings_about_the_same_path_are_all_kept():
    """E.g. two senders missing from one `from:` list, or a gap and an overlap in one receiver."""
    ctx = context(BASE)
    r = make_rule(Finding((*CORE, "conv", "kernel"), "first"),
                  Finding((*CORE, "conv", "kernel"), "second"))
    diags = list(apply(r, ctx))
    assert [(str(d.position), d.message) for d in diags] == [("9:37", "first"), ("9:37", "second")]


INHERITED = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 16, 16], to: [a]}
defaults:
  conv: {kernel: 3}
cores:
  a: {conv: {out_channels: 4}, to: [b]}
  b: {conv: {out_channels: 4}}
"""
"""`kernel: 3` written once under defaults (5:18) and inherited by both cores."""


def test_findings_for_different_paths_at_one_inherited_position_are_reported_once():
    ctx = context(INHERITED)
    r = make_rule(Finding(("cores", "a", "conv", "kernel"), "a's kernel"),
                  Finding(("cores", "b", "conv", "kernel"), "b's kernel"))
    assert [(str(d.position), d.message) for d in apply(r, ctx)] == [("5:18", "a's kernel")]


def test_same_path_findings_stay_after_a_different_path_at_the_same_position():
    ctx = context(INHERITED)
    r = make_rule(Finding(("cores", "a", "conv", "kernel"), "a1"),
                  Finding(("cores", "b", "conv", "kernel"), "b1"),
                  Finding(("cores", "a", "conv", "kernel"), "a2"))
    assert [d.message for d in apply(r, ctx)] == ["a1", "a2"]


def test_findings_falling_back_to_the_same_ancestor_are_reported_once():
    ctx = context(BASE)
    r = make_rule(Finding((*CORE, "conv", "stride"), "one"),
                  Finding((*CORE, "conv", "padding"), "two"))
    assert [str(d.position) for d in apply(r, ctx)] == ["9:5"]


def test_findings_at_different_positions_are_all_reported():
    ctx = context(BASE)
    r = make_rule(Finding((*CORE, "conv", "kernel"), "k"),
                  Finding((*CORE, "conv", "out_channels"), "o"))
    assert [(str(d.position), d.message) for d in apply(r, ctx)] == [("9:37", "k"), ("9:26", "o")]


def test_key_and_value_of_one_node_are_different_positions():
    ctx = context(BASE)
    r = make_rule(Finding((*CORE, "conv", "kernel"), "value"),
                  Finding((*CORE, "conv", "kernel"), "key", at_key=True))
    assert [str(d.position) for d in apply(r, ctx)] == ["9:37", "9:29"]


def test_a_diagnostic_carries_the_rule_and_its_hint():
    ctx = context(BASE)
    (d,) = apply(make_rule(Finding(("chip",), "msg"), severity=Severity.WARNING), ctx)
    assert (d.file, d.position, d.severity, d.code, d.message, d.hint) == (
        "t.yaml", Position(2, 7), Severity.WARNING, "test-rule", "msg", "the rule's hint")


def test_a_finding_may_bring_its_own_hint():
    ctx = context(BASE)
    (d,) = apply(make_rule(Finding(("chip",), "msg", hint="better")), ctx)
    assert d.hint == "better"


def test_related_paths_become_positions():
    ctx = context(BASE)
    f = Finding((*CORE, "conv", "kernel"), "msg", related=((("input", "to", 0), "fed from here"),))
    (d,) = apply(make_rule(f), ctx)
    assert [(r.file, str(r.position), r.message) for r in d.related] == [
        ("t.yaml", "6:8", "fed from here")]


def test_a_rule_that_finds_nothing_yields_nothing():
    assert list(apply(make_rule(), context(BASE))) == []

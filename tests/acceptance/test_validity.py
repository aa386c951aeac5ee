"""One verdict for every command: `validate`, `inspect`, `check` and `build` run the same
pipeline (only how far differs) and share one JSON envelope, so they agree on whether a file is
valid, for every file of the invalid corpus, also with the rules it breaks switched off; rules
that protect later phases cannot be switched off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write_weights

from dynapcnn_dsl.cli import run
from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.rules import REGISTRY

from .corpus_cases import CORPUS_DIR, cases

CASES = cases()


def envelope(capsys, *argv: str) -> tuple[int, dict]:
    code = run([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def verdicts(capsys, network: Path, weights: Path, out: Path,
             disabled: tuple[str, ...] = ()) -> dict[str, tuple[int, bool]]:
    """Each command's exit status and the `valid` of its one envelope entry."""
    found = {}
    off = [a for rule_id in disabled for a in ("--disable", rule_id)]
    for argv in (("validate", str(network)), ("inspect", str(network)),
                 ("check", str(network), str(weights)),
                 ("build", str(network), str(weights), "-o", str(out))):
        code, data = envelope(capsys, *argv, *off)
        assert set(data) == {"files", "summary"}, argv
        (entry,) = data["files"]
        assert {"file", "valid", "diagnostics"} <= set(entry), argv
        found[argv[0]] = (code, entry["valid"])
    return found


def test_every_command_agrees_on_every_corpus_file(capsys, tmp_path):
    weights = tmp_path / "none.npz"
    weights.write_bytes(b"")
    for case in CASES:
        if case.warning_only:
            weights = tmp_path / f"{case.path.stem}.npz"
            write_weights(case.path, weights, biases=True)
        out = tmp_path / "out.json"
        got = verdicts(capsys, case.path, weights, out)
        expected = (0, True) if case.warning_only else (1, False)
        assert got == dict.fromkeys(got, expected), case.name
        assert out.exists() is case.warning_only, case.name
        out.unlink(missing_ok=True)


def test_every_command_agrees_with_the_broken_rules_switched_off(capsys, tmp_path):
    """Each corpus file with every rule it breaks off (those that can be): the phases after the
    rules never crash; validate and inspect give one verdict, check and build another one (they
    judge the weights too), and a network that validate accepts builds with weights that fit
    it. (No weights fit a kernel below 1: check and build say so, with a weights-shape error.)"""
    out = tmp_path / "out.json"
    tried = valid = 0
    for case in CASES:
        off = tuple(sorted({c for c in case.codes if c in REGISTRY and not REGISTRY[c].integrity}))
        if not off:
            continue
        weights = tmp_path / f"{case.path.stem}.npz"
        linked = run_file(case.path, disabled=off).linked
        fits = linked is not None and linked.cores and all(
            n >= 0 for c in linked.cores for n in linked.weight_shape(c))
        if linked is None:
            weights.write_bytes(b"")
        else:
            write_weights(case.path, weights, biases=True, disabled=off)
        got = verdicts(capsys, case.path, weights, out, off)
        assert got["validate"] == got["inspect"] and got["check"] == got["build"], (case.name, got)
        if fits:
            assert got["build"] == got["validate"], (case.name, off, got)
        assert out.exists() is got["build"][1], case.name
        out.unlink(missing_ok=True)
        tried += 1
        valid += got["build"][1]
    assert tried >= 80 and valid >= 50, (tried, valid)  # the test reaches the later phases


@pytest.mark.parametrize("rule_id", sorted(r.id for r in REGISTRY.values() if r.integrity))
def test_a_rule_that_protects_later_phases_cannot_be_disabled(rule_id, capsys):
    for command in ("validate", "inspect", "graph"):
        with pytest.raises(SystemExit) as exc:
            run([command, "--disable", rule_id, str(CORPUS_DIR / "conv-kernel-too-big.yaml")])
        assert exc.value.code == 2
        assert f"rule '{rule_id}' cannot be disabled" in capsys.readouterr().err


def test_integrity_rules_run_whatever_the_api_disables():
    """The pipeline never skips them, so the API and the CLI agree on validity too."""
    case = CORPUS_DIR / "core-index-9.yaml"
    result = run_file(case, disabled=["core-index"])
    assert not result.ok and "core-index" in [d.code for d in result.diagnostics]

"""The invalid-file corpus through the front end (`pipeline.run_file`), one test per file.

Each file in tests/corpus/invalid/ states the exact diagnostics it must produce (see
corpus_cases.py); adding a case is adding a file.
"""

from __future__ import annotations

import re

import pytest

from dynapcnn_dsl.load import MAX_BYTES
from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.rules import BUILD, REGISTRY

from .corpus_cases import CORPUS_DIR, LOADER_AND_MODEL_CODES, Found, big_file, cases, mismatch, params

CASES = cases()
PASSING = [c for c in CASES if c.xfail is None]


@pytest.mark.parametrize("case", params(CASES))
def test_corpus_file(case):
    result = run_file(case.path, display_name=case.name)
    problem = mismatch(case, [Found.from_diagnostic(d) for d in result.diagnostics])
    assert problem is None, problem
    assert result.ok == case.warning_only


def test_corpus_is_large_enough():
    assert len(CASES) >= 50
    assert len(PASSING) >= 40


def test_every_file_states_its_expectations():
    for case in CASES:
        assert case.expectations, f"{case.name} has no `expect:` lines"


@pytest.mark.parametrize("rule_id", sorted(r.id for r in REGISTRY.values() if r.stage != BUILD))
def test_every_rule_is_exercised(rule_id):
    """(Build-stage rules run with weights, which the corpus has none of: tests/rules has them.)"""
    assert any(rule_id in c.codes for c in PASSING), f"no corpus file expects {rule_id}"


@pytest.mark.parametrize("code", LOADER_AND_MODEL_CODES)
def test_every_loader_and_model_code_is_exercised(code):
    assert any(code in c.codes for c in PASSING), f"no corpus file expects {code}"


def test_every_rule_has_several_cases_where_it_matters():
    counts = {code: sum(code in c.codes for c in PASSING) for code in
              ("conv-kernel", "dest-max", "dest-pool", "threshold-low", "dvs-crop", "input-shape")}
    assert all(n >= 3 for n in counts.values()), counts


def test_file_names_say_what_they_test():
    """`<code>-<detail>.yaml`, with a `warn-` prefix exactly when the file only warns."""
    for case in CASES:
        stem = case.name.removeprefix("warn-")
        assert case.name.startswith("warn-") == case.warning_only, case.name
        assert any(re.match(rf"{re.escape(code)}(-|\.)", stem) for code in case.codes), case.name


def test_json_files_have_sidecars_and_sidecars_have_files():
    for sidecar in CORPUS_DIR.glob("*.expect"):
        assert sidecar.with_suffix("").is_file(), f"{sidecar.name} has no JSON file"
    assert any(c.path.suffix == ".json" for c in PASSING)


def test_file_too_large(tmp_path):
    path = big_file(tmp_path)
    result = run_file(path, display_name="big.yaml")  # its cost: benchmarks/refusals.py
    assert [Found.from_diagnostic(d).key for d in result.diagnostics] == [
        ("-", "error", "file-too-large")]
    assert str(MAX_BYTES) in result.diagnostics[0].message


def test_file_at_the_size_limit_is_read(tmp_path):
    """The limit is inclusive: a file of exactly MAX_BYTES is loaded and checked."""
    path = tmp_path / "at-the-limit.yaml"
    network = (CORPUS_DIR / "warn-dest-duplicate.yaml").read_bytes()
    path.write_bytes(network + b"#" * (MAX_BYTES - len(network) - 1) + b"\n")
    assert path.stat().st_size == MAX_BYTES
    result = run_file(path)
    assert [d.code for d in result.diagnostics] == ["dest-duplicate"]


def test_missing_file_is_a_diagnostic_not_an_exception(tmp_path):
    result = run_file(tmp_path / "nope.yaml")
    assert [Found.from_diagnostic(d).key for d in result.diagnostics] == [
        ("-", "error", "file-unreadable")]


def test_billion_laughs_is_refused_without_expanding():
    result = run_file(CORPUS_DIR / "yaml-alias-billion-laughs.yaml")  # cost: benchmarks/refusals.py
    assert {d.code for d in result.diagnostics} == {"yaml-alias"}

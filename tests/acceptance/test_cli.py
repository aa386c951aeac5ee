"""The command line end to end: the real entry point (`python -m dynapcnn_dsl`) in a subprocess.

Subprocesses are few on purpose: the whole corpus goes through one `validate --format json`
run, and every file is checked from that single output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.rules import REGISTRY

from .corpus_cases import Found, big_file, cases, mismatch, params

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*/network.yaml"))
MISTAKES = "examples/mistakes.yaml"
CASES = cases()
WARNING_ONLY = [c for c in CASES if c.warning_only and c.xfail is None]

GITHUB_LINE = re.compile(
    r"^::(?P<level>error|warning|notice) file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"title=(?P<code>[a-z0-9-]+)::(?P<body>.+)$"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """`dynapcnn-dsl ARGS` from the repository root, without colour."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "DYNAPCNN_DSL_DEBUG")}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "dynapcnn_dsl", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


# ------------------------------------------------------------------------------- the corpus
@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    """One `validate --format json` over every corpus file plus a generated over-size file."""
    big = big_file(tmp_path_factory.mktemp("big"))
    proc = run("validate", "--format", "json", *(c.relative for c in CASES), str(big))
    report = json.loads(proc.stdout)
    by_file = {entry["file"]: entry for entry in report["files"]}
    return proc, report, by_file, str(big)


def test_corpus_run_exits_1_and_reports_every_file(corpus_run):
    proc, report, by_file, big = corpus_run
    assert proc.returncode == 1, proc.stderr
    assert set(by_file) == {c.relative for c in CASES} | {big}
    totals = {"error": 0, "warning": 0, "info": 0}
    for entry in report["files"]:
        for d in entry["diagnostics"]:
            totals[d["severity"]] += 1
    assert report["summary"] == totals


def test_corpus_run_refuses_the_oversize_file(corpus_run):
    _, _, by_file, big = corpus_run
    entry = by_file[big]
    assert entry["valid"] is False
    assert [Found.from_json(d).key for d in entry["diagnostics"]] == [("-", "error", "file-too-large")]


@pytest.mark.parametrize("case", params(CASES))
def test_corpus_file_through_the_cli(corpus_run, case):
    _, _, by_file, _ = corpus_run
    entry = by_file[case.relative]
    problem = mismatch(case, [Found.from_json(d) for d in entry["diagnostics"]])
    assert problem is None, problem
    # exit status 1 for a file with errors, 0 for a warning-only file
    assert entry["valid"] is case.warning_only
    for d in entry["diagnostics"]:
        assert d["file"] == case.relative
        assert d["message"] and d["hint"], d


def test_warning_only_files_exit_0_and_fail_with_strict():
    files = [c.relative for c in WARNING_ONLY]
    assert len(files) >= 4
    relaxed = run("validate", *files)
    assert relaxed.returncode == 0, relaxed.stdout
    for f in files:
        assert re.search(rf"^{re.escape(f)}: valid \(\d+ warnings?\)$", relaxed.stdout, re.M), f
    strict = run("validate", "--strict", "--format", "json", *files)
    assert strict.returncode == 1
    assert all(entry["valid"] is False for entry in json.loads(strict.stdout)["files"])


# ------------------------------------------------------------------------------- examples
EXAMPLE_WARNINGS = {
    "examples/dynapcnn-legacy/network.yaml": ["legacy-chip"],     # it needs samna < 0.46
    # the real models pool odd maps (17x17; 31x31, 15x15, 7x7), as their torch layers do
    "examples/sinabs-nmnist/network.yaml": ["pool-remainder"],
    "examples/retina-eye-tracking/network.yaml": ["pool-remainder"] * 3,
}
"""The warnings an example validates with, by design; every other example has none."""


def test_examples_validate():
    assert len(EXAMPLES) >= 3
    proc = run("validate", "--summary", *EXAMPLES)
    assert proc.returncode == 0, proc.stdout
    for f in EXAMPLES:
        n = len(EXAMPLE_WARNINGS.get(f, []))
        expected = f"valid ({n} warning{'s' * (n > 1)})" if n else "valid"
        assert f"{f}: {expected}\n" in proc.stdout, proc.stdout
    assert "error" not in proc.stdout
    warned = sorted(re.findall(r"warning\[([a-z0-9-]+)\]", proc.stdout))
    assert warned == sorted(code for codes in EXAMPLE_WARNINGS.values() for code in codes)


def test_mistakes_text_output_matches_golden():
    proc = run("validate", MISTAKES)
    assert proc.returncode == 1
    assert proc.stderr == ""
    assert proc.stdout == (GOLDEN / "mistakes.txt").read_text(encoding="utf-8")


def test_github_annotations():
    warn = WARNING_ONLY[0].relative
    proc = run("validate", "--format", "github", MISTAKES, warn)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    matches = [GITHUB_LINE.match(line) for line in lines]
    assert all(matches), lines
    expected = [
        (d.severity.value, f, d.position.line, d.position.col, d.code)
        for f in (MISTAKES, warn) for d in run_file(ROOT / f, display_name=f).diagnostics
    ]
    found = [(m["level"], m["file"], int(m["line"]), int(m["col"]), m["code"]) for m in matches]
    assert found == expected
    assert "%0Ahint: " in lines[0]  # the hint travels in the annotation body, newline-escaped


# ------------------------------------------------------------------------------- usage
def test_missing_file_is_a_usage_error():
    proc = run("validate", "no/such/network.yaml")
    assert proc.returncode == 2
    assert "no/such/network.yaml" in proc.stderr
    assert proc.stdout == ""


def test_disable_switches_a_rule_off():
    conv = "tests/corpus/invalid/conv-kernel-too-big.yaml"
    proc = run("validate", "--format", "json", "--disable", "conv-kernel", conv, MISTAKES)
    assert proc.returncode == 1  # mistakes.yaml has other errors
    files = {entry["file"]: entry for entry in json.loads(proc.stdout)["files"]}
    assert files[conv] == {"file": conv, "valid": True, "diagnostics": []}
    codes = [d["code"] for d in files[MISTAKES]["diagnostics"]]
    assert "conv-kernel" not in codes
    assert codes  # the other rules still ran


def test_unknown_disable_id_is_a_usage_error_with_a_suggestion():
    proc = run("validate", "--disable", "conv-kernal", MISTAKES)
    assert proc.returncode == 2
    assert "did you mean 'conv-kernel'?" in proc.stderr
    assert proc.stdout == ""


def test_schema_prints_json():
    proc = run("schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert {"dsl", "chip", "input", "cores"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"dsl", "chip", "input", "cores"}


def test_rules_lists_every_rule_id():
    proc = run("rules")
    assert proc.returncode == 0
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert [r[0] for r in rows] == sorted(REGISTRY)
    assert all(r[1] == REGISTRY[r[0]].severity.value for r in rows)


def test_rules_all_lists_every_code_with_its_stage_and_severity():
    from dynapcnn_dsl.codes import STAGES
    from dynapcnn_dsl.rules import catalogue

    codes = catalogue()
    proc = run("rules", "--all")
    assert proc.returncode == 0
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert [r[0] for r in rows] == list(codes)
    assert all((r[1], r[2]) == (codes[r[0]].stage, codes[r[0]].severity.value) for r in rows)
    assert {r[0] for r in rows if r[3] == "rule"} == set(REGISTRY)
    stages = [STAGES.index(r[1]) for r in rows]
    assert stages == sorted(stages)   # in the order a file meets the stages

    data = json.loads(run("rules", "--all", "--format", "json").stdout)
    assert [d["id"] for d in data] == list(codes)
    assert {d["id"]: d for d in data}["empty-document"] == {
        "id": "empty-document", "stage": "load", "severity": "error", "rule": False,
        "meaning": "The file is empty, or holds only comments."}

"""One verdict for every command: `validate`, `inspect`, `check` and `build` run the same
pipeline (only how far differs) and share one JSON envelope, so they agree on whether a file is
valid, for every file of the invalid corpus."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write_weights

from dynapcnn_dsl.cli import run

from .corpus_cases import cases

CASES = cases()


def envelope(capsys, *argv: str) -> tuple[int, dict]:
    code = run([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def verdicts(capsys, network: Path, weights: Path, out: Path) -> dict[str, tuple[int, bool]]:
    """Each command's exit status and the `valid` of its one envelope entry."""
    found = {}
    for argv in (("validate", str(network)), ("inspect", str(network)),
                 ("check", str(network), str(weights)),
                 ("build", str(network), str(weights), "-o", str(out))):
        code, data = envelope(capsys, *argv)
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

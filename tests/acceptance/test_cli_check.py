"""`dynapcnn-dsl check NETWORK WEIGHTS [--key K] [--format json]` end to end.

Most runs go through the console entry point in-process (`dynapcnn_dsl.cli.main`, which turns
crashes into exit 3 and "internal error"): torch is then imported once for the whole module.
One run goes through a real subprocess (`python -m dynapcnn_dsl`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from dynapcnn_dsl.cli import main
from dynapcnn_dsl.pipeline import Stage, run_file

ROOT = Path(__file__).resolve().parent.parent.parent
HOST_SEQUENTIAL = ROOT / "examples" / "host-sequential" / "network.yaml"
POSITIONED = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|info)"
                        r"\[(?P<code>[a-z0-9-]+)\]: ", re.MULTILINE)


class _HostSequential(torch.nn.Module):
    """examples/host-sequential as torch layers named like its cores (the default prefix)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(2, 8, 3, padding=1, bias=False)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.conv3 = torch.nn.Conv2d(16, 32, 3, bias=False)
        self.fc = torch.nn.Linear(32 * 7 * 7, 10, bias=False)   # flatten -> linear


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The weights files of the module, written once."""
    d = tmp_path_factory.mktemp("check")
    torch.manual_seed(0)
    sd = _HostSequential().state_dict()
    out = {"good": d / "model.pt", "checkpoint": d / "checkpoint.pt", "bad": d / "bad.pt",
           "extra": d / "extra.pt"}
    torch.save(sd, out["good"])
    torch.save({"state_dict": sd, "epoch": 12}, out["checkpoint"])
    torch.save({**sd, "conv2.weight": torch.zeros(16, 4, 3, 3)}, out["bad"])
    torch.save({**sd, "head.running_mean": torch.zeros(10)}, out["extra"])
    return out


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `dynapcnn-dsl ARGS` in-process: (exit status, stdout, stderr)."""
    monkeypatch.delenv("DYNAPCNN_DSL_DEBUG", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*argv: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, out + err
        code = exc.value.code
        return (code if isinstance(code, int) else 1), out, err

    return run


def table_rows(out: str) -> dict[str, list[str]]:
    """The quantization table's rows by core name (cells stripped)."""
    rows = {}
    for line in out.splitlines():
        if "│" in line:
            cells = [c.strip() for c in line.split("│")]
            rows[cells[0]] = cells
    return rows


def bound_reference(weights: Path):
    bound = run_file(HOST_SEQUENTIAL, until=Stage.QUANTIZE, weights=weights).quantized
    assert bound is not None
    return bound


# ------------------------------------------------------------------------------- good pairs
def test_good_pair_prints_the_quantization_table(cli, files):
    code, out, err = cli("check", HOST_SEQUENTIAL, files["good"])
    assert code == 0, out + err
    assert err == ""
    assert f"quantization of {files['good']}" in out
    assert "error[" not in out and "warning[" not in out
    # the Linear head is reshaped, and the report says so (an info, positioned at the core)
    (info,) = [m for m in POSITIONED.finditer(out)]
    assert info["code"] == "weights-reshaped" and info["sev"] == "info"
    rows = table_rows(out)
    (header,) = [[c.strip() for c in line.split("┃")] for line in out.splitlines() if "┃" in line]
    assert header == ["core", "#", "scale", "set by", "weights", "zeroed", "SQNR",
                      "threshold", "low"]
    reference = bound_reference(files["good"])
    assert list(rows) == [c.name for c in reference.cores]
    for core in reference.cores:
        cells = rows[core.name]
        assert cells[1] == str(core.index)
        assert cells[2] == f"{core.report.scale:.6g}"
        assert cells[3] == core.report.limited_by
        assert cells[4] == f"{core.weights.min()}..{core.weights.max()}"
        assert cells[7:9] == [str(core.threshold_high), str(core.threshold_low)]


def test_a_note_only_for_a_core_at_risk(cli, files, tmp_path):
    """A random initialisation quantizes at about 48 dB: no note. One outlier weight 1000x the
    others sets conv2's scale, most of its weights round to 0: a note names that core only."""
    code, out, _ = cli("check", HOST_SEQUENTIAL, files["good"])
    assert code == 0 and "note:" not in out
    sd = torch.load(files["good"], weights_only=True)
    sd["conv2.weight"][0, 0, 0, 0] = 1000 * sd["conv2.weight"].abs().max()
    torch.save(sd, tmp_path / "outlier.pt")
    code, out, _ = cli("check", HOST_SEQUENTIAL, tmp_path / "outlier.pt")
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert code == 0 and len(notes) == 1, out
    assert notes[0].startswith("note: core 'conv2': ")
    assert "% of its weights round to 0 (scale set by its weights); a few large values may be " \
           "setting the scale" in notes[0]


def test_unused_tensors_warn_but_pass(cli, files):
    code, out, _ = cli("check", HOST_SEQUENTIAL, files["extra"])
    assert code == 0
    assert f"{files['extra']}: warning[weights-unused]: 1 tensor is bound to no core: " \
           "head.running_mean" in out
    assert "quantization of" in out


def test_checkpoint_needs_key(cli, files):
    code, out, _ = cli("check", HOST_SEQUENTIAL, files["checkpoint"])
    assert code == 1
    assert f"{files['checkpoint']}: error[weights-key]: the file is a checkpoint, not a state_dict" in out
    assert "hint: name the state_dict with --key: state_dict" in out
    assert "quantization of" not in out

    code, out, _ = cli("check", HOST_SEQUENTIAL, files["checkpoint"], "--key", "state_dict")
    assert code == 0, out
    assert f"quantization of {files['checkpoint']}" in out


def test_json_report(cli, files):
    code, out, err = cli("check", HOST_SEQUENTIAL, files["good"], "--format", "json")
    assert code == 0, err
    (report,) = json.loads(out)["files"]  # the envelope every command shares
    assert report["file"] == str(HOST_SEQUENTIAL)
    assert report["weights"] == str(files["good"])
    assert report["valid"] is True
    reference = bound_reference(files["good"])
    cores = {c["core"]: c for c in report["quantization"]}
    assert list(cores) == [c.name for c in reference.cores]
    for core in reference.cores:
        row = cores[core.name]
        assert row["index"] == core.index
        assert row["weights"] == core.weight_key
        assert isinstance(row["scale"], float) and row["scale"] == core.report.scale
        assert row["limited_by"] == core.report.limited_by
        assert row["threshold_high"] == core.threshold_high
        assert row["threshold_low"] == core.threshold_low
        assert row["weight_range"] == [int(core.weights.min()), int(core.weights.max())]
        assert row["entries"] == core.weights.size
    assert cores["fc"]["reshaped_from"] == [10, 32 * 7 * 7]
    assert cores["conv1"]["reshaped_from"] is None
    fc_line = HOST_SEQUENTIAL.read_text().splitlines().index("  fc:") + 1
    assert [(d["line"], d["col"], d["severity"], d["code"]) for d in report["diagnostics"]] == [
        (fc_line, 3, "info", "weights-reshaped")]


# --------------------------------------------------------------------------------- bad pairs
def test_bad_pair_is_positioned_diagnostics(cli, files):
    code, out, err = cli("check", HOST_SEQUENTIAL, files["bad"])
    assert code == 1
    assert err == ""
    errors = [m for m in POSITIONED.finditer(out) if m["sev"] == "error"]
    assert [(m["file"], m["code"]) for m in errors] == [(str(HOST_SEQUENTIAL), "weights-shape")]
    line = int(errors[0]["line"])
    assert HOST_SEQUENTIAL.read_text().splitlines()[line - 1].strip().startswith("conv2:")
    assert "core 'conv2': 'conv2.weight' is [16, 4, 3, 3], expected [16, 8, 3, 3] [out, in, k, k]" in out
    assert f"{line:>4} |   conv2:" in out  # the source line is quoted
    assert out.rstrip().endswith(f"{HOST_SEQUENTIAL}: invalid (1 error)")
    assert "quantization of" not in out


def test_bad_pair_json(cli, files):
    code, out, _ = cli("check", HOST_SEQUENTIAL, files["bad"], "--format", "json")
    assert code == 1
    (report,) = json.loads(out)["files"]
    assert report["valid"] is False
    assert report["quantization"] is None
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert [(d["file"], d["code"]) for d in errors] == [(str(HOST_SEQUENTIAL), "weights-shape")]
    assert isinstance(errors[0]["line"], int) and isinstance(errors[0]["col"], int)
    assert errors[0]["hint"]


def test_every_problem_in_one_run(cli, tmp_path):
    network = tmp_path / "net.yaml"
    network.write_text(
        "dsl: 1\nchip: speck2f\n"
        "input: {source: host, shape: [1, 8, 8], to: [a]}\n"
        "cores:\n"
        "  a: {conv: {out_channels: 2, kernel: 3}, to: [b]}\n"
        "  b: {conv: {out_channels: 2, kernel: 1, bias: true}, monitor: true}\n"
    )
    weights = tmp_path / "w.pt"
    torch.save({"a.weight": torch.full((2, 1, 3, 3), float("nan")), "b.weight": torch.ones(2, 3, 1, 1),
                "b.bais": torch.zeros(2)}, weights)
    code, out, _ = cli("check", network, weights)
    assert code == 1
    found = [(m["line"], m["col"], m["code"]) for m in POSITIONED.finditer(out)]
    assert found == [("5", "3", "weights-non-finite"), ("6", "3", "weights-shape"),
                     ("6", "3", "weights-missing")]
    assert "closest names in the file: b.bais" in out
    assert f"{weights}: warning[weights-unused]: 1 tensor is bound to no core: b.bais" in out
    assert "invalid (3 errors" in out


def test_invalid_network_is_reported_before_weights(cli, tmp_path, files):
    network = tmp_path / "net.yaml"
    network.write_text("dsl: 1\nchip: speck2f\ninput: {source: host, shape: [1, 8, 8], to: [a]}\n"
                       "cores:\n  a: {conv: {out_channels: 2, kernel: 17}}\n")
    code, out, _ = cli("check", network, files["good"])
    assert code == 1
    codes = [m["code"] for m in POSITIONED.finditer(out)]
    assert codes and not any(c.startswith("weights-") for c in codes)


def _npz_member_not_npy(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("conv1.weight.npy", b"not an npy array")


def _object_npz(path: Path) -> None:
    with path.open("wb") as fh:
        np.savez(fh, meta=np.array([None, {"lr": 1}], dtype=object))


def _truncated_pt(path: Path) -> None:
    torch.save({"conv1.weight": torch.ones(8, 2, 3, 3)}, path)
    path.write_bytes(path.read_bytes()[:200])


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("name, write, code", [
    ("notes.pt", lambda p: p.write_text("not weights\n"), "weights-format"),
    ("list.pt", lambda p: torch.save([torch.ones(1)], p), "weights-format"),
    ("objects.npz", _object_npz, "weights-unsafe"),
    ("cut.pt", _truncated_pt, "weights-corrupt"),
    ("torch.safetensors", lambda p: torch.save({"conv1.weight": torch.ones(1)}, p),
     "weights-missing"),
    ("garbage.npz", _npz_member_not_npy, "weights-corrupt"),
    ("meta.pt", lambda p: torch.save({"x": torch.empty(2, device="meta")}, p), "weights-dtype"),
    ("sparse.pt", lambda p: torch.save({"x": torch.ones(2, 2).to_sparse()}, p), "weights-dtype"),
    ("f8.safetensors", lambda p: save_file({"x": torch.ones(2, dtype=torch.float8_e5m2)}, str(p)),
     "weights-dtype"),
    ("stretched.pt", lambda p: torch.save({"x": torch.zeros(1).expand(10**8)}, p), "weights-too-large"),
], ids=["text", "list", "object-npz", "truncated", "torch-named-safetensors", "npz-member-not-npy",
        "meta", "sparse", "float8-safetensors", "stretched"])
def test_bad_weights_files_exit_1_never_a_traceback(cli, tmp_path, name, write, code):
    path = tmp_path / name
    write(path)
    status, out, err = cli("check", HOST_SEQUENTIAL, path)
    assert "internal error" not in err, err
    assert status == 1
    assert f"error[{code}]" in out, out
    if code != "weights-missing":  # a reader's refusal names the weights file, at no line
        assert f"{path}: error[{code}]: " in out, out


def test_malicious_weights_are_refused_and_never_run(cli, tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pt"
    torch.save({"conv1.weight": _Payload(marker)}, path)
    status, out, _ = cli("check", HOST_SEQUENTIAL, path)
    assert status == 1
    assert f"{path}: error[weights-unsafe]: the file asks to build arbitrary Python objects" in out
    assert not marker.exists()


# -------------------------------------------------------------------------------- usage
def test_missing_weights_file_is_a_usage_error(cli, tmp_path):
    missing = tmp_path / "nowhere.pt"
    code, out, err = cli("check", HOST_SEQUENTIAL, missing)
    assert code == 2
    assert out == ""
    assert f"{missing}: no such file" in err


def test_weights_directory_is_a_usage_error(cli, tmp_path):
    code, _, err = cli("check", HOST_SEQUENTIAL, tmp_path)
    assert code == 2
    assert "is a directory" in err


def test_missing_network_file_is_a_usage_error(cli, tmp_path, files):
    code, _, err = cli("check", tmp_path / "nowhere.yaml", files["good"])
    assert code == 2
    assert "no such file" in err


def test_weights_argument_is_required(cli):
    code, _, err = cli("check", HOST_SEQUENTIAL)
    assert code == 2
    assert "WEIGHTS" in err


# ------------------------------------------------------------------------ the real process
def test_check_in_a_subprocess(files):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "DYNAPCNN_DSL_DEBUG")}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "dynapcnn_dsl", "check", str(HOST_SEQUENTIAL), str(files["bad"])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{HOST_SEQUENTIAL}:" in proc.stdout and "error[weights-shape]" in proc.stdout

"""What every command prints, byte for byte: its standard output, standard error and exit status
against a golden file (tests/acceptance/golden/report/<case>.txt).

The goldens were written before the commands' printing moved into `dynapcnn_dsl/report/`, so the
move is proved to change nothing users see. Each case runs in-process in one folder of inputs
made here (relative names, so the text does not depend on where the folder is); the only figures
masked are wall-clock ones (evaluate's throughput); floats printed in full are compared with a
relative tolerance. Regenerate after an intended change with
`pytest tests/acceptance/test_report_golden.py --update-golden`, and review the diff.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import CHAIN, ROOT, write_weights

from dynapcnn_dsl.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden" / "report"
DVS = ROOT / "examples" / "dvs-speck2f" / "network.yaml"
EVENTS = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])

CASES: dict[str, list[str]] = {
    "validate-text": ["validate", "chain.yaml", "broken.yaml"],
    "validate-summary": ["validate", "--summary", "dvs.yaml"],
    "validate-json": ["validate", "--format", "json", "chain.yaml", "broken.yaml"],
    "validate-github": ["validate", "--format", "github", "broken.yaml", "warned.yaml"],
    "inspect-text": ["inspect", "dvs.yaml"],
    "inspect-invalid": ["inspect", "broken.yaml"],
    "inspect-json": ["inspect", "--format", "json", "chain.yaml"],
    "check-text": ["check", "dvs.yaml", "dvs.npz"],
    "check-json": ["check", "--format", "json", "chain.yaml", "chain.npz"],
    "check-invalid": ["check", "broken.yaml", "chain.npz"],
    "build-text": ["build", "dvs.yaml", "dvs.npz", "-o", "out/dvs.json"],
    "build-warned": ["build", "warned.yaml", "chain.npz", "-o", "out/warned.json"],
    "build-warned-json": ["build", "--format", "json", "warned.yaml", "chain.npz", "-o", "out/warned2.json"],
    "check-warned": ["check", "warned.yaml", "chain.npz"],
    "inspect-warned": ["inspect", "warned.yaml"],
    "diff-warned": ["diff", "warned.yaml", "chain.yaml"],
    "build-quiet": ["build", "chain.yaml", "chain.npz", "-o", "out/quiet.json", "--quiet"],
    "build-json": ["build", "--format", "json", "chain.yaml", "chain.npz", "-o", "out/chain.json"],
    "build-stdout": ["build", "chain.yaml", "chain.npz", "-o", "-"],
    "build-invalid": ["build", "broken.yaml", "chain.npz", "-o", "out/broken.json"],
    "diff-text": ["diff", "chain.json", "chain2.yaml", "--new-weights", "chain2.npz"],
    "diff-same": ["diff", "chain.json", "chain.yaml", "--weights", "chain.npz"],
    "diff-structure": ["diff", "chain.yaml", "dvs.yaml"],
    "diff-patch": ["diff", "--format", "json-patch", "chain.json", "chain2.yaml", "--new-weights",
                   "chain2.npz"],
    "diff-side-fails": ["diff", "broken.yaml", "chain.json"],
    "diff-bad-document": ["diff", "damaged.json", "chain.json"],
    "simulate-text": ["simulate", "dvs.json", "--events", "dvs-events.npy", "--slow-clock-hz", "1000",
                      "-o", "out/sim.npz"],
    "simulate-network": ["simulate", "chain.yaml", "chain.npz", "--events", "chain-events.npy"],
    "simulate-fails": ["simulate", "damaged.json", "--events", "chain-events.npy"],
    "evaluate-text": ["evaluate", "chain.json", "--dataset", "ds", "--jobs", "1", "-o", "out/rows.csv"],
    "evaluate-failed": ["evaluate", "chain.json", "--dataset", "ds2", "--jobs", "1"],
    "evaluate-json": ["evaluate", "chain.json", "--dataset", "ds", "--jobs", "1", "--format", "json"],
    "import-document": ["import", "chain.json", "-o", "imported"],
    "import-fails": ["import", "damaged.json", "-o", "imported-not"],
    "rules-text": ["rules"],
    "rules-json": ["rules", "--format", "json"],
    "rules-all-text": ["rules", "--all"],
    "rules-all-json": ["rules", "--all", "--format", "json"],
    "new-text": ["new", "fresh"],
    "graph-files": ["graph", "chain.yaml", "-o", "out/graph"],
}
"""Case name -> the command line, in the folder `workspace` makes."""

MASKS = [(re.compile(r"throughput: .*"), "throughput: <masked>"),
         (re.compile(r'"(wall_seconds|seconds|recordings_per_s|events_per_s)": [0-9.e+-]+'), r'"\1": 0'),
         (re.compile(r"^no SVG: .*\n", re.M), ""),
         (re.compile(r", out/graph\.svg"), "")]
"""Wall-clock figures, and whether Graphviz is installed on this machine."""

FULL_FLOAT = re.compile(r"-?\d+\.\d{6,}(?:e[-+]?\d+)?")
"""A float printed in full (the JSON outputs: a scale, an SQNR, a spike rate): computed by numpy,
whose sums another CPU may round differently in the last place, so compared with a relative
tolerance, and the text around it exactly."""

BROKEN = CHAIN.replace("kernel: 3, padding: 1}\n    to:", "kernel: 3, padding: 1, bogus: 2}\n    to:")
WARNED = CHAIN + "  unreached:\n    conv: {out_channels: 4, kernel: 3}\n"
"""Valid, with a warning (core-unreachable)."""


def recordings(rng: np.random.Generator, n: int, width: int, channels: int) -> np.ndarray:
    ev = np.zeros(n, EVENTS)
    ev["t"] = np.sort(rng.integers(0, 50_000, n))
    ev["x"], ev["y"] = rng.integers(0, width, n), rng.integers(0, width, n)
    ev["p"] = rng.integers(0, channels, n)
    return ev


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    (folder / "out").mkdir()
    for name, text in (("chain.yaml", CHAIN), ("broken.yaml", BROKEN), ("warned.yaml", WARNED),
                       ("chain2.yaml", CHAIN.replace("out_channels: 4, kernel: 3, padding: 1}\n    to",
                                                     "out_channels: 6, kernel: 3, padding: 1}\n    to"))):
        (folder / name).write_text(text, encoding="utf-8")
    shutil.copy(DVS, folder / "dvs.yaml")
    write_weights(folder / "chain.yaml", folder / "chain.npz")
    write_weights(folder / "chain2.yaml", folder / "chain2.npz")
    write_weights(folder / "dvs.yaml", folder / "dvs.npz")
    rng = np.random.default_rng(7)
    np.save(folder / "chain-events.npy", recordings(rng, 3000, 16, 2))
    np.save(folder / "dvs-events.npy", recordings(rng, 20000, 128, 2))
    import dynapcnn_dsl

    dynapcnn_dsl.build(folder / "chain.yaml", folder / "chain.npz").write(folder / "chain.json")
    dynapcnn_dsl.build(folder / "dvs.yaml", folder / "dvs.npz").write(folder / "dvs.json")
    text = (folder / "chain.json").read_text(encoding="utf-8")
    (folder / "damaged.json").write_text(text.replace('"cnn_layers"', '"cnn_layer"', 1), encoding="utf-8")
    for label in ("0", "1"):
        (folder / "ds" / label).mkdir(parents=True)
        for i in range(2):
            np.save(folder / "ds" / label / f"r{i}.npy", recordings(rng, 400, 16, 2))
    shutil.copytree(folder / "ds", folder / "ds2")
    (folder / "ds2" / "1" / "bad.npy").write_bytes(b"not an array")
    np.save(folder / "ds2" / "0" / "silent.npy", recordings(rng, 0, 16, 2))
    return folder


def run_case(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    text = (f"$ dynapcnn-dsl {' '.join(argv)}\nexit {exc.value.code}\n"
            f"--- stdout\n{out.out}--- stderr\n{out.err}")
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.parametrize("case", list(CASES))
def test_the_command_prints_what_it_printed(case, workspace, capsys, monkeypatch, request):
    monkeypatch.chdir(workspace)
    for name in ("FORCE_COLOR", "DYNAPCNN_DSL_DEBUG", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    text = run_case(CASES[case], capsys)
    assert "Traceback" not in text and "internal error" not in text, text
    golden = GOLDEN / f"{case}.txt"
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden for {case}: run with --update-golden and review it"
    want = golden.read_text(encoding="utf-8")
    assert FULL_FLOAT.sub("<float>", text) == FULL_FLOAT.sub("<float>", want), f"{case}: the output changed"
    got_floats, want_floats = (list(map(float, FULL_FLOAT.findall(t))) for t in (text, want))
    assert got_floats == pytest.approx(want_floats, rel=1e-9), f"{case}: a figure changed"

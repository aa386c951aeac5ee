"""Commands that need no weights must not import torch (nor numpy, which costs startup time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from dynapcnn_dsl.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "numpy", "jsonschema", "safetensors") if m in sys.modules)
print("HEAVY", ",".join(heavy), "EXIT", code)
"""


def _heavy_modules(argv: list[str]) -> tuple[str, str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    line = [x for x in out.splitlines() if x.startswith("HEAVY")][-1]
    _, heavy, _, code = line.split(" ")
    return heavy, code


def test_validate_imports_neither_torch_nor_numpy():
    heavy, code = _heavy_modules(["validate", "--summary", "examples/dvs-speck2f/network.yaml"])
    assert heavy == ""
    assert code == "0"


def test_schema_command_does_not_import_torch():
    heavy, code = _heavy_modules(["schema", "-o", "/dev/null"])
    assert "torch" not in heavy
    assert code == "0"

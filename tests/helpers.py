"""Shared test helpers, imported by name (`from helpers import check, write`): check YAML text,
read diagnostics as (line:col, code) pairs, write networks and weights. Fixtures are in
conftest.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.pipeline import Result, Stage, run_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CORPUS = Path(__file__).resolve().parent / "corpus"

BASE = """\
dsl: 1
chip: speck2f
input:
  source: host
  shape: [1, 16, 16]
  to: [a]
cores:
  a:
    conv: {out_channels: 4, kernel: 3}
"""
"""A minimal valid network; tests append or replace lines to make one thing wrong."""


# One core `a` whose keys start at line 8; `.format(quantize="auto"|"none")` picks the mode.
ONE_CORE_QUANTIZE = """\
dsl: 1
chip: speck2f
quantize: {quantize}
input: {{source: host, shape: [1, 16, 16], to: [a]}}
cores:
  a:
    conv: {{out_channels: 4, kernel: 3}}
"""


# A plain chain: a (16x16) -> pool -> b; pool 2 or 4 both leave b a valid map.
ONE_HOST_CORE = """dsl: 1
name: one
chip: speck2f
input: {source: host, shape: [1, 4, 4], to: [conv]}
cores:
  conv:
    conv: {out_channels: 3, kernel: 3, padding: 1}
    neuron: {threshold: 1.0, min_v_mem: -1.0}
    monitor: true
"""
"""One monitored core on a 1x4x4 host input: the smallest network that runs and names a class."""

CHAIN = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 16, 16], to: [a]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  a:
    conv: {out_channels: 4, kernel: 3, padding: 1}
    to: [{core: b, pool: 2}]
  b:
    conv: {out_channels: 4, kernel: 3, padding: 1}
    monitor: true
"""


def check(text: str, file: str = "t.yaml", *, link: bool = True) -> Result:
    """Run the pipeline on dedented YAML text (up to the single-file rules with link=False)."""
    return run_text(textwrap.dedent(text), file, until=Stage.LINK if link else Stage.RULES)


def found(text: str, *, link: bool = True) -> list[tuple[str, str]]:
    """[(\"line:col\", \"code\"), ...] for every diagnostic, in report order."""
    return [(str(d.position), d.code) for d in check(text, link=link).diagnostics]


def only(text: str, *, link: bool = True) -> Diagnostic:
    """The single diagnostic the text produces (fails if there are none or several)."""
    diags = check(text, link=link).diagnostics
    assert len(diags) == 1, [f"{d.position} {d.code}: {d.message}" for d in diags]
    return diags[0]


def write_weights(network: Path | str, path: Path, *, seed: int = 0, low: float = -1.0,
                  high: float = 1.0, pin_scale: bool = False, biases: bool = False,
                  disabled: tuple[str, ...] = (), **extra: np.ndarray) -> dict[str, np.ndarray]:
    """Random `<prefix>.weight` tensors for every core of the linked network, written to `path`
    (.npz or .safetensors by suffix). With `pin_scale`, each tensor holds 1.0 and -1.0, so the
    quantization scale is exactly 127 and quantized values can be asserted exactly. With
    `biases`, also `<prefix>.bias` for every core that declares one, and the saved threshold
    and min_v_mem of every `neuron: {weights}`; `disabled` rules are off while linking."""
    from dynapcnn_dsl.pipeline import run_file

    linked = run_file(network, disabled=disabled).linked
    assert linked is not None, f"{network} does not link"
    rng = np.random.default_rng(seed)
    tensors: dict[str, np.ndarray] = {}
    for core in linked.cores:
        # a negative size (a kernel below 1 with its rule off) gives an empty, mismatching tensor
        w = rng.uniform(low, high, [max(n, 0) for n in linked.weight_shape(core)])
        if pin_scale:
            w.flat[0], w.flat[1], w.flat[2] = 1.0, -1.0, 0.0
        tensors[f"{core.weights}.weight"] = w.astype(np.float32)
        if biases and core.bias:
            tensors[f"{core.weights}.bias"] = rng.uniform(low, high, w.shape[0]).astype(np.float32)
        if biases:
            tensors.update(neuron_tensors(core))
    tensors.update(extra)
    if path.suffix == ".safetensors":
        from safetensors.numpy import save_file

        save_file(tensors, str(path))
    else:
        np.savez(path, **tensors)
    return tensors


def neuron_tensors(core: Any) -> dict[str, np.ndarray]:
    """A sinabs layer's saved parameters for a core with `neuron: {weights: P}` (threshold 1.0,
    min_v_mem -1.0, 0-d as sinabs saves them); nothing for another core."""
    prefix = core.neuron.weights
    if prefix is None:
        return {}
    return {f"{prefix}.spike_threshold": np.array(1.0, np.float32),
            f"{prefix}.min_v_mem": np.array(-1.0, np.float32)}


def batchnorm_tensors(linked: Any, core: Any) -> dict[str, np.ndarray]:
    """A trained BatchNorm2d's state for a core with `batchnorm: P`: every value a multiple of
    1/16 (exact in float32, the same on every platform), none trivial; nothing for another core."""
    if core.batchnorm is None:
        return {}
    i = np.arange(linked.logical_out(core))
    values = {"weight": 1 + (i % 4) / 8, "bias": (i % 5 - 2) / 16, "running_mean": (i % 3 - 1) / 8,
              "running_var": 1 + (i % 4) / 4}
    prefix = core.batchnorm.weights
    return {f"{prefix}.{name}": v.astype(np.float32) for name, v in values.items()} | {
        f"{prefix}.num_batches_tracked": np.array(100, np.int64)}


def check_model(text: str, file: str = "t.yaml") -> Result:
    """The pipeline without the linker: model-stage rules are tested on their own."""
    return check(text, file, link=False)


def found_model(text: str) -> list[tuple[str, str]]:
    return found(text, link=False)


def only_model(text: str) -> Diagnostic:
    return only(text, link=False)


def write(directory: Path, name: str, text: str) -> Path:
    """Write dedented `text` to `directory/name` (creating folders on the way)."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_weights(network: Path, path: Path, *, seed: int = 0, **extra: np.ndarray) -> Path:
    """Weights for every core of `network` whose quantization scale is exactly 127 (see
    `write_weights`), written to `path`; returns `path`."""
    write_weights(network, path, seed=seed, low=-0.9, high=0.9, pin_scale=True, **extra)
    return path


_PROBE = """
import sys
from dynapcnn_dsl.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("LOADED", ",".join(m for m in {watched!r} if m in sys.modules), "EXIT", code)
"""

HEAVY = ("torch", "numpy", "jsonschema", "safetensors", "numba", "nir", "dynapcnn_dsl.simulator",
         "dynapcnn_dsl.importer", "dynapcnn_dsl.verify", "pygls", "lsprotocol", "dynapcnn_dsl.lsp")
"""The modules a command may be asked not to load: start-up cost, or a phase it never runs."""


def modules_loaded(argv: list[str], *, cwd: Path = ROOT) -> tuple[set[str], str]:
    """Run the CLI with `argv` in a fresh interpreter: which of `HEAVY` it imported, and its
    exit status (as text)."""
    out = subprocess.run([sys.executable, "-c", _PROBE.format(argv=argv, watched=HEAVY)],
                         cwd=cwd, capture_output=True, text=True, check=True).stdout
    _, loaded, _, code = [x for x in out.splitlines() if x.startswith("LOADED")][-1].split(" ")
    return set(filter(None, loaded.split(","))), code


REMADE_RTOL = 1e-3
"""How far a number re-made on this machine (a training run, a float sum) may be from the one
committed from another: relative to the tensor's own scale, never an absolute last-place bound.
Float arithmetic is rounded differently by other CPUs (vector widths, fused multiply-adds):
the eye tracker trained on an AMD EPYC differed by 2.3e-5 from the committed checkpoint, far
below this, while a real change (a different seed, a wrong layer) moves values by far more."""


def assert_remade(got: Any, want: Any, name: str = "") -> None:
    """`got` equals `want` up to REMADE_RTOL of `want`'s largest magnitude (floats), exactly
    otherwise (integers, booleans): the one comparison for numbers another CPU re-makes."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (name, got.shape, want.shape)
    if want.dtype.kind != "f" or want.size == 0:
        assert np.array_equal(got, want), name
        return
    scale = float(np.max(np.abs(want)))
    worst = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    assert worst <= REMADE_RTOL * scale, (f"{name}: differs by {worst:.3g}, more than {REMADE_RTOL} "
                                          f"of its largest magnitude {scale:.3g}")


def cli(capsys: Any, *argv: str) -> tuple[int, str]:
    """`dynapcnn-dsl ARGV` in-process: (exit status, stdout + stderr); never a traceback or an
    internal error, whatever the arguments."""
    import pytest

    from dynapcnn_dsl.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text and "internal error" not in text, text
    return exc.value.code, text

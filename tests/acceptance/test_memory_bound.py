"""The stated memory bound (issue 19, README "Reliability"): on hostile inputs, `simulate`,
`compare` and `import` refuse before allocating what the input declares, and the whole process
peaks under MEMORY_BOUND_MIB of resident memory (torch and numba imported included), measured
by the kernel (`wait4`'s ru_maxrss) for each command run in its own process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
NMNIST = ROOT / "examples" / "sinabs-nmnist"
MEMORY_BOUND_MIB = 1024
"""Peak RSS of one command on any hostile input below: the README states it."""

ROW = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])


def header(shape, dtype) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})
    return buf.getvalue()


def peak(argv: list[str], cwd: Path) -> tuple[int, str, float]:
    """Exit status, output and peak resident memory (MiB) of `dynapcnn-dsl ARGV`."""
    out = cwd / "out.txt"
    with out.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "dynapcnn_dsl", *argv], cwd=ROOT, stdout=fh,
                                stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out.read_text(errors="replace"), usage.ru_maxrss / 1024


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    files["declares-300M.npy"] = folder / "declares-300M.npy"
    files["declares-300M.npy"].write_bytes(header((300_000_000,), ROW))
    files["members-400M.npz"] = folder / "members-400M.npz"
    with zipfile.ZipFile(files["members-400M.npz"], "w", zipfile.ZIP_DEFLATED) as zf:
        for name in "txyp":
            zf.writestr(f"{name}.npy", header((400_000_000,), "<i8") + bytes(64))
    files["dense-3G.npy"] = folder / "dense-3G.npy"
    files["dense-3G.npy"].write_bytes(header((100_000, 2, 128, 128), "u1"))
    files["counts-2^62.npy"] = folder / "counts-2^62.npy"
    np.save(files["counts-2^62.npy"], np.full((1, 2, 34, 34), 2**62, np.int64))
    files["apart.npy"] = folder / "apart.npy"
    far = np.zeros(2, ROW)
    far["t"] = [0, 2**62]
    np.save(files["apart.npy"], far)
    graph = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
                                "output": nir.Output(output_type={"output": np.array([2, 8, 8])})},
                         edges=[("input", "output")], type_check=False)
    files["4GB.nir"] = folder / "4GB.nir"
    nir.write(str(files["4GB.nir"]), graph)
    with h5py.File(files["4GB.nir"], "r+") as f:
        f["node"].create_dataset("weight", shape=(1024, 1024, 1024), dtype="f4", chunks=(1, 64, 1024),
                                 compression="gzip")
    files["weights-huge.npz"] = folder / "weights-huge.npz"
    with zipfile.ZipFile(files["weights-huge.npz"], "w") as zf:
        zf.writestr("seq.0.weight.npy", header((1024, 1024, 1024), "<f4") + bytes(64))
    return files


CONFIG = ROOT / "tests" / "golden" / "sinabs-nmnist.samna.json"
SIM = ["simulate", str(CONFIG), "--events"]
CASES = {
    "simulate, an .npy header declaring 300M events": (
        [*SIM, "{declares-300M.npy}"], 1, "simulate-events-size"),
    "simulate, .npz members declaring 400M events": (
        [*SIM, "{members-400M.npz}"], 1, "simulate-events-size"),
    "simulate, a dense header declaring 3.2G entries": (
        [*SIM, "{dense-3G.npy}", "--bin-us", "1000"], 1, "simulate-events-size"),
    "simulate, dense counts of 2^62": (
        [*SIM, "{counts-2^62.npy}", "--bin-us", "1000"], 1,
        "simulate-events-size"),
    "simulate, a fast clock over events 2^62 us apart": (
        [*SIM, "{apart.npy}", "--slow-clock-hz", "1000"], 1, "simulate-slow-clock"),
    "simulate, a clock of 1e15 Hz": (
        [*SIM, "{apart.npy}", "--slow-clock-hz", "1e15"], 2, "--slow-clock-hz"),
    "compare, an .npy header declaring 300M events": (
        ["compare", str(NMNIST / "network.yaml"), str(NMNIST / "nmnist_snn.pth"), "--model",
         f"{NMNIST / 'model.py'}:nmnist_snn", "--events", "{declares-300M.npy}"], 1, "simulate-events-size"),
    "import, a 4 GB tensor declared by a small .nir": (
        ["import", "{4GB.nir}", "-o", "{tmp}/out"], 1, "declares tensors of more than"),
    "import, a weights .npz declaring 1G entries": (
        ["import", f"{ROOT / 'tests' / 'importer' / 'zoo.py'}:SumPoolChain", "--input-shape", "2,16,16",
         "--weights", "{weights-huge.npz}", "-o", "{tmp}/out"], 1, "weights-too-large"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_inputs_stay_under_the_memory_bound(case, hostile, tmp_path):
    argv, code, says = CASES[case]
    names = {f"{{{k}}}": str(v) for k, v in hostile.items()} | {"{tmp}": str(tmp_path)}
    for key, value in names.items():
        argv = [a.replace(key, value) for a in argv]
    status, out, mib = peak(argv, tmp_path)
    assert status == code and says in out, out
    assert "Traceback" not in out and "internal error" not in out
    assert mib < MEMORY_BOUND_MIB, f"{case}: peak RSS {mib:.0f} MiB"

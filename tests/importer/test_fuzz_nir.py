"""A fuzz of NIR files (issue 19): random mutations of a valid `.nir` file, of its structure
(through h5py: values, shapes, types, node kinds, deleted and added keys) and of its bytes, each
imported in-process, ending in an import or its diagnostics: never another exception. HDF5 is a
C library, so the cases run in a subprocess, where a signal death is seen as one; a sample also
goes through the command line (exit 0, 1 or 2, never 3). Seeded: a failure names its case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def valid(path: str) -> None:
    """The file every mutation starts from: a small network of each NIR node kind the chip takes."""
    import nir
    import numpy as np

    r = np.random.default_rng(0)
    shape = (4, 8, 8)
    nodes = {"input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
             "conv": nir.Conv2d(input_shape=np.array([8, 8]), stride=1, padding=1, dilation=1, groups=1,
                                weight=r.uniform(-1, 1, (4, 2, 3, 3)).astype("f4"), bias=np.zeros(4, "f4")),
             "spike": nir.IF(r=np.ones(shape, "f4"), v_threshold=np.full(shape, 2.0, "f4"),
                             v_reset=np.zeros(shape, "f4")),
             "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                   padding=np.array([0, 0])),
             "flat": nir.Flatten(input_type={"input": np.array([4, 4, 4])}, start_dim=0),
             "fc": nir.Affine(weight=r.uniform(-1, 1, (10, 64)).astype("f4"), bias=np.zeros(10, "f4")),
             "spike2": nir.IF(r=np.ones(10, "f4"), v_threshold=np.full(10, 1.0, "f4"),
                              v_reset=np.zeros(10, "f4")),
             "output": nir.Output(output_type={"output": np.array([10])})}
    edges = [("input", "conv"), ("conv", "spike"), ("spike", "pool"), ("pool", "flat"), ("flat", "fc"),
             ("fc", "spike2"), ("spike2", "output")]
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))


RUNNER = r'''
import io, json, os, sys, warnings
import contextlib
import h5py, nir, numpy as np
from dynapcnn_dsl import importer
from dynapcnn_dsl.cli import main
from dynapcnn_dsl.importer import from_nir

sys.path.insert(0, os.path.join(os.getcwd(), "tests", "importer"))
from test_fuzz_nir import valid

from_nir.READ_SECONDS = 10     # a file HDF5 loops on costs this (60 s by default)

seed, cases, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
warnings.simplefilter("ignore")
rng = np.random.default_rng(seed)


VALUES = [lambda: np.int64(0), lambda: np.int64(-1), lambda: np.int64(2**62), lambda: np.float64("nan"),
          lambda: np.array([0, 0]), lambda: np.array([2**40, 3]), lambda: np.zeros((0,)),
          lambda: np.ones((3, 3, 3, 3, 3), "f4"), lambda: np.array([b"LIF"]), lambda: b"Conv2d",
          lambda: b"NIRGraph", lambda: b"Bogus", lambda: np.array([1.5, -2.5]),
          lambda: np.zeros((2, 1), "i8"), lambda: np.array([True]), lambda: np.array([[1, 2], [3, 4]], "u1")]


def items(group, out):
    for key in group:
        item = group[key]
        out.append(item.name)
        if isinstance(item, h5py.Group):
            items(item, out)
    return out


def structural(path):
    with h5py.File(path, "r+") as f:
        names = items(f["node"], [])
        for _ in range(int(rng.integers(1, 4))):
            name = names[int(rng.integers(0, len(names)))]
            if name not in f:
                continue
            kind = int(rng.integers(0, 4))
            parent, key = name.rsplit("/", 1)
            if kind == 0:
                del f[name]
            elif kind == 1:
                del f[name]
                f[parent].create_dataset(key, data=VALUES[int(rng.integers(0, len(VALUES)))]())
            elif kind == 2:
                f[parent].create_group(key + "_x").create_dataset("type", data=b"IF")
            elif isinstance(f[name], h5py.Dataset) and f[name].size:
                data = f[name][()]
                if isinstance(data, np.ndarray) and data.dtype.kind in "iuf":
                    flat = data.reshape(-1).copy()
                    flat[int(rng.integers(0, flat.size))] = rng.choice([0, -1, 1e9, 3])
                    del f[name]
                    f[parent].create_dataset(key, data=flat.reshape(data.shape))


def bytewise(path):
    raw = bytearray(open(path, "rb").read())
    for _ in range(int(rng.integers(1, 20))):
        raw[int(rng.integers(0, len(raw)))] = int(rng.integers(0, 256))
    if rng.random() < 0.2:
        raw = raw[: int(rng.integers(0, len(raw)))]
    open(path, "wb").write(bytes(raw))


base = os.path.join(folder, "base.nir")
valid(base)
assert importer.import_nir(base).ok, importer.import_nir(base).diagnostics
failures, outcomes, slow = [], {"ok": 0, "refused": 0}, []
for case in range(cases):
    path = os.path.join(folder, "m.nir")
    with open(base, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())
    try:
        (structural if case % 2 == 0 else bytewise)(path)
    except Exception:
        continue      # h5py could not make this mutation: not a case
    try:
        result = importer.import_nir(path)
        outcomes["ok" if result.ok else "refused"] += 1
        assert result.ok or result.diagnostics
        if any("took more than" in d.message for d in result.diagnostics):
            slow.append(case)
    except Exception as exc:
        failures.append(f"case {case}: {type(exc).__name__}: {exc}"[:300])
    if case % 50 == 0:
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                main(["import", path, "-o", os.path.join(folder, "out"), "--force"])
            except SystemExit as exit_:
                if exit_.code not in (0, 1, 2) or "internal error" in err.getvalue():
                    failures.append(f"case {case}: CLI exit {exit_.code}: {err.getvalue()[:300]}")
print(json.dumps({"failures": failures, "outcomes": outcomes, "stopped": slow}))
'''


def test_mutated_nir_files_end_in_an_import_or_a_diagnostic(tmp_path):
    done = subprocess.run([sys.executable, "-c", RUNNER, "19", "400", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          timeout=900)
    assert done.returncode == 0, f"the runner died ({done.returncode}): {done.stderr[-2000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], "\n".join(report["failures"][:20])
    assert min(report["outcomes"].values()) > 50, report["outcomes"]


HANG = ((2624, 39), (6018, 151), (10267, 62), (20387, 34), (24889, 231), (25287, 7), (26191, 3),
        (28747, 44), (28843, 161), (36577, 116), (38418, 71), (50934, 249), (63180, 178), (65175, 207))
"""Bytes of `valid`'s file that this fuzz changed (seed 19, case 1449, of 1,500) to make HDF5
1.14 loop forever (in H5HG__cache_heap_deserialize, reading a global heap)."""
BASE_MD5 = "13557a11e547ae6f51e2e1676658b868"


def test_the_file_hdf5_loops_on_is_stopped(tmp_path, monkeypatch):
    import hashlib

    from dynapcnn_dsl import importer
    from dynapcnn_dsl.importer import from_nir

    path = tmp_path / "hang.nir"
    valid(str(path))
    same = hashlib.md5(path.read_bytes()).hexdigest() == BASE_MD5    # another h5py writes other bytes
    raw = bytearray(path.read_bytes())
    for offset, value in HANG:
        raw[offset] = value
    path.write_bytes(bytes(raw))
    monkeypatch.setattr(from_nir, "READ_SECONDS", 3)
    result = importer.import_nir(path)
    assert not result.ok and [d.code for d in result.diagnostics] == ["import-source"]
    if same:
        assert result.diagnostics[0].message.startswith(f"reading {path} took more than 3 s")

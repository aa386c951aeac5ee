"""The weight readers against hostile files: every tensor type converted or refused by name,
checkpoints that share or contain themselves, declared sizes over the cap refused before any
allocation, damaged bytes always a diagnostic, and no file left open.

Files are written at test time with the real writers (torch.save, safetensors, numpy), then
edited byte by byte where a hostile file needs it.
"""

from __future__ import annotations

import gc
import random
import struct
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file as save_safetensors_numpy
from safetensors.torch import save_file as save_safetensors_torch

from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.weights import read, readers

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch's beta/prototype notices

WEIGHT = torch.ones(2, 1, 1, 1)


def errors(path: Path, **kwargs) -> list[tuple[str, str]]:
    """(code, message) of every diagnostic; reading must have returned nothing."""
    weights, diags = read(path, **kwargs)
    assert weights is None
    assert all(d.severity is Severity.ERROR and d.file == str(path) for d in diags)
    return [(d.code, d.message) for d in diags]


# ------------------------------------------------------------------- every torch tensor type
REFUSED_TORCH = {
    "complex": (lambda: torch.ones(2, dtype=torch.complex64), "tensor 'x' is complex64"),
    "quantized": (lambda: torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8),
                  "tensor 'x' is quantized (qint8)"),
    "sparse": (lambda: torch.ones(2, 2).to_sparse(), "tensor 'x' is a sparse_coo tensor"),
    "sparse-csr": (lambda: torch.ones(2, 2).to_sparse_csr(), "tensor 'x' is a sparse_csr tensor"),
    "nested": (lambda: torch.nested.nested_tensor([torch.ones(2), torch.ones(3)]),
               "tensor 'x' is a nested (ragged) tensor"),
    "meta": (lambda: torch.empty(2, device="meta"), "tensor 'x' is a meta tensor"),
    "bits": (lambda: torch.zeros(2, dtype=torch.bits8), "tensor 'x' is bits8"),
}


@pytest.mark.parametrize("kind", REFUSED_TORCH)
def test_a_torch_tensor_numpy_cannot_hold_is_refused_by_name_even_unused(tmp_path, kind):
    make, words = REFUSED_TORCH[kind]
    path = tmp_path / f"{kind}.pt"
    torch.save({"a.weight": WEIGHT, "x": make()}, path)   # 'x' is bound to no core
    ((code, message),) = errors(path)
    assert code == "weights-dtype"
    assert message.startswith(words), message


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2, torch.bfloat16])
def test_narrow_torch_floats_are_widened_exactly(tmp_path, dtype):
    values = torch.tensor([0.5, -2.0, 1.5]).to(dtype)
    path = tmp_path / "narrow.pt"
    torch.save({"a.weight": WEIGHT, "x": values}, path)
    weights, diags = read(path)
    assert diags == [] and weights is not None
    assert weights.tensors["x"].dtype == np.float32
    np.testing.assert_array_equal(weights.tensors["x"], values.float().numpy())


def test_every_refused_tensor_is_reported(tmp_path):
    path = tmp_path / "two.pt"
    torch.save({"c": torch.ones(1, dtype=torch.complex128), "a.weight": WEIGHT,
                "m": torch.empty(3, device="meta")}, path)
    assert [m.split(",")[0] for _, m in errors(path)] == [
        "tensor 'c' is complex128", "tensor 'm' is a meta tensor (a shape without values)"]


@pytest.mark.parametrize("dtype, name", [(torch.float8_e4m3fn, "F8_E4M3"), (torch.float8_e5m2, "F8_E5M2"),
                                         (torch.bfloat16, "BF16"), (torch.complex64, "C64")])
def test_a_safetensors_type_numpy_cannot_hold_is_refused_by_name(tmp_path, dtype, name):
    path = tmp_path / "narrow.safetensors"
    save_safetensors_torch({"a.weight": WEIGHT, "x": torch.ones(3).to(dtype)}, str(path))
    assert errors(path) == [("weights-dtype", f"tensor 'x' is {name}, which cannot be read as numbers")]


def test_an_npz_array_of_complex_numbers_is_refused_by_name(tmp_path):
    path = tmp_path / "complex.npz"
    np.savez(path, **{"a.weight": np.ones((2, 1, 1, 1), np.float32), "x": np.ones(2, np.complex64)})
    assert errors(path) == [("weights-dtype", "tensor 'x' is complex64 (complex), which cannot be "
                                              "read as numbers")]


# ------------------------------------------------------------------------------ checkpoints
def test_a_checkpoint_that_holds_itself(tmp_path):
    ckpt: dict = {"epoch": 1, "model": {"state_dict": {"a.weight": WEIGHT}}}
    ckpt["self"] = ckpt
    ckpt["model"]["parent"] = ckpt
    path = tmp_path / "cycle.pt"
    torch.save(ckpt, path)
    _, diags = read(path)
    assert [(d.code, d.hint) for d in diags] == [
        ("weights-key", "name the state_dict with --key: model.state_dict")]
    weights, diags = read(path, key="self.self.model.state_dict")
    assert diags == [] and weights is not None and set(weights.tensors) == {"a.weight"}


def test_a_dict_shared_at_every_level_is_walked_once(tmp_path):
    """40 levels that each hold the same dict twice: 2^40 paths, 41 distinct dicts."""
    node: dict = {"state_dict": {"a.weight": WEIGHT}}
    for _ in range(40):
        node = {"left": node, "right": node}
    path = tmp_path / "shared.pt"
    torch.save(node, path)
    _, diags = read(path)
    (d,) = diags
    assert d.hint == "name the state_dict with --key: " + "left." * 40 + "state_dict"
    _, diags = read(path, key="nothing")
    assert diags[0].hint == "state_dicts in this file: " + "left." * 40 + "state_dict"


# -------------------------------------------------------------------- declared sizes, capped
def _npy_declaring(shape: tuple[int, ...]) -> bytes:
    """An .npy header declaring `shape` float32, followed by a few bytes of data."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue() + bytes(64)


def test_an_npz_member_declaring_more_than_the_cap_allocates_nothing(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.weight.npy", _npy_declaring((2, 1, 1, 1)))
        zf.writestr("x.npy", _npy_declaring((100_000_000,)))   # 400 MB declared in 1 KB
    tracemalloc.start()
    try:
        found = errors(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [c for c, _ in found] == ["weights-too-large"]
    assert "declares 100,000,002 entries in 2 arrays" in found[0][1]
    assert peak < 10_000_000


def test_a_torch_record_declaring_more_than_the_cap_is_not_inflated(tmp_path):
    """The zip's central directory says a storage inflates to 2 GB: refused before torch.load."""
    path = tmp_path / "huge.pt"
    torch.save({"a.weight": WEIGHT}, path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        member = next(i for i in zf.infolist() if i.filename.endswith("data/0"))
    entry = data.index(b"PK\x01\x02")                     # the member's central directory entry
    while not data[entry + 46:].startswith(member.filename.encode()):
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = struct.pack("<I", 2_000_000_000)   # uncompressed size
    path.write_bytes(bytes(data))
    ((code, message),) = errors(path)
    assert code == "weights-too-large"
    assert "bytes of records" in message


def test_a_tensor_declaring_more_entries_than_its_storage(tmp_path):
    """An expanded tensor (stride 0) saves one value but declares 10^8 entries."""
    path = tmp_path / "expanded.pt"
    torch.save({"a.weight": torch.zeros(1).expand(100_000_000)}, path)
    ((code, message),) = errors(path)
    assert code == "weights-too-large"
    assert "100,000,000 entries in 1 tensors" in message


def test_the_cap_comes_from_the_chip():
    assert readers.KERNEL_ENTRIES == 272 * 1024
    assert readers.MAX_ENTRIES == 64 * readers.KERNEL_ENTRIES


def test_safetensors_declaring_more_than_the_cap(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    save_safetensors_numpy({"a.weight": np.ones((2, 1, 3, 3), np.float32)}, str(path))
    monkeypatch.setattr(readers, "MAX_ENTRIES", 17)
    assert [c for c, _ in errors(path)] == ["weights-too-large"]


# --------------------------------------------------------------------------- damaged bytes
def _sources(tmp_path: Path) -> list[Path]:
    arrays = {"a.weight": np.arange(72, dtype=np.float32).reshape(4, 2, 3, 3) / 72,
              "a.bias": np.ones(4, np.float32)}
    tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
    paths = [tmp_path / n for n in ("z.pt", "legacy.pt", "w.npz", "c.npz", "w.safetensors")]
    torch.save(tensors, paths[0])
    torch.save(tensors, paths[1], _use_new_zipfile_serialization=False)
    np.savez(paths[2], **arrays)
    np.savez_compressed(paths[3], **arrays)
    save_safetensors_numpy(arrays, str(paths[4]))
    return paths


def test_flipped_bytes_are_always_a_diagnostic(tmp_path):
    """Random byte edits of real files (fixed seed): each read is a value or a diagnostic,
    whatever the library underneath raises (the exceptions each reader expects are listed in
    readers.py; anything else would escape here)."""
    rng = random.Random(9)
    for source in _sources(tmp_path):
        data = source.read_bytes()
        for n in range(40):
            edited = bytearray(data)
            for _ in range(rng.choice([1, 2, 4, 16])):
                edited[rng.randrange(len(edited))] = rng.randrange(256)
            if n % 5 == 0:
                edited = edited[: rng.randrange(len(edited))]
            path = tmp_path / f"edited{source.suffix}"
            path.write_bytes(bytes(edited))
            weights, diags = read(path)
            assert (weights is None) == bool(diags), (source.name, n)


def test_a_damaged_npz_leaves_no_file_open(tmp_path):
    path = tmp_path / "damaged.npz"
    np.savez(path, **{"a.weight": np.ones(3, np.float32)})
    data = bytearray(path.read_bytes())
    data[data.index(b"PK\x01\x02") + 6] = 0xE4     # a zip version no reader supports
    path.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [c for c, _ in errors(path)] == ["weights-corrupt"]
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []

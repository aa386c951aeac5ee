"""The weight readers: formats recognised by content, checkpoints opened at a key, and every
unsafe, damaged or foreign file refused with a diagnostic (never a trace, never code run).

Every file is written at test time into tmp_path with the real writers: torch.save,
safetensors (torch and numpy APIs), numpy.savez and pickle.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file as save_safetensors_numpy
from safetensors.torch import save_file as save_safetensors_torch

from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.weights import WeightsFile, read

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def state_dict() -> dict[str, torch.Tensor]:
    """A real module's state_dict: a Conv2d with a bias and one without."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, bias=True), torch.nn.ReLU(), torch.nn.Conv2d(4, 3, 1, bias=False),
    )
    return model.state_dict()


def ok(path: Path, **kwargs) -> WeightsFile:
    weights, diags = read(path, **kwargs)
    assert diags == [], [f"{d.code}: {d.message}" for d in diags]
    assert weights is not None
    return weights


def refused(path: Path, **kwargs) -> Diagnostic:
    """The single error reading `path` produces; nothing is returned with it."""
    weights, diags = read(path, **kwargs)
    assert weights is None
    assert len(diags) == 1, [f"{d.code}: {d.message}" for d in diags]
    d = diags[0]
    assert d.severity is Severity.ERROR
    assert d.file == str(path)
    assert d.position is None  # a weights file has no lines to point at
    return d


def same_tensors(weights: WeightsFile, expected: dict[str, torch.Tensor]) -> None:
    assert set(weights.tensors) == set(expected)
    for name, tensor in expected.items():
        got = weights.tensors[name]
        assert isinstance(got, np.ndarray), name
        np.testing.assert_array_equal(got, tensor.numpy(), err_msg=name)


def truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


# ------------------------------------------------------------------------ torch state_dicts
@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_torch_state_dict(tmp_path, state_dict, suffix):
    path = tmp_path / f"model{suffix}"
    torch.save(state_dict, path)
    weights = ok(path)
    assert weights.format == "torch"
    assert weights.path == str(path)
    same_tensors(weights, state_dict)
    assert weights.tensors["0.weight"].dtype == np.float32


def test_torch_legacy_serialization(tmp_path, state_dict):
    """torch.save's pre-zip format (a bare pickle stream) is read as well."""
    path = tmp_path / "legacy.pt"
    torch.save(state_dict, path, _use_new_zipfile_serialization=False)
    weights = ok(path)
    assert weights.format == "torch"
    same_tensors(weights, state_dict)


def test_half_and_bfloat16_become_float32(tmp_path):
    half = torch.tensor([0.5, -1.25, 3.0], dtype=torch.float16)
    bf16 = torch.tensor([[0.5, -2.0]], dtype=torch.bfloat16)
    path = tmp_path / "half.pt"
    torch.save({"h.weight": half, "b.weight": bf16}, path)
    weights = ok(path)
    assert weights.tensors["h.weight"].dtype == np.float32
    assert weights.tensors["b.weight"].dtype == np.float32
    np.testing.assert_array_equal(weights.tensors["h.weight"], [0.5, -1.25, 3.0])
    np.testing.assert_array_equal(weights.tensors["b.weight"], [[0.5, -2.0]])


# --------------------------------------------------------------------------------- checkpoints
def test_checkpoint_needs_a_key_and_the_hint_names_it(tmp_path, state_dict):
    path = tmp_path / "checkpoint.pt"
    torch.save({"state_dict": state_dict, "epoch": 7, "optimizer": {"lr": 0.1}}, path)
    d = refused(path)
    assert d.code == "weights-key"
    assert d.message == "the file is a checkpoint, not a state_dict"
    assert d.hint == "name the state_dict with --key: state_dict"


def test_checkpoint_opened_at_its_key(tmp_path, state_dict):
    path = tmp_path / "checkpoint.pt"
    torch.save({"state_dict": state_dict, "epoch": 7, "optimizer": {"lr": 0.1}}, path)
    weights = ok(path, key="state_dict")
    assert weights.format == "torch"
    same_tensors(weights, state_dict)


def test_nested_checkpoint_opened_at_a_dotted_key(tmp_path, state_dict):
    path = tmp_path / "nested.pth"
    torch.save({"epoch": 3, "model": {"state_dict": state_dict, "ema": None}}, path)
    d = refused(path)
    assert d.code == "weights-key"
    assert d.hint == "name the state_dict with --key: model.state_dict"
    same_tensors(ok(path, key="model.state_dict"), state_dict)


def test_wrong_key_is_refused_with_the_keys_that_exist(tmp_path, state_dict):
    path = tmp_path / "checkpoint.pt"
    torch.save({"state_dict": state_dict, "epoch": 7}, path)
    d = refused(path, key="model")
    assert d.code == "weights-key"
    assert d.message == "the checkpoint has no key 'model'"
    assert d.hint == "state_dicts in this file: state_dict"


def test_key_into_a_state_dict_is_refused(tmp_path, state_dict):
    """--key on a plain state_dict: the file has no such top-level key."""
    path = tmp_path / "plain.pt"
    torch.save(state_dict, path)
    d = refused(path, key="state_dict")
    assert d.code == "weights-key"
    assert "no key 'state_dict'" in d.message


def test_key_naming_a_non_state_dict_is_a_format_error(tmp_path, state_dict):
    path = tmp_path / "checkpoint.pt"
    torch.save({"state_dict": state_dict, "epoch": 7}, path)
    d = refused(path, key="epoch")
    assert d.code == "weights-format"
    assert "holds a int, not a state_dict" in d.message


def test_wrong_nested_key_hint_gives_full_dotted_keys(tmp_path, state_dict):
    path = tmp_path / "nested.pt"
    torch.save({"epoch": 3, "model": {"state_dict": state_dict}}, path)
    d = refused(path, key="model.weights")
    assert d.code == "weights-key"
    assert d.message == "the checkpoint has no key 'model.weights'"
    assert d.hint == "state_dicts in this file: model.state_dict"


def test_every_key_the_hint_suggests_is_accepted(tmp_path, state_dict):
    path = tmp_path / "dotted.pt"
    torch.save({"model.ema": state_dict, "epoch": 1}, path)
    d = refused(path)
    assert d.hint == "name the state_dict with --key: model.ema"
    same_tensors(ok(path, key="model.ema"), state_dict)


@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_key_with_a_flat_format_is_refused(tmp_path, fmt):
    arrays = {"a.weight": np.ones((2, 1, 1, 1), np.float32)}
    path = tmp_path / f"w.{fmt}"
    if fmt == "safetensors":
        save_safetensors_numpy(arrays, str(path))
    else:
        np.savez(path, **arrays)
    d = refused(path, key="state_dict")
    assert d.code == "weights-key"
    assert d.message.startswith("--key applies to torch checkpoints")
    assert d.hint == "drop --key"


# ------------------------------------------------------------------------ safetensors and npz
def test_safetensors_written_by_torch(tmp_path, state_dict):
    path = tmp_path / "model.safetensors"
    save_safetensors_torch(dict(state_dict), str(path))
    weights = ok(path)
    assert weights.format == "safetensors"
    same_tensors(weights, state_dict)


def test_safetensors_written_by_numpy(tmp_path):
    arrays = {"a.weight": np.arange(8, dtype=np.float32).reshape(2, 4, 1, 1),
              "a.bias": np.array([1, -2], dtype=np.int8)}
    path = tmp_path / "w.safetensors"
    save_safetensors_numpy(arrays, str(path))
    weights = ok(path)
    assert weights.format == "safetensors"
    assert set(weights.tensors) == set(arrays)
    for name, value in arrays.items():
        np.testing.assert_array_equal(weights.tensors[name], value)
        assert weights.tensors[name].dtype == value.dtype


def test_safetensors_bfloat16_is_a_dtype_error(tmp_path):
    path = tmp_path / "bf16.safetensors"
    save_safetensors_torch({"a.weight": torch.ones(2, 2, dtype=torch.bfloat16)}, str(path))
    d = refused(path)
    assert d.code == "weights-dtype"
    assert "float32" in d.hint


def test_npz(tmp_path):
    arrays = {"a.weight": np.linspace(-1, 1, 18, dtype=np.float32).reshape(2, 1, 3, 3),
              "a.bias": np.array([0.5, -0.5], np.float32)}
    path = tmp_path / "w.npz"
    np.savez(path, **arrays)
    weights = ok(path)
    assert weights.format == "npz"
    assert set(weights.tensors) == set(arrays)
    for name, value in arrays.items():
        np.testing.assert_array_equal(weights.tensors[name], value)


def test_compressed_npz(tmp_path):
    path = tmp_path / "w.npz"
    np.savez_compressed(path, **{"a.weight": np.ones((2, 1, 1, 1), np.float32)})
    assert ok(path).format == "npz"


PROBE = """
import sys
from dynapcnn_dsl.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
print("PROBE", "torch" in sys.modules, "safetensors" in sys.modules, code)
"""


def test_safetensors_is_read_without_importing_torch(tmp_path):
    """`check` with a safetensors file: numpy and safetensors only, torch never imported."""
    network = tmp_path / "network.yaml"
    network.write_text(
        "dsl: 1\nchip: speck2f\n"
        "input: {source: host, shape: [1, 8, 8], to: [a]}\n"
        "cores:\n  a: {conv: {out_channels: 2, kernel: 3}}\n"
    )
    weights = tmp_path / "w.safetensors"
    rng = np.random.default_rng(0)
    save_safetensors_numpy({"a.weight": rng.normal(size=(2, 1, 3, 3)).astype(np.float32)}, str(weights))
    env = {k: v for k, v in os.environ.items() if k != "DYNAPCNN_DSL_DEBUG"}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=["check", str(network), str(weights)])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    probe = [line for line in proc.stdout.splitlines() if line.startswith("PROBE")]
    assert probe == ["PROBE False True 0"], proc.stdout + proc.stderr
    assert "quantization of" in proc.stdout


# ------------------------------------------------------------------- format chosen by content
def test_safetensors_named_pt(tmp_path, state_dict):
    path = tmp_path / "really-safetensors.pt"
    save_safetensors_torch(dict(state_dict), str(path))
    weights = ok(path)
    assert weights.format == "safetensors"
    same_tensors(weights, state_dict)


def test_npz_named_pt(tmp_path):
    value = np.arange(4, dtype=np.float32).reshape(4, 1, 1, 1)
    src = tmp_path / "w.npz"
    np.savez(src, **{"a.weight": value})
    path = tmp_path / "really-npz.pt"
    src.rename(path)
    weights = ok(path)
    assert weights.format == "npz"
    np.testing.assert_array_equal(weights.tensors["a.weight"], value)


def test_torch_file_named_safetensors(tmp_path, state_dict):
    path = tmp_path / "really-torch.safetensors"
    torch.save(state_dict, path)
    weights = ok(path)
    assert weights.format == "torch"
    same_tensors(weights, state_dict)


# ------------------------------------------------------------------------ refused: not weights
@pytest.mark.parametrize("content", [b"", b"hello, these are not weights\n", b"\x93NUMPY\x01\x00",
                                     b"PK\x05\x06" + bytes(18)],
                         ids=["empty", "text", "npy-not-npz", "empty-zip"])
def test_not_a_weights_file(tmp_path, content):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    d = refused(path)
    assert d.code == "weights-format"
    assert d.message == "not a weights file this tool reads"
    assert ".safetensors" in d.hint and ".npz" in d.hint


def test_a_zip_of_other_things_is_not_weights(tmp_path):
    path = tmp_path / "archive.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert refused(path).code == "weights-format"


@pytest.mark.parametrize("obj, what", [
    ([torch.ones(2), torch.zeros(3)], "list"),
    (torch.ones(2, 2), "Tensor"),
    ({}, "dict"),
], ids=["list", "tensor", "empty-dict"])
def test_torch_save_of_a_non_state_dict(tmp_path, obj, what):
    path = tmp_path / "not-a-state-dict.pt"
    torch.save(obj, path)
    d = refused(path)
    assert d.code == "weights-format"
    assert d.message == f"the file holds a {what}, not a state_dict (a mapping of names to tensors)"
    assert "torch.save(model.state_dict(), path)" in d.hint


def test_missing_file(tmp_path):
    d = refused(tmp_path / "nowhere.pt")
    assert d.code == "weights-unreadable"
    assert d.message == "no such file"


# ------------------------------------------------------------------------ refused: unsafe
def test_npz_with_an_object_array_is_unsafe(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, **{"a.weight": np.ones(2, np.float32),
                      "meta": np.array([{"lr": 0.1}, None], dtype=object)})
    d = refused(path)
    assert d.code == "weights-unsafe"
    assert "the .npz file holds Python objects" in d.message
    assert "no object arrays" in d.hint


class _Marker:
    """Pickles to a call that creates `path` when (and only when) it is unpickled."""

    def __init__(self, path: Path, how: str) -> None:
        self.path, self.how = path, how

    def __reduce__(self):
        if self.how == "system":
            return (os.system, (f"touch '{self.path}'",))
        return (open, (str(self.path), "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
@pytest.mark.parametrize("how", ["system", "open"])
@pytest.mark.parametrize("writer", ["torch.save", "pickle-protocol-2", "pickle-highest"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, writer, how):
    marker = tmp_path / "PWNED"
    payload = {"a.weight": _Marker(marker, how)}
    path = tmp_path / "evil.pt"
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        protocol = 2 if writer == "pickle-protocol-2" else pickle.HIGHEST_PROTOCOL
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
    assert not marker.exists()
    d = refused(path)
    assert d.code == "weights-unsafe"
    assert d.message.startswith("the file asks to build arbitrary Python objects")
    assert d.message.endswith("which is refused: nothing from it ran")
    assert "\x1b" not in d.message and "weights_only=False" not in d.message  # none of torch's advice
    assert d.hint == "save only the state_dict: torch.save(model.state_dict(), path)"
    assert not marker.exists()


def test_the_marker_payload_does_run_when_unpickled(tmp_path):
    """The payload above is live: unpickling it without restrictions creates the marker."""
    marker = tmp_path / "PWNED"
    pickle.loads(pickle.dumps(_Marker(marker, "open"))).close()
    assert marker.exists()


# ------------------------------------------------------------------------ refused: damaged
@pytest.mark.parametrize("fmt", ["pt", "legacy-pt", "safetensors", "npz"])
def test_truncated_file_is_corrupt(tmp_path, state_dict, fmt):
    src = tmp_path / f"whole.{fmt}"
    if fmt == "pt":
        torch.save(state_dict, src)
    elif fmt == "legacy-pt":
        torch.save(state_dict, src, _use_new_zipfile_serialization=False)
    elif fmt == "safetensors":
        save_safetensors_torch(dict(state_dict), str(src))
    else:
        np.savez(src, **{k: v.numpy() for k, v in state_dict.items()})
    suffix = "pt" if fmt == "legacy-pt" else fmt
    d = refused(truncated(src, tmp_path / f"cut.{suffix}"))
    assert d.code == "weights-corrupt"
    assert "cannot be read" in d.message
    assert d.hint == "the file is truncated or damaged: save it again"


# A damaged file is a diagnostic, whatever exception the library underneath raises. The cases
# are crafted byte edits of real files (found by fuzzing read() with random byte flips).
def _zip_member_name_not_utf8(tmp_path: Path, state_dict) -> Path:
    """A torch zip whose central directory names a member with bytes that are not UTF-8."""
    src = tmp_path / "whole.pt"
    torch.save(state_dict, src)
    data = bytearray(src.read_bytes())
    entry = data.index(b"PK\x01\x02")
    assert data[entry + 9] & 0x08  # the UTF-8 name flag is set: names are decoded strictly
    data[entry + 46] = 0xFF        # the first byte of the first member's name
    path = tmp_path / "name.pt"
    path.write_bytes(bytes(data))
    return path


def _legacy_storage_key_damaged(tmp_path: Path, state_dict) -> Path:
    """The legacy format with one digit of a storage key changed in the pickle."""
    src = tmp_path / "whole.pt"
    torch.save(state_dict, src, _use_new_zipfile_serialization=False)
    data = src.read_bytes()
    key = re.search(rb"\d{8,}", data).group()
    damaged = key[:-1] + (b"1" if key[-1:] == b"0" else b"0")
    path = tmp_path / "storage.pt"
    path.write_bytes(data.replace(key, damaged, 1))
    return path


def _npz_zip_version_damaged(tmp_path: Path, state_dict) -> Path:
    """An npz whose central directory claims a zip version no reader supports."""
    src = tmp_path / "whole.npz"
    np.savez(src, **{k: v.numpy() for k, v in state_dict.items()})
    data = bytearray(src.read_bytes())
    data[data.index(b"PK\x01\x02") + 6] = 0xE4   # "version needed to extract": 22.8
    path = tmp_path / "version.npz"
    path.write_bytes(bytes(data))
    return path


def _npz_member_not_npy(tmp_path: Path, state_dict) -> Path:
    """An npz whose member is named .npy but holds no .npy data (numpy returns raw bytes)."""
    path = tmp_path / "garbage.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("0.weight.npy", b"these bytes are not an npy array")
    return path


DAMAGED = [
    _zip_member_name_not_utf8,      # detect() must survive a member name that is not UTF-8
    _legacy_storage_key_damaged,    # torch.load raises AssertionError / KeyError / IndexError
    _npz_zip_version_damaged,       # zipfile raises NotImplementedError
    _npz_member_not_npy,            # np.load would hand back raw bytes
]


@pytest.mark.parametrize("craft", DAMAGED)
def test_damaged_file_is_a_diagnostic_never_an_exception(tmp_path, state_dict, craft):
    path = craft(tmp_path, state_dict)
    d = refused(path)
    assert d.code in ("weights-corrupt", "weights-format")
    if path.suffix == ".npz" or "storage" in path.name:
        assert d.code == "weights-corrupt"

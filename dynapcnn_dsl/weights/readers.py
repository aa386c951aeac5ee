"""Read a weights file into named numpy arrays, safely, whatever its suffix says.

Formats are recognised by content:
- safetensors: an 8-byte little-endian header length, then a JSON header starting with `{`;
  read with the safetensors library's numpy API, so torch is never imported;
- torch (`torch.save`): a zip archive holding `<name>/data.pkl`, or a bare pickle (the legacy
  format); read ONLY with `torch.load(weights_only=True)`, which refuses any pickle that asks for
  arbitrary objects, and never falls back to unsafe loading;
- numpy `.npz`: a zip archive of `.npy` members; read with `allow_pickle=False`.

Nothing a file declares is trusted: the sizes it declares (zip members, `.npy` headers, the
safetensors header, every tensor's element count) are checked against `MAX_ENTRIES` before
anything is decompressed or allocated, and every tensor is either converted to a numpy array or
refused with a diagnostic naming it and its type (`weights-dtype`), whether the network uses it
or not. A checkpoint (a dict holding a state_dict beside other things) is opened at a key the
user names (`--key state_dict`, dotted for nesting); finding the keys to suggest walks each
container once, so shared or self-containing dicts cost no more than their size. Every failure
is a diagnostic, never a trace.
"""

from __future__ import annotations

import math
import pickle
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from dynapcnn_dsl.chips import profiles
from dynapcnn_dsl.diagnostics import Diagnostic, error
from dynapcnn_dsl.filekinds import NUMPY, WEIGHTS, kinds

KERNEL_ENTRIES = sum(m.kernel for m in next(iter(profiles().values())).memory)
"""Every weight the chip can hold: the kernel memory of all its cores (272 Ki entries)."""

MAX_ENTRIES = 64 * KERNEL_ENTRIES
"""The most tensor entries a weights file may declare (17 Mi): 64 times what the chip holds,
room for unused tensors (optimizer state, a larger training model) but not for a file that
declares gigabytes to exhaust memory. The one size limit of the readers; bytes are bounded by
MAX_ENTRIES * MAX_ITEMSIZE."""

MAX_ITEMSIZE = 8
"""The widest element a weights file holds (float64, int64)."""

MAX_SAFETENSORS_HEADER = 16 * 1024 * 1024
"""A safetensors header (JSON) longer than this is not read (MAX_ENTRIES tensors fit in less)."""

MAX_CONTAINERS = 100_000
"""Containers of a checkpoint walked for key hints (each visited once, cycles included)."""

READABLE_KINDS = "biuf"
"""numpy kinds a tensor is read as: bool, signed and unsigned integers, floats. Complex and other
kinds are refused by the reader (the binder also refuses bool where a core uses it)."""

ZIP_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, OSError)
"""What zipfile and numpy raise on a damaged `.npz` or zip archive: RuntimeError for an encrypted
member, its subclass NotImplementedError for a compression or zip version no reader supports,
ValueError (UnicodeDecodeError included) for a damaged member name or `.npy` header."""

TORCH_DAMAGED = (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, KeyError, IndexError,
                 AssertionError, struct.error, OSError, zipfile.BadZipFile, AttributeError, TypeError)
"""What torch.load raises on damaged bytes (found by flipping bytes of real files; the test
suite does it with a fixed seed): the zip reader's RuntimeError, the legacy format's
AssertionError / KeyError / IndexError, the unpickler's errors on truncated or edited streams,
and TypeError / AttributeError when an edited pickle calls torch's rebuild functions with the
wrong arguments. Only torch.load's own call is guarded by it."""


class WeightsFile(NamedTuple):
    """Tensors by name, and where they came from."""

    path: str
    format: str                     # "safetensors" | "torch" | "npz"
    tensors: dict[str, np.ndarray]


def _too_large(file: str, declared: str) -> Diagnostic:
    return error(file, "weights-too-large",
                 f"the file declares {declared}; a weights file may declare at most {MAX_ENTRIES:,} "
                 f"entries (64 times the chip's {KERNEL_ENTRIES:,} kernel entries): nothing was loaded",
                 "save only the state_dict of the network that goes on the chip")


def _refused(file: str, name: str, what: str, hint: str) -> Diagnostic:
    return error(file, "weights-dtype", f"tensor '{name}' is {what}, which cannot be read as numbers",
                 hint)


def _check_kind(file: str, name: str, dtype: np.dtype) -> Diagnostic | None:
    """A refusal for a numpy type that is not bool, integer or float."""
    if dtype.kind in READABLE_KINDS:
        return None
    if dtype.hasobject:
        return error(file, "weights-unsafe", f"the .npz file holds Python objects (array '{name}')",
                     "save plain numeric arrays (no object arrays)")
    return _refused(file, name, f"{dtype} ({'complex' if dtype.kind == 'c' else 'not a real number'})",
                    "save real numbers (float or integer tensors)")


def _corrupt(file: str, what: str, exc: BaseException) -> Diagnostic:
    reason = str(exc).strip() or type(exc).__name__
    return error(file, "weights-corrupt", f"the {what} file cannot be read: {reason}",
                 "the file is truncated or damaged: save it again")


def detect(path: Path) -> str | None:
    """'safetensors', 'torch', 'npz', or None when the content is none of them."""
    with path.open("rb") as fh:
        head = fh.read(16)
        if len(head) >= 9:
            (length,) = struct.unpack("<Q", head[:8])
            if 0 < length <= MAX_SAFETENSORS_HEADER and head[8:9] == b"{":
                return "safetensors"
        if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
            fh.seek(0)
            try:
                with zipfile.ZipFile(fh) as zf:
                    names = zf.namelist()
            except ZIP_DAMAGED:  # a damaged archive: let the likely reader explain it
                return "npz" if kinds(path) >= {WEIGHTS, NUMPY} else "torch"   # .npz
            if any(n.endswith("data.pkl") for n in names):
                return "torch"
            if names and all(n.endswith(".npy") for n in names):
                return "npz"
            return None
    if head[:1] == b"\x80":  # a pickle protocol header: torch's legacy format
        return "torch"
    return None


def read(path: str | Path, *, key: str | None = None) -> tuple[WeightsFile | None, list[Diagnostic]]:
    file = str(path)
    p = Path(path)
    if not p.is_file():
        return None, [error(file, "weights-unreadable", "no such file", "check the weights path")]
    try:
        kind = detect(p)
    except OSError as exc:
        return None, [error(file, "weights-unreadable", f"cannot read the file: {exc.strerror}",
                            "check the file's permissions")]
    if kind is None:
        return None, [error(file, "weights-format", "not a weights file this tool reads",
                            "give a torch state_dict (.pt/.pth), a .safetensors or an .npz file")]
    if key is not None and kind != "torch":
        what = "a safetensors file is already a flat state_dict" if kind == "safetensors" else \
            "an .npz file is already flat"
        return None, [error(file, "weights-key", f"--key applies to torch checkpoints; {what}",
                            "drop --key")]
    if kind == "safetensors":
        return _safetensors(p, file)
    if kind == "npz":
        return _npz(p, file)
    return _torch(p, file, key)


def _finish(file: str, fmt: str, tensors: dict[str, np.ndarray],
            problems: list[Diagnostic]) -> tuple[WeightsFile | None, list[Diagnostic]]:
    if problems:
        return None, problems
    return WeightsFile(file, fmt, tensors), []


# -- safetensors -----------------------------------------------------------------------------------

SAFETENSORS_NUMPY = {"BOOL": "bool", "U8": "u1", "I8": "i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
                     "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8"}
"""safetensors element types numpy holds; others (BF16, F8_*, F6_*, F4, C64, ...) are refused."""


def _safetensors(p: Path, file: str) -> tuple[WeightsFile | None, list[Diagnostic]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(p), framework="numpy") as f:
            names = list(f.keys())
            declared = {name: (f.get_slice(name).get_dtype(), f.get_slice(name).get_shape())
                        for name in names}
            problems = [_refused(file, name, f"{dtype}", "save the tensors as float32 (tensor.float())")
                        for name, (dtype, _) in declared.items() if dtype not in SAFETENSORS_NUMPY]
            entries = sum(math.prod(shape) for _, shape in declared.values())
            if entries > MAX_ENTRIES:
                problems.append(_too_large(file, f"{entries:,} entries in {len(names)} tensors"))
            if problems:
                return None, problems
            tensors = {name: f.get_tensor(name) for name in names}
    except (SafetensorError, OSError) as exc:
        return None, [_corrupt(file, "safetensors", exc)]
    return _finish(file, "safetensors", tensors, [])


# -- numpy .npz ----------------------------------------------------------------------------------------

def _npy_header(member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and type an `.npy` stream declares, read from its header alone."""
    version = np.lib.format.read_magic(member)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
        np.lib.format.read_array_header_2_0  # 3.0 is 2.0 with a UTF-8 header
    shape, _fortran, dtype = reader(member)
    return shape, dtype


def _npz(p: Path, file: str) -> tuple[WeightsFile | None, list[Diagnostic]]:
    tensors: dict[str, np.ndarray] = {}
    try:
        with p.open("rb") as fh, zipfile.ZipFile(fh) as zf:
            members = [(info.filename, info.filename[:-4]) for info in zf.infolist()]
            problems: list[Diagnostic] = []
            entries = 0
            for member, name in members:
                with zf.open(member) as stream:
                    shape, dtype = _npy_header(stream)
                refusal = _check_kind(file, name, dtype)
                if refusal is not None:
                    problems.append(refusal)
                entries += math.prod(shape)
            if entries > MAX_ENTRIES:
                problems.append(_too_large(file, f"{entries:,} entries in {len(members)} arrays"))
            if problems:
                return None, problems
            for member, name in members:
                with zf.open(member) as stream:
                    tensors[name] = np.lib.format.read_array(stream, allow_pickle=False)
    except ZIP_DAMAGED as exc:
        return None, [_corrupt(file, "npz", exc)]
    return _finish(file, "npz", tensors, [])


# -- torch ---------------------------------------------------------------------------------------------

def _torch_storages_fit(p: Path, file: str) -> Diagnostic | None:
    """Before torch.load: the zip records (storages, the pickle) may not declare more than the
    cap, since torch allocates and inflates a record before comparing it with its tensor. The
    legacy format stores storages raw, so the file's own size bounds what it can fill."""
    with p.open("rb") as fh:
        if fh.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
            return None
        fh.seek(0)
        with zipfile.ZipFile(fh) as zf:
            declared = sum(info.file_size for info in zf.infolist())
    if declared > MAX_ENTRIES * MAX_ITEMSIZE:
        return _too_large(file, f"{declared:,} bytes of records (at least "
                                f"{declared // MAX_ITEMSIZE:,} entries)")
    return None


TORCH_KEPT = ("float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
              "uint64", "bool")
"""torch element types read as the same numpy type."""

TORCH_WIDENED = ("float16", "bfloat16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
                 "float8_e5m2fnuz", "float8_e8m0fnu")
"""torch float types numpy lacks (or that the binder's arithmetic would round): widened to
float32, exactly. Every other type (complex, quantized, packed bits, sub-byte) is refused."""


def _to_numpy(name: str, value: Any, file: str) -> tuple[np.ndarray | None, Diagnostic | None]:
    """One tensor as a numpy array, or the reason it cannot be one."""
    import torch

    if value.is_nested:
        return None, _refused(file, name, "a nested (ragged) tensor",
                              "save each part as a tensor of its own")
    if value.layout != torch.strided:
        return None, _refused(file, name, f"a {str(value.layout).removeprefix('torch.')} tensor",
                              "save it dense (tensor.to_dense())")
    if value.device.type == "meta":
        return None, _refused(file, name, "a meta tensor (a shape without values)",
                              "save the state_dict of a model that holds its weights")
    dtype = str(value.dtype).removeprefix("torch.")
    if value.is_quantized:
        return None, _refused(file, name, f"quantized ({dtype})", "save it dequantized (tensor.dequantize())")
    if dtype in TORCH_WIDENED:
        return value.detach().float().numpy(), None
    if dtype not in TORCH_KEPT:
        return None, _refused(file, name, dtype, "save real numbers (float or integer tensors)")
    return value.detach().numpy(), None


def _tensor_dict(obj: Any) -> bool:
    import torch

    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _containers(obj: Any) -> Iterator[tuple[str, dict]]:
    """(dotted key, dict) for every dict under `obj`, each one once (by identity), so a dict
    that holds itself, or the same dict at many places, is walked in time linear in the number
    of distinct dicts; at most MAX_CONTAINERS of them."""
    seen: set[int] = set()
    stack = [("", obj)]
    while stack and len(seen) < MAX_CONTAINERS:
        prefix, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield prefix, node
        stack.extend((f"{prefix}{k}.", v) for k, v in reversed(node.items())
                     if isinstance(k, str) and isinstance(v, dict) and id(v) not in seen)


def _state_dict_keys(obj: Any) -> list[str]:
    """Dotted keys under which a checkpoint holds a state_dict (the first path to each)."""
    if not isinstance(obj, dict):
        return []
    found = []
    for prefix, node in _containers(obj):
        if prefix and _tensor_dict(node):
            found.append(prefix[:-1])
    return found


def _lookup(obj: Any, key: str) -> Any:
    """The value at `key`: a literal key first (`model.ema`), else a dotted path."""
    while isinstance(obj, dict):
        if key in obj:
            return obj[key]
        head, dot, key = key.partition(".")
        if not dot or head not in obj:
            return None
        obj = obj[head]
    return None


def _torch(p: Path, file: str, key: str | None) -> tuple[WeightsFile | None, list[Diagnostic]]:
    try:
        import torch
    except ImportError:
        return None, [error(file, "weights-torch-missing", "reading a torch file needs torch",
                            "install the torch extra (`pip install dynapcnn-dsl[torch]`), or "
                            "save the weights as .safetensors, which needs no torch")]
    try:
        too_large = _torch_storages_fit(p, file)
        if too_large is not None:
            return None, [too_large]
        # An open handle, not the path: torch picks a loader by suffix, and only the content
        # decides here.
        with p.open("rb") as fh:
            obj = torch.load(fh, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc).strip()
        if "weights_only" not in text and "Unsupported global" not in text:
            return None, [_corrupt(file, "torch", exc)]  # a damaged pickle, not a refused one
        asked = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
        what = f" ({asked.group(1)})" if asked else ""
        return None, [error(file, "weights-unsafe",
                            f"the file asks to build arbitrary Python objects{what}, which is "
                            "refused: nothing from it ran",
                            "save only the state_dict: torch.save(model.state_dict(), path)")]
    except TORCH_DAMAGED as exc:
        return None, [_corrupt(file, "torch", exc)]
    if key is not None:
        found = _lookup(obj, key)
        if found is None:
            options = _state_dict_keys(obj)
            hint = f"state_dicts in this file: {', '.join(options)}" if options else \
                "this file holds no state_dict under any key"
            return None, [error(file, "weights-key", f"the checkpoint has no key '{key}'", hint)]
        obj = found
    if not _tensor_dict(obj):
        options = _state_dict_keys(obj)
        if options:
            return None, [error(file, "weights-key", "the file is a checkpoint, not a state_dict",
                                f"name the state_dict with --key: {', '.join(options)}")]
        what = type(obj).__name__
        return None, [error(file, "weights-format", f"the file holds a {what}, not a state_dict "
                            "(a mapping of names to tensors)",
                            "save the weights with torch.save(model.state_dict(), path)")]
    entries = sum(v.numel() for v in obj.values())
    if entries > MAX_ENTRIES:  # a tensor can declare more entries than its storage (stride 0)
        return None, [_too_large(file, f"{entries:,} entries in {len(obj)} tensors")]
    tensors: dict[str, np.ndarray] = {}
    problems: list[Diagnostic] = []
    for name, value in obj.items():
        array, problem = _to_numpy(name, value, file)
        if problem is not None:
            problems.append(problem)
        elif array is not None:
            tensors[name] = array
    return _finish(file, "torch", tensors, problems)

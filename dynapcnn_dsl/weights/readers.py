"""Read a weights file into named numpy arrays, safely, whatever its suffix says.

Formats are recognised by content:
- safetensors: an 8-byte little-endian header length, then a JSON header starting with `{`;
  read with the safetensors library's numpy API, so torch is never imported;
- torch (`torch.save`): a zip archive holding `<name>/data.pkl`, or a bare pickle (the legacy
  format); read ONLY with `torch.load(weights_only=True)`, which refuses any pickle that asks for
  arbitrary objects, and never falls back to unsafe loading;
- numpy `.npz`: a zip archive of `.npy` members; read with `allow_pickle=False`.

A checkpoint (a dict holding a state_dict beside other things) is opened at a key the user
names (`--key state_dict`, dotted for nesting). Every failure is a diagnostic, never a trace.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from dynapcnn_dsl.diagnostics import Diagnostic, Severity

MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024


class WeightsFile(NamedTuple):
    """Tensors by name, and where they came from."""

    path: str
    format: str                     # "safetensors" | "torch" | "npz"
    tensors: dict[str, np.ndarray]


def _error(file: str, code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(file, None, Severity.ERROR, code, message, hint)


def detect(path: Path) -> str | None:
    """'safetensors', 'torch', 'npz', or None when the content is none of them."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if len(head) >= 9:
        (length,) = struct.unpack("<Q", head[:8])
        if 0 < length <= MAX_SAFETENSORS_HEADER and head[8:9] == b"{":
            return "safetensors"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except Exception:  # a damaged archive (any failure): let the likely reader explain it
            return "npz" if path.suffix.lower() == ".npz" else "torch"
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
        return None, [_error(file, "weights-unreadable", "no such file", "check the weights path")]
    try:
        kind = detect(p)
    except OSError as exc:
        return None, [_error(file, "weights-unreadable", f"cannot read the file: {exc.strerror}",
                             "check the file's permissions")]
    if kind is None:
        return None, [_error(file, "weights-format", "not a weights file this tool reads",
                             "give a torch state_dict (.pt/.pth), a .safetensors or an .npz file")]
    reader = {"safetensors": _safetensors, "torch": _torch, "npz": _npz}[kind]
    return reader(p, file, key)


# -- safetensors -----------------------------------------------------------------------------------

def _safetensors(p: Path, file: str, key: str | None) -> tuple[WeightsFile | None, list[Diagnostic]]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if key is not None:
        return None, [_error(file, "weights-key", "--key applies to torch checkpoints; a "
                             "safetensors file is already a flat state_dict", "drop --key")]
    try:
        tensors = load_file(str(p))
    except (SafetensorError, ValueError, OSError, json.JSONDecodeError) as exc:
        return None, [_error(file, "weights-corrupt", f"the safetensors file cannot be read: {exc}",
                             "the file is truncated or damaged: save it again")]
    except TypeError as exc:  # e.g. bfloat16, which numpy has no type for
        return None, [_error(file, "weights-dtype", f"a tensor has a type numpy cannot hold: {exc}",
                             "save the tensors as float32 (tensor.float())")]
    return WeightsFile(file, "safetensors", dict(tensors)), []


# -- numpy .npz ----------------------------------------------------------------------------------------

def _npz(p: Path, file: str, key: str | None) -> tuple[WeightsFile | None, list[Diagnostic]]:
    if key is not None:
        return None, [_error(file, "weights-key", "--key applies to torch checkpoints; an .npz "
                             "file is already flat", "drop --key")]
    try:
        with np.load(p, allow_pickle=False) as npz:
            tensors = {name: npz[name] for name in npz.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "object" in str(exc):
            return None, [_error(file, "weights-unsafe", f"the .npz file holds Python objects: {exc}",
                                 "save plain numeric arrays (no object arrays)")]
        return None, [_corrupt(file, "npz", exc)]
    except Exception as exc:  # untrusted bytes: any failure means a damaged file
        return None, [_corrupt(file, "npz", exc)]
    bad = [name for name, value in tensors.items() if not isinstance(value, np.ndarray)]
    if bad:
        return None, [_error(file, "weights-corrupt", f"the .npz members {', '.join(bad)} are not "
                             "arrays", "save the file with numpy.savez")]
    return WeightsFile(file, "npz", tensors), []


def _corrupt(file: str, what: str, exc: BaseException) -> Diagnostic:
    reason = str(exc).strip() or type(exc).__name__
    return _error(file, "weights-corrupt", f"the {what} file cannot be read: {reason}",
                  "the file is truncated or damaged: save it again")


# -- torch ---------------------------------------------------------------------------------------------

def _to_numpy(value: Any) -> np.ndarray:
    import torch

    t = value.detach().to("cpu")
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()
    return t.numpy()


def _tensor_dict(obj: Any) -> bool:
    import torch

    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _state_dict_keys(obj: Any, prefix: str = "") -> list[str]:
    """Dotted keys under which a checkpoint holds a state_dict."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                continue
            name = f"{prefix}{k}"
            if _tensor_dict(v):
                found.append(name)
            elif isinstance(v, dict):
                found.extend(_state_dict_keys(v, name + "."))
    return found


def _lookup(obj: Any, key: str) -> Any:
    """The value at `key`: a literal key first (`model.ema`), else a dotted path."""
    if isinstance(obj, dict) and key in obj:
        return obj[key]
    head, dot, rest = key.partition(".")
    if dot and isinstance(obj, dict) and head in obj:
        return _lookup(obj[head], rest)
    return None


def _torch(p: Path, file: str, key: str | None) -> tuple[WeightsFile | None, list[Diagnostic]]:
    import pickle

    try:
        import torch
    except ImportError:
        return None, [_error(file, "weights-torch-missing", "reading a torch file needs torch",
                             "install the torch extra (`pip install dynapcnn-dsl[torch]`), or "
                             "save the weights as .safetensors, which needs no torch")]
    try:
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
        return None, [_error(file, "weights-unsafe",
                             f"the file asks to build arbitrary Python objects{what}, which is "
                             "refused: nothing from it ran",
                             "save only the state_dict: torch.save(model.state_dict(), path)")]
    except Exception as exc:  # untrusted bytes: any failure means a damaged file
        return None, [_corrupt(file, "torch", exc)]
    if key is not None:
        found = _lookup(obj, key)
        if found is None:
            options = _state_dict_keys(obj) if isinstance(obj, dict) else []
            hint = f"state_dicts in this file: {', '.join(options)}" if options else \
                "this file holds no state_dict under any key"
            return None, [_error(file, "weights-key", f"the checkpoint has no key '{key}'", hint)]
        obj = found
    if not _tensor_dict(obj):
        options = _state_dict_keys(obj) if isinstance(obj, dict) else []
        if options:
            return None, [_error(file, "weights-key", "the file is a checkpoint, not a state_dict",
                                 f"name the state_dict with --key: {', '.join(options)}")]
        what = type(obj).__name__
        return None, [_error(file, "weights-format", f"the file holds a {what}, not a state_dict "
                             "(a mapping of names to tensors)",
                             "save the weights with torch.save(model.state_dict(), path)")]
    return WeightsFile(file, "torch", {k: _to_numpy(v) for k, v in obj.items()}), []

"""What a file can be, by its suffix: the one table for every place that guesses.

A suffix alone does not always decide: a `.json` is a network written in JSON or a
configuration document (told apart by the document's `format` header,
`config.files.is_document_file`), an `.npz` holds weights or events (the command says which it
wants). So a suffix maps to the set of kinds it may be, and the caller, knowing what it
expects, asks whether its kind is among them. Where a reader needs to know how the file is
written rather than what it holds, that is a kind too: JSON text, numpy's formats, an AEDAT
camera recording, a PNG image or an HTML page. Weights files are read by their content, whatever
the suffix (`weights.readers.detect`); the suffixes listed here are the ones the docs name.

No other module compares suffixes (tests/unit/test_filekinds.py greps the package for it).
Shared values (below every phase): imports nothing of the package.
"""

from __future__ import annotations

import os
from pathlib import PurePath

NETWORK, TEMPLATE, DOCUMENT, WEIGHTS, EVENTS, NIR, PYTHON, PLOT = (
    "network", "template", "document", "weights", "events", "nir", "python", "plot")
"""What a file holds. A plot is evaluate's report (--plot)."""
JSON, NUMPY, AEDAT, ATIS, PNG, HTML = "json", "numpy", "aedat", "atis", "png", "html"
"""How it is written: JSON text (parsed with JSON's own parser, for its messages), numpy's
.npy array or .npz archive of arrays, a DVS camera's AEDAT recording, the ATIS sensor's 5-byte
events (N-MNIST, N-Caltech101), an image or a web page."""

KINDS: dict[str, frozenset[str]] = {
    ".yaml": frozenset({NETWORK, TEMPLATE}),
    ".yml": frozenset({NETWORK, TEMPLATE}),
    ".json": frozenset({NETWORK, DOCUMENT, JSON}),
    ".pt": frozenset({WEIGHTS}),
    ".pth": frozenset({WEIGHTS}),
    ".safetensors": frozenset({WEIGHTS}),
    ".npy": frozenset({EVENTS, NUMPY}),
    ".npz": frozenset({WEIGHTS, EVENTS, NUMPY}),
    ".aedat4": frozenset({EVENTS, AEDAT}),
    ".aedat": frozenset({EVENTS, AEDAT}),
    ".bin": frozenset({EVENTS, ATIS}),   # N-MNIST / N-Caltech101
    ".nir": frozenset({NIR}),
    ".py": frozenset({PYTHON}),
    ".png": frozenset({PLOT, PNG}),
    ".html": frozenset({PLOT, HTML}),
}
"""Suffix (lower case) -> the kinds of file it may be; `suffixes` keeps this order."""


def suffix(path: str | os.PathLike[str]) -> str:
    """A file's suffix as the table knows it: lower case, '' for none (`Path.suffix`'s rule)."""
    return PurePath(os.fspath(path)).suffix.lower()


def kinds(path: str | os.PathLike[str]) -> frozenset[str]:
    """The kinds a file may be, by its suffix (case-insensitive); empty for an unknown one."""
    return KINDS.get(suffix(path), frozenset())


def suffixes(kind: str) -> tuple[str, ...]:
    """The suffixes a file of `kind` may have, in the table's order."""
    return tuple(s for s, k in KINDS.items() if kind in k)

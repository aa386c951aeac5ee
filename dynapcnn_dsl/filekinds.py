"""What a file can be, by its suffix: one table for every place that guesses.

A suffix alone does not always decide: a `.json` is a network written in JSON or a
configuration document (told apart by the document's `format` header,
`config.files.is_document_file`), an `.npz` holds weights or events (the command says which it
wants). So a suffix maps to the set of kinds it may be, and the caller, knowing what it
expects, asks whether its kind is among them. Weights files are read by their content, whatever
the suffix (`weights.readers.detect`); the suffixes listed here are the ones the docs name.

Shared values (below every phase): imports nothing of the package.
"""

from __future__ import annotations

import os

NETWORK, TEMPLATE, DOCUMENT, WEIGHTS, EVENTS, NIR, PYTHON = (
    "network", "template", "document", "weights", "events", "nir", "python")

KINDS: dict[str, frozenset[str]] = {
    ".yaml": frozenset({NETWORK, TEMPLATE}),
    ".yml": frozenset({NETWORK, TEMPLATE}),
    ".json": frozenset({NETWORK, DOCUMENT}),
    ".pt": frozenset({WEIGHTS}),
    ".pth": frozenset({WEIGHTS}),
    ".safetensors": frozenset({WEIGHTS}),
    ".npz": frozenset({WEIGHTS, EVENTS}),
    ".npy": frozenset({EVENTS}),
    ".aedat4": frozenset({EVENTS}),
    ".aedat": frozenset({EVENTS}),
    ".bin": frozenset({EVENTS}),      # N-MNIST / N-Caltech101 (ATIS 5-byte events)
    ".nir": frozenset({NIR}),
    ".py": frozenset({PYTHON}),
}
"""Suffix (lower case) -> the kinds of file it may be."""


def kinds(path: str | os.PathLike[str]) -> frozenset[str]:
    """The kinds a file may be, by its suffix (case-insensitive); empty for an unknown one."""
    _, suffix = os.path.splitext(os.fspath(path))
    return KINDS.get(suffix.lower(), frozenset())


def suffixes(kind: str) -> tuple[str, ...]:
    """The suffixes a file of `kind` may have, in the table's order."""
    return tuple(s for s, k in KINDS.items() if kind in k)

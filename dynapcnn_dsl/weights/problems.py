"""Diagnostics of the weights steps (bind, fold, quantize), positioned at the core they concern."""

from __future__ import annotations

from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.load.source import NodePath, SourceMap


def at_core(smap: SourceMap, path: NodePath, code: str, message: str, hint: str, *,
            severity: Severity = Severity.ERROR) -> Diagnostic:
    """A diagnostic at the key `path` of the network file (with its template notes)."""
    return Diagnostic(smap.file, smap.key(path), severity, code, message, hint, smap.notes(path))


def shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"

"""Phase 1: files in, plain data with positions (or positioned refusals) out."""

from dynapcnn_dsl.load.reader import MAX_BYTES, MAX_DEPTH, load_file, load_text, read_text
from dynapcnn_dsl.load.source import NodePath, SourceDocument, SourceMap

__all__ = ["MAX_BYTES", "MAX_DEPTH", "NodePath", "SourceDocument", "SourceMap", "load_file", "load_text",
           "read_text"]

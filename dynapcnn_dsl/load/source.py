"""Loaded documents: plain Python data plus where every key and value came from.

The rest of the pipeline works on ordinary dicts, lists and scalars; positions travel beside
them in a `SourceMap` keyed by the path of each node (`("cores", "conv1", "conv", "kernel")`).
Keeping positions out of the data means later phases (templates, defaults) can copy a node and
its positions together, and pydantic sees nothing unusual.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dynapcnn_dsl.diagnostics import Position, Related

Path = tuple[str | int, ...]


class SourceMap:
    """Positions of the keys and values of one document, by path."""

    __slots__ = ("file", "keys", "lines", "origins", "values")

    def __init__(self, file: str, keys: dict[Path, Position] | None = None,
                 values: dict[Path, Position] | None = None, lines: tuple[str, ...] = ()) -> None:
        self.file = file
        self.keys: dict[Path, Position] = {} if keys is None else keys
        self.values: dict[Path, Position] = {} if values is None else values
        self.lines = lines
        # Nodes written in another file (a template): where, for a note on every diagnostic.
        self.origins: dict[Path, Related] = {}

    def notes(self, path: Path) -> tuple[Related, ...]:
        """The other-file origin of `path` (or of its nearest ancestor that has one)."""
        for end in range(len(path), 0, -1):
            origin = self.origins.get(path[:end])
            if origin is not None:
                return (origin,)
        return ()

    def value(self, path: Path) -> Position | None:
        """Where the value at `path` starts; the nearest existing ancestor if it has none."""
        return self._nearest(path, prefer_key=False)

    def key(self, path: Path) -> Position | None:
        """Where the key naming `path` starts (list items have no key: their value is used)."""
        return self._nearest(path, prefer_key=True)

    def _nearest(self, path: Path, *, prefer_key: bool) -> Position | None:
        for end in range(len(path), -1, -1):
            sub = path[:end]
            first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            pos = first.get(sub) or second.get(sub)
            if pos is not None:
                return pos
            # An ancestor stands in for a missing node: point at its key, the name a user reads.
            prefer_key = True
        return None

    def copy_subtree(self, source: Path, target: Path) -> None:
        """Make the positions under `source` also answer for `target` (used by defaults)."""
        n = len(source)
        for table in (self.keys, self.values):
            for path, pos in list(table.items()):
                if path[:n] == source and target + path[n:] not in table:
                    table[target + path[n:]] = pos


class SourceDocument(NamedTuple):
    """One loaded file: its data and its source map."""

    file: str
    data: Any
    source_map: SourceMap

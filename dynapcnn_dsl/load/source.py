"""Loaded documents: plain Python data plus where every key and value came from.

The rest of the pipeline works on ordinary dicts, lists and scalars; positions travel beside
them in a `SourceMap` keyed by the path of each node (`("cores", "conv1", "conv", "kernel")`).
Keeping positions out of the data means later phases (templates, defaults) can copy a node and
its positions together, and pydantic sees nothing unusual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from dynapcnn_dsl.diagnostics import Position, Related

NodePath = tuple[str | int, ...]
"""Where a node sits in the loaded data: mapping keys and list indices from the root."""


class SourceMap:
    """Positions of the keys and values of one document, by path.

    Three tables answer by path: where a key starts, where a value starts, and (for nodes a
    template wrote) the other file's line, as a note. Writes go through the `set_*` methods,
    which also keep an index of each path's children, so copying or renumbering a subtree
    costs the size of that subtree, never a scan of the whole map: expansion stays linear in
    what it produces.
    """

    __slots__ = ("_children", "_keys", "_origins", "_values", "file", "lines")

    def __init__(self, file: str, keys: Mapping[NodePath, Position] | None = None,
                 values: Mapping[NodePath, Position] | None = None,
                 lines: tuple[str, ...] = ()) -> None:
        self.file = file
        self.lines = lines
        self._keys: dict[NodePath, Position] = {}
        self._values: dict[NodePath, Position] = {}
        self._origins: dict[NodePath, Related] = {}
        self._children: dict[NodePath, dict[NodePath, None]] = {}  # insertion-ordered sets
        for path, pos in (keys or {}).items():
            self.set_key(path, pos)
        for path, pos in (values or {}).items():
            self.set_value(path, pos)

    # -- reading -------------------------------------------------------------------------------
    @property
    def keys(self) -> Mapping[NodePath, Position]:
        """Key positions by path (read-only: write with `set_key`)."""
        return MappingProxyType(self._keys)

    @property
    def values(self) -> Mapping[NodePath, Position]:
        """Value positions by path (read-only: write with `set_value`)."""
        return MappingProxyType(self._values)

    @property
    def origins(self) -> Mapping[NodePath, Related]:
        """Nodes written in another file (a template), by path (read-only: `set_origin`)."""
        return MappingProxyType(self._origins)

    def notes(self, path: NodePath) -> tuple[Related, ...]:
        """The other-file origin of `path` (or of its nearest ancestor that has one)."""
        for end in range(len(path), 0, -1):
            origin = self._origins.get(path[:end])
            if origin is not None:
                return (origin,)
        return ()

    def value(self, path: NodePath) -> Position | None:
        """Where the value at `path` starts; the nearest existing ancestor if it has none."""
        return self._nearest(path, prefer_key=False)

    def key(self, path: NodePath) -> Position | None:
        """Where the key naming `path` starts (list items have no key: their value is used)."""
        return self._nearest(path, prefer_key=True)

    def _nearest(self, path: NodePath, *, prefer_key: bool) -> Position | None:
        for end in range(len(path), -1, -1):
            sub = path[:end]
            first, second = (self._keys, self._values) if prefer_key else (self._values, self._keys)
            pos = first.get(sub) or second.get(sub)
            if pos is not None:
                return pos
            # An ancestor stands in for a missing node: point at its key, the name a user reads.
            prefer_key = True
        return None

    # -- writing -------------------------------------------------------------------------------
    def set_key(self, path: NodePath, pos: Position | None, *, keep: bool = False) -> None:
        """Record where the key of `path` starts (`keep`: unless it already has a position)."""
        self._put(self._keys, path, pos, keep)

    def set_value(self, path: NodePath, pos: Position | None, *, keep: bool = False) -> None:
        """Record where the value at `path` starts (`keep`: unless it already has a position)."""
        self._put(self._values, path, pos, keep)

    def set_origin(self, path: NodePath, origin: Related | None, *, keep: bool = False) -> None:
        """Record (or with None, forget) the other file that wrote the node at `path`."""
        if origin is None:
            self._origins.pop(path, None)
        else:
            self._put(self._origins, path, origin, keep)

    def _put(self, table: dict[NodePath, Any], path: NodePath, item: Any, keep: bool) -> None:
        if item is None or (keep and path in table):
            return
        table[path] = item
        self._link(path)

    def _link(self, path: NodePath) -> None:
        """Index `path` under its parent, and the parent under its own, up to a linked one."""
        children = self._children
        while path:
            parent = path[:-1]
            siblings = children.get(parent)
            if siblings is None:
                children[parent] = {path: None}
            elif path in siblings:
                return
            else:
                siblings[path] = None
            path = parent

    def _subtree(self, root: NodePath) -> list[NodePath]:
        """`root` and every recorded path below it."""
        out, stack = [], [root]
        while stack:
            path = stack.pop()
            out.append(path)
            stack.extend(self._children.get(path, ()))
        return out

    def copy_subtree(self, source: NodePath, target: NodePath) -> None:
        """Make the positions under `source` also answer for `target` (used by defaults);
        a position the target already has is kept."""
        self.paste(target, self.positions_under(source))

    def positions_under(self, source: NodePath) -> list[tuple[NodePath, Position | None,
                                                                Position | None]]:
        """(path relative to `source`, key position, value position) of `source` and of every
        recorded path below it: a subtree's positions, to `paste` under other paths."""
        n = len(source)
        return [(path[n:], self._keys.get(path), self._values.get(path))
                for path in self._subtree(source)]

    def paste(self, target: NodePath,
              positions: list[tuple[NodePath, Position | None, Position | None]]) -> None:
        """Give `target` the positions `positions_under` took, where it has none of its own."""
        keys, values = self._keys, self._values
        for rest, key, value in positions:
            path = target + rest
            if key is not None and path not in keys:
                keys[path] = key
                self._link(path)
            if value is not None and path not in values:
                values[path] = value
                self._link(path)

    def renumber(self, path: NodePath, moves: Iterable[tuple[int, int]]) -> None:
        """The list at `path` was rebuilt: item `new` is what item `old` was, for each
        `(old, new)` (an old item may become several). Every position under the old items
        (keys, values, origins) moves with them; items no move names lose theirs."""
        tables = (self._keys, self._values, self._origins)
        n = len(path) + 1
        saved: dict[int, list[tuple[NodePath, tuple[Any, ...]]]] = {}
        for child in list(self._children.get(path, ())):
            under = self._subtree(child)
            saved[child[-1]] = [(p[n:], tuple(t.get(p) for t in tables)) for p in under]
            for p in under:
                for table in tables:
                    table.pop(p, None)
                self._children.pop(p, None)
        self._children.pop(path, None)
        for old, new in moves:
            for rest, items in saved.get(old, ()):
                for table, item in zip(tables, items, strict=True):
                    self._put(table, (*path, new, *rest), item, False)


class SourceDocument(NamedTuple):
    """One loaded file: its data and its source map."""

    file: str
    data: Any
    source_map: SourceMap

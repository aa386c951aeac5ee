"""What `diff` prints: the notes on how the sides were compared (`# ...`), one line per change
(`path: what changed`) and the count; or the changes as an RFC 6902 JSON patch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from dynapcnn_dsl.differ import Change


def as_text(found: tuple[Sequence[Change], Sequence[str]], out: TextIO) -> None:
    """`found`: the changes and the notes (`dynapcnn_dsl.diff`'s Differences)."""
    changes, notes = found
    for note in notes:
        out.write(f"# {note}\n")
    for c in changes:
        out.write(f"{c.path}: {c.text}\n")
    out.write(f"{len(changes)} difference{'s' * (len(changes) != 1)}\n" if changes else "no differences\n")


def as_json_patch(patch: list[dict[str, Any]], out: TextIO) -> None:
    from dynapcnn_dsl.config.writer import to_json

    out.write(to_json(patch))

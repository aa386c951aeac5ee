"""What the commands that write files say about them: `graph -o` (the files, and why there is
no SVG) and `new` (the starter, the schema beside it, and what to run next)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO


def graph_text(written: Sequence[str], out: TextIO, *, svg: bool) -> None:
    """`svg`: whether an SVG was among the files (Graphviz draws it, when installed)."""
    out.write("wrote " + ", ".join(written) + "\n")
    if not svg:
        out.write("no SVG: Graphviz (`dot`) is not installed\n")


def new_text(target: Path, out: TextIO, *, template: str, schema: Path, kept: bool) -> None:
    """`kept`: the folder had a schema already, which stays as it was."""
    also = f"; kept the existing {schema}" if kept else f" and {schema}"
    out.write(f"wrote {target} (from the {template} starter){also}\n"
              f"next: dynapcnn-dsl validate {target}\n")

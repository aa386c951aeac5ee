"""The Python API, for notebooks and scripts: the same pipeline as the command line.

    import dynapcnn_dsl
    doc = dynapcnn_dsl.build("network.yaml", "weights.pt")
    doc.write("config.json")          # atomically
    config = doc.to_samna()           # a real samna configuration (needs samna)

Problems raise `BuildError`, which carries every diagnostic and prints them as the CLI does.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dynapcnn_dsl.diagnostics import Diagnostic, has_errors


class BuildError(Exception):
    """The network (or its weights) has errors; `diagnostics` holds all of them."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        from dynapcnn_dsl.render import format_text

        super().__init__("\n".join(format_text(d) for d in diagnostics if d.is_error))


class Document:
    """A built samna configuration document: `data` is the JSON tree (tensors as numpy)."""

    __slots__ = ("bound", "data", "diagnostics", "linked")

    def __init__(self, data: dict[str, Any], *, diagnostics: Iterable[Diagnostic] = (),
                 linked: Any = None, bound: Any = None) -> None:
        self.data = data
        self.diagnostics = tuple(diagnostics)
        self.linked = linked
        self.bound = bound

    @property
    def chip(self) -> str:
        return self.data["chip"]

    @property
    def config(self) -> dict[str, Any]:
        return self.data["config"]

    def to_json(self) -> str:
        from dynapcnn_dsl.emit import to_json

        return to_json(self.data)

    def write(self, path: str | Path) -> None:
        """Write the JSON atomically: the old file or the new one, never half of either."""
        from dynapcnn_dsl.atomic import write_atomic

        write_atomic(path, self.to_json())

    def to_samna(self) -> Any:
        """A real samna configuration object, validated by samna (raises SamnaError)."""
        from dynapcnn_dsl.samna_bridge import to_samna

        return to_samna(self.data)

    @classmethod
    def read(cls, path: str | Path) -> Document:
        """Load a document written by `build` (or `write`)."""
        from dynapcnn_dsl.emit import from_json

        return cls(from_json(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        used = sum(1 for layer in self.config["cnn_layers"] if "dimensions" in layer)
        return f"<Document {self.chip}: {used} cores>"


def build(network: str | Path, weights: str | Path | None = None, *, key: str | None = None,
          annotate: bool = False, disabled: Iterable[str] = (),
          templates: Iterable[str | Path] = ()) -> Document:
    """Validate, link, bind and emit. Without weights the document is structure-only (no
    tensors or thresholds), which is what `diff` compares two networks with."""
    from dynapcnn_dsl.emit import emit
    from dynapcnn_dsl.pipeline import check_file

    checked = check_file(network, disabled=disabled, templates=templates)
    diagnostics = list(checked.diagnostics)
    if not checked.ok or checked.linked is None or checked.document is None:
        raise BuildError(diagnostics)
    bound = None
    if weights is not None:
        from dynapcnn_dsl.weights import load_and_bind

        bound, problems = load_and_bind(checked.linked, checked.document.source_map, weights, key=key)
        diagnostics += problems
        if bound is None or has_errors(diagnostics):
            raise BuildError(diagnostics)
    data = emit(checked.linked, bound, checked.document.source_map, annotate=annotate)
    return Document(data, diagnostics=diagnostics, linked=checked.linked, bound=bound)

"""Phase 2: expand the loaded data before it meets the models.

Template instances become scoped cores (`instances.py`, with the templates found and loaded by
`lookup.py` and their `${...}` evaluated by `expressions.py`), then `defaults:` is merged under
every core (`defaults.py`). Expansion works on plain data and copies source positions along, so
a value taken from `defaults:` is reported at the line in `defaults:` where the user wrote it,
and a value from a template at the instance (with a note pointing into the template).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.expand.defaults import merge_defaults
from dynapcnn_dsl.load.source import SourceDocument

if TYPE_CHECKING:
    from dynapcnn_dsl.expand.lookup import TemplateCache


def expand(doc: SourceDocument, *, templates: Iterable[str | Path] = (),
           base: Path | None = None, cache: TemplateCache | None = None) -> list[Diagnostic]:
    """Expand templates, then merge defaults, in place; returns the problems found.

    `templates` are the --templates directories; `base` is the network file's directory
    (default: the directory of the document's file name); `cache` keeps template files
    loaded between runs (see `TemplateCache`)."""
    problems: list[Diagnostic] = []
    if isinstance(doc.data, dict):
        cores = doc.data.get("cores")
        if isinstance(cores, dict) and any(isinstance(c, dict) and "template" in c
                                           for c in cores.values()):
            from dynapcnn_dsl.expand.instances import expand_templates

            problems = expand_templates(doc, [Path(t) for t in templates], base, cache)
        merge_defaults(doc.data, doc.source_map)
    return problems

"""Phases only look forward: a module never imports one of a phase that runs after its own.

    load < strict < expand < model < schema < link < rules < weights < config < emit
         < pipeline
         < differ / samna_bridge / simulator < report < importer < api < lsp < verify < evaluation
         < cli

`link` computes facts and `rules` judges them (the link-stage rules read `link`'s facts), so
`link` comes first and never imports `rules`. Shared values (diagnostics, the catalogue of codes,
chip facts, the strict model base, suggestions, atomic writes, rendering) sit below every phase
and import no phase.
Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dynapcnn_dsl"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("diagnostics", "codes", "filekinds", "chips", "suggest", "atomic", "render"),
    ("load",),
    ("strict",),      # the strict pydantic base and its error translation, for expand and model
    ("expand",),
    ("model",),
    ("schema",),      # the JSON schema of the models
    ("link",),
    ("rules",),
    ("weights",),
    ("config",),      # the samna configuration as typed values: model, reader, writer, schema
    ("emit",),
    ("pipeline",),
    ("differ", "samna_bridge", "simulator"),
    ("report",),      # what the commands print: it reads the results of the phases below it
    ("importer",),    # builds what it writes, to check it (through the pipeline)
    ("api",),
    ("lsp",),         # the language server: the pipeline, its reports and the schema, for editors
    ("verify",),      # the chip's simulation against the model (through the API and the importer)
    ("evaluation",),  # runs the simulation over a dataset (and, with --model, the importer's model)
    ("cli",),
    ("__main__",),
)
LEVEL = {part: i for i, parts in enumerate(LAYERS) for part in parts}

def part_of(module: str) -> str:
    """The first component under dynapcnn_dsl: 'dynapcnn_dsl.link.graph' -> 'link'."""
    return module.split(".")[1] if "." in module else ""


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every `dynapcnn_dsl.*` import in a file, lazy ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "dynapcnn_dsl" else [
                f"dynapcnn_dsl.{a.name}" for a in node.names if a.name != "__version__"]
            found += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return [(line, m) for line, m in found if m.startswith("dynapcnn_dsl.")]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert parts <= set(LEVEL), sorted(parts - set(LEVEL))


def looks_forward(own: str, module: str) -> bool:
    """True when `own` may not import `module`: a later phase or a sibling (shared values
    import only shared values)."""
    target = part_of(module)
    if target == own:
        return False
    return LEVEL[target] >= LEVEL[own] if LEVEL[own] else LEVEL[target] > 0


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_look_back(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    forward = [f"line {line}: {module}" for line, module in imports(path)
               if looks_forward(own, module)]
    assert forward == [], f"{path.relative_to(PACKAGE)} imports a later phase"

"""What the commands print: each command's result as text for people and, where the command
takes `--format`, in the other formats (JSON for scripts, GitHub annotations, a JSON patch).

A command does its work, then hands the plain value it found to the printer `reporter` chose
for the run, once, from the command and its format (as check-jsonschema picks its reporter
once); no command formats text itself. A printer is `printer(value, out, **options)`: it
writes to `out` and decides nothing (the command keeps the exit status).

The table names printers as text so that choosing one imports only its module; the modules
import what they print lazily (rich, the phases' values), so `validate` starts as fast as ever.
"""

from __future__ import annotations

from typing import Any

PRINTERS: dict[str, dict[str, str]] = {
    "validate": {"text": "validate.as_text", "json": "validate.as_json", "github": "validate.as_github"},
    "inspect": {"text": "inspect.as_text", "json": "inspect.as_json"},
    "check": {"text": "build.check_text", "json": "build.check_json"},
    "build": {"text": "build.build_text", "json": "build.build_json"},
    "diff": {"text": "diff.as_text", "json-patch": "diff.as_json_patch"},
    "simulate": {"text": "simulation.as_text"},
    "compare": {"text": "comparison.as_text"},
    "evaluate": {"text": "evaluation.as_text", "json": "evaluation.as_json"},
    "import": {"text": "imports.as_text"},
    "rules": {"text": "rules.rules_text", "json": "rules.rules_json"},
    "rules --all": {"text": "rules.codes_text", "json": "rules.codes_json"},
    "graph": {"text": "written.graph_text"},
    "new": {"text": "written.new_text"},
}
"""Command -> format -> `module.function` under dynapcnn_dsl.report."""


def reporter(command: str, fmt: str = "text", **options: Any) -> Any:
    """The printer of `command` in `fmt`, with `options` (no_source, quiet...) bound."""
    import functools
    import importlib

    module, _, name = PRINTERS[command][fmt].rpartition(".")
    printer = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return functools.partial(printer, **options) if options else printer

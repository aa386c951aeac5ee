"""Every command prints through report/: its printers are chosen once, by `report.reporter`,
from the command and its `--format`; the command modules format no text themselves."""

from __future__ import annotations

import argparse
import ast
import importlib
from pathlib import Path

import pytest

from dynapcnn_dsl.cli import COMMANDS, build_parser
from dynapcnn_dsl.report import PRINTERS, reporter

CLI = Path(__file__).resolve().parents[2] / "dynapcnn_dsl" / "cli"

ARTIFACTS = {
    "build_cmd.py": "the configuration document itself, with -o -",
    "graph_cmd.py": "the graph itself, in DOT, Mermaid or SVG",
    "schema_cmd.py": "the JSON schema itself",
}
"""Commands whose product goes to standard output (what they make, not a report of it)."""


def format_choices(command: str) -> set[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    options = sub.choices[command]._option_string_actions
    return set(options["--format"].choices) if "--format" in options else {"text"}


@pytest.mark.parametrize("command", [c.NAME for c in COMMANDS])
def test_every_format_a_command_offers_has_a_printer(command):
    if command in ("lsp", "schema"):          # a server, and a schema: no report
        assert command not in PRINTERS
        return
    if command == "graph":                    # --format picks what is drawn; the report is text
        assert set(PRINTERS[command]) == {"text"}
        return
    assert set(PRINTERS[command]) == format_choices(command)
    if command == "rules":
        assert set(PRINTERS["rules --all"]) == format_choices(command)


@pytest.mark.parametrize(("command", "fmt"), [(c, f) for c, formats in PRINTERS.items() for f in formats])
def test_every_printer_is_there(command, fmt):
    module, _, name = PRINTERS[command][fmt].rpartition(".")
    assert callable(getattr(importlib.import_module(f"dynapcnn_dsl.report.{module}"), name))
    assert callable(reporter(command, fmt, no_source=True))


def stdout_writes_and_prints(path: Path) -> list[str]:
    """What a command module prints itself: rich consoles and tables, print() to standard output,
    writes to sys.stdout."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        to_stderr = any(k.arg == "file" and ast.unparse(k.value) == "sys.stderr" for k in node.keywords)
        if name in ("console", "Table", "Console") or (isinstance(f, ast.Attribute) and name == "print"):
            found.append(f"line {node.lineno}: {ast.unparse(f)}")
        elif name == "print" and not to_stderr:
            found.append(f"line {node.lineno}: print")
        elif name == "write" and isinstance(f, ast.Attribute) and ast.unparse(f.value) == "sys.stdout":
            found.append(f"line {node.lineno}: sys.stdout.write")
    return found


def test_no_command_module_formats_its_report():
    found = {p.name: hits for p in sorted(CLI.glob("*_cmd.py"))
             if (hits := stdout_writes_and_prints(p)) and p.name not in ARTIFACTS}
    assert found == {}, "hand the result to the printer report.reporter(command, format) chooses"


def test_the_guard_sees_a_command_printing(tmp_path):
    probe = tmp_path / "probe_cmd.py"
    probe.write_text("console().print(x)\nprint('a')\nprint('b', file=sys.stderr)\nsys.stdout.write('c')\n"
                     "sys.stderr.write('d')\n")
    assert sorted(h.split(":")[0] for h in stdout_writes_and_prints(probe)) == ["line 1", "line 1", "line 2",
                                                                          "line 4"]

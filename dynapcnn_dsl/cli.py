"""The `dynapcnn-dsl` command line.

Exit status: 0 valid, 1 invalid input, 2 usage error (click's own), 3 internal error. No Python
traceback reaches the user: an unexpected exception is reported as a bug in one line (set
DYNAPCNN_DSL_DEBUG=1 to see the traceback). Heavy imports (rich, torch, numpy) happen inside the
commands that need them, so `validate` starts fast.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from dynapcnn_dsl import __version__

if TYPE_CHECKING:
    pass

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

_FILE = click.Path(exists=True, dir_okay=False, readable=True)


def _use_color(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dynapcnn-dsl")
def cli() -> None:
    """Describe DynapCNN / Speck networks in YAML; validate, link and build samna configurations."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="Output format for diagnostics.")
@click.option("--summary", is_flag=True, help="Print a table of the network's cores when valid.")
@click.option("--disable", "disabled", multiple=True, metavar="RULE",
              help="Switch off a design rule by id (repeatable). `dynapcnn-dsl rules` lists them.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--no-source", is_flag=True, help="Do not quote the offending source line.")
def validate(files: tuple[str, ...], fmt: str, summary: bool, disabled: tuple[str, ...],
             strict: bool, no_source: bool) -> None:
    """Check network files against the language and the chip's design rules.

    Exit status 0 when every file is valid, 1 when any is not.
    """
    from dynapcnn_dsl import render
    from dynapcnn_dsl.diagnostics import has_errors
    from dynapcnn_dsl.pipeline import check_file

    _check_rule_ids(disabled)
    results = [check_file(f, disabled=disabled) for f in files]
    valid = {r.file: r.ok and not (strict and r.diagnostics) for r in results}
    if fmt == "json":
        click.echo(render.format_json({r.file: r.diagnostics for r in results}, valid))
    elif fmt == "github":
        for r in results:
            for d in r.diagnostics:
                click.echo(render.format_github(d))
    else:
        color = _use_color(sys.stdout)
        for r in results:
            lines = None if no_source or r.document is None else r.document.source_map.lines
            for d in r.diagnostics:
                click.echo(render.format_text(d, lines, color=color))
            click.echo(render.summary_line(r.file, r.diagnostics))
            if summary and r.network is not None and not has_errors(r.diagnostics):
                from dynapcnn_dsl.summary import print_summary

                print_summary(r)
    sys.exit(EXIT_OK if all(valid.values()) else EXIT_INVALID)


def _check_rule_ids(ids: tuple[str, ...]) -> None:
    from dynapcnn_dsl.rules import REGISTRY
    from dynapcnn_dsl.suggest import did_you_mean

    for rule_id in ids:
        if rule_id not in REGISTRY:
            hint = did_you_mean(rule_id, REGISTRY) or "`dynapcnn-dsl rules` lists the ids"
            raise click.BadParameter(f"no rule '{rule_id}'; {hint}", param_hint="--disable")


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the schema to this file (atomically) instead of standard output.")
def schema(output: str | None) -> None:
    """Print the JSON schema (draft-07) of network files, for editors and other tools."""
    from dynapcnn_dsl.schema import schema_text

    text = schema_text()
    if output and output != "-":
        from dynapcnn_dsl.atomic import write_atomic

        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


@cli.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def list_rules(fmt: str) -> None:
    """List every design rule: id, severity and hint."""
    from dynapcnn_dsl.rules import REGISTRY

    rows = sorted(REGISTRY.values(), key=lambda r: r.id)
    if fmt == "json":
        import json

        click.echo(json.dumps([{"id": r.id, "severity": r.severity.value, "hint": r.hint,
                                "description": r.doc} for r in rows], indent=2))
        return
    width = max(len(r.id) for r in rows)
    for r in rows:
        click.echo(f"{r.id:<{width}}  {r.severity.value:<7}  {r.doc.splitlines()[0]}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the CLI and turns crashes into a one-line report."""
    try:
        cli.main(args=argv, prog_name="dynapcnn-dsl", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never show a traceback
        if os.environ.get("DYNAPCNN_DSL_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in dynapcnn-dsl; rerun with DYNAPCNN_DSL_DEBUG=1 and report the "
            "traceback", err=True,
        )
        sys.exit(EXIT_INTERNAL)

"""Diagnostics as plain values.

Every phase (load, model, rules, and later link and bind) reports problems by returning
`Diagnostic` values instead of raising, so one run collects every problem in a file and one
place (`render.py`) decides how they look. A diagnostic always names the file and, whenever the
problem comes from the source, the line and column of the offending key or value.

Value types are NamedTuples: immutable, cheap to define (start-up time matters for `validate`),
and trivially comparable in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    """How bad a diagnostic is; only errors make a file invalid."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


class Position(NamedTuple):
    """A 1-based line and column in a source file."""

    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


class Related(NamedTuple):
    """A second place that contributed to a diagnostic ("first defined here")."""

    file: str
    position: Position | None
    message: str


class Diagnostic(NamedTuple):
    """One problem found in one file."""

    file: str
    position: Position | None
    severity: Severity
    code: str
    message: str
    hint: str | None = None
    related: tuple[Related, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        pos = self.position
        return (self.file, pos.line if pos else 0, pos.col if pos else 0, self.code)


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    """True when any diagnostic is an error (warnings never fail a file)."""
    return any(d.is_error for d in diagnostics)


def listed(names: list[str], most: int = 8) -> str:
    """Names for a message: the first `most`, then how many more (a checkpoint can hold
    thousands)."""
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


class DslError(Exception):
    """The one exception contract: every failure the tool raises for a bad input carries its
    reasons as diagnostics (file, position, code, message, hint), so the CLI, the API and the
    language server print any of them one way (`render.py`), whichever phase raised it."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        from dynapcnn_dsl.render import format_text

        # the errors; when there are none (a `strict` run failed on warnings), everything
        shown = [d for d in self.diagnostics if d.is_error] or self.diagnostics
        super().__init__("\n".join(format_text(d) for d in shown))

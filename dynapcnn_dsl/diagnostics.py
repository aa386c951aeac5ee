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
from typing import Any, ClassVar, NamedTuple, Self, TypeVar


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


def error(file: str, code: str, message: str, hint: str | None = None,
          position: Position | None = None, related: tuple[Related, ...] = ()) -> Diagnostic:
    """One error diagnostic: the one constructor every phase's readers share (they used to
    each have an `_error` helper of their own, in five argument orders)."""
    return Diagnostic(file, position, Severity.ERROR, code, message, hint, related)


_E = TypeVar("_E", bound="DslError")


class DslError(Exception):
    """The one exception contract: every failure the tool raises for a bad input carries its
    reasons as diagnostics (file, position, code, message, hint), so the CLI, the API and the
    language server print any of them one way (`render.py`), whichever phase raised it.

    Each phase raises its own subclass (`api.BuildError`, `simulator.SimulationError`, ...), so
    a caller can still tell them apart; `except DslError` catches them all, and `.diagnostics`
    is all there is to print. `str()` is the errors as the CLI prints them."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]) -> None:
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        from dynapcnn_dsl.render import format_text

        super().__init__("\n".join(format_text(d) for d in self.shown))

    @property
    def shown(self) -> list[Diagnostic]:
        """The errors; every diagnostic when there is none (a `strict` run failed on warnings)."""
        return [d for d in self.diagnostics if d.is_error] or self.diagnostics

    @property
    def diagnostic(self) -> Diagnostic:
        """The first error: the one reason of an error raised for one."""
        return self.shown[0]

    def refiled(self, file: str, hint: str | None = None) -> Self:
        """The same error, its diagnostics under `file` (the name the user gave what failed,
        which the code that raised did not know: the spec of a model, the path of a NIR file)
        and with `hint` where they had none."""
        moved = [d._replace(file=file, hint=d.hint or hint) for d in self.diagnostics]
        return _restored(type(self), moved, self.__dict__)

    def __reduce__(self) -> tuple[Any, ...]:
        # the subclasses' constructors differ (a message, a Diagnostic, diagnostics and a
        # result): rebuilt from the diagnostics and the attributes, as a worker process sends it
        return _restored, (type(self), self.diagnostics, self.__dict__)


def _restored(cls: type[_E], diagnostics: list[Diagnostic], state: dict[str, Any]) -> _E:
    out = cls.__new__(cls)
    DslError.__init__(out, diagnostics)
    out.__dict__.update({k: v for k, v in state.items() if k != "diagnostics"})
    return out


class CodedError(DslError):
    """A DslError of one diagnostic whose code is the class's own (`code`), raised with a
    message and a hint where the reason is a sentence (a model that cannot be traced, a NIR
    graph, a document that is no network). `file` names what failed until a caller that knows
    the user's name for it files it there (`refiled`)."""

    code: ClassVar[str]
    file: ClassVar[str]

    def __init__(self, message: str, hint: str | None = None, *, file: str | None = None) -> None:
        super().__init__([Diagnostic(file or self.file, None, Severity.ERROR, self.code, message, hint)])

    @property
    def message(self) -> str:
        return self.diagnostic.message

    @property
    def hint(self) -> str | None:
        return self.diagnostic.hint

"""The one error contract (`diagnostics.DslError`): every exception the package raises for a bad
input is a DslError whose diagnostics carry codes of the catalogue, whatever phase raised it;
the few exceptions that are not are internal ones, each named here with the reason.

The classes are found by importing every module of the package, so a new exception class fails
`test_every_exception_is_a_dsl_error_or_internal` until it is one or is named below; a new
DslError subclass fails `test_every_dsl_error_is_raised_here` until a real bad input for it is
added to RAISED (or it is a CodedError, whose one code is its class's)."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import dynapcnn_dsl
from dynapcnn_dsl.diagnostics import CodedError, Diagnostic, DslError, Position, Severity, error
from dynapcnn_dsl.render import format_text
from dynapcnn_dsl.rules import catalogue

CATALOGUE = catalogue()


def _exceptions() -> dict[str, type[BaseException]]:
    """Every exception class the package defines, by module.qualname."""
    found = {}
    for info in pkgutil.walk_packages(dynapcnn_dsl.__path__, "dynapcnn_dsl."):
        if info.name.endswith("__main__"):    # importing it runs the command line
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, BaseException)
                    and value.__module__ == module.__name__):
                found[f"{module.__name__}.{value.__qualname__}"] = value
    return found


EXCEPTIONS = _exceptions()

INTERNAL = {
    "dynapcnn_dsl.config.tree.TreeError":
        "a tree handed to from_tree by code knows no file: the reader says document-invalid, the "
        "samna bridge samna-rejected",
    "dynapcnn_dsl.config.tree.UnknownField": "a TreeError (and an AttributeError, for getattr)",
    "dynapcnn_dsl.load.reader._Fatal": "stops the reader once its diagnostic is recorded",
    "dynapcnn_dsl.simulator.machine._Bad": "read_machine returns it as a diagnostic",
    "dynapcnn_dsl.expand.expressions.ExpressionError":
        "expand files it at the instance's position as template-expression",
    "dynapcnn_dsl.cli._Terminated": "SIGTERM on its way to main, which says terminated (exit 143)",
}
"""Exceptions that never reach a user: each is caught inside the package and turned into a
diagnostic (or is a programming error of tree access, as KeyError is)."""


def test_every_exception_is_a_dsl_error_or_internal():
    loose = sorted(name for name, cls in EXCEPTIONS.items()
                   if not issubclass(cls, DslError) and name not in INTERNAL)
    assert not loose, f"exceptions neither DslError nor internal (name them in INTERNAL, with why): {loose}"
    assert EXCEPTIONS["dynapcnn_dsl.diagnostics.DslError"] is dynapcnn_dsl.DslError


# ------------------------------------------------------------------------------ raised for real
def _build(tmp: Path) -> None:
    dynapcnn_dsl.build("dsl: 1\nname: x\n")


def _simulate(tmp: Path) -> None:
    dynapcnn_dsl.simulate({}, np.zeros(0), record="everything")


def _events(tmp: Path) -> None:
    from dynapcnn_dsl.simulator import from_columns

    from_columns([1, 2], "<events>")


def _samna(tmp: Path) -> None:
    from dynapcnn_dsl.samna_bridge import to_samna

    to_samna({"chip": "speck9"})   # refused before samna is imported


def _evaluate(tmp: Path) -> None:
    dynapcnn_dsl.evaluate({}, tmp / "missing")   # an empty tree is no configuration


def _dataset(tmp: Path) -> None:
    from dynapcnn_dsl.evaluation.dataset import read_dataset

    read_dataset(tmp / "missing")


RAISED: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "dynapcnn_dsl.api.BuildError": (_build, ["missing-key"]),
    "dynapcnn_dsl.simulator.run.SimulationError": (_simulate, ["api-argument"]),
    "dynapcnn_dsl.simulator.events.EventsError": (_events, ["simulate-events-fields"]),
    "dynapcnn_dsl.samna_bridge.SamnaError": (_samna, ["document-chip"]),
    "dynapcnn_dsl.evaluation.runner.EvaluationError": (_evaluate, ["simulate-document"]),
    "dynapcnn_dsl.evaluation.dataset.DatasetError": (_dataset, ["evaluate-dataset"]),
}
"""Each DslError subclass whose diagnostics are made where it is raised: a real bad input, and
the codes it says."""

ERRORS = {name: cls for name, cls in EXCEPTIONS.items() if issubclass(cls, DslError)
          and cls not in (DslError, CodedError)}
CODED = sorted(name for name, cls in ERRORS.items() if issubclass(cls, CodedError))


def test_every_dsl_error_is_raised_here():
    assert sorted(set(ERRORS) - set(CODED)) == sorted(RAISED)
    assert len(CODED) >= 6    # the importer's four, compare's model, evaluate's plot


def _same(a: DslError, b: DslError) -> None:
    assert type(a) is type(b) and a.diagnostics == b.diagnostics and str(a) == str(b)
    assert {k: v for k, v in vars(a).items() if k != "result"} == \
        {k: v for k, v in vars(b).items() if k != "result"}


@pytest.mark.parametrize("name", sorted(RAISED))
def test_a_real_bad_input_raises_diagnostics_of_the_catalogue(name, tmp_path):
    call, codes = RAISED[name]
    with pytest.raises(DslError) as info:
        call(tmp_path)
    exc = info.value
    assert type(exc) is ERRORS[name]
    assert [d.code for d in exc.diagnostics] == codes
    assert all(isinstance(d, Diagnostic) and d.code in CATALOGUE for d in exc.diagnostics)
    assert str(exc) == "\n".join(format_text(d) for d in exc.diagnostics if d.is_error)
    _same(pickle.loads(pickle.dumps(exc)), exc)    # as a worker process sends it back


@pytest.mark.parametrize("name", CODED)
def test_a_coded_error_carries_its_one_code(name):
    cls = ERRORS[name]
    assert cls.code in CATALOGUE and CATALOGUE[cls.code].severity is Severity.ERROR
    exc = cls("the reason", "what to do")
    assert exc.diagnostics == [error(cls.file, cls.code, "the reason", "what to do")]
    assert (exc.message, exc.hint, exc.diagnostic) == ("the reason", "what to do", exc.diagnostics[0])
    assert str(exc) == f"{cls.file}: error[{cls.code}]: the reason\n  hint: what to do"
    _same(pickle.loads(pickle.dumps(exc)), exc)


def test_refiled_names_what_the_user_gave_and_keeps_the_rest():
    pytest.importorskip("torch")
    from dynapcnn_dsl.importer.from_torch import ImportFailure

    exc = ImportFailure("net.txt: no such file", trace="torch's traceback")
    moved = exc.refiled("net.txt:Net", "give FILE.py:NAME")
    assert type(moved) is ImportFailure and moved.trace == "torch's traceback"
    assert moved.diagnostics == [error("net.txt:Net", "import-source", "net.txt: no such file",
                                       "give FILE.py:NAME")]
    kept = ImportFailure("x", "its own hint").refiled("m.py:M", "a default")
    assert kept.hint == "its own hint" and exc.diagnostics[0].file == "<model>"


def test_a_build_error_keeps_its_result_and_one_diagnostic_is_a_list():
    with pytest.raises(dynapcnn_dsl.BuildError) as info:
        dynapcnn_dsl.build("dsl: 1\nname: x\n")
    assert info.value.result is not None and list(info.value.result.diagnostics) == info.value.diagnostics
    d = error("f.json", "document-json", "not JSON", "write it again", Position(1, 2))
    assert d == Diagnostic("f.json", Position(1, 2), Severity.ERROR, "document-json", "not JSON",
                           "write it again")
    assert DslError(d).diagnostics == [d] == DslError([d]).diagnostics


def test_warnings_alone_are_shown_when_there_is_no_error():
    # a `strict` run fails on warnings: they are what the error says
    w = Diagnostic("n.yaml", None, Severity.WARNING, "weights-unused", "unused")
    assert str(DslError([w])) == format_text(w)
    assert str(DslError([w, error("n.yaml", "weights-missing", "missing")])) == \
        "n.yaml: error[weights-missing]: missing"


def test_every_failure_of_the_api_is_caught_as_one():
    with pytest.raises(dynapcnn_dsl.DslError):
        dynapcnn_dsl.simulate({}, np.zeros(0), record="everything")
    assert "DslError" in dynapcnn_dsl.__all__ and sys.modules["dynapcnn_dsl.api"].DslError is DslError

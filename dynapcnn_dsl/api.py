"""The Python API, for notebooks and scripts: the same pipeline as the command line.

    import dynapcnn_dsl
    doc = dynapcnn_dsl.build("network.yaml", "weights.pt")
    doc.write("config.json")          # atomically
    config = doc.to_samna()           # a real samna configuration (needs samna)

`build`, `check`, `validate`, `inspect` and `diff` are the commands of the same names, each one
run of `dynapcnn_dsl.pipeline` to the stage its command stops at.

A network is a path or YAML text. The rule that tells them apart: a `str` that contains a
newline, or starts with `dsl:` or `{` (after leading blanks), is the network's text (named
`<text>` in diagnostics; templates are looked for in the current directory); any other `str`,
or a `Path`, is a file. Weights are a path, a mapping of names to numpy arrays or torch tensors
(a state_dict; tensors shared between keys are fine), or an `nn.Module` (its state_dict).

Problems raise `BuildError`, which carries every diagnostic and prints them as the CLI does;
an argument of the wrong type is such a diagnostic too, never a TypeError. Every failure of any
function here (`SimulationError`, `EvaluationError`, `SamnaError`, an import's) is a
`DslError`: `except dynapcnn_dsl.DslError as exc` and `exc.diagnostics` catch and say them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dynapcnn_dsl.diagnostics import Diagnostic, DslError, Severity

if TYPE_CHECKING:
    from dynapcnn_dsl.config import Configuration
    from dynapcnn_dsl.differ import Change
    from dynapcnn_dsl.pipeline import Result, Stage

TEXT = "<text>"
"""The file name diagnostics give a network passed as text."""


class BuildError(DslError):
    """The network (or its weights) has errors; `diagnostics` holds all of them, `result` the
    pipeline's result (what each phase produced before it stopped)."""

    def __init__(self, diagnostics: Iterable[Diagnostic], result: Result | None = None) -> None:
        super().__init__(diagnostics)
        self.result = result


class Document:
    """A built samna configuration document: `data` is the JSON tree (tensors as numpy)."""

    __slots__ = ("bound", "data", "diagnostics", "linked", "quantized")

    def __init__(self, data: dict[str, Any], *, diagnostics: Iterable[Diagnostic] = (),
                 linked: Any = None, bound: Any = None, quantized: Any = None) -> None:
        self.data = data
        self.diagnostics = tuple(diagnostics)
        self.linked = linked
        self.bound = bound            # the checkpoint's tensors per core (weights.BoundNetwork)
        self.quantized = quantized    # the chip's integers per core (weights.QuantizedNetwork)

    @property
    def configuration(self) -> Configuration:
        """The document as typed values (dynapcnn_dsl.config), made from `data` when asked, so
        that it always says what `data` holds, edits included."""
        from dynapcnn_dsl.config import from_tree

        return from_tree(self.data)

    @property
    def chip(self) -> str:
        return self.configuration.chip

    @property
    def config(self) -> dict[str, Any]:
        """The configuration tree samna loads, as part of `data` (the same dicts, not a copy)."""
        from dynapcnn_dsl.config.tree import chip_config_tree

        return chip_config_tree(self.data)

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

    def simulate(self, events: Any, **options: Any) -> Any:
        """Run this document over events on the host (see `dynapcnn_dsl.simulate`)."""
        return simulate(self, events, **options)

    @classmethod
    def read(cls, path: str | Path) -> Document:
        """Load a document written by `build` (or `write`), checked against its schema
        (`dynapcnn_dsl.config.reader.read_document`); BuildError with positioned diagnostics when it
        is damaged."""
        from dynapcnn_dsl.config.reader import read_document

        if not isinstance(path, str | os.PathLike):
            raise BuildError([Diagnostic("<document>", None, Severity.ERROR, "file-unreadable",
                                         f"the document is given as a {type(path).__name__}, not a path",
                                         "pass the path (str or Path) of a .json written by build")])
        data, problems = read_document(path)
        if data is None:
            raise BuildError(problems)
        return cls(data, diagnostics=problems)

    def __repr__(self) -> str:
        configuration = self.configuration
        return f"<Document {configuration.chip}: {len(configuration.used())} cores>"


def is_text(network: Any) -> bool:
    """The rule above: a str with a newline, or starting with `dsl:` or `{`, is YAML text."""
    return isinstance(network, str) and ("\n" in network or network.lstrip().startswith(("dsl:", "{")))


def argument_problems(**given: Any) -> list[Diagnostic]:
    """A diagnostic (`api-argument`) for every option of the wrong type, so that a notebook's
    typo is a BuildError naming the argument, never a TypeError from deep inside a phase.
    Checked by name: `key` a str or None; `disabled` str ids and `templates` paths (any
    iterable but a lone str); `strict`, `annotate` and `states` bools."""
    out = []

    def wrong(name: str, value: Any, expected: str) -> None:
        out.append(Diagnostic("<arguments>", None, Severity.ERROR, "api-argument",
                              f"{name}={value!r:.60} is not {expected}", f"pass {name} as {expected}"))

    for name, value in given.items():
        if name == "key" and not (value is None or isinstance(value, str)):
            wrong(name, value, "a str (the state_dict's key, dotted for nesting) or None")
        elif name in ("disabled", "templates"):
            kinds = str if name == "disabled" else str | os.PathLike
            listed = isinstance(value, Iterable) and not isinstance(value, str | bytes)
            items = list(value) if listed else None
            if items is None or not all(isinstance(v, kinds) for v in items):
                wrong(name, value, "a list of rule ids (str)" if name == "disabled" else "a list of folders")
        elif name in ("strict", "annotate", "states") and not isinstance(value, bool):
            wrong(name, value, "True or False")
    return out


def _run(network: Any, until: Stage, **choices: Any) -> Result:
    """The one pipeline on a network given as a path or as text; BuildError when it fails."""
    from dynapcnn_dsl.pipeline import run_file, run_text

    problems = argument_problems(**{k: v for k, v in choices.items() if k != "weights"})
    if problems:
        raise BuildError(problems)
    if is_text(network):
        result = run_text(network, TEXT, until=until, **choices)
    elif isinstance(network, str | os.PathLike):
        result = run_file(os.fspath(network), until=until, **choices)
    else:
        raise BuildError([Diagnostic(
            "<network>", None, Severity.ERROR, "file-unreadable",
            f"the network is given as a {type(network).__name__}, which is neither a path nor YAML text",
            "pass the network file's path (str or Path) or its YAML text")])
    if not result.ok:
        raise BuildError(result.diagnostics, result)
    return result


def validate(network: str | Path, *, strict: bool = False, disabled: Iterable[str] = (),
             templates: Iterable[str | Path] = ()) -> Result:
    """Check a network against the language and the chip's rules, as `validate` does; the
    result holds the linked network (`linked`) and the warnings (`diagnostics`)."""
    from dynapcnn_dsl.pipeline import Stage

    return _run(network, Stage.LINK, strict=strict, disabled=disabled, templates=templates)


def inspect(network: str | Path, *, disabled: Iterable[str] = (),
            templates: Iterable[str | Path] = ()) -> dict[str, Any]:
    """Placement, shapes, memory and links of each core and the chip's totals, as `inspect
    --format json` prints them."""
    from dynapcnn_dsl.report.inspect import inspect_data

    linked = validate(network, disabled=disabled, templates=templates).linked
    assert linked is not None  # a run that reached LINK has placed the network
    return inspect_data(linked)


def check(network: str | Path, weights: Any, *, key: str | None = None,
          disabled: Iterable[str] = (), templates: Iterable[str | Path] = ()) -> Result:
    """Validate, bind and quantize, as `check` does (writes nothing): `quantized` holds each
    core's integers and its quantization report (`quantized.cores[i].report`)."""
    from dynapcnn_dsl.pipeline import Stage

    return _run(network, Stage.QUANTIZE, weights=weights, key=key, disabled=disabled,
               templates=templates)


def build(network: str | Path, weights: Any = None, *, key: str | None = None,
          annotate: bool = False, disabled: Iterable[str] = (),
          templates: Iterable[str | Path] = ()) -> Document:
    """Validate, link, bind and emit. Without weights the document is structure-only (no
    tensors or thresholds), which is what `diff` compares two networks with."""
    from dynapcnn_dsl.pipeline import Stage

    return document_of(_run(network, Stage.EMIT, weights=weights, key=key, annotate=annotate,
                           disabled=disabled, templates=templates))


class Differences(NamedTuple):
    """What `diff` found: the changes by path, and notes on how the sides were compared."""

    changes: list[Change]
    notes: list[str]


def diff(old: Any, new: Any, *, weights: Any = None, old_weights: Any = None,
         new_weights: Any = None, key: str | None = None) -> Differences:
    """Compare two configurations path by path, as `diff` does. Each side is a Document, a
    configuration document (.json written by `build`), or a network (path or text), built
    with its weights when given, else structure only."""
    from dynapcnn_dsl.differ import compare

    sides = [_side(side, w if w is not None else weights, key)
             for side, w in ((old, old_weights), (new, new_weights))]
    return Differences(*compare(*sides))


def _side(side: Any, weights: Any, key: str | None) -> dict[str, Any]:
    if isinstance(side, Document):
        return side.data
    if isinstance(side, str | os.PathLike) and not is_text(side):
        return read_side(side, weights, key).data
    return build(side, weights, key=key, annotate=True).data


def read_side(path: str | os.PathLike[str], weights: Any, key: str | None) -> Document:
    """One side of `diff` named by a path (the API's and the command's): a configuration
    document read back and checked against its schema (what it found in `diagnostics`), else a
    network built with its weights (structure only without) and annotated, so that cores are
    matched by name. BuildError says why the side cannot be had; for a network it carries the
    pipeline's result, to quote the network's lines."""
    from dynapcnn_dsl.config.files import is_document_file

    if is_document_file(path):
        return Document.read(path)   # no network phase is imported to read a document
    from dynapcnn_dsl.pipeline import Stage, run_file

    problems = argument_problems(key=key)
    if problems:
        raise BuildError(problems)
    return document_of(run_file(os.fspath(path), until=Stage.EMIT, weights=weights, key=key,
                                  annotate=True))


def document_of(result: Result) -> Document:
    """The document of a pipeline run to `emit`; BuildError when the run did not succeed."""
    if not result.ok or result.emitted is None:
        raise BuildError(result.diagnostics, result)
    return Document(result.emitted, diagnostics=result.diagnostics, linked=result.linked,
                    bound=result.bound, quantized=result.quantized)


def simulate(document: Document | Configuration | dict[str, Any] | str | Path, events: Any, *,
             weights: str | Path | None = None, key: str | None = None, bin_us: int | None = None,
             record: str = "monitored", slow_clock_hz: float | None = None,
             until_us: int | None = None, states: bool = False, budget: int | None = None,
             progress: Any = None, sensor_offset: tuple[int, int] | None = None,
             downsample: int | None = None) -> Any:
    """Run a configuration on the host, event by event (docs/simulation.md).

    `document`: a Document, its `data` tree or its `configuration`, a .json written by `build`,
    or a network file (then `weights` is required and the document is built on the fly).
    `events`: a path (.npy, .npz, .aedat4; a dense [T, C, H, W] .npy with `bin_us`), a
    structured array or a mapping
    with t, x, y, p, or a dense count array with `bin_us`. A recording from another camera is
    placed on the DVS sensor with `sensor_offset` (x, y: the recording's pixel at the sensor's
    (0, 0)) and `downsample` (integer division of coordinates); events off the sensor are then
    dropped and counted (`summary.off_sensor`). Returns a SimulationResult; raises
    SimulationError (or BuildError for a network that does not build)."""
    from dynapcnn_dsl.simulator import EventsError, SimulationError, from_columns, from_dense, read_events
    from dynapcnn_dsl.simulator.run import BUDGET, simulate_document

    problems = argument_problems(key=key, states=states)
    if record not in ("monitored", "all"):
        problems.append(Diagnostic("<arguments>", None, Severity.ERROR, "api-argument",
                                   f"record={record!r:.60} is not 'monitored' or 'all'",
                                   "record the monitored cores ('monitored') or every core ('all')"))
    if progress is not None and not callable(progress):
        problems.append(Diagnostic("<arguments>", None, Severity.ERROR, "api-argument",
                                   f"progress={progress!r:.60} is not callable",
                                   "pass a function progress(done, total), or None"))
    if problems:
        raise SimulationError(problems)
    from dynapcnn_dsl.config import Configuration, to_tree

    file = "<document>"
    data: Any = document.data if isinstance(document, Document) else document
    if isinstance(document, Configuration):
        data = to_tree(document)               # made or edited by hand: checked as any tree is
    elif isinstance(document, str | Path):
        file = str(document)
        if weights is not None:
            data = build(document, weights, key=key, annotate=True).data
        else:
            from dynapcnn_dsl.config.reader import read_configuration

            data, problems = read_configuration(document)    # positioned diagnostics; typed values
            if data is None:                                 # the reader checked: not checked again
                raise SimulationError(problems)
    events_file = str(events) if isinstance(events, str | Path) else "<events>"
    try:
        if isinstance(events, str | Path):
            table = read_events(events, bin_us=bin_us)
        elif bin_us is not None:
            table = from_dense(events, bin_us, events_file)
        else:
            table = from_columns(events, events_file)
    except EventsError as exc:
        raise SimulationError(exc.diagnostics) from None
    return simulate_document(data, table, file=file, events_file=events_file, record=record,
                             slow_clock_hz=slow_clock_hz, until_us=until_us, states=states,
                             budget=BUDGET if budget is None else budget, progress=progress,
                             placement=placement_of(sensor_offset, downsample, events_file))


def placement_of(sensor_offset: Any, downsample: Any, file: str) -> Any:
    """The SensorPlacement the two options ask for (None when neither is given); a value of
    the wrong kind is a SimulationError naming it, never a TypeError."""
    from dynapcnn_dsl.simulator import SensorPlacement, SimulationError

    if sensor_offset is None and downsample is None:
        return None
    offset = (0, 0) if sensor_offset is None else sensor_offset
    if not isinstance(offset, tuple | list) or len(offset) != 2:
        raise SimulationError([Diagnostic(file, None, Severity.ERROR, "simulate-sensor-placement",
                                          f"the sensor offset must be a pair (x, y), not {offset!r}")])
    return SensorPlacement((offset[0], offset[1]), 1 if downsample is None else downsample)

"""The pipeline from a file to a configuration document, and its one result value.

    load -> expand -> model -> rules -> link (facts, then the link-stage rules)
         -> bind -> fold -> quantize (when weights are given) -> emit

Every command and the Python API run this pipeline and differ only in how far they ask it to
go (`until`) and how they render the `Result`: `validate`, `inspect` and `graph` stop after
`link`, `check` after `quantize`, `build` and `diff` after `emit`. Each phase is a step function
`(Result, Options) -> Result` in `STEPS`; a step that cannot give the next one something to work
on leaves `reached` where it was and the run stops there. Everything found on the way is in
`Result.diagnostics`, and whether the run succeeded is decided once, by `Result.ok`.

The linker runs only when the single-file stages found no errors: a kernel that is already out
of range would otherwise also be reported as a map that shrinks to nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynapcnn_dsl.diagnostics import Diagnostic, Severity, has_errors

if TYPE_CHECKING:
    from dynapcnn_dsl.chips import ChipProfile
    from dynapcnn_dsl.expand.lookup import TemplateCache
    from dynapcnn_dsl.link.data import LinkedNetwork
    from dynapcnn_dsl.load import SourceDocument
    from dynapcnn_dsl.model import Network
    from dynapcnn_dsl.weights import BoundNetwork, FoldedNetwork, QuantizedNetwork


class Stage(IntEnum):
    """The phases in the order they run; `until` names the last one a run should reach."""

    NONE = 0
    LOAD = 1
    EXPAND = 2
    MODEL = 3
    RULES = 4
    LINK = 5
    BIND = 6
    FOLD = 7
    QUANTIZE = 8
    EMIT = 9


@dataclass(frozen=True, slots=True)
class Options:
    """What the caller chose: how far to run, which rules are off, where the weights are (a
    path, or tensors in memory: a mapping of names to arrays or tensors, or an nn.Module);
    `template_cache` keeps template files loaded between runs (the language server's)."""

    until: Stage = Stage.LINK
    disabled: frozenset[str] = frozenset()
    templates: tuple[str | Path, ...] = ()
    base: Path | None = None
    weights: Any = None
    key: str | None = None
    annotate: bool = False
    strict: bool = False
    template_cache: TemplateCache | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """What each phase produced for one file, every diagnostic, and one verdict (`ok`).

    `source` is the loaded source (data and source map), `network` the validated model
    (`complete` is False when it was rebuilt without its malformed parts: the rules ran on the
    rest, but such a network is never linked), `linked` the placed network; with weights,
    `bound` holds the checkpoint's tensors per core, `folded` the float tensors the chip
    computes with (BatchNorm and averages folded in), `quantized` the chip's integers (all None
    for a structure-only build); `emitted` the samna
    configuration document (a dict tree, tensors as numpy arrays). `reached` is the last phase
    that completed.
    """

    file: str
    options: Options = Options()
    reached: Stage = Stage.NONE
    source: SourceDocument | None = None
    network: Network | None = None
    complete: bool = False
    chip: ChipProfile | None = None
    linked: LinkedNetwork | None = None
    bound: BoundNetwork | None = None
    folded: FoldedNetwork | None = None
    quantized: QuantizedNetwork | None = None
    emitted: dict[str, Any] | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        """The one definition of success: every phase asked for ran, and no error was found
        (with `strict`, no warning either)."""
        if self.reached < self.options.until or has_errors(self.diagnostics):
            return False
        return not (self.options.strict and any(d.severity is Severity.WARNING
                                                for d in self.diagnostics))

    @property
    def weights(self) -> str | None:
        """The weights file, as given (None for a structure-only run; `<memory>` for tensors)."""
        w = self.options.weights
        if w is None:
            return None
        return str(w) if isinstance(w, str | Path) else "<memory>"

    def _next(self, stage: Stage, problems: Iterable[Diagnostic] = (), **produced: Any) -> Result:
        """This result one phase further: what the phase produced and what it found."""
        return dataclasses.replace(self, reached=stage, diagnostics=(*self.diagnostics, *problems),
                                   **produced)

    def _stop(self, problems: Iterable[Diagnostic] = (), **produced: Any) -> Result:
        """This result with what a phase found, without advancing: the run stops here."""
        return dataclasses.replace(self, diagnostics=(*self.diagnostics, *problems), **produced)


# ------------------------------------------------------------------------------------ the steps
def expand_phase(r: Result, o: Options) -> Result:
    from dynapcnn_dsl.expand import expand

    assert r.source is not None
    problems = expand(r.source, templates=o.templates, base=o.base, cache=o.template_cache)
    return r._stop(problems) if has_errors(problems) else r._next(Stage.EXPAND, problems)


def model_phase(r: Result, o: Options) -> Result:
    from dynapcnn_dsl.chips import resolve_chip
    from dynapcnn_dsl.model import build_model

    assert r.source is not None
    network, problems, complete = build_model(r.source)
    if network is None:
        return r._stop(problems)
    chip = resolve_chip(network.chip)
    assert chip is not None  # the model only accepts known chips
    return r._next(Stage.MODEL, problems, network=network, chip=chip, complete=complete)


def rules_phase(r: Result, o: Options) -> Result:
    from dynapcnn_dsl.rules import RuleContext, run_rules

    assert r.network is not None and r.chip is not None and r.source is not None
    problems = run_rules(RuleContext(r.network, r.chip, r.source.source_map), disabled=o.disabled)
    if not r.complete:
        return r._stop(problems)
    return r._next(Stage.RULES, problems)


def link_phase(r: Result, o: Options) -> Result:
    from dynapcnn_dsl.link import analyse, link_network
    from dynapcnn_dsl.rules import LINK, run_rules

    assert r.network is not None and r.chip is not None and r.source is not None
    if has_errors(r.diagnostics):
        return r
    facts = analyse(r.network, r.chip, r.source.source_map)
    problems = run_rules(facts, stage=LINK, disabled=o.disabled)
    if has_errors(problems) or facts.placement is None or facts.placement.assignment is None:
        return r._stop(problems)
    return r._next(Stage.LINK, problems, linked=link_network(facts))


def bind_phase(r: Result, o: Options) -> Result:
    """Read the weights (a file, or tensors in memory) and bind them to the cores; the
    build-stage rules advise on the network about to be built."""
    if o.weights is None:
        return r._next(Stage.BIND)  # structure only: no tensors, no thresholds
    from dynapcnn_dsl.rules import BUILD, run_rules
    from dynapcnn_dsl.rules.checkpoint import BuildContext
    from dynapcnn_dsl.weights import bind, load

    assert r.linked is not None and r.source is not None
    smap = r.source.source_map
    problems = run_rules(BuildContext(r.linked, smap), stage=BUILD, disabled=o.disabled)
    weights, found = load(o.weights, key=o.key)
    problems += found
    if weights is None or has_errors(found):
        return r._stop(problems)
    bound, found = bind(r.linked, weights, smap)
    problems += found
    if bound is None:
        return r._stop(problems)
    return r._next(Stage.BIND, problems, bound=bound)


def fold_phase(r: Result, o: Options) -> Result:
    if r.bound is None:
        return r._next(Stage.FOLD)
    from dynapcnn_dsl.weights import fold

    assert r.source is not None
    folded, problems = fold(r.bound, r.source.source_map)
    return r._next(Stage.FOLD, problems, folded=folded)


def quantize_phase(r: Result, o: Options) -> Result:
    if r.folded is None:
        return r._next(Stage.QUANTIZE)
    from dynapcnn_dsl.weights import quantize

    assert r.source is not None
    quantized, problems = quantize(r.folded, r.source.source_map)
    if quantized is None:
        return r._stop(problems)
    return r._next(Stage.QUANTIZE, problems, quantized=quantized)


def emit_phase(r: Result, o: Options) -> Result:
    from dynapcnn_dsl.emit import emit

    assert r.linked is not None and r.source is not None
    network = r.quantized if r.quantized is not None else r.linked
    return r._next(Stage.EMIT, emitted=emit(network, r.source.source_map, annotate=o.annotate))


Step = Callable[[Result, Options], Result]

STEPS: tuple[tuple[Stage, Step], ...] = (
    (Stage.EXPAND, expand_phase),
    (Stage.MODEL, model_phase),
    (Stage.RULES, rules_phase),
    (Stage.LINK, link_phase),
    (Stage.BIND, bind_phase),
    (Stage.FOLD, fold_phase),
    (Stage.QUANTIZE, quantize_phase),
    (Stage.EMIT, emit_phase),
)
"""The phases after loading, in order. A new phase (fold, quantize...) is one more entry."""


def run(source: SourceDocument | None, problems: Iterable[Diagnostic], file: str,
        options: Options) -> Result:
    """Run the steps on a loaded source up to `options.until`; stop at the first step that
    cannot go on. The network's diagnostics (load to link) come out in report order (file,
    line, column, id), those of the weights after them, in the order the binder found them."""
    result = Result(file, options, source=source, diagnostics=tuple(problems))
    if source is None:
        return _in_report_order(result)
    return _steps(result._next(Stage.LOAD), options)


def resume(result: Result, **choices: Any) -> Result:
    """Run a result further with some choices changed (a later `until`, the weights): the
    phases it already completed are not run again."""
    changed = dataclasses.replace(result.options, **choices)
    return _steps(dataclasses.replace(result, options=changed), changed)


def _steps(result: Result, options: Options) -> Result:
    ordered = False
    for stage, step in STEPS:
        if stage <= result.reached:
            continue
        if stage > options.until:
            break
        if stage > Stage.LINK and not ordered:
            result, ordered = _in_report_order(result), True
        result = step(result, options)
        if result.reached < stage:
            break
    return result if ordered else _in_report_order(result)


def _in_report_order(result: Result) -> Result:
    return dataclasses.replace(result, diagnostics=tuple(sorted(result.diagnostics,
                                                                key=Diagnostic.sort_key)))


def options(*, until: Stage = Stage.LINK, disabled: Iterable[str] = (),
            templates: Iterable[str | Path] = (), base: Path | None = None,
            weights: Any = None, key: str | None = None, annotate: bool = False,
            strict: bool = False, template_cache: TemplateCache | None = None) -> Options:
    """Options from the loose types callers have (lists of ids, any iterable of directories)."""
    return Options(until, frozenset(disabled), tuple(templates), base, weights, key, annotate,
                   strict, template_cache)


def run_file(path: str | Path, *, display_name: str | None = None, **choices: Any) -> Result:
    """Run the pipeline on one network file; `choices` are those of `options()` (by default up
    to the linked network). Templates are looked for beside the file first."""
    from dynapcnn_dsl.load import load_file

    name = display_name or str(path)
    source, problems = load_file(path, display_name=name)
    choices.setdefault("base", Path(path).resolve().parent)
    return run(source, problems, name, options(**choices))


def run_text(text: str, file: str = "<text>", **choices: Any) -> Result:
    """The same as `run_file` for text already in memory (tests, editors, notebooks);
    templates are looked for in the current directory first."""
    from dynapcnn_dsl.load import load_text

    source, problems = load_text(text, file)
    choices.setdefault("base", Path.cwd())
    return run(source, problems, file, options(**choices))

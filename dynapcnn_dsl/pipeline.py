"""The pipeline up to a linked network: load -> expand -> model -> rules -> link.

Each phase returns plain data and diagnostics; a phase runs only when the previous one produced
something to work on, and everything found on the way is returned together. The linker runs
only when the single-file stages found no errors: a kernel that is already out of range would
otherwise also be reported as a map that shrinks to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dynapcnn_dsl.chips import ChipProfile, resolve_chip
from dynapcnn_dsl.diagnostics import Diagnostic, has_errors
from dynapcnn_dsl.expand import expand
from dynapcnn_dsl.link.data import LinkedNetwork
from dynapcnn_dsl.load import SourceDocument, load_file, load_text
from dynapcnn_dsl.model import Network, build_model
from dynapcnn_dsl.rules import RuleContext, run_rules


class Checked:
    """The outcome of checking one file.

    `complete` is False when `network` was rebuilt without its malformed parts: the rules ran
    on the rest, but such a network must never be linked or built.
    """

    __slots__ = ("chip", "complete", "diagnostics", "document", "file", "linked", "linking",
                 "network")

    def __init__(self, file: str, document: SourceDocument | None = None,
                 diagnostics: list[Diagnostic] | None = None) -> None:
        self.file = file
        self.document = document
        self.network: Network | None = None
        self.chip: ChipProfile | None = None
        self.diagnostics: list[Diagnostic] = diagnostics or []
        self.complete = False
        self.linking = True
        self.linked: LinkedNetwork | None = None

    @property
    def ok(self) -> bool:
        """No errors, and, when linking was asked for, a linked network (a network can fail to
        place without an error left only when the user disabled the memory rules)."""
        if not self.complete or has_errors(self.diagnostics):
            return False
        return self.linked is not None or not self.linking


def check_document(doc: SourceDocument | None, problems: list[Diagnostic], file: str,
                   *, disabled: Iterable[str] = (), link: bool = True,
                   templates: Iterable[str | Path] = (), base: Path | None = None) -> Checked:
    """Run the phases on a loaded document; `link=False` stops after the single-file rules;
    `templates` are directories searched for templates after the file's own."""
    result = Checked(file, doc, diagnostics=list(problems))
    result.linking = link
    if doc is not None:
        _check(doc, result, disabled, link, templates, base)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _check(doc: SourceDocument, result: Checked, disabled: Iterable[str], link: bool,
           templates: Iterable[str | Path], base: Path | None) -> None:
    problems = expand(doc, templates=templates, base=base)
    result.diagnostics.extend(problems)
    if has_errors(problems):
        return
    network, problems, complete = build_model(doc)
    result.diagnostics.extend(problems)
    if network is None:
        return
    chip = resolve_chip(network.chip)
    assert chip is not None  # the model only accepts known chips
    result.network, result.chip, result.complete = network, chip, complete
    result.diagnostics.extend(run_rules(RuleContext(network, chip, doc.source_map),
                                        disabled=disabled))
    if link and complete and not has_errors(result.diagnostics):
        from dynapcnn_dsl.link import link as link_network

        result.linked, problems = link_network(network, chip, doc.source_map, disabled=disabled)
        result.diagnostics.extend(problems)


def check_file(path: str | Path, *, display_name: str | None = None,
               disabled: Iterable[str] = (), link: bool = True,
               templates: Iterable[str | Path] = ()) -> Checked:
    """Load, expand, validate, rule-check and link one network file."""
    name = display_name or str(path)
    doc, problems = load_file(path, display_name=name)
    return check_document(doc, problems, name, disabled=disabled, link=link, templates=templates,
                          base=Path(path).resolve().parent)


def check_text(text: str, file: str = "<text>", *, disabled: Iterable[str] = (),
               link: bool = True, templates: Iterable[str | Path] = ()) -> Checked:
    """The same as `check_file` for text already in memory (tests, editors, notebooks)."""
    doc, problems = load_text(text, file)
    return check_document(doc, problems, file, disabled=disabled, link=link, templates=templates,
                          base=Path.cwd())

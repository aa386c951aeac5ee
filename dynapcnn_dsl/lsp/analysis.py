"""One check of one open file: the pipeline of `validate`, then the weight checks of `check`.

A `Checker` lives as long as the server and keeps what a re-check need not redo:

- template files, loaded once and re-read only when their size or mtime changes
  (`TemplateCache`, the pipeline's own hook: the expansion itself is the pipeline's);
- weights files, read once per (path, size, mtime): the weight checks then run on the tensors
  in memory (`resume` from the linked network, so the structure is never checked twice);
- the last check of each file: the same text with the same settings is not checked again.

The diagnostics are exactly the pipeline's (`Result.diagnostics`, in report order), those of
the weight checks after them: one pipeline, so the editor and `validate` cannot disagree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from dynapcnn_dsl.diagnostics import Diagnostic, has_errors
from dynapcnn_dsl.expand.lookup import TemplateCache
from dynapcnn_dsl.load.source import SourceDocument
from dynapcnn_dsl.lsp.index import EMPTY, Index, index
from dynapcnn_dsl.lsp.text import split_lines
from dynapcnn_dsl.pipeline import Result, Stage, options, resume, run

WEIGHTS_BESIDE = "weights.safetensors"
"""A weights file of this name beside the network is checked with it, unless settings say
otherwise."""


@dataclass(frozen=True)
class Settings:
    """What the workspace settings (`dynapcnn-dsl` section) may choose.

    `weights`: a weights file for every network (relative to the network's directory), or a
    mapping from networks (an absolute path, or its last parts: `dvs-resnet/network.yaml`) to
    weights files; `key` the state dict
    inside a checkpoint; `templates`: more template directories (--templates); `disable`: rule
    ids switched off (--disable)."""

    weights: str | dict[str, str] | None = None
    key: str | None = None
    templates: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()

    @classmethod
    def from_client(cls, raw: Any) -> Settings:
        """Settings from whatever the client sent; anything malformed is left at its default."""
        if not isinstance(raw, dict):
            return cls()
        raw = raw.get("dynapcnn-dsl", raw.get("dynapcnn_dsl", raw))
        if not isinstance(raw, dict):
            return cls()
        weights = raw.get("weights")
        if not (isinstance(weights, str) or (isinstance(weights, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in weights.items()))):
            weights = None
        key = raw.get("key") if isinstance(raw.get("key"), str) else None
        return cls(weights, key, _strings(raw.get("templates")), _strings(raw.get("disable")))

    def weights_for(self, network: Path) -> Path | None:
        """The weights file checked with `network`: the settings', else weights.safetensors
        beside it, else none."""
        given = self.weights
        if isinstance(given, dict):
            given = next((w for n, w in given.items() if _names(n, network)), None)
        if given:
            return _resolve(given, network.parent)
        beside = network.parent / WEIGHTS_BESIDE
        return beside if beside.is_file() else None


def _names(given: str, network: Path) -> bool:
    """Whether a settings' key names `network`: its absolute path, or its last parts
    (`network.yaml`, `dvs-resnet/network.yaml`)."""
    parts = Path(given).expanduser().parts
    if Path(given).is_absolute():
        return Path(given).expanduser() == network
    return bool(parts) and network.parts[-len(parts):] == parts


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _resolve(name: str, base: Path) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else (base / path)


class Snapshot(NamedTuple):
    """One checked text: what the server answers every request about this file from."""

    path: Path
    file: str                      # the file name the diagnostics carry
    text: str
    lines: list[str]
    result: Result                 # validate's: up to the linked network
    weighed: Result | None         # the weight checks', when a weights file is known
    weights: Path | None
    index: Index
    settings: Settings
    made: tuple[str, ...] = ()     # the linked cores' names, kept from the last check that linked

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return (self.weighed or self.result).diagnostics

    @property
    def ok(self) -> bool:
        return (self.weighed or self.result).ok


@dataclass
class Checker:
    """Checks open files, keeping what the next check can reuse (see the module's docstring)."""

    templates: TemplateCache = field(default_factory=TemplateCache)
    _weights: dict[tuple[Path, str | None], tuple[tuple[int, int], Any]] = field(default_factory=dict)
    _last: dict[Path, Snapshot] = field(default_factory=dict)
    runs: int = 0                  # pipeline runs so far (the tests read it: reuse is observable)

    def check(self, path: Path, text: str, settings: Settings = Settings(), *,
              force: bool = False) -> Snapshot:
        """Check `text` as the contents of `path` (templates are found relative to it)."""
        from dynapcnn_dsl.load import load_text

        last = self._last.get(path)
        if not force and last is not None and last.text == text and last.settings == settings:
            return last
        self.runs += 1
        file = str(path)
        lines = split_lines(text)
        doc, problems = load_text(text, file)
        # what the user is typing may not load: completion still knows the last names
        names = index(doc, lines) if doc is not None else (last.index if last else EMPTY)
        if doc is not None and is_foreign(doc.data):
            result, weights, weighed = Result(file, reached=Stage.LOAD, source=doc), None, None
        elif doc is not None and is_template(doc.data):
            result, weights, weighed = template_check(doc), None, None
        else:
            choices = options(until=Stage.LINK, disabled=settings.disable, templates=settings.templates,
                              base=path.parent, template_cache=self.templates)
            result = run(doc, problems, file, choices)
            weights = settings.weights_for(path)
            weighed = self._weigh(result, weights, settings) if weights is not None else None
        made = tuple(c.name for c in result.linked.cores) if result.linked else (last.made if last else ())
        snapshot = Snapshot(path, file, text, lines, result, weighed, weights, names, settings, made)
        self._last[path] = snapshot
        return snapshot

    def forget(self, path: Path) -> None:
        """The file was closed: its snapshot is not kept."""
        self._last.pop(path, None)

    def invalidate(self) -> None:
        """A file a check depends on changed (a template, a weights file): check again."""
        self._last.clear()

    def _weigh(self, result: Result, weights: Path, settings: Settings) -> Result | None:
        """The weight checks (`check`'s) on a linked network, the weights read once."""
        if result.reached < Stage.LINK or has_errors(result.diagnostics):
            return None
        tensors = self._tensors(weights, settings.key)
        if tensors is None:  # unreadable: the pipeline reads it and says why, as `check` does
            return resume(result, until=Stage.QUANTIZE, weights=str(weights), key=settings.key)
        weighed = resume(result, until=Stage.QUANTIZE, weights=tensors)
        return _named(weighed, str(weights))  # tensors in memory are named <memory>

    def _tensors(self, weights: Path, key: str | None) -> Any:
        """The tensors of a weights file, read once while it is unchanged (None when it cannot
        be read)."""
        from dynapcnn_dsl.weights import load

        try:
            st = weights.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            return None
        known = self._weights.get((weights, key))
        if known is not None and known[0] == stamp:
            return known[1]
        found, problems = load(str(weights), key=key)
        tensors = found.tensors if found is not None and not has_errors(problems) else None
        self._weights[weights, key] = (stamp, tensors)
        return tensors


OWN_KEYS = frozenset({"dsl", "chip", "input", "cores", "template"})
"""Top-level keys of network and template files that other YAML files rarely have."""


def is_foreign(data: Any) -> bool:
    """A YAML file of another kind (a CI workflow, a compose file): a mapping with none of the
    top-level keys of network and template files. Editors attach the server to every YAML file;
    such a file gets no diagnostics. A file that does not load, or loads to anything else, is
    checked as `validate` checks it."""
    return isinstance(data, dict) and not OWN_KEYS.intersection(data)


def is_template(data: Any) -> bool:
    """A template file (`template: 1` at the top, no `dsl:`): checked as a template, not as a
    network missing its `dsl:`, `chip:` and `input:`."""
    return isinstance(data, dict) and "template" in data and "dsl" not in data


def template_check(doc: SourceDocument) -> Result:
    """A template file's own checks, those `validate` reports when a network uses it: the
    loader's and the template format's (its cores are checked where an instance expands them)."""
    from pydantic import ValidationError

    from dynapcnn_dsl.expand.models import TemplateFile
    from dynapcnn_dsl.strict import diagnostics_from_error

    try:
        TemplateFile.model_validate(doc.data)
        problems: list[Diagnostic] = []
    except ValidationError as exc:
        problems = diagnostics_from_error(exc.errors(), doc.data, TemplateFile, doc.source_map)
    return Result(doc.file, options(until=Stage.LOAD), reached=Stage.LOAD, source=doc,
                  diagnostics=tuple(sorted(problems, key=Diagnostic.sort_key)))


def _named(result: Result, name: str) -> Result:
    """Diagnostics about tensors given in memory name the weights file they were read from."""
    from dynapcnn_dsl.weights.memory import MEMORY

    return dataclasses.replace(result, diagnostics=tuple(
        d._replace(file=name) if d.file == MEMORY else d for d in result.diagnostics))

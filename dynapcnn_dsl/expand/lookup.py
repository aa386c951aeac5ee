"""Finding and loading template files: each file read and validated once per network.

Templates are searched next to the file that names them (the network file, or the template
that uses another one), then in the directories given on the command line (`--templates`),
then among the bundled templates (the repository's templates/).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.expand.models import TemplateFile
from dynapcnn_dsl.load.source import SourceDocument
from dynapcnn_dsl.suggest import did_you_mean

SUFFIXES = ("", ".yaml", ".yml", ".json")


def bundled_dirs() -> list[Path]:
    """The bundled templates: the checkout's templates/, or the installed package's copy."""
    here = Path(__file__).resolve().parents[1]
    return [d for d in (here.parent / "templates", here / "templates") if d.is_dir()]


class Template(NamedTuple):
    """A loaded, validated template file."""

    name: str
    path: Path
    doc: SourceDocument
    model: TemplateFile


class Refusal(NamedTuple):
    """Why a template reference gives no template: reported at the reference, after the
    template file's own diagnostics (listed once, however often the template is used)."""

    code: str
    message: str
    hint: str
    own: tuple[Diagnostic, ...] = ()


class TemplateLibrary:
    """The templates one network can use; each file is loaded at most once."""

    def __init__(self, search: list[Path]) -> None:
        self.search = search
        self._loaded: dict[Path, Template | Refusal] = {}
        self._found: dict[tuple[str, Path], Path | None] = {}

    def directories(self, base: Path) -> list[Path]:
        return [base, *self.search, *bundled_dirs()]

    def find(self, name: str, base: Path) -> Path | None:
        """Next to the file that names it, then --templates, then the bundled templates
        (each name looked up once per directory it is seen from)."""
        if (name, base) not in self._found:
            self._found[name, base] = next(
                (candidate.resolve() for directory in self.directories(base) for suffix in SUFFIXES
                 if (candidate := directory / (name + suffix) if suffix else directory / name).is_file()),
                None)
        return self._found[name, base]

    def get(self, name: str, base: Path) -> Template | Refusal:
        """The template `name` as seen from a file in `base`, or why there is none."""
        found = self.find(name, base)
        if found is None:
            return self._not_found(name, base)
        if found in self._loaded:
            known = self._loaded[found]
            return known._replace(own=()) if isinstance(known, Refusal) else known
        self._loaded[found] = result = self._load(name, found)
        return result

    def _not_found(self, name: str, base: Path) -> Refusal:
        known = sorted({p.stem for d in self.directories(base) for p in d.glob("*.yaml")})
        bundled = sorted({p.stem for d in bundled_dirs() for p in d.glob("*.yaml")})
        hint = did_you_mean(name, known) or (f"bundled templates: {', '.join(bundled)}" if bundled
                                            else "put the template next to the network file")
        return Refusal("template-not-found", f"no template '{name}' next to the file, in "
                       "--templates or among the bundled templates", hint)

    def _load(self, name: str, found: Path) -> Template | Refusal:
        from pydantic import ValidationError

        from dynapcnn_dsl.load import load_file
        from dynapcnn_dsl.strict import diagnostics_from_error

        tdoc, problems = load_file(found)
        if tdoc is not None:
            try:
                return Template(found.stem, found, tdoc, TemplateFile.model_validate(tdoc.data))
            except ValidationError as exc:
                problems = diagnostics_from_error(exc.errors(), tdoc.data, TemplateFile,
                                                  tdoc.source_map)
        return Refusal("template-invalid", f"the template '{name}' ({found}) has errors",
                       "fix the template file (its problems are listed above)", tuple(problems))

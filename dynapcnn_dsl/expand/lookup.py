"""Finding and loading template files: each file read and validated once per network.

A reference (`template: NAME`) names a template file, `.yaml` or `.yml` (the suffix may be left
out), looked for in this order:

1. next to the file that names it (the network file, or the template that uses another);
2. in the directories given on the command line (`--templates`), in order;
3. among the bundled templates (the repository's templates/).

A relative path (`lib/block`, `../shared/block`) is allowed, but whatever it resolves to
(symbolic links followed) must lie inside the search path: the network file's directory or
below it, a `--templates` directory or below it, or the bundled templates. Anything else is
refused without being opened, and a file that turns out not to be a template (no top-level
`template:` key) is refused without a word of it quoted: a network cannot make the tool read,
or print, a file that the user did not put in the search path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from dynapcnn_dsl.diagnostics import Diagnostic
from dynapcnn_dsl.expand.models import TemplateFile
from dynapcnn_dsl.filekinds import TEMPLATE, suffixes
from dynapcnn_dsl.load.source import SourceDocument
from dynapcnn_dsl.suggest import did_you_mean

SUFFIXES = suffixes(TEMPLATE)
"""A template file's name ends so; a reference may leave the suffix out."""

SEARCH_PATH = ("next to the network file or below it, in a --templates directory or among the "
               "bundled templates")

_DECLARES_TEMPLATE = re.compile(r"""^(?:\{\s*)?["']?template["']?[ \t]*:""", re.M)
"""A top-level `template:` key, for a file that does not even load: is it a template at all?"""


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


class TemplateCache:
    """Template files loaded by earlier runs, for a caller that checks the same network again
    and again (the language server, on every change): a file is read and validated again only
    when its size or modification time changed. Only what a run loads is kept, and it is never
    written to (expansion copies what it takes from a template), so runs cannot leak into each
    other; which files a reference may reach is still decided by each run's own library."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Path, str], tuple[tuple[int, int], Template | Refusal]] = {}

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int] | None:
        try:
            st = path.stat()
        except (OSError, ValueError):
            return None
        return (st.st_mtime_ns, st.st_size)

    def load(self, name: str, path: Path, load: Callable[[str, Path], Template | Refusal],
             ) -> Template | Refusal:
        """What `load(name, path)` gives, from the cache while the file is unchanged."""
        stamp = self._stamp(path)
        known = self._entries.get((path, name))
        if stamp is not None and known is not None and known[0] == stamp:
            return known[1]
        loaded = load(name, path)
        if stamp is not None:
            self._entries[path, name] = (stamp, loaded)
        return loaded


class TemplateLibrary:
    """The templates one network can use; each file is loaded at most once (per run, or per
    `cache` across runs).

    `root` is the network file's directory; with the `search` directories (--templates) and
    the bundled ones it bounds every file a reference may reach.
    """

    def __init__(self, root: Path, search: list[Path], cache: TemplateCache | None = None) -> None:
        self.search = [d.resolve() for d in search]
        self.roots = [root.resolve(), *self.search, *bundled_dirs()]
        self.cache = cache
        self._loaded: dict[Path, Template | Refusal] = {}
        self._found: dict[tuple[str, Path], Path | None] = {}

    def directories(self, base: Path) -> list[Path]:
        return [base, *self.search, *bundled_dirs()]

    def inside(self, path: Path) -> bool:
        return any(path.is_relative_to(root) for root in self.roots)

    def find(self, name: str, base: Path) -> Path | None:
        """The template file `name` means, seen from a file in `base`, inside the search path
        (each name looked up once per directory it is seen from)."""
        if (name, base) not in self._found:
            self._found[name, base] = next(
                (path for directory in self.directories(base) for file in _file_names(name)
                 if self.inside(path := (directory / file).resolve()) and _is_file(path)), None)
        return self._found[name, base]

    def get(self, name: str, base: Path) -> Template | Refusal:
        """The template `name` as seen from a file in `base`, or why there is none."""
        found = self.find(name, base)
        if found is None:
            return self._not_found(name, base)
        if found in self._loaded:
            known = self._loaded[found]
            return known._replace(own=()) if isinstance(known, Refusal) else known
        result = self._load(name, found) if self.cache is None else self.cache.load(name, found, self._load)
        self._loaded[found] = result
        return result

    def _not_found(self, name: str, base: Path) -> Refusal:
        if not _file_names(name):
            return Refusal("template-not-found", f"'{name}' does not name a template file",
                           "a template file ends in .yaml or .yml (the suffix may be left out)")
        if not all(self.inside((d / f).resolve()) for d in self.directories(base)
                   for f in _file_names(name)):
            return Refusal("template-not-found", f"'{name}' leads outside the template search "
                           f"path ({SEARCH_PATH})", "put the template there, or pass its "
                           "directory with --templates")
        known = sorted({p.stem for d in self.directories(base) for s in SUFFIXES
                        for p in d.glob(f"*{s}")})
        bundled = sorted({p.stem for d in bundled_dirs() for p in d.glob("*.yaml")})
        hint = did_you_mean(name, known) or (f"bundled templates: {', '.join(bundled)}" if bundled
                                            else "put the template next to the network file")
        return Refusal("template-not-found", f"no template '{name}' next to the file, in "
                       "--templates or among the bundled templates", hint)

    def _load(self, name: str, found: Path) -> Template | Refusal:
        from pydantic import ValidationError

        from dynapcnn_dsl.load import load_text, read_text
        from dynapcnn_dsl.strict import diagnostics_from_error

        invalid = Refusal("template-invalid", f"the template '{name}' ({found}) has errors",
                          "fix the template file (its problems are listed above)")
        text, problems = read_text(found, str(found))
        if text is None:  # missing, unreadable, too large or not UTF-8: nothing of it is quoted
            return invalid._replace(own=tuple(problems))
        tdoc, problems = load_text(text, str(found))
        declared = (isinstance(tdoc.data, dict) and "template" in tdoc.data if tdoc is not None
                    else _DECLARES_TEMPLATE.search(text) is not None)
        if not declared:
            return Refusal("template-invalid", f"'{name}' ({found}) is not a template file",
                           "a template file starts with `template: 1` (see "
                           "schema/template.schema.json); nothing of this file is shown")
        if tdoc is not None:
            try:
                return Template(found.stem, found, tdoc, TemplateFile.model_validate(tdoc.data))
            except ValidationError as exc:
                problems = diagnostics_from_error(exc.errors(), tdoc.data, TemplateFile,
                                                  tdoc.source_map)
        return invalid._replace(own=tuple(problems))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, ...
        return False


def _file_names(name: str) -> tuple[str, ...]:
    """The file names a reference may mean: itself when it ends in a template suffix, else
    itself with each suffix added; nothing for an empty name or one that ends in a slash."""
    if not name.strip() or name.endswith(("/", "\\")) or "\0" in name:
        return ()
    return (name,) if name.endswith(SUFFIXES) else tuple(name + s for s in SUFFIXES)

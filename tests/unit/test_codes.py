"""The catalogue of diagnostic codes (`dynapcnn_dsl.codes`, `rules.catalogue()`): every code the
package emits is registered once, every entry is emitted, documented and tested.

The codes emitted are found by reading the package's source (no code has to run): every
`Diagnostic(...)` call, and every call of a helper that hands one of its parameters on as a
`Diagnostic`'s code (`_error(file, pos, code, ...)`, `self.report(code, ...)`, a `failure(...,
code="import-source")` default, a class with a `code` field, a `d._replace(code=...)`), followed
until nothing new turns up. The code at each call is read from a string literal, a conditional
of two, a local variable assigned one (a tuple unpacked, a dict's `.get`), or an object's `.code`
(whose class carries a `code` attribute or field, itself scanned). Anything else fails
`test_every_code_is_readable`, naming the file and line: write the code as a literal where it is
emitted.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from dynapcnn_dsl.codes import CODES, STAGES
from dynapcnn_dsl.diagnostics import Severity
from dynapcnn_dsl.rules import REGISTRY, catalogue

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dynapcnn_dsl"
KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

PASSED_ON = {("dynapcnn_dsl/rules/registry.py", "r.id")}
"""Code arguments that pass on a code registered elsewhere: (file, expression). The rule
registry emits each rule's id (the rules are the catalogue's other half)."""


# ------------------------------------------------------------------------------ the scan
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class Sink(NamedTuple):
    """Where a callable takes a code: its positional index (None: keyword only), its keyword
    name, and the default used when a call leaves it out."""

    index: int | None
    keyword: str
    default: ast.expr | None = None


class Site(NamedTuple):
    where: str   # path:line of the call
    code: str


class Scan(NamedTuple):
    sites: list[Site]
    unreadable: list[str]   # "path:line: expression"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class CodeScan:
    """The package's modules as syntax trees, and the callables that take a code."""

    def __init__(self, sources: dict[str, tuple[str, str]]) -> None:
        """`sources`: module name -> (the path shown in failures, source text)."""
        self.shown = {m: shown for m, (shown, _) in sources.items()}
        self.trees = {m: ast.parse(text, shown) for m, (shown, text) in sources.items()}
        self.packages = {m for m, (shown, _) in sources.items() if shown.endswith("__init__.py")}
        for tree in self.trees.values():
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    child.parent = node  # type: ignore[attr-defined]
        self.defined = {m: {n.name for n in ast.walk(t) if isinstance(n, (*FUNCTIONS, ast.ClassDef))}
                        for m, t in self.trees.items()}
        self.imported = {m: self._imports(m, t) for m, t in self.trees.items()}
        self.methods = {(m, f.name) for m, t in self.trees.items() for c in ast.walk(t)
                        if isinstance(c, ast.ClassDef) for f in c.body if isinstance(f, FUNCTIONS)}
        self.sinks: dict[tuple[str, str], Sink] = {
            ("dynapcnn_dsl.diagnostics", "Diagnostic"): Sink(3, "code")}

    @classmethod
    def package(cls) -> CodeScan:
        files = sorted(PACKAGE.rglob("*.py"))
        return cls({_module_name(p, ROOT): (str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
                    for p in files})

    # -- names -------------------------------------------------------------------------------
    def _imports(self, module: str, tree: ast.Module) -> dict[str, tuple[str, str | None]]:
        """Local name -> (module, name) for `from m import name`, (module, None) for `import m`."""
        out: dict[str, tuple[str, str | None]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.split(".") if module in self.packages else module.split(".")[:-1]
                    package = package[: len(package) - node.level + 1]
                    base = ".".join([*package, *([node.module] if node.module else [])])
                for alias in node.names:
                    out[alias.asname or alias.name] = (base, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    out[alias.asname or alias.name] = (alias.name, None)
        return out

    def _origin(self, module: str, name: str) -> tuple[str, str]:
        """Follow re-exports (`from .x import name` in a package) to the defining module."""
        for _ in range(8):
            if name in self.defined.get(module, ()) or name not in self.imported.get(module, {}):
                break
            module, imported = self.imported[module][name]
            name = imported or name
        return module, name

    def callee(self, module: str, call: ast.Call) -> tuple[str, str] | None:
        """(module, name) of the package's callable a call reaches, None when it is not the
        package's."""
        f = call.func
        if isinstance(f, ast.Name):
            if f.id in self.defined[module]:
                return module, f.id
            base, name = self.imported[module].get(f.id, ("", None))
            return self._origin(base, name) if name and base.startswith("dynapcnn_dsl") else None
        if isinstance(f, ast.Attribute):
            if isinstance(f.value, ast.Name) and f.value.id in ("self", "cls"):
                return module, f.attr
            if isinstance(f.value, ast.Name) and f.value.id in self.imported[module]:
                base, name = self.imported[module][f.value.id]
                target = f"{base}.{name}" if name else base
                return (target, f.attr) if target in self.trees else None
            # a method of another object (`builder.refuse(...)`): the module's own class's, if
            # it has one of that name (so `parser.error(...)` is argparse's, not a sink)
            return (module, f.attr) if (module, f.attr) in self.methods else None
        return None

    def sink(self, module: str, call: ast.Call) -> Sink | None:
        if (isinstance(call.func, ast.Attribute) and call.func.attr == "_replace"
                and any(k.arg == "code" for k in call.keywords)):
            return Sink(None, "code")   # a diagnostic copied under another code
        target = self.callee(module, call)
        return self.sinks.get(target) if target else None

    # -- the code at a call ---------------------------------------------------------------------
    @staticmethod
    def argument(call: ast.Call, sink: Sink) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg == sink.keyword:
                return keyword.value
        if sink.index is not None and len(call.args) > sink.index \
                and not any(isinstance(a, ast.Starred) for a in call.args[: sink.index + 1]):
            return call.args[sink.index]
        return sink.default

    @staticmethod
    def enclosing(node: ast.AST, kinds: tuple[type, ...]) -> ast.AST | None:
        node = getattr(node, "parent", None)
        while node is not None and not isinstance(node, kinds):
            node = getattr(node, "parent", None)
        return node

    @staticmethod
    def parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Sink]:
        positional = [*fn.args.posonlyargs, *fn.args.args]
        defaults = [None] * (len(positional) - len(fn.args.defaults)) + list(fn.args.defaults)
        skip = 1 if positional and positional[0].arg in ("self", "cls") else 0
        out = {a.arg: Sink(i - skip, a.arg, d)
               for i, (a, d) in enumerate(zip(positional, defaults, strict=True)) if i >= skip}
        keywords = zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)
        out |= {a.arg: Sink(None, a.arg, d) for a, d in keywords}
        return out

    @staticmethod
    def assigned(fn: ast.AST, name: str) -> list[ast.expr]:
        """The values a function assigns to a local name (`x = ...`, `x, y = (..., ...)`)."""
        out = []
        for node in ast.walk(fn):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    out.append(node.value)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    out += [v for t, v in zip(target.elts, node.value.elts, strict=False)
                            if isinstance(t, ast.Name) and t.id == name]
        return out

    def _new_sink(self, module: str, fn: ast.AST, sink: Sink) -> bool:
        owner = self.enclosing(fn, (ast.ClassDef, *FUNCTIONS))
        name = owner.name if fn.name == "__init__" and isinstance(owner, ast.ClassDef) else fn.name
        if self.sinks.get((module, name)) == sink:
            return False
        self.sinks[(module, name)] = sink
        return True

    def _code_fields(self) -> tuple[bool, list[Site]]:
        """Classes that carry a code: a `code` field is a sink (the class is called with it), a
        `code = "..."` class attribute is a code itself."""
        changed, sites = False, []
        for module, tree in self.trees.items():
            for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
                fields = [s.target.id for s in cls.body
                          if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
                if "code" in fields and (module, cls.name) not in self.sinks:
                    self.sinks[(module, cls.name)] = Sink(fields.index("code"), "code")
                    changed = True
                for s in cls.body:
                    if (isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)
                            and isinstance(s.value.value, str)
                            and any(isinstance(t, ast.Name) and t.id == "code" for t in s.targets)):
                        sites.append(Site(f"{self.shown[module]}:{s.lineno}", s.value.value))
        return changed, sites

    def _codes_at(self, module: str, call: ast.Call, sink: Sink) -> Iterator[str | ast.expr | bool]:
        """The codes a call emits (str), expressions it cannot read (ast.expr), or True when it
        found a new sink (the scan then starts again)."""
        fn = self.enclosing(call, FUNCTIONS)
        todo: list[ast.expr | None] = [self.argument(call, sink)]
        while todo:
            e = todo.pop()
            if isinstance(e, ast.Constant) and isinstance(e.value, str):
                yield e.value
            elif isinstance(e, ast.IfExp):
                todo += [e.body, e.orelse]
            elif isinstance(e, ast.Dict):
                todo += e.values
            elif (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "get"
                  and isinstance(e.func.value, ast.Dict)):
                todo += [e.func.value, *e.args[1:]]
            elif isinstance(e, ast.Attribute) and e.attr == "code":
                pass  # an object's code: its class is scanned (`_code_fields`)
            elif isinstance(e, ast.Name) and fn is not None and e.id in self.parameters(fn):
                yield self._new_sink(module, fn, self.parameters(fn)[e.id])
            elif isinstance(e, ast.Name) and fn is not None and self.assigned(fn, e.id):
                todo += self.assigned(fn, e.id)
            elif e is None:
                yield ast.Constant("<no code argument>")
            elif (self.shown[module], ast.unparse(e)) not in PASSED_ON:
                yield e

    def run(self) -> Scan:
        while True:
            changed, sites = self._code_fields()
            unreadable: list[str] = []
            for module, tree in self.trees.items():
                for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
                    sink = self.sink(module, call)
                    where = f"{self.shown[module]}:{call.lineno}"
                    for found in self._codes_at(module, call, sink) if sink else ():
                        if isinstance(found, str):
                            sites.append(Site(where, found))
                        elif isinstance(found, bool):
                            changed |= found
                        else:
                            unreadable.append(f"{where}: {ast.unparse(found)}")
            if not changed:
                return Scan(sites, unreadable)


SCAN = CodeScan.package().run()
EMITTED = {s.code for s in SCAN.sites}
CATALOGUE = catalogue()


# ------------------------------------------------------------------------------ the scan works
def test_the_scan_finds_codes_however_they_are_handed_on():
    where = {(s.code, s.where.split(":")[0]) for s in SCAN.sites}
    for code, path in [
        ("yaml-tag", "dynapcnn_dsl/load/reader.py"),                  # a helper's parameter
        ("template-recursion", "dynapcnn_dsl/expand/instances.py"),   # a local from a tuple
        ("simulate-budget", "dynapcnn_dsl/simulator/run.py"),          # a dict's .get
        ("simulate-events-time", "dynapcnn_dsl/simulator/run.py"),     # .get's default
        ("import-shared", "dynapcnn_dsl/importer/mapping.py"),        # self.report(code, ...)
        ("import-source", "dynapcnn_dsl/importer/__init__.py"),       # a parameter's default
        ("compare-model-failed", "dynapcnn_dsl/verify/compare.py"),    # a class attribute
        ("template-not-found", "dynapcnn_dsl/expand/lookup.py"),      # a class's code field
        ("document-json", "dynapcnn_dsl/config/reader.py"),
        ("weights-shape", "dynapcnn_dsl/weights/bind.py"),
    ]:
        assert (code, path) in where, (code, path)


NEW_CODE = '''
from dynapcnn_dsl.diagnostics import Diagnostic, Severity

def _problem(file, code, message):
    return Diagnostic(file, None, Severity.ERROR, code, message)

def check(file, flag):
    if flag:
        return [_problem(file, "made-up-code", "bad")]
    return [Diagnostic(file, None, Severity.ERROR, "weights-shape" if flag else CODE, "x")]

def again(d):
    return d._replace(code="copied-code")
'''


def test_the_scan_names_the_line_of_an_unregistered_code_and_of_an_unreadable_one():
    scan = CodeScan({"dynapcnn_dsl.diagnostics": ("dynapcnn_dsl/diagnostics.py", "class Diagnostic: ..."),
                     "dynapcnn_dsl.weights.new": ("dynapcnn_dsl/weights/new.py", NEW_CODE)}).run()
    assert sorted(s for s in scan.sites if s.code not in CATALOGUE) == [
        Site("dynapcnn_dsl/weights/new.py:13", "copied-code"),
        Site("dynapcnn_dsl/weights/new.py:9", "made-up-code")]
    assert scan.unreadable == ["dynapcnn_dsl/weights/new.py:10: CODE"]


# ------------------------------------------------------------------------------ the guard
def test_every_emitted_code_is_registered():
    missing = sorted(f"{s.where}: {s.code}" for s in SCAN.sites if s.code not in CATALOGUE)
    assert not missing, ("codes emitted but not registered: add each to dynapcnn_dsl/codes.py (and "
                         "its section to docs/diagnostics.md):\n" + "\n".join(missing))


def test_every_code_is_readable():
    assert not SCAN.unreadable, ("a code this test cannot read: write it as a string literal where it is "
                                 "emitted (or a helper's parameter):\n" + "\n".join(SCAN.unreadable))


def test_every_registered_code_is_emitted():
    dead = sorted(set(CODES) - EMITTED)
    assert not dead, f"registered in dynapcnn_dsl/codes.py but emitted nowhere: {dead}"


def test_rules_and_other_codes_are_apart():
    assert not set(CODES) & set(REGISTRY)
    assert set(CATALOGUE) == set(CODES) | set(REGISTRY)
    assert all(CATALOGUE[r].rule for r in REGISTRY) and not any(CATALOGUE[c].rule for c in CODES)


# ------------------------------------------------------------------------------ every entry
@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_entry_is_complete(code):
    entry = CATALOGUE[code]
    assert entry.id == code and KEBAB.match(code)
    assert entry.stage in STAGES
    assert isinstance(entry.severity, Severity)
    assert entry.meaning.strip() and "\n" not in entry.meaning


def test_the_catalogue_is_ordered_by_stage():
    stages = [STAGES.index(c.stage) for c in CATALOGUE.values()]
    assert stages == sorted(stages)
    assert CATALOGUE["yaml-syntax"].stage == "load" and CATALOGUE["placement"].stage == "link"


def test_registering_a_code_twice_is_refused():
    source = (PACKAGE / "codes.py").read_text(encoding="utf-8")
    namespace: dict = {}
    doubled = source.replace('Code("empty-document"', 'Code("yaml-syntax"')
    with pytest.raises(ValueError, match="'yaml-syntax' registered twice"):
        exec(compile(doubled, "codes.py", "exec"), namespace)


# ------------------------------------------------------------------------------ documented
def sections() -> dict[str, str]:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z0-9-]+)`.*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


SECTIONS = sections()


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_documented_with_its_severity(code):
    assert code in SECTIONS, f"docs/diagnostics.md has no ### `{code}` section"
    body = SECTIONS[code].replace("<!-- shown-by-command -->", "").strip()
    said = re.match(r"\*\*(error|warning|info)\b", body)
    assert said, f"the section of {code} does not start with its severity (**error.** ...)"
    assert said.group(1) == CATALOGUE[code].severity.value


# ------------------------------------------------------------------------------ tested
TESTS = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests").rglob("*.py"))
                  if p.name != "test_codes.py")


def is_tested(code: str) -> bool:
    """Expected by a test (`"code"`, `[code]` in expected output), or by a `bad:code` network of
    docs/diagnostics.md, which tests/acceptance/test_docs.py runs."""
    bad_block = rf"^```(?:yaml|json) bad:{re.escape(code)}\s*$"
    return (f'"{code}"' in TESTS or f"[{code}]" in TESTS or f"'{code}'" in TESTS
            or re.search(bad_block, SECTIONS.get(code, ""), re.M) is not None)


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_is_tested(code):
    """As every rule is tested in its rule's test file (tests/rules/test_registry.py)."""
    assert is_tested(code), f"no test expects {code}: add one (tests/unit or tests/acceptance)"

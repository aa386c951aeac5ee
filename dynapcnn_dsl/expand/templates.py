"""Template expansion: instances become scoped cores before the model sees the network.

    cores:
      block1: {template: residual_block, with: {channels: 16}, to: [head]}

becomes `block1.a`, `block1.b`, ... with `${param}` and `${kernel // 2}` substituted. A
reference to `block1` means its entry cores in a `to:` list (a main path and a skip fill both
destination slots) and its exit core in `from:` and `readout.from`; the instance's `to:` is
given to the exit core. Templates may use templates; a loop is an error.

Positions: a value substituted from `with:` is reported at that `with:` value in the network
file, everything else of an instance at the instance's name, and every diagnostic about an
expanded node carries a note with the template file's line (`SourceMap.origins`).

Templates are searched next to the network file, then in the directories given on the command
line (`--templates`), then among the bundled templates (the repository's templates/).
"""

from __future__ import annotations

import ast
import copy
import operator
import re
from pathlib import Path as FsPath
from typing import Any

from dynapcnn_dsl.diagnostics import Diagnostic, Position, Related, Severity
from dynapcnn_dsl.load.source import Path, SourceDocument, SourceMap
from dynapcnn_dsl.suggest import did_you_mean

MAX_DEPTH = 8
"""Templates within templates, at most this deep (a deeper chain is almost surely a loop)."""

SUFFIXES = ("", ".yaml", ".yml", ".json")
MAX_EXPRESSION = 200
"""Characters in one ${...}: parameters and a little arithmetic, never a program."""
EXPR = re.compile(r"\$\{([^}]*)\}")


def bundled_dirs() -> list[FsPath]:
    """The bundled templates: the checkout's templates/, or the installed package's copy."""
    here = FsPath(__file__).resolve().parents[1]
    return [d for d in (here.parent / "templates", here / "templates") if d.is_dir()]


# -- ${...} expressions ----------------------------------------------------------------------------

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}


class ExpressionError(ValueError):
    pass


def evaluate(text: str, params: dict[str, Any]) -> Any:
    """A parameter name or integer arithmetic over them (+ - * // %, parentheses): no calls,
    no attributes, nothing else, evaluated by walking Python's own parse tree."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"an expression of {len(text)} characters is too long "
                              f"(at most {MAX_EXPRESSION})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"'{text[:40]}' is not an expression") from exc

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in params:
                hint = did_you_mean(node.id, params)
                raise ExpressionError(f"'{node.id}' is not a parameter" + (f"; {hint}" if hint else ""))
            return params[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = walk(node.operand)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ExpressionError(f"'{text}': minus applies to numbers only")
            return -value  # also floats: `${-threshold}` is a natural min_v_mem
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            if not (isinstance(left, int) and isinstance(right, int)) or isinstance(left, bool) \
                    or isinstance(right, bool):
                raise ExpressionError(f"'{text}': arithmetic works on integers only")
            if isinstance(node.op, ast.FloorDiv | ast.Mod) and right == 0:
                raise ExpressionError(f"'{text}' divides by zero")
            return _OPS[type(node.op)](left, right)
        raise ExpressionError(f"'{text}' uses something other than parameters and + - * // %")

    try:
        return walk(tree)
    except RecursionError as exc:
        raise ExpressionError(f"'{text[:40]}...' is nested too deeply") from exc


def names_in(text: str) -> list[str]:
    """The parameter names an expression uses, in order."""
    try:
        return [n.id for n in ast.walk(ast.parse(text.strip(), mode="eval"))
                if isinstance(n, ast.Name)]
    except (SyntaxError, RecursionError, MemoryError):
        return []


# -- the expander --------------------------------------------------------------------------------

class _Template:
    def __init__(self, name: str, path: FsPath, doc: SourceDocument, model: Any) -> None:
        self.name, self.path, self.doc, self.model = name, path, doc, model


class Expander:
    def __init__(self, doc: SourceDocument, search: list[FsPath], base: FsPath) -> None:
        self.doc = doc
        self.smap: SourceMap = doc.source_map
        self.search = search
        self.base = base  # the network file's directory (its real one, not a display name)
        self.diagnostics: list[Diagnostic] = []
        self.loaded: dict[FsPath, _Template | None] = {}
        self.instances: dict[str, tuple[list[tuple[str, Any]], str]] = {}  # name -> entries, exit
        self.chain: dict[str, tuple[FsPath, ...]] = {}  # core -> template files it came through
        self.written_in: dict[str, FsPath] = {}  # core -> directory of the file that wrote it

    # -- reporting --------------------------------------------------------------------------
    def error(self, path: Path, code: str, message: str, hint: str, *, at_key: bool = False,
              file: str | None = None, position: Position | None = None) -> None:
        pos = position if file else (self.smap.key(path) if at_key else self.smap.value(path))
        self.diagnostics.append(Diagnostic(file or self.smap.file, pos, Severity.ERROR, code,
                                           message, hint, () if file else self.smap.notes(path)))

    # -- finding and loading templates --------------------------------------------------------
    def find(self, name: str, base: FsPath) -> FsPath | None:
        """Next to the file that names it, then --templates, then the bundled templates."""
        for directory in [base, *self.search, *bundled_dirs()]:
            for suffix in SUFFIXES:
                candidate = (directory / (name + suffix)) if suffix else directory / name
                if candidate.is_file():
                    return candidate.resolve()
        return None

    def load(self, name: str, path: Path, base: FsPath) -> _Template | None:
        found = self.find(name, base)
        if found is None:
            known = sorted({p.stem for d in [base, *self.search, *bundled_dirs()]
                            for p in d.glob("*.yaml")})
            bundled = sorted({p.stem for d in bundled_dirs() for p in d.glob("*.yaml")})
            hint = did_you_mean(name, known) or (f"bundled templates: {', '.join(bundled)}" if bundled
                                                else "put the template next to the network file")
            self.error(path, "template-not-found", f"no template '{name}' next to the file, in "
                       "--templates or among the bundled templates", hint)
            return None
        if found in self.loaded:
            template = self.loaded[found]
            if template is None:  # its own problems were listed once; each use still says so
                self.error(path, "template-invalid", f"the template '{name}' ({found}) has errors",
                           "fix the template file (its problems are listed above)")
            return template
        from pydantic import ValidationError

        from dynapcnn_dsl.load import load_file
        from dynapcnn_dsl.model.errors import diagnostics_from_error
        from dynapcnn_dsl.model.template import TemplateFile

        tdoc, problems = load_file(found)
        template = None
        if tdoc is not None:
            try:
                model = TemplateFile.model_validate(tdoc.data)
                template = _Template(found.stem, found, tdoc, model)
            except ValidationError as exc:
                problems = diagnostics_from_error(exc.errors(), tdoc.data, TemplateFile, tdoc.source_map)
        if problems:
            self.diagnostics.extend(problems)
            self.error(path, "template-invalid", f"the template '{name}' ({found}) has errors",
                       "fix the template file (its problems are listed above)")
        self.loaded[found] = template
        return template

    # -- parameters ----------------------------------------------------------------------------
    def params(self, inst: str, given: dict[str, Any], template: _Template) -> dict[str, Any] | None:
        declared = template.model.params
        values: dict[str, Any] = {}
        ok = True
        for key in given:
            if key not in declared:
                hint = did_you_mean(key, declared) or f"its params: {', '.join(declared) or 'none'}"
                self.error(("cores", inst, "with", key), "template-param-unknown",
                           f"template '{template.name}' has no parameter '{key}'", hint, at_key=True)
                ok = False
        for key, p in declared.items():
            value = given.get(key, p.default)
            where = ("cores", inst, "with", key) if key in given else ("cores", inst, "template")
            if value is None:
                self.error(where, "template-param-missing", f"template '{template.name}' needs "
                           f"'{key}'" + (f" ({p.description})" if p.description else ""),
                           f"add `{key}: ...` under `with:`")
                ok = False
                continue
            problem = _check_param(value, p)
            if problem:
                self.error(where, "template-param", f"'{key}' of template '{template.name}' {problem}",
                           p.description or "see the template's params")
                ok = False
            values[key] = value
        return values if ok else None

    # -- one instance --------------------------------------------------------------------------
    def expand_instance(self, name: str, raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
        from pydantic import ValidationError

        from dynapcnn_dsl.model.errors import diagnostics_from_error
        from dynapcnn_dsl.model.template import TemplateInstance

        try:
            inst = TemplateInstance.model_validate(raw)
        except ValidationError as exc:
            self.diagnostics.extend(diagnostics_from_error(exc.errors(), raw, TemplateInstance,
                                                           self.smap, prefix=("cores", name)))
            return {}
        chain = self.chain.get(name, ())
        base = self.written_in.get(name, self.base)
        template = self.load(inst.template, ("cores", name, "template"), base)
        if template is None:
            return {}
        if template.path in chain or len(chain) >= MAX_DEPTH:
            names = " -> ".join(p.stem for p in (*chain, template.path))
            self.error(("cores", name, "template"), "template-recursion",
                       f"template '{template.name}' uses itself: {names}",
                       "a template may use other templates, but not, directly or not, itself")
            return {}
        values = self.params(name, inst.with_, template)
        if values is None:
            return {}
        local = set(template.model.cores)
        tmap = template.doc.source_map
        produced: dict[str, dict[str, Any]] = {}
        for core_name, body in template.model.cores.items():
            new_name = f"{name}.{core_name}"
            new_path = ("cores", new_name)
            data = self.substitute(body, values, ("cores", core_name), template, inst, name, new_path)
            if data is None:
                continue
            self.scope_references(data, local, name, template, core_name)
            if isinstance(data, dict):  # a core, or a nested instance: both under the prefix
                prefix = inst.weights or name
                data["weights"] = f"{prefix}.{data.get('weights', core_name)}"
            produced[new_name] = data
            self.chain[new_name] = (*chain, template.path)
            self.written_in[new_name] = template.path.parent
            self.smap.keys[new_path] = self.smap.key(("cores", name))
            self.smap.origins[new_path] = Related(str(template.path), tmap.key(("cores", core_name)),
                                                  f"core '{core_name}' of template '{template.name}'")
        entries = [(f"{name}.{_ref_core(e)}", self.pool(e, values, template, ("entry", i)))
                   for i, e in enumerate(template.model.entry)]
        exit_ref = template.model.exit
        exit_name = f"{name}.{_ref_core(exit_ref)}"
        for ref, where in [*((e, "entry") for e in template.model.entry), (exit_ref, "exit")]:
            if _ref_core(ref) not in local:
                self.error(("cores", name, "template"), "template-entry",
                           f"template '{template.name}' names '{_ref_core(ref)}' as its {where}, "
                           "which is not one of its cores", "fix the template's entry/exit")
                return {}
        self.instances[name] = (entries, exit_name)
        self.attach_exit(produced, exit_name, self.pool(exit_ref, values, template, ("exit",)),
                         name, inst)
        return produced

    def pool(self, ref: Any, values: dict[str, Any], template: _Template, where: Path) -> Any:
        """The pooling of an entry or exit, its ${...} evaluated (errors in the template)."""
        if isinstance(ref, str):
            return 1
        match = EXPR.fullmatch(ref.pool.strip()) if isinstance(ref.pool, str) else None
        if match is None:
            return ref.pool
        try:
            return evaluate(match.group(1), values)
        except ExpressionError as exc:
            self.error((), "template-expression", f"in template '{template.name}': {exc}",
                       "use ${param} or integer arithmetic such as ${kernel // 2}",
                       file=str(template.path),
                       position=template.doc.source_map.value((*where, "pool")))
            return 1

    def substitute(self, body: Any, values: dict[str, Any], tpath: Path, template: _Template,
                   inst: Any, name: str, new_path: Path) -> Any:
        """A deep copy of a template core with ${...} evaluated; positions recorded."""
        tmap = template.doc.source_map
        failed = False

        def walk(node: Any, t: Path, here: Path) -> Any:
            nonlocal failed
            self.smap.origins.setdefault(here, Related(str(template.path), tmap.value(t),
                                                       f"in template '{template.name}'"))
            self.smap.keys.setdefault(here, self.smap.key(("cores", name)))
            if isinstance(node, dict):
                return {k: walk(v, (*t, k), (*here, k)) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v, (*t, i), (*here, i)) for i, v in enumerate(node)]
            if isinstance(node, str) and "${" in node:
                whole = EXPR.fullmatch(node.strip())
                try:
                    if whole:
                        value = evaluate(whole.group(1), values)
                        given = [p for p in names_in(whole.group(1)) if p in inst.with_]
                        if given:  # reported at the `with:` value the user wrote
                            self.smap.values[here] = self.smap.value(("cores", name, "with", given[0]))
                        return value
                    return EXPR.sub(lambda m: str(evaluate(m.group(1), values)), node)
                except ExpressionError as exc:
                    self.error(here, "template-expression", f"in template '{template.name}': {exc}",
                               "use ${param} or integer arithmetic such as ${kernel // 2}",
                               file=str(template.path), position=tmap.value(t))
                    failed = True
                    return node
            self.smap.values.setdefault(here, self.smap.key(("cores", name)))
            return node

        result = walk(copy.deepcopy(body), tpath, new_path)
        return None if failed else result

    def scope_references(self, data: Any, local: set[str], inst: str, template: _Template,
                         core_name: str) -> None:
        """A template's cores name each other by local name: give them the instance's scope."""
        if not isinstance(data, dict):
            return
        tmap = template.doc.source_map
        for i, ref in enumerate(data.get("to") or []):
            target = ref.get("core") if isinstance(ref, dict) else ref
            if not isinstance(target, str) or target == "readout":
                continue
            if target not in local:
                self.error((), "template-reference", f"core '{core_name}' of template "
                           f"'{template.name}' sends to '{target}', which is not one of its cores",
                           did_you_mean(target, local) or "a template's cores send to each other; "
                           "the exit core also sends to the instance's `to:`",
                           file=str(template.path), position=tmap.value(("cores", core_name, "to", i)))
                continue
            scoped = f"{inst}.{target}"
            data["to"][i] = {**ref, "core": scoped} if isinstance(ref, dict) else scoped
        for i, source in enumerate(data.get("from") or []):
            if isinstance(source, str) and source not in local:
                self.error((), "template-reference", f"core '{core_name}' of template "
                           f"'{template.name}' lists '{source}' in `from:`, which is not one of "
                           "its cores", did_you_mean(source, local) or "a template's `from:` "
                           "names its own cores", file=str(template.path),
                           position=tmap.value(("cores", core_name, "from", i)))
        if isinstance(data.get("from"), list):
            data["from"] = [f"{inst}.{n}" if n in local else n for n in data["from"]]

    def attach_exit(self, produced: dict[str, dict[str, Any]], exit_name: str, pool: Any,
                    inst_name: str, inst: Any) -> None:
        """The instance's `to:` becomes the exit core's, with the exit's pooling."""
        core = produced.get(exit_name)
        if core is None:
            return
        own = list(core.get("to") or [])
        for i, ref in enumerate(inst.to):
            if pool not in (1, None):
                given = ref.get("pool") if isinstance(ref, dict) else None
                if given not in (None, pool):
                    self.error(("cores", inst_name, "to", i, "pool"), "template-pool",
                               f"the instance's exit pools by {pool} (the template says so), but "
                               f"this link asks for pool {given}",
                               "drop the pool here, or change the template's parameter")
                ref = {**ref, "pool": pool} if isinstance(ref, dict) else {"core": ref, "pool": pool}
            j = len(own)
            own.append(ref)
            self.smap.copy_subtree(("cores", inst_name, "to", i), ("cores", exit_name, "to", j))
            self.smap.origins.pop(("cores", exit_name, "to", j), None)
        core["to"] = own
        if inst.to:
            self.smap.keys[("cores", exit_name, "to")] = self.smap.key(("cores", inst_name, "to"))

    # -- the whole file ----------------------------------------------------------------------
    def run(self) -> None:
        data = self.doc.data
        cores = data.get("cores") if isinstance(data, dict) else None
        if not isinstance(cores, dict):
            return
        for _ in range(MAX_DEPTH + 1):
            if not any(isinstance(c, dict) and "template" in c for c in cores.values()):
                break
            expanded: dict[str, Any] = {}
            for name, core in cores.items():
                if isinstance(core, dict) and "template" in core:
                    for new, body in self.expand_instance(name, core).items():
                        if new in cores or new in expanded:
                            self.error(("cores", name), "template-name-collision",
                                       f"instance '{name}' makes a core '{new}', but a core of "
                                       "that name already exists", "rename the instance or the "
                                       "other core", at_key=True)
                        expanded[new] = body
                else:
                    expanded[name] = core
            cores = expanded
        data["cores"] = cores
        if self.instances:
            self.rewrite_references(data)

    def entries(self, name: str, seen: frozenset[str] = frozenset()) -> list[tuple[str, Any]]:
        """The cores a reference to `name` means in a `to:` list, instances resolved."""
        if name not in self.instances or name in seen:
            return [(name, 1)]
        out: list[tuple[str, Any]] = []
        for core, pool in self.instances[name][0]:
            for sub, subpool in self.entries(core, seen | {name}):
                out.append((sub, pool if subpool in (1, None) else subpool))
        return out

    def exit(self, name: str) -> str:
        seen: set[str] = set()
        while name in self.instances and name not in seen:
            seen.add(name)
            name = self.instances[name][1]
        return name

    def rewrite_list(self, refs: list[Any], path: Path, *, input_layer: bool = False) -> list[Any]:
        out: list[Any] = []
        moves: list[tuple[int, int]] = []
        for i, ref in enumerate(refs):
            target = ref.get("core") if isinstance(ref, dict) else ref
            if not isinstance(target, str) or target not in self.instances:
                moves.append((i, len(out)))
                out.append(ref)
                continue
            for core, pool in self.entries(target):
                given = ref.get("pool", 1) if isinstance(ref, dict) else 1
                if pool not in (1, None) and given not in (1, None) and given != pool:
                    self.error((*path, i), "template-pool", f"'{target}' takes its entry '{core}' "
                               f"with pool {pool}, but this link asks for pool {given}",
                               "drop the pool here: the template's entry sets it")
                final = pool if pool not in (1, None) else given
                if input_layer:
                    if final not in (1, None):
                        self.error((*path, i), "template-pool", f"'{target}' takes its entry "
                                   f"'{core}' with pool {final}, which the input layer cannot do",
                                   "pool the input (`pool:` under `input:`) or use another template")
                    new: Any = core
                elif isinstance(ref, dict) or final not in (1, None):
                    new = {**(ref if isinstance(ref, dict) else {}), "core": core}
                    if final not in (1, None):
                        new["pool"] = final
                else:
                    new = core
                moves.append((i, len(out)))
                out.append(new)
        for old, new in moves:
            self.smap.copy_subtree((*path, old), (*path, f"\0{new}"))
        for new in range(len(out)):
            for table in (self.smap.keys, self.smap.values):
                for p in [p for p in table if p[:len(path) + 1] == (*path, f"\0{new}")]:
                    table[(*path, new, *p[len(path) + 1:])] = table.pop(p)
        return out

    def rewrite_references(self, data: dict[str, Any]) -> None:
        for name, core in data["cores"].items():
            if not isinstance(core, dict):
                continue
            if isinstance(core.get("to"), list):
                core["to"] = self.rewrite_list(core["to"], ("cores", name, "to"))
            if isinstance(core.get("from"), list):
                core["from"] = [self.exit(n) if isinstance(n, str) else n for n in core["from"]]
        inp = data.get("input")
        if isinstance(inp, dict) and isinstance(inp.get("to"), list):
            inp["to"] = self.rewrite_list(inp["to"], ("input", "to"), input_layer=True)
        readout = data.get("readout")
        if isinstance(readout, dict) and isinstance(readout.get("from"), str):
            readout["from"] = self.exit(readout["from"])


def _ref_core(ref: Any) -> str:
    return ref if isinstance(ref, str) else ref.core


def _check_param(value: Any, p: Any) -> str | None:
    kinds = {"int": int, "float": int | float, "bool": bool, "str": str}
    if (p.type != "bool" and isinstance(value, bool)) or not isinstance(value, kinds[p.type]):
        return f"must be a{'n' if p.type == 'int' else ''} {p.type}, not {value!r}"
    if p.choices is not None and value not in p.choices:
        return f"must be one of {', '.join(map(str, p.choices))}, not {value!r}"
    if p.min is not None and value < p.min:
        return f"must be at least {p.min:g}, not {value!r}"
    if p.max is not None and value > p.max:
        return f"must be at most {p.max:g}, not {value!r}"
    return None


def expand_templates(doc: SourceDocument, search: list[FsPath],
                     base: FsPath | None = None) -> list[Diagnostic]:
    expander = Expander(doc, search, (base or FsPath(doc.source_map.file).parent).resolve())
    expander.run()
    return expander.diagnostics

"""Template instances become scoped cores before the model sees the network.

    cores:
      block1: {template: residual_block, with: {channels: 16}, to: [head]}

becomes `block1.a`, `block1.b`, ... with `${param}` and `${kernel // 2}` substituted. A
reference to `block1` means its entry cores in a `to:` list (a main path and a skip fill both
destination slots) and its exit core in `from:` and `readout.from`; the instance's `to:` is
given to the exit core. Templates may use templates; a loop is an error.

Bounds (`LanguageLimits`): templates nest at most `template_depth` deep, and the network has at
most `expanded_cores` cores once expanded; the instance that crosses a bound is reported, and
the same chain of template files is reported once, however many instances follow it.

Positions: a value substituted from `with:` is reported at that `with:` value in the network
file, everything else of an instance at the instance's name, and every diagnostic about an
expanded node carries a note with the template file's line (`SourceMap.origins`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dynapcnn_dsl.chips import language_limits
from dynapcnn_dsl.diagnostics import Diagnostic, Position, Related, Severity
from dynapcnn_dsl.expand.expressions import EXPR, ExpressionError, evaluate, names_in
from dynapcnn_dsl.expand.lookup import Refusal, Template, TemplateCache, TemplateLibrary
from dynapcnn_dsl.expand.models import TemplateInstance
from dynapcnn_dsl.load.source import NodePath, SourceDocument, SourceMap
from dynapcnn_dsl.suggest import did_you_mean


class Expander:
    """Expands every instance of one network in place, in rounds (an instance's cores may be
    instances themselves), then points references to instances at their entry and exit cores."""

    def __init__(self, doc: SourceDocument, search: list[Path], base: Path,
                 cache: TemplateCache | None = None) -> None:
        self.doc = doc
        self.smap: SourceMap = doc.source_map
        self.library = TemplateLibrary(base, search, cache)
        self.base = base  # the network file's directory (its real one, not a display name)
        self.diagnostics: list[Diagnostic] = []
        self.instances: dict[str, tuple[list[tuple[str, Any]], str]] = {}  # name -> entries, exit
        self.chain: dict[str, tuple[Path, ...]] = {}  # core -> template files it came through
        self.written_in: dict[str, Path] = {}  # core -> directory of the file that wrote it
        self.limits = language_limits()
        self.reported: set[tuple[str, tuple[Path, ...]]] = set()  # (code, chain) said once

    # -- reporting --------------------------------------------------------------------------
    def error(self, path: NodePath, code: str, message: str, hint: str, *, at_key: bool = False,
              file: str | None = None, position: Position | None = None) -> None:
        pos = position if file else (self.smap.key(path) if at_key else self.smap.value(path))
        self.diagnostics.append(Diagnostic(file or self.smap.file, pos, Severity.ERROR, code,
                                           message, hint, () if file else self.smap.notes(path)))

    # -- finding templates -------------------------------------------------------------------
    def load(self, name: str, path: NodePath, base: Path) -> Template | None:
        """The template an instance names, or None once the reason is reported there."""
        found = self.library.get(name, base)
        if isinstance(found, Refusal):
            self.diagnostics.extend(found.own)
            self.error(path, found.code, found.message, found.hint)
            return None
        return found

    # -- parameters ----------------------------------------------------------------------------
    def params(self, inst: str, given: dict[str, Any], template: Template) -> dict[str, Any] | None:
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

        from dynapcnn_dsl.strict import diagnostics_from_error

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
        if template.path in chain or len(chain) >= self.limits.template_depth:
            self.refuse_chain(name, template, chain)
            return {}
        values = self.params(name, inst.with_, template)
        local = set(template.model.cores)
        if not self.weight_map_names_cores(name, inst, template, local) or values is None:
            return {}
        tmap = template.doc.source_map
        produced: dict[str, dict[str, Any]] = {}
        for core_name, body in template.model.cores.items():
            new_name = f"{name}.{core_name}"
            new_path = ("cores", new_name)
            data = self.substitute(body, values, ("cores", core_name), template, inst, name, new_path)
            if data is None:
                continue
            self.scope_references(data, local, name, template, core_name)
            if isinstance(data, dict):  # a core, or a nested instance: both bound to the model
                self.bind_names(data, body, core_name, inst, name, new_path)
            produced[new_name] = data
            self.chain[new_name] = (*chain, template.path)
            self.written_in[new_name] = template.path.parent
            self.smap.set_key(new_path, self.smap.key(("cores", name)))
            self.smap.set_origin(new_path, Related(str(template.path), tmap.key(("cores", core_name)),
                                                  f"core '{core_name}' of template '{template.name}'"))
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

    def weight_map_names_cores(self, name: str, inst: TemplateInstance, template: Template,
                               local: set[str]) -> bool:
        """A `weights:` mapping names the template's cores; any other key is a typo."""
        if not isinstance(inst.weights, dict):
            return True
        unknown = [key for key in inst.weights if key not in local]
        for key in unknown:
            self.error(("cores", name, "weights", key), "template-weights-unknown",
                       f"template '{template.name}' has no core '{key}' to bind to '{inst.weights[key]}'",
                       did_you_mean(key, local) or f"its cores: {', '.join(sorted(local))}", at_key=True)
        return not unknown

    def bind_names(self, data: dict[str, Any], body: dict[str, Any], core_name: str,
                   inst: TemplateInstance, name: str, new_path: NodePath) -> None:
        """The state-dict names of one expanded core: `weights:`, `batchnorm:` and `neuron:
        {weights}`. A core the instance's mapping names takes the model's name as given; a name
        that starts with a parameter (`${prefix}.conv1`) is the model's name as the params make
        it; any other name the template writes (`features.${i}.conv`, or the core's own name for
        `weights:`) is under the instance's prefix: its string `weights:`, or else its name."""
        prefix = inst.weights if isinstance(inst.weights, str) else name

        def place(value: Any, written: Any) -> Any:
            from_params = isinstance(written, str) and written.lstrip().startswith("${")
            return value if from_params or isinstance(value, dict) else f"{prefix}.{value}"

        if isinstance(inst.weights, dict) and core_name in inst.weights:
            data["weights"] = inst.weights[core_name]
            here = (*new_path, "weights")
            self.smap.set_value(here, self.smap.value(("cores", name, "weights", core_name)))
            self.smap.set_origin(here, None)
        elif "template" in data and isinstance(data.get("weights"), dict):  # a nested mapping
            data["weights"] = {k: place(v, body["weights"].get(k)) for k, v in data["weights"].items()}
        else:
            data["weights"] = place(data.get("weights", core_name), body.get("weights"))
        # `batchnorm: P`, `batchnorm: {weights: P}` and `neuron: {weights: P}`
        spots = [(data, body, "batchnorm"),
                 (data.get("batchnorm"), body.get("batchnorm"), "weights"),
                 (data.get("neuron"), body.get("neuron"), "weights")]
        for holder, written, field in spots:
            if isinstance(holder, dict) and isinstance(written, dict) and isinstance(holder.get(field), str):
                holder[field] = place(holder[field], written.get(field))

    def refuse_chain(self, name: str, template: Template, chain: tuple[Path, ...]) -> None:
        """A loop, or templates nested past the depth limit: once per chain of files."""
        files = (*chain, template.path)
        names = " -> ".join(p.stem for p in files)
        if template.path in chain:
            code, message, hint = ("template-recursion", f"template '{template.name}' uses itself: "
                                   f"{names}", "a template may use other templates, but not, "
                                   "directly or not, itself")
        else:
            depth = self.limits.template_depth
            code, message, hint = ("template-depth", f"templates nest more than {depth} deep: "
                                   f"{names}", f"flatten the nesting to at most {depth} levels "
                                   "(write some inner templates' cores out)")
        if (code, files) not in self.reported:
            self.reported.add((code, files))
            self.error(("cores", name, "template"), code, message, hint)

    def pool(self, ref: Any, values: dict[str, Any], template: Template, where: NodePath) -> Any:
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

    def substitute(self, body: Any, values: dict[str, Any], tpath: NodePath, template: Template,
                   inst: Any, name: str, new_path: NodePath) -> Any:
        """A copy of a template core (containers rebuilt) with ${...} evaluated; positions
        recorded."""
        tmap = template.doc.source_map
        failed = False
        file, note = str(template.path), f"in template '{template.name}'"
        at_instance = self.smap.key(("cores", name))

        def walk(node: Any, t: NodePath, here: NodePath) -> Any:
            nonlocal failed
            self.smap.set_origin(here, Related(file, tmap.value(t), note), keep=True)
            self.smap.set_key(here, at_instance, keep=True)
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
                            self.smap.set_value(here, self.smap.value(("cores", name, "with", given[0])))
                        return value
                    return EXPR.sub(lambda m: str(evaluate(m.group(1), values)), node)
                except ExpressionError as exc:
                    self.error(here, "template-expression", f"in template '{template.name}': {exc}",
                               "use ${param} or integer arithmetic such as ${kernel // 2}",
                               file=str(template.path), position=tmap.value(t))
                    failed = True
                    return node
            self.smap.set_value(here, at_instance, keep=True)
            return node

        result = walk(body, tpath, new_path)
        return None if failed else result

    def scope_references(self, data: Any, local: set[str], inst: str, template: Template,
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
            self.smap.set_origin(("cores", exit_name, "to", j), None)
        core["to"] = own
        if inst.to:
            self.smap.set_key(("cores", exit_name, "to"), self.smap.key(("cores", inst_name, "to")))

    # -- the whole file ----------------------------------------------------------------------
    def run(self) -> None:
        data = self.doc.data
        cores = data.get("cores") if isinstance(data, dict) else None
        if not isinstance(cores, dict):
            return
        total = len(cores)
        for _ in range(self.limits.template_depth + 1):
            if not any(isinstance(c, dict) and "template" in c for c in cores.values()):
                break
            expanded: dict[str, Any] = {}
            for name, core in cores.items():
                if not (isinstance(core, dict) and "template" in core):
                    expanded[name] = core
                    continue
                produced = self.expand_instance(name, core)
                total += len(produced) - 1
                if total > self.limits.expanded_cores:
                    self.too_many_cores(name)
                    return
                for new, body in produced.items():
                    if new in cores or new in expanded:
                        self.error(("cores", name), "template-name-collision",
                                   f"instance '{name}' makes a core '{new}', but a core of "
                                   "that name already exists", "rename the instance or the "
                                   "other core", at_key=True)
                    expanded[new] = body
            cores = expanded
        data["cores"] = cores
        if self.instances:
            self.rewrite_references(data)

    def too_many_cores(self, name: str) -> None:
        """Expansion stops at the instance that takes the network past the core limit."""
        limit = self.limits.expanded_cores
        self.error(("cores", name, "template"), "template-size",
                   f"expanding '{name}' takes the network past {limit} cores, the limit of the "
                   "language; expansion stopped here", "templates that instantiate templates "
                   "multiply: check the nesting and the number of instances")

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

    def rewrite_list(self, refs: list[Any], path: NodePath, *, input_layer: bool = False) -> list[Any]:
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
        self.smap.renumber(path, moves)
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


def expand_templates(doc: SourceDocument, search: list[Path], base: Path | None = None,
                     cache: TemplateCache | None = None) -> list[Diagnostic]:
    expander = Expander(doc, search, (base or Path(doc.source_map.file).parent).resolve(), cache)
    expander.run()
    return expander.diagnostics

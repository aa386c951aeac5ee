"""Import: a network.yaml and its weights file from a model the user already has.

Sources (each a module that produces a `ModelGraph`): a torch module traced with torch.export
(`from_torch`), a NIR graph (`from_nir`); a configuration document (`from_document`) and a
sinabs DynapcnnNetwork (`from_sinabs`), already cut into cores, are read straight into a plan. One mapper
(`mapping`) turns a graph into the network's plan, refusing what the chip cannot compute with
the module and the reason; `writer` prints the plan. The written files are then built by the
ordinary pipeline (`build_written`), like any hand-written network.

This phase comes after the pipeline, the samna bridge and the simulator, and below the API:
nothing before it imports it, it builds through the pipeline, never through `dynapcnn_dsl.api`
(verifying an import against its model is `dynapcnn_dsl.verify`'s). torch and nir are imported
only by the sources that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dynapcnn_dsl.diagnostics import Diagnostic, Severity, has_errors
from dynapcnn_dsl.importer.graph import ModelGraph
from dynapcnn_dsl.importer.plan import Plan

if TYPE_CHECKING:
    from dynapcnn_dsl.pipeline import Result

NETWORK = "network.yaml"
WEIGHTS = "weights.safetensors"
SCHEMA = "network.schema.json"


@dataclass(frozen=True)
class Imported:
    """The outcome of mapping one model: the network's text and tensors, or the reasons."""

    source: str
    plan: Plan | None
    text: str | None
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()
    trace: str | None = None      # torch's traceback of a model that could not be traced (--verbose)

    @property
    def ok(self) -> bool:
        return self.plan is not None and not has_errors(list(self.diagnostics))


def failure(source: str, message: str, hint: str, code: str = "import-source",
            trace: str | None = None) -> Imported:
    """An import that did not get as far as a graph."""
    return Imported(source, None, None, diagnostics=(
        Diagnostic(source, None, Severity.ERROR, code, message, hint),), trace=trace)


def from_graph(graph: ModelGraph, *, chip: str = "speck2f", header: tuple[str, ...] = ()) -> Imported:
    """Map a graph and print its network; the tensors are the ones the cores bind, copied."""
    from dynapcnn_dsl.importer.mapping import to_plan
    from dynapcnn_dsl.importer.writer import network_yaml

    plan, diagnostics = to_plan(graph, chip)
    if plan is None:
        return Imported(graph.source, None, None, diagnostics=tuple(diagnostics))
    plan = Plan(**{**plan.__dict__, "header": header or plan.header})
    tensors = {name: np.require(np.array(graph.tensors[name], copy=True), requirements="C")
               for name in plan.tensors}
    return Imported(graph.source, plan, network_yaml(plan), tensors, tuple(diagnostics))


def safetensors_bytes(tensors: dict[str, np.ndarray]) -> bytes:
    """The weights file's bytes: each tensor under its own name (shared storage copied apart)."""
    from safetensors.numpy import save

    return save({k: np.require(v, requirements="C") for k, v in sorted(tensors.items())})  # 0-d stays 0-d


def write(imported: Imported, folder: str | Path) -> tuple[Path, Path]:
    """Write DIR/network.yaml, DIR/weights.safetensors and the schema beside them as one unit
    (`atomic.write_group`): an interrupted import leaves the old files or the new ones, never a
    network beside another network's weights. Existing names are replaced, symbolic links
    included (never written through); `output_problems` says what the command refuses first."""
    from dynapcnn_dsl.atomic import write_group
    from dynapcnn_dsl.schema import schema_text

    assert imported.text is not None
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_group(out, {WEIGHTS: safetensors_bytes(imported.tensors), SCHEMA: schema_text(),
                      NETWORK: imported.text})
    return out / NETWORK, out / WEIGHTS


def output_problems(folder: str | Path, inputs: list[str], *, force: bool) -> list[str]:
    """Why import may not write into `folder`, as `build` refuses its outputs: an output that is
    one of the inputs (by device and inode: `--weights proj/weights.safetensors -o proj`),
    refused even with --force; an existing output without --force; a symbolic link out of the
    folder, or something that is not a regular file, in an output's place."""
    import os

    from dynapcnn_dsl.atomic import names_an_input

    out = Path(folder)
    if out.exists() and not out.is_dir():
        return [f"-o {folder}: is not a folder"]
    problems = []
    for name in (NETWORK, WEIGHTS, SCHEMA):
        path = out / name
        given = names_an_input(path, inputs)
        if given is not None:
            problems.append(f"{path} is the input {given}: import would replace it; choose another -o DIR")
        elif path.is_symlink() and not force:
            target = os.path.realpath(path)
            where = "inside" if Path(target).is_relative_to(os.path.realpath(out)) else "outside"
            problems.append(f"{path} is a symbolic link to {target}, {where} {folder}: import never writes "
                            "through it; remove it, or --force to replace the link itself")
        elif path.exists() and not path.is_file():
            problems.append(f"{path} exists and is not a regular file")
        elif path.exists() and not force:
            problems.append(f"{path} exists: choose another -o DIR, or --force to replace it")
    return problems


def import_torch(model: Any, *, input_shape: tuple[int, int, int] | None = None,
                 dvs: bool = False, chip: str = "speck2f", source: str = "<model>",
                 file: Path | None = None, own_values: tuple[str, ...] = ()) -> Imported:
    """Map a torch module (its weights as they are loaded); a sinabs DynapcnnNetwork is read as
    the cores it already is (`import_sinabs`)."""
    from dynapcnn_dsl.importer.from_sinabs import is_dynapcnn_network
    from dynapcnn_dsl.importer.from_torch import ImportFailure, graph_of

    why = _model_problem(model) or shape_problem(input_shape)
    if why is not None:
        return failure(source, why, "pass an nn.Module holding its weights, and input_shape=(C, H, W)")
    if is_dynapcnn_network(model):
        return import_sinabs(model, input_shape=input_shape, dvs=dvs, chip=chip, source=source)
    try:
        graph = graph_of(model, input_shape=input_shape, dvs=dvs, source=source, file=file,
                         own_values=own_values)
    except ImportFailure as exc:
        return failure(source, exc.message, exc.hint or "see docs/import.md for what a model needs",
                       trace=exc.trace)
    return from_graph(graph, chip=chip, header=(f"imported from {source} by dynapcnn-dsl import",))


def shape_problem(shape: Any) -> str | None:
    """Why an input shape is not one the chip takes: three whole numbers, at most the chip's
    features by its input map (1024 x 128 x 128)."""
    from dynapcnn_dsl.chips import shared_limits

    if shape is None:
        return None
    limits = shared_limits()
    if not isinstance(shape, tuple | list) or len(shape) != 3 or not all(
            isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1 for n in shape):
        return f"the input shape {shape!r:.60} is not three positive whole numbers (C, H, W)"
    c, h, w = (int(n) for n in shape)
    if max(h, w) > limits.input_map or c > limits.features[1]:
        return (f"the input shape {[c, h, w]} is larger than the chip's input (at most "
                f"{limits.features[1]} channels of {limits.input_map} x {limits.input_map})")
    return None


def _model_problem(model: Any) -> str | None:
    """Why `model` cannot be traced: not a torch module, or tensors on the meta device (shapes
    without values, as `torch.device('meta')` or a lazy init leaves them)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        return f"the model is a {type(model).__name__}, not a torch nn.Module"
    meta = [name for name, t in (*model.named_parameters(), *model.named_buffers()) if t.is_meta]
    if meta:
        from dynapcnn_dsl.diagnostics import listed

        return (f"the model's tensors {listed(meta, 5)} are on the meta device (shapes without values): "
                "materialise them first (model.to_empty(device='cpu'), then load_state_dict)")
    return None


def import_sinabs(network: Any, *, input_shape: tuple[int, int, int] | None = None,
                  dvs: bool = False, chip: str = "speck2f", source: str = "<DynapcnnNetwork>") -> Imported:
    """Write a sinabs DynapcnnNetwork as the cores it holds: its layer-to-core map (once
    `make_config` or `to` ran) as `index:` pins, its integers (`discretize=True`) with
    `quantize: none`. `input_shape` and `dvs`, when given, must agree with the network's."""
    from dynapcnn_dsl.importer.from_sinabs import plan_of
    from dynapcnn_dsl.importer.writer import network_yaml

    own = tuple(int(n) for n in network.input_shape)
    hint = "the DynapcnnNetwork fixes its input: leave --input-shape and --dvs out"
    if input_shape is not None and tuple(input_shape) != own:
        return failure(source, f"the DynapcnnNetwork's input is {list(own)}, not {list(input_shape)}", hint)
    if dvs and network.dvs_layer is None:
        return failure(source, "the DynapcnnNetwork has no DVS layer: its input comes from the host", hint)
    plan, tensors, diagnostics = plan_of(network, chip, source)
    return Imported(source, plan, network_yaml(plan), tensors, tuple(diagnostics))


def import_document(document: dict[str, Any] | str | Path, *, source: str | None = None) -> Imported:
    """Decompile a configuration document (the tree, or a `.json` written by `build`) into a
    network with `quantize: none`, its integers and `index:` pins."""
    from dynapcnn_dsl.config.reader import read_document
    from dynapcnn_dsl.importer.from_document import decompile
    from dynapcnn_dsl.importer.writer import network_yaml

    if not isinstance(document, dict | str | Path):
        return failure(source or "<document>", f"the document is a {type(document).__name__}, not a "
                       "document's tree (dict) or the path of its .json", "pass a path or Document.data")
    if not isinstance(document, dict):
        source = source or str(document)
        document, problems = read_document(document)      # validated against the document schema
        if document is None:
            return Imported(source, None, None, diagnostics=tuple(problems))
    source = source or "<document>"
    plan, tensors, diagnostics = decompile(document, source)
    if plan is None:
        return Imported(source, None, None, diagnostics=tuple(diagnostics))
    return Imported(source, plan, network_yaml(plan), tensors, tuple(diagnostics))


def import_samna(config: Any, chip: str) -> Imported:
    """Decompile a samna configuration object (read from a device, or built by hand). samna
    does not record where the host writes events: the cores no other core feeds are taken as the
    input's, and a note says so."""
    from dynapcnn_dsl.importer.from_samna import NotANetwork, as_document
    from dynapcnn_dsl.samna_bridge import from_samna

    source = f"<samna {chip} configuration>"
    try:
        document, guessed = as_document(from_samna(config, chip))
    except NotANetwork as exc:
        return failure(source, exc.message, "give a configuration whose cores form a network")
    result = import_document(document, source=source)
    if not guessed or not result.ok:
        return result
    note = Diagnostic(source, None, Severity.INFO, "import-host-input",
                      "a samna configuration does not record where the host writes its events: "
                      f"the cores no other core feeds ({', '.join(map(str, guessed))}) are written "
                      "as the input's `to:`", "edit `input.to` if the host writes to other cores")
    return replace(result, diagnostics=(note, *result.diagnostics))


def import_nir(nir_graph: Any, *, input_shape: tuple[int, int, int] | None = None,
               chip: str = "speck2f", dvs: bool = False, source: str | None = None) -> Imported:
    """Map a NIR graph (a `nir.NIRGraph`, or the path of a `.nir` file)."""
    from dynapcnn_dsl.importer.from_nir import NirFailure, graph_of, read_nir

    if isinstance(nir_graph, str | Path):
        source = source or str(nir_graph)
    source = source or "<NIR graph>"
    why = shape_problem(input_shape)
    if why is not None:
        return failure(source, why, "pass input_shape=(C, H, W), or leave it out to read the graph's")
    try:
        if isinstance(nir_graph, str | Path):
            nir_graph = read_nir(nir_graph)
        graph, warnings = graph_of(nir_graph, source=source, input_shape=input_shape, dvs=dvs)
    except NirFailure as exc:
        return failure(source, exc.message, "see docs/import.md for the NIR nodes the chip computes")
    imported = from_graph(graph, chip=chip, header=(f"imported from {source} by dynapcnn-dsl import",))
    return Imported(imported.source, imported.plan, imported.text, imported.tensors,
                    tuple(warnings) + imported.diagnostics)


def import_source(source: str, *, input_shape: tuple[int, int, int] | None = None,
                  weights: str | None = None, key: str | None = None, chip: str = "speck2f",
                  dvs: bool = False) -> Imported:
    """Map what SOURCE names: `file.py:NAME` (runs that file's code), a `.nir` file or a
    configuration document `.json`."""
    from dynapcnn_dsl.filekinds import DOCUMENT, NIR, kinds

    if DOCUMENT in kinds(source):
        return import_document(source)
    if NIR in kinds(source):
        return import_nir(source, input_shape=input_shape, chip=chip, dvs=dvs)
    return _import_python(source, input_shape, weights, key, chip, dvs)


def _import_python(source: str, input_shape: tuple[int, int, int] | None, weights: str | None,
                   key: str | None, chip: str, dvs: bool) -> Imported:
    from dynapcnn_dsl.diagnostics import DslError
    from dynapcnn_dsl.importer.from_torch import ImportFailure
    from dynapcnn_dsl.importer.model_file import load_model

    try:
        loaded = load_model(source, weights, key=key)
    except ImportFailure as exc:
        return failure(source, exc.message, exc.hint or "SOURCE is FILE.py:NAME, NAME a module class "
                       "constructible without arguments or a function returning a module")
    except DslError as exc:                  # the weights file cannot be read: the reader's reasons
        return Imported(source, None, None, diagnostics=tuple(exc.diagnostics))
    result = import_torch(loaded.model, input_shape=input_shape, dvs=dvs, chip=chip, source=source,
                          file=Path(source.rpartition(":")[0]), own_values=loaded.own_values)
    return replace(result, diagnostics=(*loaded.notes, *result.diagnostics))


def build_written(network: Path, weights: Path) -> Result:
    """Build what was written, as `dynapcnn-dsl build` would (the pipeline up to `emit`): the
    result says whether it builds (`ok`) and holds every diagnostic and the linked network.
    Nothing is written."""
    from dynapcnn_dsl.pipeline import Stage, run_file

    return run_file(network, until=Stage.EMIT, weights=weights)

"""A model file and its checkpoint: the one way import, compare and evaluate load a model.

`FILE.py:NAME` is run (as `python FILE.py` would run it) to make the module; a checkpoint's
tensors are loaded into it by their state_dict names. A checkpoint that holds the model under
one prefix (a Lightning checkpoint's `model.`) nests the model under that prefix (`Holder`),
so the network's `weights:` names are the checkpoint's and its next checkpoint binds as it is.
Neuron states (sinabs's v_mem) are never loaded; a checkpoint of the ANN a spiking model was
converted from keeps the neurons' own thresholds, and says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dynapcnn_dsl.diagnostics import Diagnostic, DslError, Severity, listed
from dynapcnn_dsl.importer.from_torch import ImportFailure
from dynapcnn_dsl.importer.neurons import describe, state_names


@dataclass(frozen=True)
class LoadedModel:
    """A model with its checkpoint loaded: the module (nested under the checkpoint's prefix,
    if any), the neuron parameters the checkpoint lacked (kept from the model: an ANN's
    checkpoint), and notes saying what was found."""

    model: nn.Module
    own_values: tuple[str, ...] = ()
    notes: tuple[Diagnostic, ...] = ()


def load_model(model: str | nn.Module, weights: str | Path | None = None, *, key: str | None = None,
               network_names: Iterable[str] | None = None) -> LoadedModel:
    """The model (`FILE.py:NAME`, run; or a module, taken as it is) with the checkpoint
    `weights` (`key`: the state_dict inside it) loaded into it.

    Without `network_names` the checkpoint names every tensor of the model, maybe under one
    prefix (import). With them (a network's `<weights>.weight` names: compare, evaluate) the
    model is nested under the prefix those names use, and the checkpoint (the network's
    weights file, which holds only what the cores bind) fills what it holds.

    Raises ImportFailure with the reason when the model cannot be made or does not take the
    checkpoint; a checkpoint that cannot be read raises DslError with the reader's diagnostics."""
    from dynapcnn_dsl.importer.from_sinabs import is_dynapcnn_network

    if isinstance(model, str):
        model = load_module(model)
    partial = network_names is not None
    if partial:
        model, _ = held_under(model, network_names or (), partial=True)
    if weights is None:
        return LoadedModel(model)
    from dynapcnn_dsl.weights.readers import read

    loaded, problems = read(weights, key=key)
    if loaded is None:
        raise DslError(problems)
    tensors = dict(loaded.tensors)
    notes = []
    if not partial:
        held, prefix = held_under(model, tensors)
        if prefix and is_dynapcnn_network(model):  # read as the cores it is, under its own names
            tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            said, hint = ("read without it: the network names the DynapcnnNetwork's own "
                          "tensors, which the written weights file holds", "nothing to do")
        elif prefix:
            model = held
            said, hint = (f"the network's `weights:` names keep '{prefix}'", "nothing to do: "
                          "the next checkpoint of the same training binds as it is")
        if prefix:
            notes.append(Diagnostic(str(weights), None, Severity.INFO, "import-prefix",
                                    f"the model's tensors are under '{prefix}' in {weights} (a "
                                    f"Lightning checkpoint's `self.model`): {said}", hint))
    kept = load_weights(model, tensors, partial=partial)
    if kept:
        notes.append(Diagnostic(str(weights), None, Severity.INFO, "import-thresholds",
                                f"{weights} holds none of the neurons' parameters "
                                f"({listed(kept, 4)}): the checkpoint of the ANN the "
                                "model was converted from; the thresholds and lower "
                                "bounds are the model's own",
                                "nothing to do if the model sets them as sinabs's "
                                "from_model did: they are written as values, so the "
                                "next checkpoint of the ANN builds as it is"))
    return LoadedModel(model, tuple(kept), tuple(notes))


def load_module(spec: str) -> nn.Module:
    """`path/file.py:NAME`: a module class constructible without arguments, a function
    returning a module, or a module the file made. This runs the file's code, as `python file.py`
    would."""
    import importlib.machinery
    import importlib.util
    import sys

    from dynapcnn_dsl.filekinds import PYTHON, kinds

    path_text, _, name = spec.rpartition(":")
    path = Path(path_text)
    if not path_text or not name or PYTHON not in kinds(path):
        raise ImportFailure(f"'{spec}' is not FILE.py:NAME")
    if not path.is_file():
        raise ImportFailure(f"{path_text}: no such file")
    module_name = f"_dynapcnn_import_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
    # the loader named, not guessed from the suffix (which the file kinds read in any case)
    loader = importlib.util.spec_from_file_location(
        module_name, path, loader=importlib.machinery.SourceFileLoader(module_name, str(path)))
    assert loader is not None and loader.loader is not None
    code = importlib.util.module_from_spec(loader)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # the model's own sibling modules import as they do for the user
    try:
        sys.modules[module_name] = code
        loader.loader.exec_module(code)
        factory = getattr(code, name, None)
        if factory is None:
            found = [n for n, v in vars(code).items()
                     if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module_name]
            raise ImportFailure(f"{path_text} defines no '{name}'"
                                + (f" (its modules: {', '.join(found)})" if found else ""))
        # a module the file made (`snn = SNN(batch_size=8)`, as sinabs's test models do) is
        # taken as it is; a class or function is called
        model = factory if isinstance(factory, nn.Module) else factory()
    except ImportFailure:
        raise
    except Exception as exc:
        hint = None
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            hint = (f"'{exc.name.partition('.')[0]}' is not importable here: install it if it is a "
                    "package (sinabs's DynapcnnNetwork needs samna), or check its name if it is a "
                    "module of your own")
        raise ImportFailure(f"running {spec} failed: {type(exc).__name__}: {exc}"
                            f"{_user_line(exc, path)}", hint) from exc
    finally:
        sys.path.remove(folder)
    if not isinstance(model, nn.Module):
        raise ImportFailure(f"{spec} gave a {type(model).__name__}, not a torch.nn.Module")
    return model


def _user_line(exc: BaseException, path: Path) -> str:
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve() == path.resolve()]
    return f" (at {path}:{frames[-1].lineno})" if frames else ""


def neuron_states(model: nn.Module) -> set[str]:
    """The state_dict names of the neurons' states: a sinabs StatefulLayer's buffers (v_mem, ...;
    "not parameters", as sinabs says; its spike_threshold and min_v_mem are parameters)."""
    return {f"{q}.{name}" if q else name for q, m in model.named_modules() for name in state_names(m)}


class Holder(nn.Module):
    """A module holding the model under one attribute name, as a LightningModule holds its
    network as `self.model`: so the state_dict names are the checkpoint's."""

    def __init__(self, name: str, inner: nn.Module) -> None:
        super().__init__()
        self.add_module(name, inner)
        self.held = name
        self.model_name = inner.model_name if isinstance(inner, Holder) else type(inner).__name__
        if hasattr(inner, "input_shape"):
            self.input_shape = inner.input_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.held)(x)


def model_name(model: nn.Module) -> str:
    """The model's own class name, through the holders that nest it under a prefix."""
    return model.model_name if isinstance(model, Holder) else type(model).__name__


def held_under(model: nn.Module, names: Iterable[str], *, partial: bool = False) -> tuple[nn.Module, str]:
    """The model as `names` (a checkpoint's, or a network's `weights:`) call its tensors.

    When they lack the model's own names but hold them under one prefix (`model.` for a
    Lightning checkpoint), the model is nested under that prefix, so the network's `weights:`
    names are the checkpoint's and the next checkpoint binds as it is. Every one of the model's
    tensors must be there under the prefix, or with `partial` (an imported weights file, which
    holds only what the cores bind) as many as under no other prefix. Nothing is guessed when
    two prefixes fit as well. Returns the model (nested or not) and the prefix ('' if none)."""
    own = sorted(set(model.state_dict()) - neuron_states(model))
    names = set(names)
    if not own or any(k in names for k in own):
        return model, ""
    prefixes = {n[: -len(k)] for n in names for k in own if n.endswith("." + k)}
    held = {p: sum(p + k in names for k in own) for p in prefixes}
    best = max(held.values(), default=0)
    found = [p for p, n in held.items() if n == best and (partial or n == len(own))]
    if best == 0 or len(found) != 1:
        return model, ""
    prefix = found[0]
    for name in reversed(prefix.rstrip(".").split(".")):
        if not name.isidentifier():
            return model, ""
        model = Holder(name, model)
    return model, prefix


def load_weights(model: nn.Module, tensors: dict[str, np.ndarray], *, partial: bool = False) -> list[str]:
    """A checkpoint's tensors into the model; neuron states (v_mem, ...) are never loaded. With
    `partial`, the model keeps its own values for what the file lacks (an imported weights file
    holds only what the cores bind), but a file holding none of them is refused: the model
    would run on its initial weights. A checkpoint of the ANN a spiking model was converted from
    (sinabs's from_model) lacks the neurons' spike_threshold and min_v_mem: those are kept from
    the model, and their names returned (the caller says so)."""
    own = model.state_dict()
    states = neuron_states(model)
    wanted = {k for k in own if k not in states and (k in tensors or not partial)}
    if partial and not wanted and own:
        raise ImportFailure("the weights file holds none of the model's tensors (it names "
                            f"{listed(sorted(tensors), 3)}; the model {listed(sorted(own), 3)})",
                            "give the model whose state_dict the network's `weights:` name")
    missing = sorted(wanted - set(tensors))
    kept = [k for k in missing if k in neuron_parameters(model)]
    if kept and (len(kept) < len(missing) or len(kept) == len(wanted)):
        kept = []          # more than the neurons missing, or nothing but them: not an ANN's checkpoint
    missing = [k for k in missing if k not in kept]
    if missing:
        raise ImportFailure(f"the weights file lacks {len(missing)} of the model's tensors: "
                            f"{listed(missing, 6)}", "give this model's checkpoint (`--key` "
                            "names the state_dict inside a larger checkpoint)")
    wanted -= set(kept)
    for k in sorted(wanted):
        if tuple(own[k].shape) != tuple(tensors[k].shape):
            raise ImportFailure(f"'{k}' is {list(tensors[k].shape)} in the weights file, "
                                f"{list(own[k].shape)} in the model", "give the checkpoint of this "
                                "model as it is built (the same layer sizes)")
    model.load_state_dict({k: torch.as_tensor(np.array(tensors[k])) for k in wanted}, strict=False)
    return kept


def neuron_parameters(model: nn.Module) -> set[str]:
    """The state_dict names of the neurons' own parameters (sinabs's spike_threshold and
    min_v_mem): what an ANN's checkpoint cannot hold for the spiking model made from it."""
    return {f"{q}.{name}" if q else name for q, m in model.named_modules()
            if describe(m) is not None for name, _ in m.named_parameters(recurse=False)}

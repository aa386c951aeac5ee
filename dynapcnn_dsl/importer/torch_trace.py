"""Tracing a torch module with torch.export, its neuron modules made units first.

torch.export records every operation of `forward` as an ATen call, `+` and `torch.cat` with
their operand order included (torch.fx's symbolic tracer, which sinabs uses, follows module calls
only and loses them), and keeps, on each call, the stack of modules it ran in. Neuron modules
are made units before the trace: their `forward` (stateful, data-dependent) is replaced, for the
trace only, by one opaque custom operation tagged with the module's name, so each neuron is one
call whose parameters are read from the module itself (`exported_program.py` reads the calls).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from dynapcnn_dsl.importer.dvs_layer import is_dvs
from dynapcnn_dsl.importer.from_torch import ImportFailure
from dynapcnn_dsl.importer.neurons import describe

UNIT_OP = "dynapcnn_dsl_import::unit"


@torch.library.custom_op(UNIT_OP, mutates_args=())
def _unit(x: torch.Tensor, tag: str, shape: list[int]) -> torch.Tensor:
    """Stands for one module (a neuron, the DVS layer) during the trace: only its shape counts."""
    return x.new_zeros(shape)


@_unit.register_fake
def _unit_fake(x: torch.Tensor, tag: str, shape: list[int]) -> torch.Tensor:
    return x.new_empty(shape)


class NeuronsAsUnits:
    """Replace the forward of neuron modules and the DVS layer by the unit op, and undo it.

    A neuron's stand-in returns what the module returns: its spikes, or (spikes, state) for the
    snnTorch and Norse calls that hand the state back, so the model's own forward runs as it is.
    The state is a second unit (snnTorch's `mem`, a tensor the model may return) or None (Norse's
    state tuples, which a forward only passes on to the next call)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.patched: list[nn.Module] = []

    def __enter__(self) -> NeuronsAsUnits:
        for qual, module in self.model.named_modules():
            found = describe(module)
            if found is not None or is_dvs(module):
                module.forward = self._stand_in(qual, module, found.outputs if found else "spikes",
                                                found.framework if found else "")
                self.patched.append(module)
        return self

    @staticmethod
    def _stand_in(qual: str, module: nn.Module, outputs: str, framework: str) -> Callable[..., Any]:
        def forward(x: torch.Tensor, *_state: Any, **_kw: Any) -> Any:
            shape = list(x.shape)
            weights = getattr(module, "input_weights", None)   # Norse's LILinearCell, recurrent cells
            if isinstance(weights, torch.Tensor) and weights.dim() == 2:
                shape = [*shape[:-1], int(weights.shape[0])]
            if is_dvs(module):
                c, h, w = module.get_output_shape()
                shape = [shape[0], 1 if x.shape[1] == 1 else c, h, w]   # 1 channel: merged polarity
            spikes = _unit(x, qual, shape)
            if outputs == "spikes":
                return spikes
            return spikes, (_unit(x, qual + STATE, shape) if framework == "snntorch" else None)
        return forward

    def __exit__(self, *exc: object) -> None:
        for module in self.patched:
            del module.forward


STATE = "#state"
"""The tag suffix of a neuron's state output (snnTorch's `mem`): the same node as its spikes."""


def export(model: nn.Module, input_shape: tuple[int, int, int]) -> Any:
    """torch.export of the model on one [1, C, H, W] input, in eval mode. A failure is one
    message: the module whose forward failed and torch's one-line reason (the traceback is kept
    on the exception, for --verbose)."""
    import logging
    import traceback

    model.eval()
    example = torch.zeros(1, *input_shape)
    quiet = logging.getLogger("torch")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)     # torch.export logs the whole traceback of a failure
    try:
        with NeuronsAsUnits(model):
            return torch.export.export(model, (example,), strict=False)
    except Exception as exc:
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else ""
        where = _failing_module(model, exc)
        raise ImportFailure(
            f"torch.export could not trace the model{where}: {type(exc).__name__}: {reason}",
            "check that the model runs on one input of --input-shape (batch 1) and computes one "
            "time step per call; --verbose shows torch's traceback",
            trace="".join(traceback.format_exception(exc))) from exc
    finally:
        quiet.setLevel(level)


def _failing_module(model: nn.Module, exc: BaseException) -> str:
    """' in 'name' (Class)': the innermost of the model's modules running when `exc` was raised."""
    names = {id(m): q for q, m in model.named_modules()}
    found = None
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen and found is None:   # torch may re-raise
        seen.add(id(link))
        tb = link.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get("self")
            if id(owner) in names and tb.tb_frame.f_code.co_name == "forward":
                found = owner
            tb = tb.tb_next
        link = link.__cause__ or link.__context__
    if found is None or found is model:
        return ""
    return f" in '{names[id(found)]}' ({type(found).__name__})"


def input_shape_of(model: nn.Module) -> tuple[int, int, int] | None:
    """The input shape a model declares: its DVSLayer's, or an `input_shape` attribute."""
    for module in model.modules():
        if is_dvs(module):
            return tuple(int(n) for n in module.input_shape)  # type: ignore[return-value]
    shape = getattr(model, "input_shape", None)
    if shape is not None and len(shape) == 3:
        return tuple(int(n) for n in shape)  # type: ignore[return-value]
    return None

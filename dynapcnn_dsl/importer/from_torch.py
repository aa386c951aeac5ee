"""A torch module as a model graph: its input shape checked, traced with torch.export
(`torch_trace.py`, neuron modules made units first), and the exported program read call by
call into the graph (`exported_program.py`). Loading a model file and its checkpoint is
`model_file.py`'s.

torch is imported by the modules this one calls, not by this one: `ImportFailure` is cheap to
import for the commands that catch it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from dynapcnn_dsl.diagnostics import CodedError

if TYPE_CHECKING:
    from torch import nn

    from dynapcnn_dsl.importer.graph import ModelGraph


class ImportFailure(CodedError):
    """A model that cannot be traced or read; the message says why, the hint (when the cause
    is known) what to do, `trace` torch's traceback (--verbose)."""

    code = "import-source"
    file = "<model>"

    def __init__(self, message: str, hint: str | None = None, trace: str | None = None) -> None:
        super().__init__(message, hint)
        self.trace = trace


def graph_of(model: nn.Module, *, input_shape: tuple[int, int, int] | None = None,
             dvs: bool = False, source: str = "<model>", file: Path | None = None,
             own_values: Iterable[str] = ()) -> ModelGraph:
    """Trace a module into a model graph (raises ImportFailure with the reason). `own_values`:
    neuron parameters the checkpoint lacked (an ANN's, see model_file.load_weights), written
    out as values so that the next checkpoint of the same training binds as it is."""
    from dynapcnn_dsl.importer.dvs_layer import is_dvs
    from dynapcnn_dsl.importer.exported_program import ExportedProgramReader
    from dynapcnn_dsl.importer.torch_trace import export, input_shape_of

    shape = input_shape or input_shape_of(model)
    if shape is None:
        raise ImportFailure("the model does not say its input shape: give --input-shape C,H,W")
    own = next((tuple(int(n) for n in m.input_shape) for m in model.modules() if is_dvs(m)), None)
    if own is not None and (tuple(shape[1:]) != own[1:] or shape[0] not in (1, 2)):
        raise ImportFailure(f"--input-shape {','.join(map(str, shape))} does not fit the model's "
                            f"DVSLayer, made for {own[1]}x{own[2]} events",
                            f"give --input-shape 2,{own[1]},{own[2]} (or 1,{own[1]},{own[2]} to "
                            "merge the polarities), or leave it out")
    program = export(model, shape)
    has_dvs = any(is_dvs(m) for m in model.modules())
    return ExportedProgramReader(model, program, source, file, dvs or has_dvs, shape,
                                 set(own_values)).run()

"""The torch model beside the chip, recording by recording (`evaluate --model FILE.py:NAME`).

The model is loaded as `compare` loads it (importer/model_file.py's `load_model`: the file's
NAME, nested under the prefix the network's `weights:` use, the network's weights file loaded
into it) and run over each recording binned into frames. Its class is read from the
neuron module after the deciding core's convolution, by the same rule as the chip's: the
feature with the most spikes (class feature + 1 when a readout decides), the lowest on ties,
none without any spike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    """What a worker needs to load the model itself (it is sent, the module is not)."""

    spec: str                        # FILE.py:NAME
    weights: str                     # the network's weights file, loaded into the model
    key: str | None
    names: tuple[str, ...]           # every core's `<weights>.weight`: the prefix the model sits under
    prefix: str                      # the deciding core's `weights:`: its convolution in the model
    shape: tuple[int, int, int]      # the input [C, H, W]
    bin_us: int
    readout: bool


def load(spec: ModelSpec) -> tuple[Any, str]:
    """The model with the network's weights, and the name of the neuron module whose spikes
    decide. Raises ImportFailure (from the importer) with the reason, DslError when the weights
    file cannot be read."""
    from dynapcnn_dsl.importer.from_torch import ImportFailure
    from dynapcnn_dsl.importer.model_file import load_model
    from dynapcnn_dsl.verify.compare import neuron_modules

    model = load_model(spec.spec, spec.weights, key=spec.key, network_names=spec.names).model
    module = neuron_modules(model, spec.shape).get(spec.prefix)
    if module is None:
        raise ImportFailure(f"no neuron module of the model follows '{spec.prefix}'",
                            "the deciding core's convolution must be followed by a spiking layer")
    model.eval()
    return model, module


def model_class(model: Any, module: str, events: np.ndarray, spec: ModelSpec) -> int | None:
    """The model's class for one recording (see the module's docstring)."""
    from dynapcnn_dsl.verify.compare import check_bins, frames_of, run_model

    check_bins(events, spec.bin_us, None)
    outputs, _ = run_model(model, [module], frames_of(events, spec.shape, spec.bin_us))
    counts = outputs[module]
    per_feature = counts.reshape(counts.shape[0], -1).sum(axis=1)
    if not per_feature.size or per_feature.max() <= 0:
        return None
    feature = int(np.argmax(per_feature))
    return feature + 1 if spec.readout else feature

"""Write weights.safetensors for network.yaml: weights constructed, not trained, for the
matching torch model (model.py), so that the network recognises something in the demo's events.

The classes (classes.py): 1, a vertical bar sweeping sideways; 2, a horizontal bar sweeping up
or down (the events of make_events.py). Summed over a whole sweep, both light up every pixel alike: what
tells them apart is the edge seen at each moment, which the stem detects.

- stem: feature 0 detects vertical edges (a column of +2 between two columns of -1, both
  polarities), feature 1 horizontal ones (the same along rows); the other features are off.
  Its bias is a leak on the chip (once per slow-clock tick, the model's once per time step):
  scattered events leak away, an edge crossing the receptive field makes it fire.
- every later core passes features 0 and 1 on unchanged (identity kernels with the weight of
  the threshold: one spike in, one spike out), through the residual blocks and the strided
  block, so that the classifier counts each detector's spikes over the 4 x 4 map;
- classifier: class k sums feature k-1.

Deterministic, no download, no training; runs in about a second:

    python make_weights.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from classes import CLASSES
from model import DvsResNet
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
EDGE = 0.125          # the weight of an event on a side column (the centre weighs twice as much, +)
LEAK = 4 * EDGE       # subtracted per time step: the detector needs a sustained edge to fire
DETECTORS = 2


def passing(conv: torch.nn.Conv2d, taps: list[tuple[int, int]]) -> torch.Tensor:
    """A kernel that passes each detector's feature on to the same feature, at the (ky, kx)
    taps given, with weight 1 (the threshold: one spike in, one spike out)."""
    weight = torch.zeros_like(conv.weight)
    for feature in range(DETECTORS):
        for ky, kx in taps:
            weight[feature, feature, ky, kx] = 1.0
    return weight


def weights(model: DvsResNet) -> dict[str, torch.Tensor]:
    profile = torch.tensor([-EDGE, 2 * EDGE, -EDGE])
    stem = torch.zeros_like(model.stem.weight)            # [out, in, ky, kx]
    stem[0] = profile.view(1, 1, 3)                       # varies along x: vertical edges
    stem[1] = profile.view(1, 3, 1)                       # varies along y: horizontal edges
    bias = torch.zeros_like(model.stem.bias)
    bias[:DETECTORS] = -LEAK
    centre = [(1, 1)]
    out = {"stem.weight": stem, "stem.bias": bias}
    for name in ("block1.a", "block1.b", "down1.b", "block2.a", "block2.b"):
        out[f"{name}.weight"] = passing(model.get_submodule(name), centre)
    # stride 2, padding 1: input pixel 2o lands on tap 1 of output o, pixel 2o + 1 on tap 2
    out["down1.a.weight"] = passing(model.down1.a, [(1, 1), (1, 2), (2, 1), (2, 2)])
    out["down1.proj.weight"] = passing(model.down1.proj, [(0, 0)])
    classifier = torch.zeros_like(model.classifier.weight)
    for k in range(len(CLASSES)):
        classifier[k, k] = 1.0
    out["classifier.weight"] = classifier
    return out


def main() -> None:
    model = DvsResNet(classes=len(CLASSES))
    tensors = weights(model)
    model.load_state_dict(tensors)                        # the shapes the network file promises
    with torch.no_grad():
        assert model(torch.zeros(1, 2, 128, 128)).shape == (1, len(CLASSES))
    save_file({name: t.contiguous() for name, t in tensors.items()}, str(HERE / "weights.safetensors"))
    print(f"wrote weights.safetensors: {len(tensors)} tensors, "
          f"{sum(t.numel() for t in tensors.values())} weights")


if __name__ == "__main__":
    main()

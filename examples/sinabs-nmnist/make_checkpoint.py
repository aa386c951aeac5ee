"""Write nmnist_snn.pth as the quick start's training leaves it: `torch.save(snn.state_dict())`.

The weights are the quick start's own initialisation (`xavier_normal_`) with a fixed seed, not
a trained network; the file has what a trained one has: the convolution and linear weights, each
IAFSqueeze's `spike_threshold` and `min_v_mem`, and its `v_mem` state after a batch of 4 samples
(training runs batches through the network, so the state is saved too). Deterministic:

    python make_checkpoint.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from model import BATCH_SIZE, INPUT_SHAPE, nmnist_snn
from torch import nn

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE / "nmnist_snn.pth"
TIME_STEPS = 2


def make_model() -> nn.Sequential:
    """The model with the checkpoint's tensors: seeded init, then one batch through it."""
    torch.manual_seed(0)
    snn = nmnist_snn()
    for layer in snn.modules():
        if isinstance(layer, nn.Conv2d | nn.Linear):
            nn.init.xavier_normal_(layer.weight.data)
    events = torch.rand(BATCH_SIZE * TIME_STEPS, *INPUT_SHAPE).lt(0.1).float()
    with torch.no_grad():
        out = snn(events)
    assert out.shape == (BATCH_SIZE * TIME_STEPS, 10), out.shape
    return snn


def main() -> None:
    snn = make_model()
    torch.save(snn.state_dict(), CHECKPOINT)
    print(f"wrote {CHECKPOINT.name}: {', '.join(snn.state_dict())}")


if __name__ == "__main__":
    main()

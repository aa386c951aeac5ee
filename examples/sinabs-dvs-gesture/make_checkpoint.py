"""Write gesture_snn.pth as a sinabs user saves the converted network: `torch.save(snn.state_dict())`.

The ANN gets a fixed random initialisation (seed 0; torch's default init for Conv2d and Linear)
in place of the trained dvs_gesture_params.pt; `from_model` then converts it exactly as
gesture_viz.py does, so the file has what the real one has: every layer's weight and every
IAFSqueeze's `spike_threshold`, `min_v_mem` and (empty, the network has not run) `v_mem`.
Deterministic:

    python make_checkpoint.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from model import gesture_snn
from torch import nn

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE / "gesture_snn.pth"


def make_model() -> nn.Sequential:
    torch.manual_seed(0)
    return gesture_snn()


def main() -> None:
    snn = make_model()
    torch.save(snn.state_dict(), CHECKPOINT)
    print(f"wrote {CHECKPOINT.name}: {len(snn.state_dict())} tensors")


if __name__ == "__main__":
    main()

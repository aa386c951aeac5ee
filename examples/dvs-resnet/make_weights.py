"""Write weights.safetensors for network.yaml from the matching torch model (model.py).

The weights are a fixed random initialisation (seed 0), not a trained network: enough to build
and inspect the configuration. Train DvsResNet (e.g. with sinabs) and save its state_dict the
same way to deploy a real one. Runs in about a second:

    python make_weights.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from model import DvsResNet
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent


def main() -> None:
    torch.manual_seed(0)
    model = DvsResNet()
    with torch.no_grad():
        out = model(torch.rand(1, 2, 128, 128).round())
    assert out.shape == (1, 11), out.shape  # the shapes the network file promises
    tensors = {name: t.detach().contiguous() for name, t in model.state_dict().items()}
    save_file(tensors, str(HERE / "weights.safetensors"))
    print(f"wrote weights.safetensors: {len(tensors)} tensors, "
          f"{sum(t.numel() for t in tensors.values())} weights")


if __name__ == "__main__":
    main()

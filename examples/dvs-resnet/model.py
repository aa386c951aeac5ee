"""The torch model that matches network.yaml, module for module.

Module names are the cores' weight prefixes: `stem`, `block1.a`, `block1.b`, `down1.a`,
`down1.proj`, `down1.b`, `block2.a`, `block2.b`, `classifier`, so `model.state_dict()` binds to
the network without any `weights:` entries. `forward` follows the chip: a core's input is the
sum of what its sources send (after their pooling), then convolution, then the neuron (here a
ReLU stands in for the integrate-and-fire neuron that a spiking library such as sinabs adds for
training). The stem has a bias: on the chip it is a leak, added once per slow-clock tick, as
the model adds it once per time step.
"""

from __future__ import annotations

import torch
from torch import nn


class Residual(nn.Module):
    """residual_block: b(a(x) + x)."""

    def __init__(self, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.a = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False)
        self.b = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.b(torch.relu(self.a(x)) + x))


class ResidualDown(nn.Module):
    """residual_block_downsample: b(a(x) + proj(x)), a and proj with stride 2."""

    def __init__(self, channels_in: int, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.a = nn.Conv2d(channels_in, channels, kernel, stride=2, padding=kernel // 2, bias=False)
        self.proj = nn.Conv2d(channels_in, channels, 1, stride=2, bias=False)
        self.b = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.b(torch.relu(self.a(x)) + torch.relu(self.proj(x))))


class DvsResNet(nn.Module):
    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        self.pool_in = nn.AvgPool2d(2, divisor_override=1)       # the DVS layer's sum pooling
        self.stem = nn.Conv2d(2, 8, 3, stride=2, padding=1)
        self.block1 = Residual(8)
        self.down1 = ResidualDown(8, 16)
        self.block2 = Residual(16)
        self.pool_out = nn.AvgPool2d(4, divisor_override=1)      # block2 -> classifier, pool 4
        self.classifier = nn.Conv2d(16, classes, 4, bias=False)

    def forward(self, events: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(self.pool_in(events)))
        x = self.block2(self.down1(self.block1(x)))
        return self.classifier(self.pool_out(x)).flatten(1)

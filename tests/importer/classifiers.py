"""Classifier models for `compare`'s class-first verdict, imported by the tests as
`tests/importer/classifiers.py:NAME` (fixed seeds): heads without a neuron, functional
activations, every polarity mode of a DVS input, and a model that fails at run time."""

from __future__ import annotations

import sinabs.layers as sl
import torch
from torch import nn


def spk() -> nn.Module:
    return sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0)


class LinearHead(nn.Module):
    """Spiking features, then the usual classifier head: a Linear without a neuron."""

    input_shape = (2, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.spk = spk()
        self.pool = nn.AvgPool2d(2)
        self.head = nn.Linear(4 * 4 * 4, 3, bias=False)
        with torch.no_grad():
            self.conv.weight.abs_()                  # every feature active on the random events
            self.head.weight.mul_(2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.spk(self.conv(x))).flatten(1))


class FunctionalRelu(nn.Module):
    """An ANN whose activations are functions called in forward (torch.relu), as
    examples/dvs-resnet's model: no module to hook, so no spike counts per core."""

    input_shape = (2, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(4)
        self.conv = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.head = nn.Conv2d(4, 3, 8, bias=False)
        with torch.no_grad():
            self.conv.weight.abs_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)))           # [T, 3, 1, 1]: 3 classes


class OneChannel(nn.Module):
    """The DVS input of `polarity: on`, `off` or `merge`: one channel."""

    input_shape = (1, 8, 8)

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.conv = nn.Conv2d(channels, 4, 3, padding=1, bias=False)
        self.spk = spk()
        with torch.no_grad():
            self.conv.weight.abs_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spk(self.conv(x))


class TwoChannels(OneChannel):
    """`polarity: both`: a channel per polarity."""

    input_shape = (2, 8, 8)

    def __init__(self) -> None:
        super().__init__(channels=2)


class SensorMerging(OneChannel):
    """Takes the sensor's two polarity channels and sums them, as sinabs's DVSLayer with
    merge_polarities does, for a network with `polarity: merge` (one channel)."""

    input_shape = (2, 8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spk(self.conv(x.sum(1, keepdim=True)))


class FailsOnEvents(FunctionalRelu):
    """Traces (its shapes are right) but raises when it runs on a long recording."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 1:
            raise RuntimeError("this model takes one time step at a time\nsecond line")
        return super().forward(x)

"""snnTorch and Norse models of our own, in the shapes of their public tutorials (snnTorch's
convolutional CSNN, Norse's ConvNet), imported by the tests as `tests/importer/zoo_snn.py:NAME`.
Random weights from fixed seeds, made positive enough that every layer fires on random events."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

snn = norse = None
with contextlib.suppress(ImportError):     # the tests skip what is not installed
    import snntorch as snn
with contextlib.suppress(ImportError):
    import norse.torch as norse


def conv(c_in: int, c_out: int, k: int = 3) -> nn.Conv2d:
    layer = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
    with torch.no_grad():
        layer.weight.uniform_(-0.05, 0.15)    # excitatory on the whole: every layer fires
    return layer


def linear(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out, bias=False)
    with torch.no_grad():
        layer.weight.uniform_(-0.005, 0.012)
    return layer


# -- snnTorch ------------------------------------------------------------------------------------
class SnnTorchIF(nn.Module):
    """The tutorial's Sequential with `init_hidden=True` (one time step per call), its neurons
    integrate-and-fire (beta=1), the max pooling an average one; thresholds and resets varied."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(20)
        self.net = nn.Sequential(
            conv(2, 8), snn.Leaky(beta=1.0, init_hidden=True), nn.AvgPool2d(2),
            conv(8, 8), snn.Leaky(beta=1.0, threshold=2.0, reset_mechanism="zero", init_hidden=True),
            nn.Flatten(), linear(8 * 8 * 8, 10), snn.Leaky(beta=1.0, init_hidden=True, output=True))

    def forward(self, x):
        return self.net(x)


class SnnTorchExplicitState(nn.Module):
    """The tutorial's class form, one time step per call: each Leaky returns (spikes, membrane)
    and keeps its membrane between calls."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(21)
        self.conv1, self.lif1 = conv(2, 8), snn.Leaky(beta=1.0)
        self.conv2, self.lif2 = conv(8, 4), snn.Leaky(beta=1.0, threshold=0.5)

    def forward(self, x):
        spk1, _ = self.lif1(self.conv1(x))
        spk2, mem2 = self.lif2(self.conv2(spk1))
        return spk2, mem2


class SnnTorchTimeLoop(nn.Module):
    """The tutorial's class form as it is: a loop over time steps inside forward, the membranes
    made by init_leaky() before it: every module is called once per step."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.lif1 = conv(2, 8), snn.Leaky(beta=1.0)
        self.conv2, self.lif2 = conv(8, 4), snn.Leaky(beta=1.0)

    def forward(self, x):
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        for _ in range(5):
            spk1, mem1 = self.lif1(self.conv1(x), mem1)
            spk2, mem2 = self.lif2(self.conv2(spk1), mem2)
        return spk2


class SnnTorchTutorialCSNN(nn.Module):
    """The convolutional tutorial's shape as it is: max pooling before leaky neurons (beta 0.5)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 12, 5), nn.MaxPool2d(2), snn.Leaky(beta=0.5, init_hidden=True),
            nn.Conv2d(12, 64, 5), nn.MaxPool2d(2), snn.Leaky(beta=0.5, init_hidden=True),
            nn.Flatten(), nn.Linear(64 * 4 * 4, 10), snn.Leaky(beta=0.5, init_hidden=True, output=True))

    def forward(self, x):
        return self.net(x)


class SnnTorchNoReset(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = conv(2, 4)
        self.lif1 = snn.Leaky(beta=1.0, reset_mechanism="none", init_hidden=True)

    def forward(self, x):
        return self.lif1(self.conv1(x))


# -- Norse ---------------------------------------------------------------------------------------
class NorseIF(nn.Module):
    """Norse's cells with their state handed back (`forward(x, state)`), integrate-and-fire."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(22)
        self.conv1, self.iaf1 = conv(2, 8), norse.IAFCell()
        self.pool = nn.AvgPool2d(2)
        self.conv2, self.iaf2 = conv(8, 8), norse.IAFCell(norse.IAFParameters(v_th=torch.tensor(2.0)))
        self.fc, self.iaf3 = linear(8 * 8 * 8, 10), norse.IAFCell()

    def forward(self, x, state=None):
        s1, s2, s3 = state or (None, None, None)
        z, s1 = self.iaf1(self.conv1(x), s1)
        z, s2 = self.iaf2(self.conv2(self.pool(z)), s2)
        z, s3 = self.iaf3(self.fc(z.flatten(1)), s3)
        return z, (s1, s2, s3)


class NorseConvNet(nn.Module):
    """Norse's ConvNet shape as it is: LIF cells, max pooling, a scaled convolution, a leaky
    integrator readout."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 20, 5, 1), nn.Conv2d(20, 50, 5, 1)
        self.fc1 = nn.Linear(4 * 4 * 50, 500)
        self.lif0, self.lif1, self.lif2 = norse.LIFCell(), norse.LIFCell(), norse.LIFCell()
        self.out = norse.LICell()

    def forward(self, x):
        z, _ = self.lif0(self.conv1(x))
        z = nn.functional.max_pool2d(z, 2, 2)
        z, _ = self.lif1(10 * self.conv2(z))
        z = nn.functional.max_pool2d(z, 2, 2)
        z, _ = self.lif2(self.fc1(z.view(-1, 4 * 4 * 50)))
        v, _ = self.out(nn.functional.relu(z))
        return v


class NorseResetTo(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = conv(2, 4)
        self.iaf1 = norse.IAFCell(norse.IAFParameters(v_reset=torch.tensor(-0.5)))

    def forward(self, x):
        return self.iaf1(self.conv1(x))[0]


def norse_packaged_convnet() -> nn.Module:
    """Norse's own ConvNet (norse.torch.models.conv), as it ships: a time loop in forward."""
    from norse.torch.models.conv import ConvNet

    return ConvNet()

"""Models of our own in the shapes of sinabs's examples and test models, imported by the tests
as `tests/importer/zoo.py:NAME` (random weights, fixed seeds)."""

from __future__ import annotations

import sinabs.activation as sa
import sinabs.layers as sl
import torch
from torch import nn


def spk(**kw) -> nn.Module:
    return sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0, **kw)


def conv(c_in: int, c_out: int, k: int = 3, **kw) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False, **kw)


class DvsGesture(nn.Module):
    """sinabs's DVS gesture shape: the sensor's events sum-pooled (imported with --dvs, the
    pooling goes to the DVS layer), conv/IAF/AvgPool twice, flatten, linear, IAF."""

    input_shape = (2, 32, 32)

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.seq = nn.Sequential(
            sl.SumPool2d(2),
            conv(2, 8), spk(), nn.AvgPool2d(2),
            conv(8, 16), spk(), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(16 * 4 * 4, 11, bias=False), spk(),
        )

    def forward(self, x):
        return self.seq(x)


class SumPoolChain(nn.Module):
    """Sequential with sinabs's SumPool2d, a Dropout and host input (no new language forms)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.seq = nn.Sequential(conv(2, 4), spk(), sl.SumPool2d(2), nn.Dropout(0.1),
                                 conv(4, 8), spk(reset_fn=sa.MembraneReset()))

    def forward(self, x):
        return self.seq(x)


class ResidualPlus(nn.Module):
    """A residual written as `a + b`, then a concatenation via torch.cat."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.c1, self.s1 = conv(2, 4), spk()
        self.c2, self.s2 = conv(4, 4), spk()
        self.c3, self.s3 = conv(4, 4), spk()
        self.c4, self.s4 = conv(8, 6, 1), spk()

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(a))
        c = self.s3(self.c3(a + b))
        return self.s4(self.c4(torch.cat([c, b], dim=1)))


class ResidualMerge(nn.Module):
    """The same residual through sinabs's Merge module, with per-branch pooling."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.c1, self.s1 = conv(2, 4), spk()
        self.c2, self.s2 = conv(4, 4), spk()
        self.merge = sl.Merge()
        self.pool = sl.SumPool2d(2)
        self.c3, self.s3 = conv(4, 4), spk()

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(self.pool(a)))
        return self.s3(self.c3(self.merge(self.pool(a), b)))


class ResidualMergeAsPlus(ResidualMerge):
    """ResidualMerge's modules and weights, its sum written as `+` (which sinabs cannot see)."""

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(self.pool(a)))
        return self.s3(self.c3(self.pool(a) + b))


class PerBranchPool(nn.Module):
    """One neuron read twice with different poolings: by c2 pooled 2, by c3 pooled 4.

    (sinabs 3.1.3 fails on a neuron read both pooled and unpooled: an IndexError in its
    set_pooling_layer_destination, on the unpooled destination's empty pooling list.)"""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(8)
        self.c1, self.s1 = conv(2, 4), spk()
        self.c2, self.s2 = conv(4, 4), spk()
        self.pool2, self.pool4, self.pool_b = sl.SumPool2d(2), sl.SumPool2d(4), sl.SumPool2d(2)
        self.merge = sl.Merge()
        self.c3, self.s3 = conv(4, 4), spk()

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(self.pool2(a)))
        return self.s3(self.c3(self.merge(self.pool4(a), self.pool_b(b))))


class FanIn3(nn.Module):
    """Three sources summed into one core."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(4)
        self.c1, self.s1 = conv(2, 4), spk()
        self.c2, self.s2 = conv(4, 4), spk()
        self.c3, self.s3 = conv(4, 4), spk()
        self.c4, self.s4 = conv(4, 4), spk()
        self.c5, self.s5 = conv(4, 4), spk()

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(a))
        c = self.s3(self.c3(a))
        d = self.s4(self.c4(b))
        return self.s5(self.c5(b + c + d))


class FanIn3Merge(FanIn3):
    """FanIn3's modules and weights, its sum through two sinabs Merges."""

    def __init__(self) -> None:
        super().__init__()
        self.merge1, self.merge2 = sl.Merge(), sl.Merge()

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(a))
        c = self.s3(self.c3(a))
        d = self.s4(self.c4(b))
        return self.s5(self.c5(self.merge2(self.merge1(b, c), d)))


class Block(nn.Module):
    """A residual block with its own names, nested twice."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1, self.spk1 = conv(channels, channels), spk()
        self.conv2, self.spk2 = conv(channels, channels), spk()

    def forward(self, x):
        return self.spk2(self.conv2(self.spk1(self.conv1(x)) + x))


class Nested(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.stem = nn.Sequential(conv(2, 4), spk())
        self.layers = nn.Sequential(Block(4), Block(4))

    def forward(self, x):
        return self.layers(self.stem(x))


class NestedFlat(nn.Module):
    """Nested's modules and weights (made in the same order from the same seed) as one flat
    module summing through Merge: sinabs 3.1.3's graph extractor refuses the nested form
    ("Node 9 has more than 1 input": it does not follow a Merge inside a block inside a
    Sequential)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.stem, self.stem_spk = conv(2, 4), spk()
        self.a1, self.as1, self.a2, self.as2 = conv(4, 4), spk(), conv(4, 4), spk()
        self.b1, self.bs1, self.b2, self.bs2 = conv(4, 4), spk(), conv(4, 4), spk()
        self.merge_a, self.merge_b = sl.Merge(), sl.Merge()

    def forward(self, x):
        x = self.stem_spk(self.stem(x))
        x = self.as2(self.a2(self.merge_a(self.as1(self.a1(x)), x)))
        return self.bs2(self.b2(self.merge_b(self.bs1(self.b1(x)), x)))


class Ann(nn.Module):
    """An ANN to convert: ReLU as the neurons, average pooling, a Linear at the end."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(6)
        self.features = nn.Sequential(conv(1, 4), nn.ReLU(), nn.AvgPool2d(2),
                                      conv(4, 8), nn.ReLU(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(8 * 4 * 4, 10, bias=False))

    def forward(self, x):
        return self.classifier(self.features(x))


class WithBatchNorm(nn.Module):
    """BatchNorm after each convolution (running statistics made non-trivial)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(7)
        self.seq = nn.Sequential(conv(2, 4), nn.BatchNorm2d(4), spk(),
                                 conv(4, 4), nn.BatchNorm2d(4), spk())
        for m in self.seq:
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)

    def forward(self, x):
        return self.seq(x)


class BatchNormMatters(WithBatchNorm):
    """WithBatchNorm with per-channel scales as training leaves them (0.2x to 3x): leaving the
    BatchNorm out changes each channel's rate differently."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(10)
        for m in self.seq:
            if isinstance(m, nn.BatchNorm2d):
                with torch.no_grad():
                    m.weight.copy_(torch.tensor([0.2, 3.0, 0.5, 2.0]))


# -- the shapes users met (issue 18) --------------------------------------------------------
class SumOfFlattened(nn.Module):
    """sinabs's non-sequential test shape: two branches, each flattened, summed by Merge, then a
    Linear (whose kernel is the flattened map's size)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(11)
        self.c1, self.s1 = conv(2, 4), spk()
        self.c2, self.s2 = conv(4, 4), spk()
        self.c3, self.s3 = conv(4, 4), spk()
        self.pool = sl.SumPool2d(2)
        self.flat1, self.flat2 = nn.Flatten(), nn.Flatten()
        self.merge = sl.Merge()
        self.fc, self.sfc = nn.Linear(4 * 4 * 4, 10, bias=False), spk()

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(self.pool(a)))
        c = self.s3(self.c3(self.pool(a)))
        return self.sfc(self.fc(self.merge(self.flat1(b), self.flat2(c))))


class FlattenAfterSum(SumOfFlattened):
    """The same sum written as `+` of the maps, flattened once after it."""

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.c2(self.pool(a)))
        c = self.s3(self.c3(self.pool(a)))
        return self.sfc(self.fc(self.flat1(b + c)))


class BatchNorm1dHead(nn.Module):
    """sinabs's multi-BatchNorm example's shape: BatchNorm2d after a conv, BatchNorm1d after the
    Linear (eps 0, as sinabs's merge_bn folds)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(12)
        self.seq = nn.Sequential(conv(2, 4), nn.BatchNorm2d(4, eps=0.0), spk(), sl.SumPool2d(2),
                                 nn.Flatten(), nn.Linear(4 * 4 * 4, 10, bias=False),
                                 nn.BatchNorm1d(10, eps=0.0), spk())
        for m in self.seq:
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
        self.eval()

    def forward(self, x):
        return self.seq(x)


class SharedConv(nn.Module):
    """One convolution called on two paths (its weights shared)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(13)
        self.c1, self.s1 = conv(2, 4), spk()
        self.shared, self.s2, self.s3 = conv(4, 4), spk(), spk()
        self.c4, self.s4 = conv(4, 4), spk()

    def forward(self, x):
        a = self.s1(self.c1(x))
        b = self.s2(self.shared(a))
        c = self.s3(self.shared(b))
        return self.s4(self.c4(c))


class SharedTooOften(nn.Module):
    """One block applied ten times: more cores than the chip has."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.s1 = conv(2, 4), spk()
        self.block, self.sb = conv(4, 4), spk()

    def forward(self, x):
        x = self.s1(self.c1(x))
        for _ in range(10):
            x = self.sb(self.block(x))
        return x


class FailsToTrace(nn.Module):
    """A forward that reshapes to a size the input does not have."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.s1 = conv(2, 4), spk()
        self.inner = Reshapes()

    def forward(self, x):
        return self.s1(self.c1(self.inner(x)))


class Reshapes(nn.Module):
    def forward(self, x):
        return x.reshape(1, 3, 5, -1)


def converted_ann() -> nn.Module:
    """The usual sinabs workflow: an ANN converted by from_model (its ReLUs now IAFSqueeze
    layers holding spike_threshold and min_v_mem, which the ANN's checkpoint lacks)."""
    import sinabs

    return sinabs.from_model(Ann(), input_shape=(1, 16, 16), batch_size=1).spiking_model


# -- what the chip cannot do ---------------------------------------------------------------
class Refused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wide = nn.Conv2d(2, 4, (3, 1), bias=False)
        self.pool = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(4, 4, 3, bias=False, dilation=2)
        self.s2 = spk()
        self.c3 = nn.Conv2d(4, 4, 1, bias=False, groups=2)
        self.s3 = sl.LIFSqueeze(tau_mem=10.0, batch_size=1)

    def forward(self, x):
        y = self.pool(self.wide(x))
        return self.s3(self.c3(self.s2(self.c2(y))))


class SumAtTheEnd(nn.Module):
    """A sum of spikes that no convolution reads, and a core read by three."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.s1 = conv(2, 4), spk()
        self.c2, self.s2 = conv(4, 4), spk()
        self.c3, self.s3 = conv(4, 4), spk()
        self.c4, self.s4 = conv(4, 4), spk()

    def forward(self, x):
        a = self.s1(self.c1(x))
        return self.s2(self.c2(a)) + self.s3(self.c3(a)) + self.s4(self.c4(a))


def make_residual() -> nn.Module:
    """A function returning a module is a source too."""
    return ResidualPlus()


def dynapcnn_network() -> nn.Module:
    """sinabs's DynapcnnNetwork of DvsGesture, mapped to cores by its make_config (the backend
    imports samna: the tests run this under their samna stand-in)."""
    import contextlib
    import io

    from sinabs.backend.dynapcnn import DynapcnnNetwork

    net = DynapcnnNetwork(DvsGesture().seq, input_shape=(2, 32, 32), dvs_input=True)
    with contextlib.redirect_stdout(io.StringIO()):       # "Network is valid"
        net.make_config(device="speck2fmodule")
    return net


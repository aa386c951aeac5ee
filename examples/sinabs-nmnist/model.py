"""sinabs's N-MNIST quick start, the network it trains with BPTT and deploys on a Speck dev kit.

Shape source: sinabs's documentation, docs/speck/notebooks/nmnist_quick_start.ipynb, section
"Train SNN with BPTT" (`snn_bptt`): a `nn.Sequential` of three `Conv2d(bias=False)`, each followed
by `sl.IAFSqueeze(batch_size=4, min_v_mem=-1.0)`, an `nn.AvgPool2d(2, 2)` after the first two,
then `Flatten`, `Linear(16 * 4 * 4, 10, bias=False)` and a last `IAFSqueeze`. Input: N-MNIST's
[2, 34, 34] events sent from the host (`DynapcnnNetwork(input_shape=(2, 34, 34),
dvs_input=False)`).

The Sequential numbers its modules, so its state_dict names are `0.weight`, `1.spike_threshold`,
`1.min_v_mem`, `1.v_mem`, `3.weight`, ... (`v_mem` is the neuron state, saved too).
"""

from __future__ import annotations

import sinabs.layers as sl
from sinabs.activation.surrogate_gradient_fn import PeriodicExponential
from torch import nn

INPUT_SHAPE = (2, 34, 34)
BATCH_SIZE = 4


def iaf() -> sl.IAFSqueeze:
    return sl.IAFSqueeze(batch_size=BATCH_SIZE, min_v_mem=-1.0, surrogate_grad_fn=PeriodicExponential())


def nmnist_snn() -> nn.Sequential:
    """`snn_bptt` of the quick start, layer for layer."""
    return nn.Sequential(
        # [2, 34, 34] -> [8, 17, 17]
        nn.Conv2d(2, 8, kernel_size=(3, 3), padding=(1, 1), bias=False),
        iaf(),
        nn.AvgPool2d(2, 2),
        # [8, 17, 17] -> [16, 8, 8]
        nn.Conv2d(8, 16, kernel_size=(3, 3), padding=(1, 1), bias=False),
        iaf(),
        nn.AvgPool2d(2, 2),
        # [16, 8, 8] -> [16, 4, 4]
        nn.Conv2d(16, 16, kernel_size=(3, 3), padding=(1, 1), stride=(2, 2), bias=False),
        iaf(),
        # [16 * 4 * 4] -> [10]
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 10, bias=False),
        iaf(),
    )

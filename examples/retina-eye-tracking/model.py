"""Retina, an eye-tracking SNN for Speck trained with PyTorch Lightning (Bonazzi et al., "Retina:
Low-Power Eye Tracking with Event Camera and Spiking Hardware", CVPR 2024 workshops).

Shape source: the authors' training code (pbonazzi's retina repository,
training/models/spiking/retina.py and helper.py, `config_retina_snn_for_64x64`): a `Retina`
module whose `self.seq` is an `nn.Sequential` built from a layer list, for a [C, 64, 64] input:

- a `DecimationLayer` (its own `conv`, a fixed 1x1 identity Conv2d, and `spk`, an IAFSqueeze
  whose spike_threshold is the decimation rate): it passes one event in `rate`;
- six `Conv2d(bias=False)`, each followed by `BatchNorm2d` and an `IAFSqueeze(spike_threshold=1,
  min_v_mem=-1.0)`: 16 features (5x5, stride 2, padding 1), 64, 16, 16, 8, 16 (3x3, padding 1),
  a sinabs `SumPool2d(2, 2)` after each of the first three;
- `Flatten`, `Linear(144, 128)`, IAFSqueeze, `Linear(128, 2)` (the pupil's x and y without the
  YOLO head), IAFSqueeze; both Linears without bias.

The Lightning module holds it as `self.model`, so the checkpoint's `state_dict` names are
`model.seq.0.conv.weight`, `model.seq.0.spk.spike_threshold`, `model.seq.1.weight`,
`model.seq.2.running_mean`, ... The source writes `spike_threshold: 1` as an int, so those
thresholds are saved as int64 tensors.

Input: the sensor's events, both polarities, in a 64x64 window (`input_channel` 2 here;
the dataset merges polarities when it is 1).
"""

from __future__ import annotations

import sinabs.activation as sina
import sinabs.layers as sl
import torch
from torch import nn

INPUT_SHAPE = (2, 64, 64)
BATCH_SIZE = 2
DECIMATION_RATE = 4
OUTPUT_DIM = 2


def iaf(threshold: float = 1) -> sl.IAFSqueeze:
    """The source's IAF layer (MultiSpike, subtract reset, PeriodicExponential surrogate)."""
    return sl.IAFSqueeze(batch_size=BATCH_SIZE, spike_fn=sina.MultiSpike,
                         surrogate_grad_fn=sina.PeriodicExponential(), reset_fn=sina.MembraneSubtract(),
                         tau_syn=None, spike_threshold=threshold, record_states=True, min_v_mem=-1.0)


class DecimationLayer(nn.Module):
    """One event out for every `rate` in: a fixed identity 1x1 convolution into an IAF."""

    def __init__(self, channels: int, rate: float) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=1, bias=False)
        self.spk = sl.IAFSqueeze(batch_size=BATCH_SIZE, min_v_mem=-1.0, spike_threshold=rate)
        self.conv.requires_grad_(False)
        self.conv.weight.data = torch.eye(channels).unsqueeze(-1).unsqueeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spk(self.conv(x))


def conv_bn_iaf(c_in: int, c_out: int, kernel: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
            iaf()]


class Retina(nn.Module):
    """`config_retina_snn_for_64x64`, module for module (the indices are those of `seq`)."""

    def __init__(self) -> None:
        super().__init__()
        channels = INPUT_SHAPE[0]
        self.seq = nn.Sequential(
            DecimationLayer(channels, DECIMATION_RATE),              # 0
            *conv_bn_iaf(channels, 16, 5, 2), sl.SumPool2d(2, 2),    # 1-3, 4: 64 -> 31 -> 15
            *conv_bn_iaf(16, 64, 3, 1), sl.SumPool2d(2, 2),          # 5-7, 8: 15 -> 7
            *conv_bn_iaf(64, 16, 3, 1), sl.SumPool2d(2, 2),          # 9-11, 12: 7 -> 3
            *conv_bn_iaf(16, 16, 3, 1),                              # 13-15
            *conv_bn_iaf(16, 8, 3, 1),                               # 16-18
            *conv_bn_iaf(8, 16, 3, 1),                               # 19-21
            nn.Flatten(),                                            # 22
            nn.Linear(16 * 3 * 3, 128, bias=False), iaf(),           # 23, 24
            nn.Linear(128, OUTPUT_DIM, bias=False), iaf(),           # 25, 26
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


class EyeTrackingModule(nn.Module):
    """What the Lightning module adds to the names: it holds the network as `self.model`
    (a LightningModule's state_dict is its nn.Module state_dict)."""

    def __init__(self) -> None:
        super().__init__()
        self.model = Retina()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

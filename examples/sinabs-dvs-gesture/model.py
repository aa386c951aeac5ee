"""sinabs's DVS-gesture example: the network its gesture visualizer deploys on a Speck 2f module.

Shape source: sinabs's repository, examples/visualizer/gesture_viz.py (and the same network in
examples/dynapcnn_visualizer/): an `nn.Sequential` ANN on the sensor's [2, 128, 128] events,
`Conv2d(2, 16, kernel_size=2, stride=2)`, then five `Conv2d(kernel_size=3, padding=1)` each
followed by `nn.AvgPool2d(2, 2)` (16, 32, 32, 64, 64 features), `Dropout2d(0.5)`,
`Conv2d(64, 256, kernel_size=2)`, `Dropout2d(0.5)`, `Flatten`, `Linear(256, 128)`,
`Linear(128, 11)`, every layer without bias and followed by a ReLU. sinabs converts it with
`from_model(ann, add_spiking_output=True, batch_size=1)`: every ReLU becomes an `IAFSqueeze`
(spike_threshold 1.0, min_v_mem -1.0) at the same index, and one more `IAFSqueeze` is appended
after the last Linear. It is deployed with `DynapcnnNetwork(snn, dvs_input=True,
input_shape=(2, 128, 128), discretize=True)`.

The spiking model's state_dict names: `0.weight`, `1.spike_threshold`, `1.min_v_mem`, `1.v_mem`,
`2.weight`, ..., `24.weight`, and `spike_output.*` for the added output layer. `v_mem` is the
neuron state: empty until the model has run.
"""

from __future__ import annotations

from sinabs.from_torch import from_model
from torch import nn

INPUT_SHAPE = (2, 128, 128)


def gesture_ann() -> nn.Sequential:
    """The ANN of gesture_viz.py, layer for layer (the comments are its cores)."""
    return nn.Sequential(
        nn.Conv2d(2, 16, kernel_size=2, stride=2, bias=False),
        nn.ReLU(),
        # core 1
        nn.Conv2d(16, 16, kernel_size=3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        # core 2
        nn.Conv2d(16, 32, kernel_size=3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        # core 7
        nn.Conv2d(32, 32, kernel_size=3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        # core 4
        nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        # core 5
        nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        # core 6
        nn.Dropout2d(0.5),
        nn.Conv2d(64, 256, kernel_size=2, bias=False),
        nn.ReLU(),
        # core 3
        nn.Dropout2d(0.5),
        nn.Flatten(),
        nn.Linear(256, 128, bias=False),
        nn.ReLU(),
        # core 8
        nn.Linear(128, 11, bias=False),
    )


def gesture_snn() -> nn.Sequential:
    """The spiking model sinabs makes of it, as gesture_viz.py converts it."""
    return from_model(gesture_ann(), add_spiking_output=True, batch_size=1).spiking_model

"""Name the class the simulated chip picked (the last step of `make demo`):

    python name_class.py simulation.npz

reads the readout that `dynapcnn-dsl simulate ... -o simulation.npz` wrote, takes the run's class
by the simulator's own rule (dynapcnn_dsl.simulator.prediction: the class that won the most
slow-clock ticks) and says what that class means for this network (classes.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from classes import CLASSES  # this folder's (python puts a script's folder on the path)

from dynapcnn_dsl.simulator.prediction import readout_winner


def main(path: str) -> int:
    with np.load(path) as npz:
        winner = readout_winner(npz["readout"])
    if winner is None:
        print("the chip picked no class: no event reached the readout")
        return 1
    print(f"the chip picked class {winner}: {CLASSES[winner - 1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("simulation.npz"))))

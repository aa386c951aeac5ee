"""What each readout class of this network means (class 1 first): shared by make_weights.py,
which constructs the weights that recognise them, and name_class.py, which names the chip's pick
(without torch)."""

CLASSES = ("a vertical bar sweeping sideways", "a horizontal bar sweeping up or down")

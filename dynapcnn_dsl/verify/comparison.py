"""What `compare` found, as plain immutable values: the classes each side picks (per time window
and over the recording), then the verdict per core. report/comparison.py prints them."""

from __future__ import annotations

from dataclasses import dataclass

FEW_SPIKES = 20
"""Below this on both sides the counts say nothing (a core's, or a classifier's outputs)."""


@dataclass(frozen=True)
class CoreComparison:
    core: str
    module: str | None            # the model's neuron module for this core
    chip_spikes: int
    model_spikes: int
    correlation: float | None     # None when neither side varies
    agrees: bool
    why: str                      # what is off, or "" when the core agrees
    skipped: str = ""             # why the core is not compared spike for spike ("" when it is)


@dataclass(frozen=True)
class WindowClass:
    """The class each side picks over one time window [start_us, end_us)."""

    start_us: int
    end_us: int
    chip: int | None              # None: the chip's head emitted nothing in the window
    model: int | None             # None: the model's outputs do not single out a class

    @property
    def agrees(self) -> bool:
        return self.chip == self.model


@dataclass(frozen=True)
class ClassComparison:
    """Chip and model as classifiers: the chip's head core (the readout's source) against the
    model's output. Classes are numbered as the readout numbers them (from 1), or as the head
    core's features (from 0) in a network without readout."""

    head: str
    first: int                    # 1 with a readout, 0 otherwise
    windows: tuple[WindowClass, ...]
    chip: int | None              # over the whole recording (simulator/prediction.py's rule)
    model: int | None
    chip_spikes: int = 0          # the head's output spikes over the recording
    model_spikes: float | None = None  # the model's output summed, when it counts spikes (else None)

    @property
    def conclusive(self) -> bool:
        """False when both sides emit fewer than FEW_SPIKES output spikes over the recording:
        too few to tell a class (as a core with few spikes is not judged either)."""
        return not (self.chip_spikes < FEW_SPIKES and self.model_spikes is not None
                    and self.model_spikes < FEW_SPIKES)

    @property
    def agrees(self) -> bool:
        return self.chip == self.model or not self.conclusive


@dataclass(frozen=True)
class Comparison:
    cores: tuple[CoreComparison, ...]
    events: int
    bins: int
    bin_us: int
    classes: ClassComparison | None = None
    off_sensor: int = 0           # events a sensor placement left off the sensor
    classes_skipped: str = ""     # why chip and model are not compared as classifiers

    @property
    def agrees(self) -> bool:
        return (self.classes is None or self.classes.agrees) and all(c.agrees for c in self.cores)

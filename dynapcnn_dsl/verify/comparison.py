"""What `compare` found, as plain immutable values, and how it is printed: the classes each
side picks (per time window and over the recording), then the verdict per core."""

from __future__ import annotations

from dataclasses import dataclass

SHOWN_WINDOWS = 20
"""Windows printed in the table (all are in the values)."""
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

    def lines(self) -> list[str]:
        def name(c: int | None) -> str:
            return "-" if c is None else str(c)

        rows = [("window (ms)", "chip", "model", "")]
        shown = self.windows if len(self.windows) <= SHOWN_WINDOWS else self.windows[:SHOWN_WINDOWS]
        for w in shown:
            rows.append((f"{w.start_us / 1000:g}-{w.end_us / 1000:g}", name(w.chip), name(w.model),
                         "agrees" if w.agrees else "differs"))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        out = [f"class per time window ({'readout classes from 1' if self.first else 'features of'} "
               f"{self.head}{'' if self.first else ', from 0'}; '-' is no class):"]
        out += ["  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
        if len(self.windows) > SHOWN_WINDOWS:
            out.append(f"  ... {len(self.windows) - SHOWN_WINDOWS} more windows")
        same = sum(w.agrees for w in self.windows)
        verdict = ("agree" if self.chip == self.model else "DIFFER" if self.conclusive else
                   f"too few output spikes to tell ({self.chip_spikes} on the chip, "
                   f"{self.model_spikes:g} in the model)")
        out.append(f"whole recording: the chip picks class {name(self.chip)}, the model class "
                   f"{name(self.model)}: {verdict} ({same} of {len(self.windows)} windows agree)")
        return out


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

    def table(self) -> str:
        out = []
        if self.classes is not None:
            out += [*self.classes.lines(), ""]
        elif self.classes_skipped:
            out += [f"classes not compared: {self.classes_skipped}", ""]
        rows = [("core", "module", "chip spikes", "model spikes", "correlation", "verdict")]
        for c in self.cores:
            corr = "-" if c.correlation is None else f"{c.correlation:.3f}"
            verdict = (f"skipped: {c.skipped}" if c.skipped else
                       "agrees" if c.agrees else f"DIFFERS: {c.why}")
            rows.append((c.core, c.module or "-", str(c.chip_spikes),
                         "-" if c.skipped else str(c.model_spikes), corr, verdict))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        out += ["  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5] for r in rows]
        differing = sum(not c.agrees for c in self.cores)
        judged = sum(not c.skipped for c in self.cores)
        if self.agrees:
            parts = ["the chip classifies as the model does"] if self.classes is not None else []
            if judged == len(self.cores):
                parts.append("every core agrees with its spiking counterpart" if parts
                             else "the chip agrees with the model")
            elif judged:
                parts.append(f"the {judged} core(s) with a spiking counterpart agree")
            else:
                parts.append("no core has a spiking counterpart to compare spike for spike")
            verdict = "; ".join(parts)
        elif differing:
            verdict = (f"the chip differs from the model on {differing} core(s): check their "
                       "`average`, `batchnorm`, `from:` order and weights")
        else:
            verdict = "the chip and the model pick different classes"
        placed = f" ({self.off_sensor} off the sensor)" if self.off_sensor else ""
        out.append(f"{self.events} events{placed} in {self.bins} bins of {self.bin_us} us: {verdict}")
        return "\n".join(out) + "\n"

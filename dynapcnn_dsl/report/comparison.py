"""What `compare` prints: the class each side picks per time window (the first SHOWN_WINDOWS of
them) and over the recording, then per core the spike counts of chip and model, their
correlation and a verdict, and the run's verdict.

The value printed is the importer's Comparison (a later phase than this package, so it is named
here, not imported: only its fields are read)."""

from __future__ import annotations

from typing import Any, TextIO

SHOWN_WINDOWS = 20
"""Windows printed in the table (all are in the values)."""


def as_text(comparison: Any, out: TextIO) -> None:
    out.write(comparison_text(comparison))


def class_lines(classes: Any) -> list[str]:
    """The windows' table and the verdict over the recording, for a ClassComparison."""
    def name(c: int | None) -> str:
        return "-" if c is None else str(c)

    rows = [("window (ms)", "chip", "model", "")]
    windows = classes.windows
    shown = windows if len(windows) <= SHOWN_WINDOWS else windows[:SHOWN_WINDOWS]
    for w in shown:
        rows.append((f"{w.start_us / 1000:g}-{w.end_us / 1000:g}", name(w.chip), name(w.model),
                     "agrees" if w.agrees else "differs"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = [f"class per time window ({'readout classes from 1' if classes.first else 'features of'} "
           f"{classes.head}{'' if classes.first else ', from 0'}; '-' is no class):"]
    out += ["  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    if len(windows) > SHOWN_WINDOWS:
        out.append(f"  ... {len(windows) - SHOWN_WINDOWS} more windows")
    same = sum(w.agrees for w in windows)
    verdict = ("agree" if classes.chip == classes.model else "DIFFER" if classes.conclusive else
               f"too few output spikes to tell ({classes.chip_spikes} on the chip, "
               f"{classes.model_spikes:g} in the model)")
    out.append(f"whole recording: the chip picks class {name(classes.chip)}, the model class "
               f"{name(classes.model)}: {verdict} ({same} of {len(windows)} windows agree)")
    return out


def comparison_text(comparison: Any) -> str:
    """The whole report of a Comparison, as `compare` prints it."""
    c = comparison
    out = []
    if c.classes is not None:
        out += [*class_lines(c.classes), ""]
    elif c.classes_skipped:
        out += [f"classes not compared: {c.classes_skipped}", ""]
    rows = [("core", "module", "chip spikes", "model spikes", "correlation", "verdict")]
    for core in c.cores:
        corr = "-" if core.correlation is None else f"{core.correlation:.3f}"
        verdict = (f"skipped: {core.skipped}" if core.skipped else
                   "agrees" if core.agrees else f"DIFFERS: {core.why}")
        rows.append((core.core, core.module or "-", str(core.chip_spikes),
                     "-" if core.skipped else str(core.model_spikes), corr, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out += ["  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5] for r in rows]
    differing = sum(not core.agrees for core in c.cores)
    judged = sum(not core.skipped for core in c.cores)
    if c.agrees:
        parts = ["the chip classifies as the model does"] if c.classes is not None else []
        if judged == len(c.cores):
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
    placed = f" ({c.off_sensor} off the sensor)" if c.off_sensor else ""
    out.append(f"{c.events} events{placed} in {c.bins} bins of {c.bin_us} us: {verdict}")
    return "\n".join(out) + "\n"

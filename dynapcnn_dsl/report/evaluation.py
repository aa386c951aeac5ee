"""What `evaluate` prints: the accuracy (and with --model the model's, and how often chip and
model agree), the confusion matrix, the recordings without output and the ones that failed,
per-core spike rates and the throughput; or the same facts in the JSON envelope.

The value printed is an `evaluation.result.Evaluation` (a later phase than this package, so it
is named here, not imported: only its fields and figures are read)."""

from __future__ import annotations

from typing import Any, TextIO

from dynapcnn_dsl.report.terminal import console


def evaluation_data(e: Any) -> dict[str, Any]:
    """The evaluation as JSON-ready data (`evaluate --format json`, under `evaluation`)."""
    mean_max = e.rates()
    per_s, events_s = e.throughput()
    return {
        "recordings": len(e.rows), "ran": len(e.ran), "correct": e.correct,
        "accuracy": e.accuracy, "labels": list(e.labels),
        **({"model_accuracy": e.model_accuracy, "agreement": e.agreement} if e.model else {}),
        "confusion": e.confusion.tolist(), "without_output": list(e.without_output),
        "failed": [{"file": r.file, "reason": r.error} for r in e.failed],
        "spike_rates_hz": {c: {"mean": m, "max": x} for c, (m, x) in mean_max.items()},
        "recordings_per_s": per_s, "events_per_s": events_s, "seconds": e.wall_seconds,
    }


def as_json(e: Any, out: TextIO, *, file: str, **_: object) -> None:
    """`file`: the configuration (or network) evaluated, the envelope's entry."""
    from dynapcnn_dsl import render

    render.write_envelope(out, [render.entry(file, True, [], evaluation=evaluation_data(e))])


def as_text(e: Any, out: TextIO, *, results: str | None = None, **_: object) -> None:
    """`results`: the CSV the rows went to, if any."""
    from rich.table import Table

    c = console(out)
    accuracy = "n/a" if e.accuracy is None else f"{100 * e.accuracy:.2f}%"
    c.print(f"{len(e.rows)} recordings, {len(e.ran)} run: accuracy {accuracy} ({e.correct} of {len(e.ran)})")
    c.print("confusion (rows: label, columns: prediction)")
    if e.model:
        model = "n/a" if e.model_accuracy is None else f"{100 * e.model_accuracy:.2f}%"
        agree = "n/a" if e.agreement is None else f"{100 * e.agreement:.2f}%"
        c.print(f"model accuracy {model}; chip and model agree on {agree} of the recordings")
    matrix = Table()
    matrix.add_column("label")
    for label in e.columns:
        matrix.add_column(label, justify="right")
    for label, counts in zip(e.labels, e.confusion, strict=True):
        matrix.add_row(label, *(str(int(n)) for n in counts))
    c.print(matrix)
    if e.without_output:
        shown = ", ".join(e.without_output[:10]) + (" ..." if len(e.without_output) > 10 else "")
        c.print(f"{len(e.without_output)} recordings without any output spike: {shown}")
    for row in e.failed:
        c.print(f"failed: {row.file}: {row.error}")
    c.print("spike rates per recording (Hz)")
    rates = Table()
    for column in ("core", "mean", "max"):
        rates.add_column(column, justify="left" if column == "core" else "right")
    for core, (mean, most) in e.rates().items():
        rates.add_row(core, f"{mean:,.1f}", f"{most:,.1f}")
    c.print(rates)
    per_s, events_s = e.throughput()
    c.print(f"throughput: {per_s:,.2f} recordings/s, {events_s:,.0f} events/s ({e.wall_seconds:.2f} s)")
    if results:
        c.print(f"wrote {results} ({len(e.rows)} rows)")

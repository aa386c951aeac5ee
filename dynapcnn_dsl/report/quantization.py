"""The quantization report: per core, the scale, what set it, and what rounding cost.

What rounding cost is said by two figures a user can judge: the signal-to-quantization-noise
ratio of the core's weights (SQNR, in dB: how far below the weights the rounding noise lies) and
the share of weights that round to 0. A note follows the table only for a core really at risk:
an SQNR below RISK_SQNR_DB, or more than RISK_ZEROED of its weights erased.
"""

from __future__ import annotations

from typing import Any

from dynapcnn_dsl.weights.quantize import QuantizedNetwork

RISK_SQNR_DB = 20.0
"""Below this the rounding noise is more than a tenth of the weights' amplitude."""
RISK_ZEROED = 0.25


def quantization_data(bound: QuantizedNetwork) -> list[dict[str, Any]]:
    return [
        {
            "core": c.name, "index": c.index, "weights": c.weight_key,
            "scale": c.report.scale, "limited_by": c.report.limited_by,
            "sqnr_db": c.report.sqnr_db,
            "worst_relative_error": c.report.worst_relative_error,
            "zeroed": c.report.zeroed, "saturated": c.report.saturated, "entries": c.report.entries,
            "threshold_high": c.threshold_high, "threshold_low": c.threshold_low,
            "initial_state": c.initial_state,
            "weight_range": [int(c.weights.min()), int(c.weights.max())] if c.weights.size else [0, 0],
            "reshaped_from": list(c.reshaped_from) if c.reshaped_from else None,
        }
        for c in bound.cores
    ]


def at_risk(row: dict[str, Any]) -> str | None:
    """Why a core's quantization deserves a look, or None."""
    reasons = []
    if row["sqnr_db"] is not None and row["sqnr_db"] < RISK_SQNR_DB:
        reasons.append(f"its rounding noise is only {row['sqnr_db']:.1f} dB below its weights")
    if row["entries"] and row["zeroed"] / row["entries"] > RISK_ZEROED:
        reasons.append(f"{100 * row['zeroed'] / row['entries']:.0f}% of its weights round to 0")
    if not reasons:
        return None
    return (f"core '{row['core']}': {' and '.join(reasons)} (scale set by its {row['limited_by']}); "
            "a few large values may be setting the scale: clip them, or train with the chip's 8 bits in mind")


def print_quantization(bound: QuantizedNetwork, console: Any) -> None:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, header_style="bold",
                  title=f"quantization of {bound.weights_file}", title_justify="left")
    for column, justify in (("core", "left"), ("#", "right"), ("scale", "right"),
                            ("set by", "left"), ("weights", "right"), ("zeroed", "right"),
                            ("SQNR", "right"), ("threshold", "right"), ("low", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    rows = quantization_data(bound)
    for row in rows:
        zeroed = f"{row['zeroed']} ({100 * row['zeroed'] / max(row['entries'], 1):.1f}%)"
        lo, hi = row["weight_range"]
        sqnr = "exact" if row["sqnr_db"] is None else f"{row['sqnr_db']:.1f} dB"
        table.add_row(row["core"], str(row["index"]), f"{row['scale']:.6g}", row["limited_by"],
                      f"{lo}..{hi}", zeroed, sqnr, str(row["threshold_high"]), str(row["threshold_low"]))
    console.print(table)
    for row in rows:
        note = at_risk(row)
        if note:
            console.print(f"note: {note}", highlight=False, soft_wrap=True)

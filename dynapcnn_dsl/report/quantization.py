"""The quantization report: per core, the scale, what set it, and what rounding cost."""

from __future__ import annotations

from typing import Any

from dynapcnn_dsl.weights.quantize import QuantizedNetwork


def quantization_data(bound: QuantizedNetwork) -> list[dict[str, Any]]:
    return [
        {
            "core": c.name, "index": c.index, "weights": c.weight_key,
            "scale": c.report.scale, "limited_by": c.report.limited_by,
            "worst_relative_error": c.report.worst_relative_error,
            "zeroed": c.report.zeroed, "saturated": c.report.saturated, "entries": c.report.entries,
            "threshold_high": c.threshold_high, "threshold_low": c.threshold_low,
            "initial_state": c.initial_state,
            "weight_range": [int(c.weights.min()), int(c.weights.max())] if c.weights.size else [0, 0],
            "reshaped_from": list(c.reshaped_from) if c.reshaped_from else None,
        }
        for c in bound.cores
    ]


def print_quantization(bound: QuantizedNetwork, console: Any) -> None:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, header_style="bold",
                  title=f"quantization of {bound.weights_file}", title_justify="left")
    for column, justify in (("core", "left"), ("#", "right"), ("scale", "right"),
                            ("set by", "left"), ("weights", "right"), ("zeroed", "right"),
                            ("worst error", "right"), ("threshold", "right"), ("low", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in quantization_data(bound):
        zeroed = f"{row['zeroed']} ({100 * row['zeroed'] / max(row['entries'], 1):.1f}%)"
        lo, hi = row["weight_range"]
        table.add_row(row["core"], str(row["index"]), f"{row['scale']:.6g}", row["limited_by"],
                      f"{lo}..{hi}", zeroed, f"{100 * row['worst_relative_error']:.2f}%",
                      str(row["threshold_high"]), str(row["threshold_low"]))
    console.print(table)

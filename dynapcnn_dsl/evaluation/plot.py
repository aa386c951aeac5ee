"""`evaluate --plot report.png|.html`: the confusion matrix and per-core spike-rate histograms.

matplotlib is optional (`pip install 'dynapcnn-dsl[plot]'`) and imported only here, with the
non-interactive Agg backend (no display needed). An .html report is the same picture embedded
in one self-contained page, with the figures of the text report beside it.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from dynapcnn_dsl.diagnostics import CodedError
from dynapcnn_dsl.evaluation.result import Evaluation
from dynapcnn_dsl.filekinds import PNG, kinds


class PlotError(CodedError):
    """matplotlib is missing; the hint says what to install."""

    code = "evaluate-plot"
    file = "<plot>"


def figure_png(e: Evaluation, file: str = "<plot>") -> bytes:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError("--plot needs matplotlib, which is not installed",
                        "install it: pip install 'dynapcnn-dsl[plot]'", file=file) from None
    cores = list(e.cores)
    cols = max(len(cores), 1)
    fig = plt.figure(figsize=(4 + 2.2 * min(cols, 5), 4 + 2.4 * ((cols + 4) // 5)), layout="constrained")
    grid = fig.add_gridspec(1 + (cols + 4) // 5, 5)
    ax = fig.add_subplot(grid[0, :2])
    ax.imshow(e.confusion, cmap="Blues")
    ax.set_xticks(range(len(e.columns)), list(e.columns))
    ax.set_yticks(range(len(e.labels)), list(e.labels))
    ax.set_xlabel("prediction")
    ax.set_ylabel("label")
    accuracy = "n/a" if e.accuracy is None else f"{100 * e.accuracy:.1f}%"
    ax.set_title(f"confusion, accuracy {accuracy}")
    for (i, j), n in np.ndenumerate(e.confusion):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8)
    for k, core in enumerate(cores):
        sub = fig.add_subplot(grid[1 + k // 5, k % 5])
        rates = [r.spikes.get(core, 0) / max(r.duration_us / 1e6, 1e-6) if r.duration_us
                 else r.spikes.get(core, 0) for r in e.ran]
        sub.hist(rates, bins=20, color="tab:orange")
        sub.set_title(core, fontsize=9)
        sub.set_xlabel("spikes/s", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def report(e: Evaluation, path: str | Path) -> bytes:
    """The bytes of the report `path` names (.png or .html)."""
    png = figure_png(e, str(path))
    if PNG in kinds(path):
        return png
    accuracy = "n/a" if e.accuracy is None else f"{100 * e.accuracy:.2f}%"
    lines = [f"{len(e.rows)} recordings, {len(e.ran)} run, accuracy {accuracy}"]
    if e.model:
        lines.append(f"model accuracy {e.model_accuracy}, agreement {e.agreement}")
    lines += [f"{len(e.without_output)} recordings without output", f"{len(e.failed)} failed"]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    image = base64.b64encode(png).decode("ascii")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>evaluate</title></head><body>"
            f"<ul>{items}</ul><img alt='confusion matrix and spike rates' "
            f"src='data:image/png;base64,{image}'></body></html>\n").encode()

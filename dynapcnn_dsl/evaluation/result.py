"""What an evaluation gives: one row per recording, and the figures over all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dynapcnn_dsl.evaluation.worker import Row


def _label_order(labels: set[str]) -> list[str]:
    """Labels in class order: by value when every label is an integer, else by name."""
    if all(label.lstrip("-").isdigit() for label in labels):
        return sorted(labels, key=int)
    return sorted(labels)


@dataclass(frozen=True)
class Evaluation:
    """`rows` in the dataset's order. A prediction names a class as the rule gives it (the
    readout's class k, 1-based, or the monitored core's feature); `predicted_label` turns it
    into a label: with integer labels, the label naming the classifier's feature (the readout's
    class k is feature k - 1, so label 0 is class 1), otherwise the k-th label in sorted order
    (k counted from 1 with a readout, from 0 without)."""

    rows: tuple[Row, ...]
    labels: tuple[str, ...]
    readout: bool
    wall_seconds: float
    cores: tuple[str, ...]
    model: bool = False               # the torch model ran too (--model)

    @classmethod
    def of(cls, rows: list[Row], readout: bool, wall_seconds: float, cores: tuple[str, ...],
           model: bool = False) -> Evaluation:
        return cls(tuple(rows), tuple(_label_order({r.label for r in rows})), readout, wall_seconds, cores,
                   model)

    def predicted_label(self, row: Row, *, model: bool = False) -> str | None:
        """The label the chip's prediction names (with `model`, the model's)."""
        prediction = row.model_prediction if model else row.prediction
        if prediction is None:
            return None
        k = prediction - (1 if self.readout else 0)     # the readout's class k is feature k - 1
        if all(label.lstrip("-").isdigit() for label in self.labels):
            return str(k)
        return self.labels[k] if 0 <= k < len(self.labels) else f"class {prediction}"

    @property
    def ran(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.error)

    @property
    def failed(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.error)

    @property
    def correct(self) -> int:
        return sum(self.predicted_label(r) == r.label for r in self.ran)

    @property
    def accuracy(self) -> float | None:
        """Correct over the recordings that ran (no prediction counts as wrong)."""
        return self.correct / len(self.ran) if self.ran else None

    @property
    def model_accuracy(self) -> float | None:
        """With --model: the model's accuracy over the same recordings."""
        if not self.model or not self.ran:
            return None
        return sum(self.predicted_label(r, model=True) == r.label for r in self.ran) / len(self.ran)

    @property
    def agreement(self) -> float | None:
        """With --model: the fraction of recordings where chip and model predict the same class
        (both without a prediction counts as the same)."""
        if not self.model or not self.ran:
            return None
        return sum(r.prediction == r.model_prediction for r in self.ran) / len(self.ran)

    @property
    def without_output(self) -> tuple[str, ...]:
        return tuple(r.file for r in self.ran if r.prediction is None)

    @property
    def columns(self) -> tuple[str, ...]:
        """The confusion matrix's columns: every label, then each prediction that names no label
        (a class the dataset has no recording of: shown, never hidden among the misses), then
        `none`, the recordings without a prediction (`(none)` when a class is called none)."""
        named = {self.predicted_label(r) for r in self.ran} - {None, *self.labels}
        shown = (*self.labels, *sorted(named, key=str))
        nothing = "none"
        while nothing in shown:   # a dataset may name a class "none": the column must not be it
            nothing = f"({nothing})"
        return (*shown, nothing)   # type: ignore[arg-type]

    @property
    def confusion(self) -> np.ndarray:
        """[true label][predicted label] over `columns`: the last column the recordings without a
        prediction."""
        rows = {label: i for i, label in enumerate(self.labels)}
        names = self.columns
        columns = {label: j for j, label in enumerate(names[:-1])}
        out = np.zeros((len(self.labels), len(names)), np.int64)
        for r in self.ran:
            predicted = self.predicted_label(r)
            out[rows[r.label], len(names) - 1 if predicted is None else columns[predicted]] += 1
        return out

    def rates(self) -> dict[str, tuple[float, float]]:
        """Per core, the mean and the max over recordings of its spikes per second of
        recording (a recording of one instant counts its spikes as if it lasted a second)."""
        out = {}
        for core in self.cores:
            per = [r.spikes.get(core, 0) / max(r.duration_us / 1e6, 1e-6) if r.duration_us
                   else float(r.spikes.get(core, 0)) for r in self.ran]
            out[core] = (float(np.mean(per)) if per else 0.0, float(np.max(per)) if per else 0.0)
        return out

    def throughput(self) -> tuple[float, float]:
        """Recordings per second and input events per second, over the run's wall time."""
        if self.wall_seconds <= 0:
            return 0.0, 0.0
        return len(self.rows) / self.wall_seconds, sum(r.events for r in self.rows) / self.wall_seconds

    def table(self) -> list[dict[str, Any]]:
        """One dict per recording, the CSV's columns."""
        return [row_dict(r, self.cores) for r in self.rows]


def columns(cores: tuple[str, ...]) -> list[str]:
    return ["file", "label", "prediction", "events", "duration_us", *(f"spikes.{c}" for c in cores),
            "seconds", "error", "model_prediction"]


def row_dict(r: Row, cores: tuple[str, ...]) -> dict[str, Any]:
    return {"file": r.file, "label": r.label, "prediction": "" if r.prediction is None else r.prediction,
            "events": r.events, "duration_us": r.duration_us,
            **{f"spikes.{c}": r.spikes.get(c, "") for c in cores},
            "seconds": f"{r.seconds:.6f}", "error": r.error,
            "model_prediction": "" if r.model_prediction is None else r.model_prediction}


def row_of(values: dict[str, str], cores: tuple[str, ...]) -> Row:
    """A row read back from a results CSV (for --resume)."""
    prediction = values.get("prediction", "")
    spikes = {c: int(values[f"spikes.{c}"]) for c in cores if values.get(f"spikes.{c}", "").strip()}
    return Row(values["file"], values["label"], int(prediction) if prediction.strip() else None,
               int(values.get("events") or 0), float(values.get("seconds") or 0.0),
               int(values.get("duration_us") or 0), spikes,
               values.get("error", ""),
               int(values["model_prediction"]) if (values.get("model_prediction") or "").strip() else None)

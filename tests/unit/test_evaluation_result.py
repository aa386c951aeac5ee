"""The figures of an evaluation from its rows: the confusion matrix's columns and counts."""

from __future__ import annotations

import numpy as np

from dynapcnn_dsl.evaluation.result import Evaluation
from dynapcnn_dsl.evaluation.worker import Row


def row(label: str, prediction: int | None) -> Row:
    return Row(file=f"{label}/{prediction}.npy", label=label, prediction=prediction, events=1, seconds=0.0,
               duration_us=1)


def test_a_class_named_none_is_not_the_no_prediction_column():
    # without a readout, a prediction is the classifier's feature: labels in name order
    rows = [row("none", 0), row("none", 0), row("some", 1), row("some", None)]
    e = Evaluation.of(rows, readout=False, wall_seconds=1.0, cores=("c",))
    assert e.columns == ("none", "some", "(none)")
    assert e.confusion.tolist() == [[2, 0, 0], [0, 1, 1]]
    assert e.accuracy == 3 / 4


def test_predictions_naming_no_label_get_their_own_column_before_none():
    rows = [row("0", 1), row("0", 7), row("1", None)]
    e = Evaluation.of(rows, readout=False, wall_seconds=1.0, cores=("c",))
    assert e.columns == ("0", "1", "7", "none")
    assert np.array_equal(e.confusion, [[0, 1, 1, 0], [0, 0, 0, 1]])

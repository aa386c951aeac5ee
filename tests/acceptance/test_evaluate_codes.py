"""The diagnostics of `dynapcnn_dsl.evaluate` that the end-to-end tests do not reach: each bad
argument is the tool's error carrying exactly one positioned diagnostic with its code, never a
TypeError or a traceback (the CLI prints these same diagnostics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simulate_docs import core, document

import dynapcnn_dsl
from dynapcnn_dsl.config.writer import to_json

EV = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])


def codes(call) -> list[str]:
    with pytest.raises(Exception) as exc:   # EvaluationError or its DatasetError
        call()
    assert hasattr(exc.value, "diagnostics"), repr(exc.value)
    return [d.code for d in exc.value.diagnostics]


def one_core(monitored: bool = True) -> dict:
    return document({0: core(1, 4, 4, 3, 3, padding=(1, 1), monitor=monitored,
                             rng=np.random.default_rng(1))}, shape=(1, 4, 4))


def pairs(n: int = 2) -> list[tuple[np.ndarray, str]]:
    ev = np.zeros(4, EV)
    ev["t"] = np.arange(4)
    return [(ev, str(i % 2)) for i in range(n)]


def test_a_dataset_that_is_not_a_folder(tmp_path: Path):
    assert codes(lambda: dynapcnn_dsl.evaluate(one_core(), tmp_path / "missing")) == ["evaluate-dataset"]


def test_a_labels_csv_row_that_is_not_file_label(tmp_path: Path):
    (tmp_path / "labels.csv").write_text("file,label\nr0.npy\n", encoding="utf-8")
    assert codes(lambda: dynapcnn_dsl.evaluate(one_core(), tmp_path)) == ["evaluate-dataset"]


def test_items_that_are_not_pairs():
    assert codes(lambda: dynapcnn_dsl.evaluate(one_core(), [np.zeros(4, EV)])) == ["evaluate-dataset"]


def test_no_worker_process():
    assert codes(lambda: dynapcnn_dsl.evaluate(one_core(), pairs(), jobs=0)) == ["evaluate-jobs"]


def test_an_output_core_that_does_not_exist():
    assert codes(lambda: dynapcnn_dsl.evaluate(one_core(), pairs(), output="nope")) == ["evaluate-output"]


def test_no_readout_and_no_monitored_core_decides_nothing():
    assert codes(lambda: dynapcnn_dsl.evaluate(one_core(monitored=False), pairs())) == ["evaluate-output"]


def test_a_model_beside_a_configuration_without_its_network(tmp_path: Path):
    config = tmp_path / "c.json"
    config.write_text(to_json(one_core()), encoding="utf-8")
    assert codes(lambda: dynapcnn_dsl.evaluate(str(config), pairs(), model="model.py:Net")) == \
        ["evaluate-model"]


def test_a_prediction_that_names_no_label_gets_a_column_of_its_own():
    """Labels that do not match the classes (digits 0-9 against a readout's 1-based classes)
    show as their own columns, never hidden in `none` (the recordings without a prediction)."""
    rng = np.random.default_rng(0)
    recordings = []
    for _ in range(3):
        ev = np.zeros(40, EV)
        ev["t"], ev["x"], ev["y"] = np.arange(40) * 10, rng.integers(0, 4, 40), rng.integers(0, 4, 40)
        recordings.append((ev, "7"))
    result = dynapcnn_dsl.evaluate(one_core(), recordings)
    predicted = sorted({str(r.prediction) for r in result.rows if r.prediction is not None})
    assert predicted and result.columns == ("7", *predicted, "none")
    assert result.confusion.sum() == 3 and result.confusion[0, -1] == len(result.without_output)


def test_integer_labels_name_the_classifiers_feature():
    """A readout's class k is the classifier's feature k - 1: digits 0-9 match a ten-class
    readout as they are (class 1 is label 0); a core's feature f is label f."""
    from dynapcnn_dsl.evaluation.result import Evaluation
    from dynapcnn_dsl.evaluation.worker import Row

    rows = [Row("a", "0", 1, 1, 0.0, 0), Row("b", "1", 2, 1, 0.0, 0), Row("c", "1", None, 1, 0.0, 0)]
    by_readout = Evaluation.of(rows, True, 1.0, ())
    assert [by_readout.predicted_label(r) for r in rows] == ["0", "1", None]
    assert by_readout.correct == 2 and by_readout.columns == ("0", "1", "none")
    by_feature = Evaluation.of(rows, False, 1.0, ())
    assert [by_feature.predicted_label(r) for r in rows] == ["1", "2", None]
    assert by_feature.correct == 0 and by_feature.columns == ("0", "1", "2", "none")

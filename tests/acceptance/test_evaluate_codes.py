"""The diagnostics of `dynapcnn_dsl.evaluate` that the end-to-end tests do not reach: each bad
argument is the tool's error carrying exactly one positioned diagnostic with its code, never a
TypeError or a traceback (the CLI prints these same diagnostics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simulate_docs import core, document

import dynapcnn_dsl
from dynapcnn_dsl.documents import to_json

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

"""`dynapcnn-dsl evaluate` and `dynapcnn_dsl.evaluate`: a small labelled dataset made here
(folders and labels.csv), predictions equal to simulate + the rule of SIMULATION.md on each
recording, --jobs 2 equal to --jobs 1, a killed worker, --resume, a Dask LocalCluster, a tonic
dataset, and every bad input as a diagnostic."""

from __future__ import annotations

import csv
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from helpers import ONE_HOST_CORE, cli
from simulate_docs import core, dest, document, readout

import dynapcnn_dsl
from dynapcnn_dsl.config.writer import to_json
from dynapcnn_dsl.simulator.prediction import class_of

EV = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
LABELS = ("0", "1", "2")


def make_doc():
    """One core, 3 features over a 4 x 4 map, monitored: its busiest feature is the class."""
    return document({0: core(1, 4, 4, 3, 3, padding=(1, 1), rng=np.random.default_rng(1))}, shape=(1, 4, 4))


def recording(rng: np.random.Generator, n: int = 40) -> np.ndarray:
    ev = np.zeros(n, EV)
    ev["t"], ev["x"], ev["y"] = np.arange(n) * 10, rng.integers(0, 4, n), rng.integers(0, 4, n)
    return ev


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    """c.json and ds/<label>/r<i>.npy: three labels, three recordings each."""
    config = tmp_path / "c.json"
    config.write_text(to_json(make_doc()), encoding="utf-8")
    rng = np.random.default_rng(0)
    for label in LABELS:
        (tmp_path / "ds" / label).mkdir(parents=True)
        for i in range(3):
            np.save(tmp_path / "ds" / label / f"r{i}.npy", recording(rng))
    return config, tmp_path / "ds"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return sorted(({k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(fh)),
                      key=lambda r: r["file"])


def test_predictions_are_simulate_and_the_rule_on_each_recording(dataset, capsys, tmp_path):
    config, folder = dataset
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "-o", str(tmp_path / "r.csv"),
                     "--jobs", "1")
    assert code == 0, text
    rows = rows_of(tmp_path / "r.csv")
    assert [r["file"] for r in rows] == [f"{label}/r{i}.npy" for label in LABELS for i in range(3)]
    correct = 0
    for row in rows:
        result = dynapcnn_dsl.simulate(str(config), str(folder / row["file"]))
        expected = class_of(None, result.cores["core0"])
        assert row["prediction"] == ("" if expected is None else str(expected))
        assert row["label"] == row["file"].split("/")[0]
        assert row["events"] == "40" and row["spikes.core0"] == str(result.summary.cores[0].spikes)
        correct += row["prediction"] == row["label"]
    assert f"accuracy {100 * correct / 9:.2f}% ({correct} of 9)" in text
    assert "confusion" in text and "throughput" in text and "wrote" in text


def test_labels_csv_form_gives_the_same_rows(dataset, capsys, tmp_path):
    config, folder = dataset
    flat = tmp_path / "flat"
    flat.mkdir()
    lines = ["file,label"]
    for label in LABELS:
        for i in range(3):
            (folder / label / f"r{i}.npy").rename(flat / f"{label}-{i}.npy")
            lines.append(f"{label}-{i}.npy,{label}")
    (flat / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    a = dynapcnn_dsl.evaluate(config, flat)
    assert [r.file for r in a.rows] == [f"{label}-{i}.npy" for label in LABELS for i in range(3)]
    assert [r.label for r in a.rows] == [label for label in LABELS for _ in range(3)]
    assert a.confusion.sum() == 9 and a.accuracy == a.correct / 9


def test_jobs_2_gives_what_jobs_1_gives(dataset):
    config, folder = dataset
    one = dynapcnn_dsl.evaluate(config, folder, jobs=1)
    two = dynapcnn_dsl.evaluate(config, folder, jobs=2)
    strip = [(r.file, r.label, r.prediction, r.events, r.spikes) for r in one.rows]
    assert strip == [(r.file, r.label, r.prediction, r.events, r.spikes) for r in two.rows]
    assert np.array_equal(one.confusion, two.confusion) and one.accuracy == two.accuracy


def test_a_worker_killed_mid_run_and_the_run_completes():
    """A pool worker is killed (SIGKILL) when the first row comes back, with most recordings
    still queued: the pool breaks, the unfinished recordings run again, none is lost."""
    psutil = pytest.importorskip("psutil")
    rng = np.random.default_rng(7)
    pairs = [(recording(rng, 3000), i % 3) for i in range(24)]
    expected = dynapcnn_dsl.evaluate(make_doc(), pairs, jobs=1)
    killed = []

    def kill_one(row) -> None:
        if not killed:
            me = psutil.Process()
            workers = [p for p in me.children() if p.cmdline() == me.cmdline()]   # forked: the pool's
            if workers:
                os.kill(workers[0].pid, signal.SIGKILL)
                killed.append(workers[0].pid)

    result = dynapcnn_dsl.evaluate(make_doc(), pairs, jobs=2, on_row=kill_one)
    assert killed
    assert [(r.file, r.prediction, r.spikes, r.error) for r in result.rows] == \
        [(r.file, r.prediction, r.spikes, "") for r in expected.rows]


def test_resume_after_an_interrupt_runs_only_the_rest(dataset, capsys, tmp_path):
    config, folder = dataset
    results = tmp_path / "r.csv"
    code, _ = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "-o", str(results),
                  "--jobs", "1")
    assert code == 0
    full = rows_of(results)
    lines = results.read_text(encoding="utf-8").splitlines()
    results.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")  # interrupted after 3 rows
    kept = lines[1:4]
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "-o", str(results),
                     "--resume", "--jobs", "1")
    assert code == 0, text
    assert rows_of(results) == full
    assert results.read_text(encoding="utf-8").splitlines()[1:4] == kept   # the old rows, untouched


def test_a_dask_local_cluster_gives_the_same_results(dataset):
    distributed = pytest.importorskip("dask.distributed")
    config, folder = dataset
    expected = dynapcnn_dsl.evaluate(config, folder, jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = dynapcnn_dsl.evaluate(config, folder, scheduler=cluster.scheduler_address)
    assert [(r.file, r.prediction, r.spikes) for r in result.rows] == \
        [(r.file, r.prediction, r.spikes) for r in expected.rows]


def test_a_tonic_dataset_through_the_python_api():
    tonic = pytest.importorskip("tonic")

    class Local(tonic.Dataset):
        """A dataset built here (no download): structured arrays with tonic's fields."""
        sensor_size = (4, 4, 1)
        ordering = "txyp"

        def __init__(self) -> None:
            super().__init__(save_to=".")
            rng = np.random.default_rng(3)
            self.items = [(recording(rng), i % 3) for i in range(6)]

        def __getitem__(self, index):
            return self.items[index]

        def __len__(self) -> int:
            return len(self.items)

    data = Local()
    result = dynapcnn_dsl.evaluate(make_doc(), data)
    assert [r.file for r in result.rows] == [f"#{i}" for i in range(6)]
    for (events, label), row in zip(data, result.rows, strict=True):
        simulated = dynapcnn_dsl.simulate(make_doc(), events)
        assert row.prediction == class_of(None, simulated.cores["core0"]) and row.label == str(label)
    assert result.confusion.shape == (3, 4) and len(result.table()) == 6


def test_the_readout_decides_when_there_is_one():
    doc = document({0: core(1, 4, 4, 3, 3, padding=(1, 1), rng=np.random.default_rng(1), to=(dest(12),))},
                   shape=(1, 4, 4), readout=readout())
    rng = np.random.default_rng(5)
    pairs = [(recording(rng), k) for k in (1, 2, 3)]
    result = dynapcnn_dsl.evaluate(doc, pairs)
    for (events, _), row in zip(pairs, result.rows, strict=True):
        assert row.prediction == class_of(dynapcnn_dsl.simulate(doc, events).readout, None)


def test_the_rule_ties_lowest_and_no_spike_is_no_prediction():
    spikes = np.zeros(4, [("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
    spikes["p"] = [2, 1, 2, 1]
    assert class_of(None, spikes) == 1 and class_of(None, spikes[:0]) is None
    ticks = np.zeros(4, [("t", "<i8"), ("average", "<i4", (3,)), ("winner", "<i2"), ("above", "?", (3,))])
    ticks["average"] = [[0, 0, 0], [0, 5, 0], [0, 0, 3], [0, 0, 0]]
    ticks["winner"] = [1, 2, 3, 1]          # ticks without counts do not vote
    assert class_of(ticks, None) == 2
    totals = np.zeros(1, [("t", "<i8"), ("count", "<i8", (3,)), ("winner", "<i2")])
    assert class_of(totals, None) is None
    totals["count"] = [[4, 7, 7]]
    assert class_of(totals, None) == 2


def test_bad_recordings_are_reported_per_recording_and_the_run_goes_on(dataset, capsys, tmp_path):
    config, folder = dataset
    (folder / "1" / "broken.npy").write_bytes(b"not numpy at all")
    wide = recording(np.random.default_rng(0))
    wide["x"][3] = 9
    np.save(folder / "2" / "wide.npy", wide)
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "-o", str(tmp_path / "r.csv"),
                     "--jobs", "1", "--format", "json")
    assert code == 0, text
    report = json.loads(text)["files"][0]["evaluation"]
    assert report["recordings"] == 11 and report["ran"] == 9
    failed = {f["file"]: f["reason"] for f in report["failed"]}
    assert "the file is not a numpy array" in failed["1/broken.npy"]
    assert "outside the input map" in failed["2/wide.npy"]


@pytest.mark.parametrize(("make", "code_", "message"), [
    (lambda d: None, "evaluate-dataset-empty", "the dataset holds no recordings"),
    (lambda d: np.save(d / "a.npy", np.zeros(1, EV)), "evaluate-dataset-labels",
     "1 recordings but no labels"),
])
def test_an_empty_or_unlabelled_dataset_is_a_diagnostic(tmp_path, capsys, make, code_, message):
    config = tmp_path / "c.json"
    config.write_text(to_json(make_doc()), encoding="utf-8")
    (tmp_path / "ds").mkdir()
    make(tmp_path / "ds")
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(tmp_path / "ds"))
    assert code == 1 and f"error[{code_}]: {message}" in text and "nothing was evaluated" in text


def test_usage_errors_and_an_unreachable_scheduler(dataset, capsys):
    config, folder = dataset
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "--jobs", "0")
    assert code == 2 and "--jobs 0: give at least 1 worker process" in text
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "--output", "nope")
    assert code == 1 and "--output nope: no such core" in text and "the cores are core0" in text
    pytest.importorskip("dask.distributed")
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "--scheduler", "tcp://127.0.0.1:9")
    assert code == 1 and "error[evaluate-scheduler]: cannot reach the Dask scheduler" in text


MODEL = '''
import sinabs.layers as sl
import torch


class One(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 3, 3, padding=1, bias=False)
        self.spike = sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0)

    def forward(self, x):
        return self.spike(self.conv(x))
'''



def test_model_and_chip_agree_where_the_translation_is_exact(tmp_path, capsys):
    """One core, every weight below the threshold, one event per model time step: sinabs's
    IAFSqueeze and the chip compute the same spikes (SIMULATION.md, "Agreement with sinabs"),
    so the model's class is the chip's on every recording."""
    pytest.importorskip("sinabs")
    pytest.importorskip("torch")
    (tmp_path / "model.py").write_text(MODEL, encoding="utf-8")
    (tmp_path / "network.yaml").write_text(ONE_HOST_CORE, encoding="utf-8")
    rng = np.random.default_rng(4)
    weights = rng.integers(-3, 8, (3, 1, 3, 3)) / 8            # k/8: quantized without rounding
    np.savez(tmp_path / "w.npz", **{"conv.weight": weights.astype(np.float32)})
    for label in LABELS:
        (tmp_path / "ds" / label).mkdir(parents=True)
        for i in range(2):
            np.save(tmp_path / "ds" / label / f"r{i}.npy", recording(rng, 60))
    code, text = cli(capsys, "evaluate", str(tmp_path / "network.yaml"), str(tmp_path / "w.npz"),
                     "--dataset", str(tmp_path / "ds"), "--model", f"{tmp_path / 'model.py'}:One",
                     "--bin-us", "10", "--jobs", "1", "--format", "json", "-o", str(tmp_path / "r.csv"))
    assert code == 0, text
    report = json.loads(text)["files"][0]["evaluation"]
    assert report["agreement"] == 1.0 and report["model_accuracy"] == report["accuracy"]
    rows = rows_of(tmp_path / "r.csv")
    assert all(r["model_prediction"] == r["prediction"] != "" for r in rows)
    code, text = cli(capsys, "evaluate", str(tmp_path / "ds" / "0" / "r0.npy"), "--dataset",
                     str(tmp_path / "ds"), "--model", f"{tmp_path / 'model.py'}:One")
    assert code == 2 and "--model needs the network file and its weights" in text


def test_plot_writes_a_png_or_an_html_report(dataset, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    config, folder = dataset
    for name in ("report.png", "report.html"):
        code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "--jobs", "1",
                         "--plot", str(tmp_path / name))
        assert code == 0, text
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "accuracy" in page and "data:image/png;base64," in page
    code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "--plot",
                     str(tmp_path / "r.pdf"))
    assert code == 2 and "give a .png or an .html file" in text


def test_results_never_go_to_a_device_or_a_folder(dataset, capsys, tmp_path):
    config, folder = dataset
    for target in ("/dev/null", str(tmp_path)):
        code, text = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "-o", target)
        assert code == 2 and "give a file name for the CSV" in text

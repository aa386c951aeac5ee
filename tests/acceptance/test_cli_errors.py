"""A failure for a bad input is printed one way, by the dispatcher (`cli.run` catches DslError):
whichever command and phase raised it, its diagnostics in the command's --format, on the
command's stream, then what the command had done; exit status 1.

The texts expected here are what each command printed before the commands stopped catching
their own exceptions (compare on standard output, simulate and evaluate on standard error),
except where noted: a network that fails to build is quoted by every command now (simulate
quoted it; evaluate and compare did not), and `evaluate --format json` says a failure as the
JSON envelope (it printed text)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from helpers import ONE_HOST_CORE
from simulate_docs import core, document

from dynapcnn_dsl.cli import main
from dynapcnn_dsl.config.writer import to_json

EV = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")])
BAD_NETWORK = """\
bad.yaml:7:5: error[missing-key]: conv of core 'conv' is missing 'kernel'
  7 |     conv: {out_channels: 3, kernal: 3, padding: 1}
    |     ^
  hint: add `kernel:` here (see the schema for its meaning)
bad.yaml:7:29: error[unknown-key]: unknown key 'kernal' in conv of core 'conv'
  7 |     conv: {out_channels: 3, kernal: 3, padding: 1}
    |                             ^
  hint: did you mean 'kernel'? (allowed keys: out_channels, in_channels, kernel, stride, padding, bias)
bad.yaml: invalid (2 errors)
"""
NOT_NUMPY = """\
bad.npy: error[simulate-events-read]: the file is not a numpy array: the magic string is not correct; \
expected b'\\x93NUMPY', got b'not nu'
  hint: save the events again with numpy (np.save / np.savez), plain numeric arrays
"""


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """Relative names in the working directory, as a user types them."""
    monkeypatch.chdir(tmp_path)
    doc = document({0: core(1, 4, 4, 3, 3, padding=(1, 1), rng=np.random.default_rng(1))}, shape=(1, 4, 4))
    (tmp_path / "d.json").write_text(to_json(doc), encoding="utf-8")
    (tmp_path / "bad.npy").write_bytes(b"not numpy at all")
    events = np.zeros(3, EV)
    events["t"] = [0, 10, 20]
    np.save(tmp_path / "good.npy", events)
    (tmp_path / "ds" / "0").mkdir(parents=True)
    np.save(tmp_path / "ds" / "0" / "r.npy", events)
    events["x"] = [1, 9, 0]
    np.save(tmp_path / "map.npy", events)
    (tmp_path / "net.yaml").write_text(ONE_HOST_CORE, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(ONE_HOST_CORE.replace("kernel: 3", "kernal: 3"), encoding="utf-8")
    np.savez(tmp_path / "w.npz", **{"conv.weight": (np.ones((3, 1, 3, 3)) / 8).astype(np.float32)})
    (tmp_path / "empty").mkdir()
    (tmp_path / "model.py").write_text("import torch\n", encoding="utf-8")
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "internal error" not in out.out + out.err
    return exc.value.code, out.out, out.err


# ------------------------------------------------------------------------------ simulate
def test_simulate_events_that_cannot_be_read(inputs, capsys):   # EventsError, through the API
    assert run(capsys, "simulate", "d.json", "--events", "bad.npy") == (
        1, "", NOT_NUMPY + "nothing was simulated\n")


def test_simulate_an_event_off_the_map(inputs, capsys):   # SimulationError
    assert run(capsys, "simulate", "d.json", "--events", "map.npy") == (1, "", (
        "map.npy: error[simulate-events-map]: event 1 (t=10, x=9, y=0, p=0) is outside the input map "
        "(0 <= x < 4, 0 <= y < 4, 0 <= p < 1, p the feature)\n"
        "  hint: the input's shape [C, H, W] in the network sets the map\n"
        "nothing was simulated\n"))


def test_simulate_a_network_that_does_not_build(inputs, capsys):   # BuildError, quoted
    assert run(capsys, "simulate", "bad.yaml", "w.npz", "--events", "good.npy") == (
        1, "", BAD_NETWORK + "nothing was simulated\n")


# ------------------------------------------------------------------------------ evaluate
def test_evaluate_an_empty_dataset(inputs, capsys):   # DatasetError, as an EvaluationError
    assert run(capsys, "evaluate", "d.json", "--dataset", "empty") == (1, "", (
        "empty: error[evaluate-dataset-empty]: the dataset holds no recordings\n"
        "  hint: event files (.npy, .npz, .aedat4, .aedat, .bin) in one subfolder per label, "
        "or a labels.csv\n"
        "nothing was evaluated\n"))


def test_evaluate_an_empty_dataset_as_json(inputs, capsys):
    code, out, err = run(capsys, "evaluate", "d.json", "--dataset", "empty", "--format", "json")
    assert code == 1 and err == "nothing was evaluated\n"
    assert json.loads(out) == {"files": [{"file": "empty", "valid": False, "diagnostics": [{
        "file": "empty", "line": None, "col": None, "severity": "error", "code": "evaluate-dataset-empty",
        "message": "the dataset holds no recordings",
        "hint": "event files (.npy, .npz, .aedat4, .aedat, .bin) in one subfolder per label, or a labels.csv",
        "related": []}]}], "summary": {"error": 1, "warning": 0, "info": 0}}


def test_evaluate_a_network_that_does_not_build(inputs, capsys):
    assert run(capsys, "evaluate", "bad.yaml", "w.npz", "--dataset", "ds") == (
        1, "", BAD_NETWORK + "nothing was evaluated\n")
    code, out, err = run(capsys, "evaluate", "bad.yaml", "w.npz", "--dataset", "ds", "--format", "json")
    assert code == 1 and err == "nothing was evaluated\n"
    entry, = json.loads(out)["files"]   # the pipeline's own entry, as `check --format json` writes it
    assert (entry["file"], entry["valid"]) == ("bad.yaml", False)
    assert [(d["line"], d["col"], d["code"]) for d in entry["diagnostics"]] == [
        (7, 5, "missing-key"), (7, 29, "unknown-key")]


def test_evaluate_a_model_that_does_not_load(inputs, capsys):   # ImportFailure, as an EvaluationError
    pytest.importorskip("torch")
    assert run(capsys, "evaluate", "net.yaml", "w.npz", "--dataset", "ds", "--model", "model.py:Nope",
               "--jobs", "1") == (1, "", (
        "model.py:Nope: error[evaluate-model]: cannot run the model: model.py defines no 'Nope'\n"
        "nothing was evaluated\n"))


def test_evaluate_says_where_the_rows_written_before_the_failure_are(inputs, capsys):
    pytest.importorskip("torch")
    assert run(capsys, "evaluate", "net.yaml", "w.npz", "--dataset", "ds", "--model", "model.py:Nope",
               "--jobs", "1", "-o", "r.csv") == (1, "", (
        "model.py:Nope: error[evaluate-model]: cannot run the model: model.py defines no 'Nope'\n"
        "the rows written so far are in r.csv\n"))
    assert (inputs / "r.csv").is_file()


def test_evaluate_plot_without_matplotlib(inputs, capsys, monkeypatch):   # PlotError
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # `import matplotlib` raises ImportError
    assert run(capsys, "evaluate", "d.json", "--dataset", "ds", "--plot", "r.png", "--jobs", "1") == (1, "", (
        "r.png: error[evaluate-plot]: --plot needs matplotlib, which is not installed\n"
        "  hint: install it: pip install 'dynapcnn-dsl[plot]'\n"))
    assert not (inputs / "r.png").exists()


# ------------------------------------------------------------------------------ compare
def test_compare_a_model_that_does_not_load(inputs, capsys):   # ImportFailure, filed under --model
    pytest.importorskip("torch")
    code, out, err = run(capsys, "compare", "net.yaml", "w.npz", "--model", "model.py:Nope", "--events",
                         "good.npy")
    assert (code, out, err) == (1, "model.py:Nope: error[import-source]: model.py defines no 'Nope'\n"
                                   "  hint: --model is FILE.py:NAME\n", "")


def test_compare_events_that_cannot_be_read(inputs, capsys):   # EventsError, on standard output
    assert run(capsys, "compare", "net.yaml", "w.npz", "--model", "model.py:Nope", "--events", "bad.npy") == (
        1, NOT_NUMPY, "")


def test_compare_a_network_that_does_not_build(inputs, capsys):
    assert run(capsys, "compare", "bad.yaml", "w.npz", "--model", "model.py:Nope", "--events",
               "good.npy") == (1, BAD_NETWORK, "")

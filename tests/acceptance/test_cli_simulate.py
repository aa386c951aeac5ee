"""`dynapcnn-dsl simulate` end to end: every events reader, the .npz it writes, every bad input
as a diagnostic (never a traceback), the Python API, and what it must not import elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import CHAIN, cli, modules_loaded, write_weights
from ruamel.yaml import YAML
from simulate_docs import core, dest, document

import dynapcnn_dsl
from dynapcnn_dsl.config.writer import to_json

ROOT = Path(__file__).resolve().parents[2]
ONE = [[[[10]]]]


def save_doc(path: Path, doc) -> Path:
    path.write_text(to_json(doc), encoding="utf-8")
    return path


def save_events(path: Path, rows, dtype=None) -> Path:
    arr = np.zeros(len(rows), dtype or [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
    for i, row in enumerate(rows):
        arr[i] = row
    np.save(path, arr)
    return path


@pytest.fixture
def chain(tmp_path):
    """A linked network and its weights on disk: CHAIN (host input [2, 16, 16], a -> b)."""
    network = tmp_path / "net.yaml"
    network.write_text(CHAIN, encoding="utf-8")
    weights = tmp_path / "w.npz"
    write_weights(network, weights, seed=3, low=-0.2, high=1.0)
    return network, weights


def test_network_and_weights_to_npz_keyed_by_core_names(tmp_path, capsys, chain):
    network, weights = chain
    rng = np.random.default_rng(0)
    rows = sorted(
        zip(
            rng.integers(0, 5000, 300).tolist(),
            rng.integers(0, 16, 300).tolist(),
            rng.integers(0, 16, 300).tolist(),
            rng.integers(0, 2, 300).tolist(),
            strict=True,
        )
    )
    events = save_events(tmp_path / "ev.npy", rows)
    out = tmp_path / "out.npz"
    code, text = cli(
        capsys, "simulate", str(network), str(weights), "--events", str(events), "-o", str(out), "--states"
    )
    assert code == 0, text
    assert "300 input events" in text and "wrote" in text
    with np.load(out) as npz:
        assert sorted(npz.files) == ["b", "state.a", "state.b"]  # b is monitored, a is not
        assert npz["b"].dtype.names == ("t", "x", "y", "p") and len(npz["b"]) > 0
        assert npz["state.a"].shape == (4, 16, 16)
    code, text = cli(
        capsys,
        "simulate",
        str(network),
        str(weights),
        "--events",
        str(events),
        "-o",
        str(out),
        "--record",
        "all",
    )
    with np.load(out) as npz:
        assert sorted(npz.files) == ["a", "b"]


def test_document_from_build_and_npz_arrays_and_dense_input(tmp_path, capsys, chain):
    network, weights = chain
    config = tmp_path / "net.samna.json"
    assert cli(capsys, "build", str(network), str(weights), "-o", str(config), "--quiet")[0] == 0
    np.savez(
        tmp_path / "ev.npz",
        t=np.array([0, 5, 5]),
        x=np.array([1, 2, 3]),
        y=np.array([4, 4, 4]),
        p=np.array([0, 1, 1], np.uint8),
    )
    code, text = cli(capsys, "simulate", str(config), "--events", str(tmp_path / "ev.npz"))
    assert code == 0 and "3 input events" in text
    dense = np.zeros((3, 2, 16, 16), np.uint8)
    dense[0, 1, 2, 3], dense[2, 0, 0, 0] = 2, 1
    np.save(tmp_path / "dense.npy", dense)
    code, text = cli(
        capsys, "simulate", str(config), "--events", str(tmp_path / "dense.npy"), "--bin-us", "1000"
    )
    assert code == 0 and "3 input events" in text


def test_dense_counts_become_events_in_c_y_x_order():
    from dynapcnn_dsl.simulator import from_dense

    dense = np.zeros((2, 2, 2, 3), int)
    dense[0, 1, 0, 2], dense[0, 0, 1, 0], dense[1, 0, 0, 1] = 2, 1, 1
    ev = from_dense(dense, 500, "d.npy")
    assert [tuple(int(v) for v in e) for e in ev] == [
        (0, 0, 1, 0),
        (0, 2, 0, 1),
        (0, 2, 0, 1),
        (500, 1, 0, 0),
    ]


def test_aedat4_recording_written_by_faery(tmp_path, capsys):
    """A real AEDAT4 file, written by faery (a maintained writer), read by the aedat package;
    times become relative to the first event."""
    faery = pytest.importorskip("faery")
    raw = np.zeros(4, faery.EVENTS_DTYPE)
    raw["t"], raw["x"], raw["y"], raw["on"] = (
        [1000, 1002, 1002, 1009],
        [0, 3, 1, 2],
        [1, 2, 0, 3],
        [1, 0, 1, 1],
    )
    path = tmp_path / "rec.aedat4"
    faery.events_stream_from_array(raw, dimensions=(4, 4)).to_file(path)
    from dynapcnn_dsl.simulator import read_events

    ev = read_events(path)
    assert [tuple(int(v) for v in e) for e in ev] == [(0, 0, 1, 1), (2, 3, 2, 0), (2, 1, 0, 1), (9, 2, 3, 1)]
    doc = save_doc(
        tmp_path / "d.json", document({0: core(2, 4, 4, 1, 1, weights=[[[[10]], [[10]]]])}, shape=(2, 4, 4))
    )
    code, text = cli(capsys, "simulate", str(doc), "--events", str(path))
    assert code == 0 and "4 input events" in text


def bad(tmp_path, capsys, rows=None, *, doc=None, events=None, extra=()):
    doc = doc or document({0: core(1, 4, 4, 1, 1, weights=ONE)}, shape=(1, 4, 4))
    config = save_doc(tmp_path / "d.json", doc)
    events = events or save_events(tmp_path / "ev.npy", rows)
    code, text = cli(
        capsys, "simulate", str(config), "--events", str(events), "-o", str(tmp_path / "o.npz"), *extra
    )
    assert code == 1 and "nothing was simulated" in text
    assert not (tmp_path / "o.npz").exists()
    return text


def test_event_outside_the_input_map(tmp_path, capsys):
    text = bad(tmp_path, capsys, [(0, 1, 1, 0), (1, 4, 0, 0), (2, 0, 0, 1)])
    assert (
        "ev.npy: error[simulate-events-map]: event 1 (t=1, x=4, y=0, p=0) is outside the input map "
        "(0 <= x < 4, 0 <= y < 4, 0 <= p < 1, p the feature); 1 more like it" in text
    )


def test_negative_and_unsorted_times(tmp_path, capsys):
    text = bad(tmp_path, capsys, [(-1, 0, 0, 0), (5, 0, 0, 0), (3, 0, 0, 0)])
    assert "error[simulate-events-time]: event 0 (t=-1, x=0, y=0, p=0) has a negative time" in text
    assert (
        "error[simulate-events-time]: event 2 (t=3, x=0, y=0, p=0) comes before the event ahead of it" in text
    )


def test_wrong_fields_and_dtypes(tmp_path, capsys):
    np.save(tmp_path / "f.npy", np.zeros(3, [("ts", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")]))
    text = bad(tmp_path, capsys, events=tmp_path / "f.npy")
    assert "f.npy: error[simulate-events-fields]: the events have no field t (found: p, ts, x, y)" in text
    np.save(tmp_path / "g.npy", np.zeros(3, [("t", "<f8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")]))
    text = bad(tmp_path, capsys, events=tmp_path / "g.npy")
    assert "error[simulate-events-fields]: field t holds float64, not integers" in text
    np.save(tmp_path / "h.npy", np.array([{"t": 1}], dtype=object), allow_pickle=True)
    text = bad(tmp_path, capsys, events=tmp_path / "h.npy")
    assert "h.npy: error[simulate-events-read]: the file holds Python objects (a pickle), which are " \
        "refused" in text
    (tmp_path / "e.csv").write_text("t,x,y,p\n", encoding="utf-8")
    assert "error[simulate-events-read]: unknown events format '.csv'" in bad(
        tmp_path, capsys, events=tmp_path / "e.csv"
    )


def test_structure_only_document(tmp_path, capsys, chain):
    network, _ = chain
    doc = dynapcnn_dsl.build(network).data
    text = bad(tmp_path, capsys, [(0, 0, 0, 0)], doc=doc)
    assert "d.json: error[simulate-structure-only]: the document was built without weights" in text


def test_hand_edited_document(tmp_path, capsys):
    doc = document({0: core(1, 4, 4, 1, 1, weights=ONE)}, shape=(1, 4, 4))
    doc["config"]["cnn_layers"][0]["weights"] = np.zeros((1, 1, 2, 2), np.int32)
    text = bad(tmp_path, capsys, [(0, 0, 0, 0)], doc=doc)
    assert (
        "error[simulate-document]: config.cnn_layers[0].weights: has shape [1, 1, 2, 2], "
        "expected [1, 1, 1, 1]"
    ) in text


def test_runaway_recurrence_names_the_loop(tmp_path, capsys):
    doc = document(
        {
            0: core(1, 1, 1, 1, 1, weights=ONE, to=(dest(1),)),
            1: core(1, 1, 1, 1, 1, weights=ONE, to=(dest(0),)),
        },
        shape=(1, 1, 1),
        names={0: "ping", 1: "pong"},
    )
    text = bad(tmp_path, capsys, [(0, 0, 0, 0)], doc=doc, extra=("--budget", "1000"))
    assert (
        "ev.npy: error[simulate-runaway]: the loop ping -> pong -> ping routed more than 1000 "
        "events for the input event at t=0: it does not settle"
    ) in text


def test_a_settling_loop_runs(tmp_path, capsys):
    doc = document(
        {
            0: core(1, 1, 1, 1, 1, weights=ONE, to=(dest(1),)),
            1: core(1, 1, 1, 1, 1, weights=[[[[5]]]], to=(dest(0),)),
        },
        shape=(1, 1, 1),
    )
    result = dynapcnn_dsl.simulate(doc, {"t": [0, 1], "x": [0, 0], "y": [0, 0], "p": [0, 0]})
    assert [int(e["t"]) for e in result.cores["core1"]] == [1]


def test_usage_errors(tmp_path, capsys, chain):
    network, weights = chain
    events = save_events(tmp_path / "ev.npy", [(0, 0, 0, 0)])
    code, text = cli(capsys, "simulate", str(network), "--events", str(events))
    assert code == 2 and "is a network file: give its weights too" in text
    as_json = tmp_path / "network.json"  # a network written in JSON is not a document
    as_json.write_text(json.dumps(YAML(typ="safe").load(network.read_text())))
    code, text = cli(capsys, "simulate", str(as_json), "--events", str(events))
    assert code == 2 and f"{as_json} is a network file: give its weights too" in text
    code, text = cli(
        capsys, "simulate", str(network), str(weights), "--events", str(events), "-o", str(events)
    )
    assert code == 2 and f"would overwrite the input {events}; nothing was written" in text
    code, text = cli(capsys, "simulate", str(network), str(weights), "--events", str(tmp_path / "none.npy"))
    assert code == 2 and "no such file" in text


def test_python_api_and_document_method(chain):
    network, weights = chain
    doc = dynapcnn_dsl.build(network, weights, annotate=True)
    events = {"t": np.arange(50), "x": np.arange(50) % 16, "y": np.arange(50) % 7, "p": np.arange(50) % 2}
    a = doc.simulate(events, record="all")
    b = dynapcnn_dsl.simulate(network, events, weights=weights, record="all")
    assert list(a.cores) == ["a", "b"]
    assert all(np.array_equal(a.cores[k], b.cores[k]) for k in a.cores)
    with pytest.raises(dynapcnn_dsl.simulator.SimulationError) as exc:
        doc.simulate({"t": [1], "x": [99], "y": [0], "p": [0]})
    assert [d.code for d in exc.value.diagnostics] == ["simulate-events-map"]


def test_validate_and_build_do_not_import_the_simulator(tmp_path, chain):
    network, weights = chain
    for argv in (
        ["validate", str(network)],
        ["build", str(network), str(weights), "-o", str(tmp_path / "c.json")],
    ):
        loaded, _ = modules_loaded(argv)
        assert loaded & {"numba", "dynapcnn_dsl.simulator"} == set(), argv


CACHE_PROBE = """
import os, numpy as np, dynapcnn_dsl
from simulate_docs import core, document
doc = document({0: core(1, 1, 1, 1, 1, weights=[[[[10]]]])}, shape=(1, 1, 1))
dynapcnn_dsl.simulate(doc, {"t": [0], "x": [0], "y": [0], "p": [0]})
from dynapcnn_dsl.simulator import kernel
print(os.environ["NUMBA_CACHE_DIR"], kernel.run.stats.cache_misses.get(kernel.run.signatures[0], 0),
      sum(kernel.run.stats.cache_hits.values()))
"""


def test_compiled_kernel_is_cached_in_the_user_cache_dir(tmp_path):
    """A second process loads the kernel from the cache instead of compiling it (this test
    process compiled it first, into the same directory, through the other tests)."""
    dynapcnn_dsl.simulate(
        document({0: core(1, 1, 1, 1, 1, weights=ONE)}, shape=(1, 1, 1)),
        {"t": [0], "x": [0], "y": [0], "p": [0]},
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    out = subprocess.run(
        [sys.executable, "-c", CACHE_PROBE], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    assert out[0] == str(Path(base) / "dynapcnn-dsl" / "numba")
    assert out[1] == "0" and int(out[2]) >= 1


@pytest.mark.parametrize("golden", sorted((ROOT / "tests" / "golden").glob("*.samna.json")),
                         ids=lambda p: p.stem)
def test_every_example_document_simulates(golden):
    doc = dynapcnn_dsl.Document.read(golden)
    c, h, w = doc.data["input"]["shape"]
    rng = np.random.default_rng(0)
    channels = 2 if doc.data["input"]["source"] == "dvs" else c
    events = {"t": np.arange(3), "x": rng.integers(0, w, 3), "y": rng.integers(0, h, 3),
              "p": rng.integers(0, channels, 3)}
    result = doc.simulate(events)
    assert result.summary.events_in == 3 and result.summary.synaptic_updates > 0


def _demo_events(horizontal: bool) -> np.ndarray:
    sys.path.insert(0, str(ROOT / "examples" / "dvs-resnet"))
    try:
        from make_events import bar_events
    finally:
        sys.path.pop(0)
    return bar_events(horizontal=horizontal)


def test_the_demo_simulation_names_the_class_of_its_events(tmp_path, capsys):
    """`make demo`'s run: the example built from its weights, the synthetic bar events; the
    readout picks class 1 (a vertical bar sweeping sideways) and name_class.py says so."""
    np.save(tmp_path / "events.npy", _demo_events(horizontal=False))
    example = ROOT / "examples" / "dvs-resnet"
    code, text = cli(capsys, "simulate", str(example / "network.yaml"), str(example / "weights.safetensors"),
                     "--events", str(tmp_path / "events.npy"), "--slow-clock-hz", "1000", "--record", "all",
                     "-o", str(tmp_path / "sim.npz"))
    assert code == 0 and "slow clock: 100 ticks" in text
    assert "readout: class 1 (won 99 of 99 ticks with a winner; 99 of 100 ticks had counts)" in text
    with np.load(tmp_path / "sim.npz") as npz:
        assert all(len(npz[name]) > 0 for name in ("stem", "block1.a", "block1.b", "down1.a", "down1.b",
                                                   "block2.b", "classifier"))
        assert len(npz["readout"]) == 100
    named = subprocess.run([sys.executable, str(example / "name_class.py"), str(tmp_path / "sim.npz")],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert named.returncode == 0
    assert named.stdout == "the chip picked class 1: a vertical bar sweeping sideways\n"


@pytest.mark.parametrize("horizontal, intended", [(False, 1), (True, 2)])
def test_the_demo_network_classifies_both_kinds_of_bar(horizontal, intended):
    """Summed over a sweep both bars light every pixel alike: the class comes from the edges
    the stem detects at each moment (make_weights.py)."""
    from dynapcnn_dsl.simulator import predicted_class

    example = ROOT / "examples" / "dvs-resnet"
    doc = dynapcnn_dsl.build(example / "network.yaml", example / "weights.safetensors", annotate=True)
    result = doc.simulate(_demo_events(horizontal), slow_clock_hz=1000)
    assert predicted_class(result) == intended
    totals = result.readout["count"].sum(axis=0)
    assert totals[intended - 1] > 2 * totals[2 - intended]      # not a near tie


LIMIT_PROBE = """
import dynapcnn_dsl
from dynapcnn_dsl.simulator import SimulationError, kernel
from simulate_docs import core, document
kernel.MAX_RECORDED = 5          # read at run time: numba's JIT is disabled in this process
doc = document({0: core(1, 1, 1, 1, 1, weights=[[[[10]]]])}, shape=(1, 1, 1))
try:
    dynapcnn_dsl.simulate(doc, {"t": list(range(9)), "x": [0] * 9, "y": [0] * 9, "p": [0] * 9})
except SimulationError as exc:
    print(exc)
"""


def test_a_run_past_the_recording_limit_stops_with_a_diagnostic():
    """The kernel run as plain Python (NUMBA_DISABLE_JIT) with a limit of 5 recorded events."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    out = subprocess.run([sys.executable, "-c", LIMIT_PROBE], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=env).stdout
    assert "<events>: error[simulate-too-many-events]: more than 5 events recorded by t=5: the run stops " \
           "there" in out


def test_progress_is_reported_per_chunk_up_to_the_total():
    calls = []
    doc = document({0: core(1, 1, 1, 1, 1, weights=ONE)}, shape=(1, 1, 1))
    n = 70_000
    events = {"t": np.arange(n), "x": np.zeros(n, int), "y": np.zeros(n, int), "p": np.zeros(n, int)}
    dynapcnn_dsl.simulate(doc, events, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(65_536, n), (n, n)]


@pytest.mark.parametrize(("signum", "code"), [(2, 130), (15, 143)])
def test_a_signal_stops_a_long_simulation_at_once_without_output(tmp_path, signum, code):
    """The kernel runs in bounded calls, so SIGINT/SIGTERM end a run of minutes within a second
    or so: the usual exit status, and no .npz (not even a partial one) beside the output."""
    import signal
    import time

    doc = document({0: core(64, 16, 16, 64, 7, padding=(3, 3), wrange=(-1, 2), monitor=False)},
                   shape=(64, 16, 16))
    config = save_doc(tmp_path / "c.json", doc)
    counts = np.full((1000, 64, 4, 4), 2, np.uint8)            # 2 M events, each 64 x 49 updates
    np.save(tmp_path / "dense.npy", counts)
    dynapcnn_dsl.simulate(doc, {"t": [0], "x": [0], "y": [0], "p": [0]})   # the kernel compiled, cached
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "dynapcnn_dsl", "simulate", str(config), "--events",
                             str(tmp_path / "dense.npy"), "--bin-us", "10", "-o", str(tmp_path / "out.npz")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)                                               # imported, events read, simulating
    assert proc.poll() is None
    sent = time.perf_counter()
    proc.send_signal(signal.Signals(signum))
    _, err = proc.communicate(timeout=30)
    waited = time.perf_counter() - sent
    assert proc.returncode == code, err
    assert "Traceback" not in err and waited < 5            # generous: the machine may be busy
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "dense.npy"]

"""`evaluate` when a run is cut short or a worker dies: a Dask worker process (or every one)
killed mid-run, two configurations on one cluster at once, a recording that kills its pool
worker every time, the command line interrupted by SIGINT or SIGTERM (the usual exit status, no
traceback, a results CSV of whole rows that `--resume` completes into the rows of an
uninterrupted run), and `--resume` after a row cut short. The runs that could hang (a cluster,
a pool, a subprocess) have a deadline, so a regression fails CI rather than stalling it."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, cli
from simulate_docs import core, document

import dynapcnn_dsl
from dynapcnn_dsl.config.writer import to_json

EV = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
SIDE = 16


def make_doc():
    """One monitored core, 8 features over a 16 x 16 map: a recording of 20,000 events takes
    some tens of milliseconds, so a run of a few dozen is still going when it is interrupted."""
    return document({0: core(1, SIDE, SIDE, 8, 3, padding=(1, 1), rng=np.random.default_rng(1))},
                    shape=(1, SIDE, SIDE))


def recording(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` events at 10 µs, more of them in one corner (which one varies), so that recordings
    differ in their spike counts and their class."""
    ev = np.zeros(n, EV)
    corner = rng.integers(0, SIDE // 2, 2)
    near = rng.random(n) < 0.5
    ev["t"] = np.arange(n) * 10
    ev["x"] = np.where(near, corner[0] + rng.integers(0, SIDE // 2, n), rng.integers(0, SIDE, n))
    ev["y"] = np.where(near, corner[1] + rng.integers(0, SIDE // 2, n), rng.integers(0, SIDE, n))
    return ev


def outcomes(evaluation) -> list[tuple]:
    return [(r.file, r.label, r.prediction, r.events, r.spikes, r.error) for r in evaluation.rows]


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail, rather than hang CI, if a run never ends (pytest-timeout is not a dependency)."""
    def expired(signum, frame) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def pairs_and_expected():
    """Twelve recordings of 20,000 to 31,000 events and their rows in one process."""
    rng = np.random.default_rng(3)
    pairs = [(recording(rng, 20_000 + 1000 * i), str(i % 3)) for i in range(12)]
    return pairs, outcomes(dynapcnn_dsl.evaluate(make_doc(), pairs, jobs=1))


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Fatal:
    """A recording that kills the worker process it reaches (unpickled there), as one that
    runs it out of memory does."""

    def __reduce__(self):
        return _die, ()


def test_a_recording_that_kills_its_worker_fails_alone():
    """Every pool it is in breaks, leaving the recordings queued beside it unfinished too: those
    run again and come back; only the killer, which then kills a pool of its own, is a failed row."""
    rng = np.random.default_rng(4)
    pairs = [(recording(rng, 4000), str(i % 3)) for i in range(12)]
    expected = dynapcnn_dsl.evaluate(make_doc(), pairs, jobs=1)
    with deadline(120):
        result = dynapcnn_dsl.evaluate(make_doc(), [(Fatal(), "0"), *pairs], jobs=2)
    assert [r.error for r in result.failed] == \
        ["its worker process died 5 times, the last one running it alone (out of memory? killed?)"]
    assert [(r.label, r.prediction, r.events, r.spikes, r.error) for r in result.rows[1:]] == \
        [(r.label, r.prediction, r.events, r.spikes, "") for r in expected.rows]


@pytest.mark.parametrize("victims", ["one", "every"])
def test_a_dask_worker_killed_mid_run_and_the_run_completes(pairs_and_expected, victims):
    """A LocalCluster of two worker processes (each with its nanny); one worker, or both, is
    killed (SIGKILL) when the first row comes back, while it still holds recordings to run.
    Its tasks are rescheduled, the nanny starts a new worker without the configuration (with
    both gone, no worker has it: the scheduler runs its task again), and every recording comes
    back as in one process, none failed."""
    distributed = pytest.importorskip("dask.distributed")
    pairs, expected = pairs_and_expected
    killed: list[str] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as watcher:
        pids = watcher.run(os.getpid)             # {worker address: its process id}

        def kill(row) -> None:
            if killed:
                return
            busy = watcher.processing()           # {worker address: the tasks it holds}
            chosen = list(pids) if victims == "every" else [max(pids, key=lambda a: len(busy.get(a, ())))]
            for address in chosen:
                if busy.get(address):
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append(address)

        with deadline(120):
            result = dynapcnn_dsl.evaluate(make_doc(), pairs, scheduler=cluster.scheduler_address,
                                           on_row=kill)
    assert len(killed) == (2 if victims == "every" else 1), "no worker held a recording at the first row"
    assert outcomes(result) == expected
    assert not result.failed


def test_two_configurations_on_one_cluster_at_once_each_run_their_own():
    """A shared cluster: a second evaluation, of other weights, starts while the first is
    running (from its first row). Each configuration is sent under a name of its own, so
    neither run gets the other's, and neither worker thread runs one with the other's."""
    distributed = pytest.importorskip("dask.distributed")
    rng = np.random.default_rng(5)
    pairs = [(recording(rng, 4000), str(i % 3)) for i in range(8)]
    other = document({0: core(1, SIDE, SIDE, 8, 3, padding=(1, 1), rng=np.random.default_rng(2))},
                     shape=(1, SIDE, SIDE))
    expected = [outcomes(dynapcnn_dsl.evaluate(doc, pairs, jobs=1)) for doc in (make_doc(), other)]
    assert expected[0] != expected[1]
    second = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        def start_the_other(row) -> None:
            if not second:
                second.append(dynapcnn_dsl.evaluate(other, pairs, scheduler=cluster.scheduler_address))

        with deadline(120):
            first = dynapcnn_dsl.evaluate(make_doc(), pairs, scheduler=cluster.scheduler_address,
                                          on_row=start_the_other)
    assert [outcomes(first), outcomes(second[0])] == expected


RECORDINGS = 30


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, Path, list[dict[str, str]]]:
    """c.json, ds/<label>/r<i>.npy (thirty recordings of 20,000 events: a run of a second or
    two) and the rows of an uninterrupted run."""
    root = tmp_path_factory.mktemp("interrupted")
    config = root / "c.json"
    config.write_text(to_json(make_doc()), encoding="utf-8")
    rng = np.random.default_rng(0)
    for i in range(RECORDINGS):
        folder = root / "ds" / str(i % 3)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / f"r{i:02d}.npy", recording(rng, 20_000))
    from dynapcnn_dsl.cli import run

    assert run(["evaluate", str(config), "--dataset", str(root / "ds"), "-o", str(root / "full.csv"),
                "--jobs", "1", "--format", "json"]) == 0
    return config, root / "ds", rows_of(root / "full.csv")


def rows_of(path: Path) -> list[dict[str, str]]:
    """The CSV's rows, without the time each took, in the dataset's order."""
    with path.open(newline="", encoding="utf-8") as fh:
        return sorted(({k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(fh)),
                      key=lambda r: r["file"])


@pytest.mark.parametrize(("signum", "group", "jobs", "code"), [
    (signal.SIGINT, True, 1, 130),       # Ctrl-C on a terminal: the whole process group
    (signal.SIGTERM, False, 1, 143),
    (signal.SIGINT, True, 2, 130),       # the pool's workers get the Ctrl-C too
], ids=["sigint", "sigterm", "sigint-jobs2"])
def test_an_interrupted_run_keeps_whole_rows_and_resume_completes_it(dataset, tmp_path, capsys,
                                                                    signum, group, jobs, code):
    """The CLI is signalled once the results CSV has a few rows: it stops soon (not after the
    recordings it had queued), with the usual exit status and one line on stderr, no traceback;
    the CSV holds its header and whole rows only; `--resume` runs the rest, and the rows are
    those of an uninterrupted run."""
    config, folder, full = dataset
    results = tmp_path / "r.csv"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "dynapcnn_dsl", "evaluate", str(config), "--dataset",
                             str(folder), "-o", str(results), "--jobs", str(jobs)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if results.is_file() and results.read_text(encoding="utf-8").count("\n") >= 4:
                break                                   # the header and three rows
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        if group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert err.strip() == ("interrupted" if signum == signal.SIGINT else "terminated")

    text = results.read_text(encoding="utf-8")
    assert text.endswith("\n")
    header, *lines = list(csv.reader(text.splitlines()))
    assert header[0] == "file" and all(len(line) == len(header) for line in lines)
    kept = rows_of(results)
    assert 3 <= len(kept) < RECORDINGS - jobs - 2, "the run had nearly finished: nothing was tested"
    assert all(row in full for row in kept)

    status, out = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "-o", str(results),
                      "--resume", "--jobs", "1")
    assert status == 0, out
    assert rows_of(results) == full


def test_resume_after_a_row_cut_short_runs_that_recording_again(dataset, tmp_path, capsys):
    """A run killed (SIGKILL, out of memory, a full disk) while writing a row leaves it cut short,
    without its newline: `--resume` does not keep it (nor fail on it), and runs it again."""
    config, folder, full = dataset
    results = tmp_path / "r.csv"
    lines = (folder.parent / "full.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    for cut in ("", "\n"):                               # cut in a field, and before its last field
        line = lines[-2]
        results.write_text("".join(lines[:-2]) + (line[:len(line) // 2] if not cut else
                                                  line[:line.rindex(",")] + cut), encoding="utf-8")
        status, out = cli(capsys, "evaluate", str(config), "--dataset", str(folder), "-o", str(results),
                          "--resume", "--jobs", "1")
        assert status == 0, out
        assert rows_of(results) == full

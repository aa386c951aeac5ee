"""`evaluate` when a run is cut short: a Dask worker process killed mid-run (the run completes,
every recording as a run in one process gives it), and the command line interrupted by SIGINT
or SIGTERM (the usual exit status, no traceback, a results CSV of whole rows that `--resume`
completes into the rows of an uninterrupted run)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from simulate_docs import core, document

import dynapcnn_dsl

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


@pytest.fixture(scope="module")
def pairs_and_expected():
    """Twelve recordings of 20,000 to 31,000 events and their rows in one process."""
    rng = np.random.default_rng(3)
    pairs = [(recording(rng, 20_000 + 1000 * i), str(i % 3)) for i in range(12)]
    return pairs, outcomes(dynapcnn_dsl.evaluate(make_doc(), pairs, jobs=1))


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

        result = dynapcnn_dsl.evaluate(make_doc(), pairs, scheduler=cluster.scheduler_address, on_row=kill)
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

        first = dynapcnn_dsl.evaluate(make_doc(), pairs, scheduler=cluster.scheduler_address,
                                      on_row=start_the_other)
    assert [outcomes(first), outcomes(second[0])] == expected

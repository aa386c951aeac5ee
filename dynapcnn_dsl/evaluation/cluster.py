"""Recordings on an existing Dask distributed cluster (`--scheduler tcp://host:8786`).

Optional (`pip install dynapcnn-dsl[cluster]`) and imported only when a scheduler is given.
The configuration travels once, as a task of its own whose result is copied to every worker
(`replicate`), and each recording is a task that depends on it: a worker checks it on its first
recording and keeps it. Not `scatter`: scattered data is lost for good when every worker holding
it dies (a one-worker cluster, preempted machines) and each recording left would fail, whereas
a task the scheduler runs again. Its key is the configuration's hash, so two evaluations on
one shared cluster never get each other's. Dask reschedules the tasks of a worker that dies (up
to its `allowed-failures`); a recording that keeps failing comes back as a row with the reason,
and the run goes on.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Sequence
from typing import Any

from dynapcnn_dsl.diagnostics import error
from dynapcnn_dsl.evaluation.dataset import Recording
from dynapcnn_dsl.evaluation.runner import RETRIES, EvaluationError
from dynapcnn_dsl.evaluation.worker import Options, Row, run_batch, unpack

CONNECT_SECONDS = 5


def on_cluster(address: str, data: dict[str, Any], options: Options, todo: Sequence[Recording],
               on_row: Callable[[Row], None]) -> None:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise EvaluationError(error(
            address, "evaluate-scheduler", "running on a Dask cluster needs dask.distributed",
            "install it: pip install 'dynapcnn-dsl[cluster]'")) from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise EvaluationError(error(
            address, "evaluate-scheduler", f"cannot reach the Dask scheduler: {exc}",
            "start one with `dask scheduler` (and workers), or check the address")) from None
    payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(payload).hexdigest()[:32]
    with client:
        document = client.submit(unpack, payload, key=f"dynapcnn-configuration-{digest}")
        client.replicate([document])     # on every worker now: no recording waits for a copy
        futures = {client.submit(run_batch, digest, document, options, [(r.file, r.label, r.source)],
                                 retries=RETRIES, pure=False): r for r in todo}
        for future in as_completed(futures):
            r = futures[future]
            try:
                for row in future.result():
                    on_row(row)
            except Exception as exc:
                on_row(Row(r.file, r.label, None, 0, 0.0, 0, {},
                           f"failed on the cluster: {type(exc).__name__}: {exc}"))

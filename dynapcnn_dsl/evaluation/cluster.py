"""Recordings on an existing Dask distributed cluster (`--scheduler tcp://host:8786`).

Optional (`pip install dynapcnn-dsl[cluster]`) and imported only when a scheduler is given.
The configuration is scattered once to every worker (broadcast), and each task names it: a
worker installs it on its first recording and keeps it. Dask reschedules the tasks of a worker
that dies (up to its `allowed-failures`); a recording that keeps failing comes back as a row
with the reason, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dynapcnn_dsl.diagnostics import error
from dynapcnn_dsl.evaluation.dataset import Recording
from dynapcnn_dsl.evaluation.runner import RETRIES, EvaluationError
from dynapcnn_dsl.evaluation.worker import Options, Row, run_batch

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
    with client:
        document = client.scatter(data, broadcast=True)
        futures = {client.submit(run_batch, document, options, [(r.file, r.label, r.source)],
                                 retries=RETRIES, pure=False): r for r in todo}
        for future in as_completed(futures):
            r = futures[future]
            try:
                for row in future.result():
                    on_row(row)
            except Exception as exc:
                on_row(Row(r.file, r.label, None, 0, 0.0, 0, {},
                           f"failed on the cluster: {type(exc).__name__}: {exc}"))

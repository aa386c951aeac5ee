"""Run a configuration over a labelled dataset: every recording alone, from the initial state.

Recordings run in this process (`jobs=1`), in a pool of worker processes (`jobs=N`), or on a
Dask cluster (`scheduler=`, cluster.py). Each worker gets the configuration once. Rows are
handed to `on_row` as recordings finish (the CLI appends them to the results CSV), and the
result lists them in the dataset's order, so the figures do not depend on who ran what.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynapcnn_dsl.diagnostics import DslError, error
from dynapcnn_dsl.evaluation.dataset import DatasetError, Recording, from_pairs, read_dataset
from dynapcnn_dsl.evaluation.result import Evaluation
from dynapcnn_dsl.evaluation.worker import Options, Row, install, run_recording

if TYPE_CHECKING:
    from dynapcnn_dsl.evaluation.model import ModelSpec

RETRIES = 3
"""Times a recording is tried again in a new pool after a worker process died with it unfinished
(then it runs once more alone, to be sure it is the one that kills its worker); on a Dask
cluster, the times a task that raised is tried again."""


class EvaluationError(DslError):
    """The configuration or the dataset cannot be evaluated; `diagnostics` says why."""


def document_data(config: Any, *, weights: Any = None, key: str | None = None) -> tuple[dict[str, Any], str]:
    """The configuration's data tree and its name, from whatever `simulate` accepts."""
    from dynapcnn_dsl.api import Document, build

    if isinstance(config, str | Path):
        if weights is not None:
            return build(config, weights, key=key, annotate=True).data, str(config)
        from dynapcnn_dsl.config.reader import read_document

        data, problems = read_document(config)
        if data is None:
            raise EvaluationError(problems)
        return data, str(config)
    if isinstance(config, Document):
        return config.data, "<document>"
    return config, "<document>"


def decide_options(data: dict[str, Any], file: str, output: str | None,
                   slow_clock_hz: float | None) -> tuple[Options, bool, tuple[str, ...]]:
    """Who decides a recording's class (SIMULATION.md): the readout, unless `output` names a
    core; without a readout, the one monitored core. Returns the options, whether the readout
    decides, and the cores' names."""
    from dynapcnn_dsl.simulator.machine import read_machine

    machine, problems = read_machine(data, file)
    if machine is None:
        raise EvaluationError(problems)
    names = tuple(c.name for c in machine.used)
    if output is not None:
        if output not in names:
            raise EvaluationError(error(file, "evaluate-output", f"--output {output}: no such core",
                                        f"the cores are {', '.join(names)}"))
        core = next(c for c in machine.used if c.name == output)
        return Options(output, slow_clock_hz, "monitored" if core.monitor else "all"), False, names
    if machine.readout is not None:
        return Options(None, slow_clock_hz), True, names
    monitored = [c.name for c in machine.used if c.monitor]
    if len(monitored) != 1:
        raise EvaluationError(error(
            file, "evaluate-output",
            f"no readout and {len(monitored)} monitored cores: which one decides the class?",
            f"choose one with --output CORE ({', '.join(names)})"))
    return Options(monitored[0], slow_clock_hz), False, names


def recordings_of(dataset: Any) -> list[Recording]:
    try:
        return read_dataset(dataset) if isinstance(dataset, str | Path) else from_pairs(dataset)
    except DatasetError as exc:
        raise EvaluationError(exc.diagnostics) from None


def _in_process(data: dict[str, Any], options: Options, todo: Sequence[Recording],
                on_row: Callable[[Row], None]) -> None:
    install(data, options)
    for r in todo:
        on_row(run_recording(r.file, r.label, r.source))


def _pool_worker(data: dict[str, Any], options: Options) -> None:
    """A pool worker's start. An interrupt is this process's to handle (it drops what is queued
    and stops the pool): a terminal's Ctrl-C reaches the whole process group, and a forked
    worker would otherwise raise it wherever it is, with a traceback. SIGTERM ends it at once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    install(data, options)


def _in_pool(data: dict[str, Any], options: Options, todo: Sequence[Recording], jobs: int,
             on_row: Callable[[Row], None]) -> None:
    """Worker processes, the configuration sent once to each (the pool's initializer). A
    worker that dies breaks the pool: the recordings not finished run again in a new pool. One
    left unfinished by more than RETRIES broken pools then runs alone, in a pool of its own, so
    that only a recording that kills its worker by itself is reported (with the reason), not
    those that happened to be queued beside it. Interrupted, the run stops after the recordings
    in progress, not after every one queued."""
    import multiprocessing

    attempts = dict.fromkeys(range(len(todo)), 0)
    left = list(range(len(todo)))
    # fork: a worker starts with what this process imported and compiled (numba's kernel), in
    # milliseconds; spawning one re-imports all of it (seconds)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    while left:
        broken = _pool_round(context, data, options, todo, left, jobs, on_row)
        for i in broken:
            attempts[i] += 1
        left = [i for i in broken if attempts[i] <= RETRIES]
        for i in broken:
            if attempts[i] > RETRIES and _pool_round(context, data, options, todo, [i], 1, on_row):
                r, n = todo[i], attempts[i] + 1
                on_row(Row(r.file, r.label, None, 0, 0.0, 0, {},
                           f"its worker process died {n} times, the last one running it alone "
                           "(out of memory? killed?)"))


def _pool_round(context: Any, data: dict[str, Any], options: Options, todo: Sequence[Recording],
                indices: Sequence[int], jobs: int, on_row: Callable[[Row], None]) -> list[int]:
    """Run `todo[indices]` in a new pool of `jobs` workers; returns those left unfinished when
    a worker died and broke the pool."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    broken = []
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_pool_worker, initargs=(data, options))
    try:
        futures = {pool.submit(run_recording, todo[i].file, todo[i].label, todo[i].source): i
                   for i in indices}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    on_row(future.result())
                except BrokenProcessPool:
                    broken.append(futures[future])
    finally:      # all done, or interrupted: then the queued recordings are dropped, not run
        pool.shutdown(cancel_futures=True)
    return broken


def model_spec(model: str, network: Any, weights: Any, key: str | None, options: Options,
               bin_us: int) -> ModelSpec:
    """The model's spec, checked here by loading it once (a worker loads it again)."""
    from dynapcnn_dsl.api import build
    from dynapcnn_dsl.evaluation.model import ModelSpec, load
    from dynapcnn_dsl.importer.from_torch import ImportFailure

    if weights is None or not isinstance(network, str | Path):
        raise EvaluationError(error(
            str(model), "evaluate-model", "--model needs the network file and its weights",
            "evaluate NETWORK WEIGHTS --model FILE.py:NAME (the model loads the same weights)"))
    linked = build(network, weights, key=key, annotate=True).linked
    deciding = options.record_core or (linked.readout.source if linked.readout else None)
    core = next(c for c in linked.cores if c.name == deciding)
    names = tuple(f"{c.weights}.weight" for c in linked.cores)
    spec = ModelSpec(model, str(weights), key, names, core.weights, tuple(linked.input.shape), bin_us,
                     options.record_core is None)
    try:
        load(spec)
    except ImportFailure as exc:
        raise EvaluationError(error(
            model, "evaluate-model", f"cannot run the model: {exc.message}", exc.hint)) from None
    except DslError as exc:      # its weights file (read by the build just before) became unreadable
        reasons = "; ".join(d.message for d in exc.diagnostics if d.is_error)
        raise EvaluationError(error(model, "evaluate-model", f"cannot run the model: {reasons}")) from None
    return spec


def evaluate(config: Any, dataset: Any, *, weights: Any = None, key: str | None = None,
             output: str | None = None, slow_clock_hz: float | None = None, jobs: int = 1,
             scheduler: str | None = None, model: str | None = None, bin_us: int = 1000,
             done: Sequence[Row] = (), on_row: Callable[[Row], None] | None = None) -> Evaluation:
    """Run `config` (a Document, its data, a .json, or a network with `weights`) over `dataset`
    (a folder, or a sequence of (events, label) pairs such as a tonic dataset) and return an
    Evaluation. `model` (FILE.py:NAME, with a network and `weights`) runs the torch model on
    each recording too, binned at `bin_us`. `done`: rows of an earlier run to keep (resume);
    their recordings are skipped. Raises EvaluationError (or BuildError for a network that does not build)."""
    if jobs < 1:
        raise EvaluationError(error("--jobs", "evaluate-jobs", f"--jobs must be at least 1, not {jobs}"))
    data, file = document_data(config, weights=weights, key=key)
    options, by_readout, cores = decide_options(data, file, output, slow_clock_hz)
    if model is not None:
        options = replace(options, model=model_spec(model, config, weights, key, options, bin_us))
    recordings = recordings_of(dataset)
    kept = {r.file: r for r in done}
    todo = [r for r in recordings if r.file not in kept]
    rows: dict[str, Row] = {}

    def collect(row: Row) -> None:
        rows[row.file] = row
        if on_row is not None:
            on_row(row)

    start = time.perf_counter()
    if scheduler is not None:
        from dynapcnn_dsl.evaluation.cluster import on_cluster

        on_cluster(scheduler, data, options, todo, collect)
    elif jobs == 1 or len(todo) <= 1:
        _in_process(data, options, todo, collect)
    else:
        _in_pool(data, options, todo, min(jobs, len(todo)), collect)
    wall = time.perf_counter() - start
    ordered = [rows.get(r.file) or kept[r.file] for r in recordings]
    return Evaluation.of(ordered, by_readout, wall, cores, model is not None)

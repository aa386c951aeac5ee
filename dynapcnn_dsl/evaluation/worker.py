"""One recording, run where a worker runs it (this process, a pool process, a Dask worker).

The configuration reaches a worker once (`install`, a pool's initializer or a Dask worker's
first task), not once per recording; `run_recording` then simulates one recording from the
configuration's initial state and returns a plain row. A recording that cannot be read or run
comes back as a row with its reason, so it never sinks the run.
"""

from __future__ import annotations

import pickle
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Options:
    record_core: str | None          # the core whose spikes decide; None: the readout decides
    slow_clock_hz: float | None
    record: str = "monitored"        # "all" when the deciding core is not monitored
    model: Any = None                # a ModelSpec: the torch model runs on each recording too


@dataclass(frozen=True)
class Row:
    """What one recording gave. `prediction` is the class (readout, 1-based) or the feature;
    None without any output spike. `error` says why a recording could not be run."""

    file: str
    label: str
    prediction: int | None
    events: int
    seconds: float
    duration_us: int
    spikes: dict[str, int] = field(default_factory=dict)
    error: str = ""
    model_prediction: int | None = None      # with --model: the torch model's class


_INSTALLED: dict[str, Any] = {}
"""This process's configuration, options and model (`install`: this process or a pool's)."""

_ON_CLUSTER: dict[tuple[str, Options], dict[str, Any]] = {}
"""A Dask worker's configurations by their digest: its threads may run tasks of several
evaluations at once (a shared cluster), so none reads another's from one slot."""
_KEPT_ON_CLUSTER = 4
_LOCK = threading.Lock()


def _typed(document: dict[str, Any]) -> Any:
    """The configuration as typed values, checked once here (config.runnable: the reader's
    schema and tensor checks, then what a run needs), so that each recording only builds its
    machine from typed fields: checking a tree costs more than simulating a short recording. A
    configuration that does not pass is left as it is: simulate says why, per recording."""
    from dynapcnn_dsl.config.runnable import check

    typed, _ = check(document)
    return document if typed is None else typed


def _installed(document: dict[str, Any], options: Options) -> dict[str, Any]:
    return {"document": _typed(document), "options": options}


def install(document: dict[str, Any], options: Options) -> None:
    """Keep the configuration and the options in this process, for every recording after."""
    _INSTALLED.clear()
    _INSTALLED.update(_installed(document, options))


def run_recording(file: str, label: str, source: Any) -> Row:
    """Simulate one recording (a path or an events array) with the installed configuration."""
    return _run(_INSTALLED, file, label, source)


def _run(installed: dict[str, Any], file: str, label: str, source: Any) -> Row:
    from dynapcnn_dsl.simulator import EventsError, SimulationError, from_columns, read_events
    from dynapcnn_dsl.simulator.prediction import class_of
    from dynapcnn_dsl.simulator.run import simulate_document

    document, options = installed["document"], installed["options"]
    start = time.perf_counter()
    try:
        if isinstance(source, str) or hasattr(source, "__fspath__"):
            events = read_events(source)
        else:
            events = from_columns(source, file)
        result = simulate_document(document, events, file="<config>", events_file=file,
                                   record=options.record, slow_clock_hz=options.slow_clock_hz)
    except (EventsError, SimulationError) as exc:
        reason = "; ".join(f"{d.message}" for d in exc.diagnostics if d.is_error) or str(exc)
        return Row(file, label, None, 0, time.perf_counter() - start, 0, {}, reason)
    except (OSError, ValueError, TypeError) as exc:   # an unreadable file, a malformed array
        return Row(file, label, None, 0, time.perf_counter() - start, 0, {},
                   f"cannot read the recording: {exc}")
    spikes = {c.name: c.spikes for c in result.summary.cores}
    chosen = result.cores.get(options.record_core) if options.record_core else None
    prediction = class_of(result.readout if options.record_core is None else None, chosen)
    t = events["t"]
    duration = int(t[-1] - t[0]) if len(t) else 0
    model = None
    if options.model is not None:
        from dynapcnn_dsl.evaluation.model import load, model_class
        from dynapcnn_dsl.verify.compare import ModelFailure

        if "model" not in installed:            # loaded once per worker, on its first recording
            installed["model"] = load(options.model)
        try:
            model = model_class(*installed["model"], events, options.model)
        except (ModelFailure, SimulationError) as exc:   # the model's own failure, or too many bins
            return Row(file, label, prediction, len(events), time.perf_counter() - start, duration, spikes,
                       f"the model: {exc.diagnostic.message}")
    return Row(file, label, prediction, len(events), time.perf_counter() - start, duration, spikes,
               model_prediction=model)


def unpack(payload: bytes) -> dict[str, Any]:
    """The configuration from the bytes its Dask task carries (cluster.py): a task, not
    scattered data, so that the scheduler can run it again when every worker holding it died.
    The bytes are this run's own, pickled by its client (as Dask pickles every task), never a
    file's; and bytes, not the tree, so that Dask does not walk a large configuration for futures."""
    return pickle.loads(payload)


def run_batch(digest: str, document: dict[str, Any], options: Options,
              items: list[tuple[str, str, Any]]) -> list[Row]:
    """A batch of recordings on a Dask worker: the configuration `digest` (its payload's hash)
    is checked once per worker and kept, with the few others its threads ran last."""
    with _LOCK:
        installed = _ON_CLUSTER.pop((digest, options), None) or _installed(document, options)
        _ON_CLUSTER[digest, options] = installed          # the most recent last
        while len(_ON_CLUSTER) > _KEPT_ON_CLUSTER:
            del _ON_CLUSTER[next(iter(_ON_CLUSTER))]
    return [_run(installed, *item) for item in items]

"""Phase: run a configuration document on the host, event by event, as the chip computes it.

The semantics are shared/SIMULATION.md's (docs/simulation.md lists every assumption): integer
state, depth-first routing, at most one spike per neuron per event. Nothing before this phase
imports it (validate and build never load numba).

`dynapcnn_dsl.simulate(...)` is both this package and the API function: the package is callable
(dynapcnn_dsl.callable_package), because `import dynapcnn_dsl.simulate` would otherwise
replace a function of that name on `dynapcnn_dsl` with the module.
"""

from __future__ import annotations

from dynapcnn_dsl.callable_package import make_callable
from dynapcnn_dsl.simulate.events import (
    EVENT,
    EventsError,
    SensorPlacement,
    from_columns,
    from_dense,
    read_events,
)
from dynapcnn_dsl.simulate.prediction import predicted_class
from dynapcnn_dsl.simulate.run import SimulationError, SimulationResult, Summary, simulate_document

__all__ = ["EVENT", "EventsError", "SensorPlacement", "SimulationError", "SimulationResult", "Summary",
           "from_columns", "from_dense", "predicted_class", "read_events", "simulate_document"]

make_callable(__name__)

"""Phase: run a configuration document on the host, event by event, as the chip computes it.

The semantics are shared/SIMULATION.md's (docs/simulation.md lists every assumption): integer
state, depth-first routing, at most one spike per neuron per event. Nothing before this phase
imports it (validate and build never load numba).

The package is `simulator` and the API function `dynapcnn_dsl.simulate(...)`: two names, so
importing the phase never replaces the function on `dynapcnn_dsl`.
"""

from __future__ import annotations

from dynapcnn_dsl.simulator.events import (
    EVENT,
    EventsError,
    SensorPlacement,
    from_columns,
    from_dense,
    read_events,
)
from dynapcnn_dsl.simulator.prediction import predicted_class
from dynapcnn_dsl.simulator.run import SimulationError, SimulationResult, Summary, simulate_document

__all__ = ["EVENT", "EventsError", "SensorPlacement", "SimulationError", "SimulationResult", "Summary",
           "from_columns", "from_dense", "predicted_class", "read_events", "simulate_document"]

"""Phase: a configuration's accuracy over a labelled dataset (docs/evaluate.md).

Each recording is simulated alone (dynapcnn_dsl.simulate), its class predicted by
simulator/prediction.py's rule, in this process, in worker processes or on a Dask cluster.
"""

from __future__ import annotations

from dynapcnn_dsl.evaluation.result import Evaluation
from dynapcnn_dsl.evaluation.runner import EvaluationError, evaluate
from dynapcnn_dsl.evaluation.worker import Row

__all__ = ["Evaluation", "EvaluationError", "Row", "evaluate"]

"""dynapcnn-dsl: a declarative language for DynapCNN / Speck neuromorphic chip configurations.

The package is a pipeline of small phases with plain data between them:
load (YAML/JSON with positions) -> expand (defaults, templates) -> model (pydantic) -> rules
-> link -> bind weights -> emit. `dynapcnn_dsl.build(network, weights)` runs all of it; `check`,
`validate`, `inspect` and `diff` are the other commands as functions (dynapcnn_dsl.api). Every
failure any of them raises for a bad input is a `DslError` carrying its `diagnostics`.
Importing the package is cheap; phases are imported where they are used.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["BuildError", "Differences", "Document", "DslError", "__version__", "build", "check", "compare",
           "diff", "evaluate", "inspect", "simulate", "validate"]


def __getattr__(name: str) -> Any:
    """The API is imported on first use, so `import dynapcnn_dsl` stays cheap."""
    if name in ("build", "check", "validate", "inspect", "simulate", "diff", "Differences", "Document",
                "BuildError", "DslError"):
        from dynapcnn_dsl import api

        return getattr(api, name)
    if name == "evaluate":  # a configuration's accuracy over a labelled dataset
        from dynapcnn_dsl.evaluation import evaluate

        return evaluate
    if name == "compare":  # the chip's simulation against the torch model (verify/)
        from dynapcnn_dsl.verify.compare import compare

        return compare
    raise AttributeError(f"module 'dynapcnn_dsl' has no attribute {name!r}")

"""dynapcnn-dsl: a declarative language for DynapCNN / Speck neuromorphic chip configurations.

The package is a pipeline of small phases with plain data between them:
load (YAML/JSON with positions) -> expand (defaults, templates) -> model (pydantic) -> rules.
Importing the package is cheap; phases are imported where they are used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

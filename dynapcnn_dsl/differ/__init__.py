"""Compare configurations: a new build against an existing document, two networks, or two
documents.

The package is `differ`; `dynapcnn_dsl.diff(...)` is the API function that calls it.
"""

from dynapcnn_dsl.differ.compare import Change, compare, json_patch, normalize

__all__ = ["Change", "compare", "json_patch", "normalize"]

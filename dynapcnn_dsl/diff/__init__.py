"""Compare configurations: a new build against an existing document, two networks, or two
documents.

`dynapcnn_dsl.diff(...)` is both this package and the API function (dynapcnn_dsl.callable_package).
"""

from dynapcnn_dsl.callable_package import make_callable
from dynapcnn_dsl.diff.compare import Change, compare, json_patch, normalize

__all__ = ["Change", "compare", "json_patch", "normalize"]

make_callable(__name__)

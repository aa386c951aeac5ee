"""Compare configurations: a new build against an existing document, two networks, or two
documents."""

from dynapcnn_dsl.diff.compare import Change, compare, json_patch, normalize

__all__ = ["Change", "compare", "json_patch", "normalize"]

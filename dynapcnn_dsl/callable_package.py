"""A phase package that is also the API function of the same name (`simulate`, `diff`).

`import dynapcnn_dsl.diff` sets the attribute `diff` of `dynapcnn_dsl` to the package, replacing
the function of that name; so the package itself is made callable, and calling it calls
`dynapcnn_dsl.api.<name>`: `dynapcnn_dsl.diff(old, new)` works whichever was imported first.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class ApiPackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """dynapcnn_dsl.<name>(...): see dynapcnn_dsl.api.<name>."""
        from dynapcnn_dsl import api

        return getattr(api, self.__name__.rpartition(".")[2])(*args, **kwargs)


def make_callable(name: str) -> None:
    """Make the package `name` (its `__name__`) callable as the API function it is named after."""
    sys.modules[name].__class__ = ApiPackage

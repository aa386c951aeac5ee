"""Fixtures of the importer's tests."""

from __future__ import annotations

import pytest
from sinabs_samna import sinabs_backend


@pytest.fixture(scope="module")
def backend():
    """sinabs 3.1.3's DynapCNN backend against the strict samna double (tests/sinabs_samna.py)."""
    with sinabs_backend() as module:
        yield module

"""Fixtures shared by the suite; helper functions live in helpers.py (`from helpers import ...`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (  # noqa: F401  (re-exported while tests written against conftest move over)
    BASE,
    CHAIN,
    CORPUS,
    EXAMPLES,
    ROOT,
    check,
    check_model,
    found,
    found_model,
    make_weights,
    only,
    only_model,
    write,
    write_weights,
)


@pytest.fixture
def base() -> str:
    return BASE


@pytest.fixture
def chain(tmp_path) -> tuple[Path, Path]:
    """The CHAIN network (chain.yaml) and its weights (chain.npz, scale 127)."""
    net = write(tmp_path, "chain.yaml", CHAIN)
    return net, make_weights(net, tmp_path / "chain.npz")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden files from the current output (review the diff!)")


@pytest.fixture(scope="module")
def backend():
    """sinabs 3.1.3's DynapCNN backend against the strict samna double (tests/sinabs_samna.py),
    for the parity tests; imported only by the tests that ask for it."""
    from sinabs_samna import sinabs_backend

    with sinabs_backend() as module:
        yield module

"""Commands that need no weights must not import torch, numba or nir (nor numpy, which costs
validate's start-up time), nor the phases they never run, nor the language server (pygls)."""

from __future__ import annotations

from helpers import modules_loaded

NEVER_WITHOUT_WEIGHTS = {"torch", "numba", "nir", "dynapcnn_dsl.simulator", "dynapcnn_dsl.importer",
                         "dynapcnn_dsl.verify", "pygls", "lsprotocol", "dynapcnn_dsl.lsp"}


def test_validate_imports_nothing_heavy():
    loaded, code = modules_loaded(["validate", "--summary", "examples/dvs-speck2f/network.yaml"])
    assert loaded == set()
    assert code == "0"


def test_inspect_imports_neither_torch_nor_numba_nor_nir():
    loaded, code = modules_loaded(["inspect", "examples/dvs-speck2f/network.yaml"])
    assert loaded & NEVER_WITHOUT_WEIGHTS == set()
    assert code == "0"


def test_schema_command_imports_neither_torch_nor_numba_nor_nir():
    loaded, code = modules_loaded(["schema", "-o", "/dev/null"])
    assert loaded & NEVER_WITHOUT_WEIGHTS == set()
    assert code == "0"

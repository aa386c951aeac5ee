"""Hostile NIR files and graphs (issue 19): sizes read from the HDF5 headers and bounded before
any tensor is loaded, malformed graphs (stride 0, nesting, links, long chains) as diagnostics,
never an exception, a hang or gigabytes."""

from __future__ import annotations

import sys

import h5py
import nir
import numpy as np
import pytest

from dynapcnn_dsl import importer
from dynapcnn_dsl.chips import host_limits
from dynapcnn_dsl.weights.readers import MAX_ENTRIES

LIMITS = host_limits()


def conv(c_in: int, c_out: int, seed: int = 0, **extra) -> nir.Conv2d:
    w = np.random.default_rng(seed).uniform(-1, 1, (c_out, c_in, 3, 3)).astype(np.float32)
    fields = {"stride": 1, "padding": 1, "dilation": 1, "groups": 1, **extra}
    return nir.Conv2d(input_shape=np.array([8, 8]), weight=w, bias=np.zeros(c_out, np.float32), **fields)


def neuron(shape=(4, 8, 8)) -> nir.IF:
    return nir.IF(r=np.ones(shape, np.float32), v_threshold=np.full(shape, 2.0, np.float32),
                  v_reset=np.zeros(shape, np.float32))


def small_graph(**pool) -> nir.NIRGraph:
    nodes = {"input": nir.Input(input_type={"input": np.array([2, 8, 8])}), "conv": conv(2, 4),
             "spike": neuron(), "output": nir.Output(output_type={"output": np.array([4, 8, 8])})}
    edges = [("input", "conv"), ("conv", "spike"), ("spike", "output")]
    if pool:
        nodes["pool"] = nir.SumPool2d(**pool)
        edges = [("input", "conv"), ("conv", "spike"), ("spike", "pool"), ("pool", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


@pytest.fixture
def nir_file(tmp_path):
    path = tmp_path / "model.nir"
    nir.write(str(path), small_graph())
    assert importer.import_nir(path).ok
    return path


def failure(result: importer.Imported) -> str:
    assert not result.ok and [d.code for d in result.diagnostics] == ["import-source"], result.diagnostics
    return result.diagnostics[0].message


def test_a_small_file_declaring_a_4_gb_tensor_is_refused_from_its_header(nir_file):
    with h5py.File(nir_file, "r+") as f:
        del f["node/nodes/conv/weight"]
        f["node/nodes/conv"].create_dataset("weight", shape=(1024, 1024, 1024), dtype="f4",
                                            chunks=(1, 64, 1024), compression="gzip")
    assert nir_file.stat().st_size < 64 * 1024
    message = failure(importer.import_nir(nir_file))
    assert message == (f"{nir_file} declares tensors of more than {MAX_ENTRIES:,} entries "
                       "(/node/nodes/conv/weight: [1024, 1024, 1024] float32): nothing was loaded")


def test_tensors_just_under_the_limit_are_read(nir_file):
    with h5py.File(nir_file, "r") as f:
        held = sum(d.size for d in _datasets(f["node"]))
    with h5py.File(nir_file, "r+") as f:
        f["node"].create_dataset("padding_tensor", shape=(MAX_ENTRIES - held,), dtype="u1",
                                 chunks=True, compression="gzip")
    from dynapcnn_dsl.importer.from_nir import check_file

    check_file(nir_file)                        # exactly at the limit: passes the header check
    with h5py.File(nir_file, "r+") as f:
        f["node"].create_dataset("one_more", shape=(1,), dtype="u1")
    assert "declares tensors of more than" in failure(importer.import_nir(nir_file))


def _datasets(group):
    for item in group.values():
        if isinstance(item, h5py.Group):
            yield from _datasets(item)
        else:
            yield item


def test_deeply_nested_groups_are_refused(nir_file):
    with h5py.File(nir_file, "r+") as f:
        group = f["node/nodes/conv"]
        for i in range(100):
            group = group.create_group(f"g{i}")
    assert f"nests groups deeper than {LIMITS.nir_depth}" in failure(importer.import_nir(nir_file))


def test_a_soft_link_cycle_and_an_external_link_are_refused(nir_file, tmp_path):
    with h5py.File(nir_file, "r+") as f:
        f["node/nodes/conv/loop"] = h5py.SoftLink("/node")
    assert "/node/nodes/conv/loop is a SoftLink; a NIR file holds its own data" in \
        failure(importer.import_nir(nir_file))
    with h5py.File(nir_file, "r+") as f:
        del f["node/nodes/conv/loop"]
        f["node/nodes/conv/other"] = h5py.ExternalLink("/etc/passwd", "/")
    assert "is a ExternalLink" in failure(importer.import_nir(nir_file))


def test_a_file_that_is_hdf5_but_not_nir_is_refused(tmp_path):
    path = tmp_path / "x.nir"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.zeros(3))
    assert failure(importer.import_nir(path)) == f"{path} is HDF5 but not NIR: it has no 'node' group"


@pytest.mark.parametrize(("pool", "what"), [({"kernel_size": np.array([2, 2]), "stride": np.array([0, 0]),
                                              "padding": np.array([0, 0])}, "stride [0, 0]"),
                                             ({"kernel_size": np.array([0, 2]), "stride": np.array([2, 2]),
                                               "padding": np.array([0, 0])}, "kernel size [0, 2]")])
def test_stride_or_kernel_zero_is_a_diagnostic(pool, what, tmp_path):
    message = failure(importer.import_nir(small_graph(**pool)))
    assert message == f"node 'pool' has {what}: each must be at least 1"
    path = tmp_path / "pool.nir"
    nir.write(str(path), small_graph(**pool))
    failure(importer.import_nir(path))


def test_a_convolution_with_stride_0_is_a_diagnostic(nir_file):
    graph = small_graph()
    graph.nodes["conv"].stride = 0            # nir's own constructor refuses it (OverflowError)
    assert failure(importer.import_nir(graph)) == "node 'conv' has stride [0, 0]: each must be at least 1"
    with h5py.File(nir_file, "r+") as f:
        f["node/nodes/conv/stride"][...] = 0
    assert "OverflowError" in failure(importer.import_nir(nir_file))


def test_an_input_larger_than_the_chip_is_refused():
    graph = small_graph()
    graph.nodes["input"] = nir.Input(input_type={"input": np.array([2, 10**12, 8])})
    assert "a chip's input is at most 1024 channels of 128 x 128" in failure(importer.import_nir(graph))


def chain(n: int) -> nir.NIRGraph:
    nodes = {"input": nir.Input(input_type={"input": np.array([4, 8, 8])})}
    edges, prev = [], "input"
    for i in range(n):
        nodes[f"n{i}"] = neuron()
        edges.append((prev, f"n{i}"))
        prev = f"n{i}"
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_a_long_chain_is_no_deeper_than_a_short_one():
    """5,000 nodes in a row: ordered without recursion (it was a RecursionError), then refused
    or mapped with diagnostics like any graph."""
    result = importer.import_nir(chain(5_000))
    assert not result.ok and result.diagnostics


def test_a_graph_with_too_many_nodes_is_refused():
    assert failure(importer.import_nir(chain(LIMITS.nir_nodes))) == (
        f"the NIR graph has {LIMITS.nir_nodes + 1:,} nodes; a graph imported for one chip has at "
        f"most {LIMITS.nir_nodes:,}")


def test_a_cycle_is_named():
    graph = chain(3)
    graph.edges.append(("n2", "n0"))
    assert "the NIR graph has a cycle through" in failure(importer.import_nir(graph))


def test_without_the_nir_package_the_message_says_install_it(nir_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "nir", None)
    assert "needs the nir package, which is not installed: pip install 'dynapcnn-dsl[nir]'" in \
        failure(importer.import_nir(nir_file))


def test_a_read_that_never_ends_is_stopped(nir_file, monkeypatch):
    """HDF5 loops forever on some damaged files (a global heap, found by the fuzz): the read
    runs in a child process that is stopped after READ_SECONDS."""
    import time

    from dynapcnn_dsl.importer import from_nir

    monkeypatch.setattr(from_nir, "READ_SECONDS", 1)
    monkeypatch.setattr(from_nir, "_tree", lambda path: time.sleep(600))
    assert failure(importer.import_nir(nir_file)) == (
        f"reading {nir_file} took more than 1 s (the HDF5 library loops on some damaged files): "
        "nothing was imported")


def test_a_read_that_crashes_is_a_diagnostic(nir_file, monkeypatch):
    import os
    import signal

    from dynapcnn_dsl.importer import from_nir

    monkeypatch.setattr(from_nir, "_tree", lambda path: os.kill(os.getpid(), signal.SIGSEGV))
    assert failure(importer.import_nir(nir_file)) == (
        f"the HDF5 library failed reading {nir_file} (signal 11): the file is damaged")

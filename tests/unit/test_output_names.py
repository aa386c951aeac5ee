"""Wrong answers refused (issue 19): a core whose name is one of the .npz's own keys (`dvs`,
`readout`, `state.<core>`) no longer overwrites an array, and a configuration document is told
from a network by its content, not by the order of its keys (`jq -S` sorts `format` last)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from simulate_docs import core, dest, document, dvs_layer, readout

import dynapcnn_dsl
from dynapcnn_dsl.cli import main
from dynapcnn_dsl.config.files import is_document_file
from dynapcnn_dsl.config.writer import to_json
from dynapcnn_dsl.simulator import SimulationError

ROOT = Path(__file__).resolve().parents[2]
ONE = [[[[10]]]]
EVENTS = {k: np.zeros(1, int) for k in "txyp"}


def clash(doc, **options) -> str:
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.simulate(doc, EVENTS, **options)
    (d,) = exc.value.diagnostics
    assert d.code == "simulate-output-names"
    return d.message


def test_a_core_named_readout_is_refused_not_overwritten():
    doc = document({0: core(1, 1, 1, 1, 1, weights=ONE, to=(dest(12),))}, shape=(1, 1, 1),
                   readout=readout(), names={0: "readout"})
    assert clash(doc).startswith("the results would hold two arrays named 'readout'")


def test_a_core_named_state_x_beside_the_state_of_x_is_refused():
    doc = document({0: core(1, 1, 1, 1, 1, weights=ONE, to=(dest(1),)), 1: core(1, 1, 1, 1, 1, weights=ONE)},
                   shape=(1, 1, 1), names={0: "x", 1: "state.x"})
    dynapcnn_dsl.simulate(doc, EVENTS)                # without states: no clash
    assert "'state.x'" in clash(doc, states=True)


def test_two_cores_of_one_name_are_refused():
    doc = document({0: core(1, 1, 1, 1, 1, weights=ONE, to=(dest(1),)), 1: core(1, 1, 1, 1, 1, weights=ONE)},
                   shape=(1, 1, 1), names={0: "a", 1: "a"})
    assert "'a'" in clash(doc)


def test_a_core_named_dvs_beside_the_recorded_dvs_layer_is_refused():
    doc = document({0: core(2, 128, 128, 1, 1, weights=np.ones((1, 2, 1, 1), int).tolist())},
                   shape=(2, 128, 128), dvs=dvs_layer(monitor=True), names={0: "dvs"})
    message = clash(doc, record="all")
    assert "'dvs'" in message


def sorted_copy(src: Path, dst: Path) -> Path:
    """The document with its keys sorted, as `jq -S .` writes it (jq itself when installed)."""
    if shutil.which("jq"):
        dst.write_bytes(subprocess.run(["jq", "-S", "."], stdin=src.open("rb"), capture_output=True,
                                       check=True).stdout)
    else:
        dst.write_text(json.dumps(json.loads(src.read_text()), sort_keys=True, indent=2))
    assert dst.read_text()[:200].find('"format"') < 0          # `format` is no longer first
    return dst


def test_a_document_with_sorted_keys_is_still_a_document(tmp_path, capsys):
    src = ROOT / "tests" / "golden" / "dvs-resnet.samna.json"
    doc = sorted_copy(src, tmp_path / "sorted.json")
    assert is_document_file(doc)
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(src), str(doc)])
    out = capsys.readouterr()
    assert exc.value.code == 0, out.out + out.err
    np.save(tmp_path / "ev.npy", np.zeros(0, [("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i4")]))
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(doc), "--events", str(tmp_path / "ev.npy")])
    out = capsys.readouterr()
    assert exc.value.code == 0, out.out + out.err


def test_a_network_naming_the_header_is_still_a_network(tmp_path):
    network = tmp_path / "net.json"
    network.write_text(json.dumps({"dsl": 1, "name": "dynapcnn-dsl/samna-configuration", "chip": "speck2f",
                                   "input": {"source": "host", "shape": [1, 4, 4], "to": ["a"]},
                                   "cores": {"a": {"conv": {"out_channels": 1, "kernel": 1}}}}))
    assert not is_document_file(network)
    assert dynapcnn_dsl.validate(network).ok


def test_a_damaged_document_is_still_reported_as_a_document(tmp_path):
    broken = tmp_path / "d.json"
    broken.write_text(to_json(document({0: core(1, 1, 1, 1, 1, weights=ONE)}, shape=(1, 1, 1)))[:-40])
    assert is_document_file(broken)

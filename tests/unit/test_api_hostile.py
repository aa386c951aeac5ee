"""The Python API under wrong arguments (issue 19): every one is the project's error with a
diagnostic naming it (BuildError, SimulationError, or an import's failure), never a raw
TypeError, ValueError or NotImplementedError; a missing optional package is "install X"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from simulate_docs import core, document

import dynapcnn_dsl
from dynapcnn_dsl import importer
from dynapcnn_dsl.api import BuildError
from dynapcnn_dsl.simulator import SimulationError

ROOT = Path(__file__).resolve().parents[2]
NET = ROOT / "examples" / "host-sequential" / "network.yaml"
DOC = document({0: core(1, 1, 1, 1, 1, weights=[[[[10]]]])}, shape=(1, 1, 1))
EVENTS = {k: np.zeros(1, int) for k in "txyp"}


def meta_model():
    import torch

    return torch.nn.Sequential(torch.nn.Conv2d(2, 8, 3, padding=1, device="meta"))


BUILD_CASES = {
    "disabled=5": (lambda: dynapcnn_dsl.validate(NET, disabled=5), "api-argument"),
    "strict='yes'": (lambda: dynapcnn_dsl.validate(NET, strict="yes"), "api-argument"),
    "templates=5": (lambda: dynapcnn_dsl.build(NET, templates=5), "api-argument"),
    "key=5": (lambda: dynapcnn_dsl.build(NET, {"a": np.zeros(1)}, key=5), "api-argument"),
    "annotate=None": (lambda: dynapcnn_dsl.build(NET, annotate=None), "api-argument"),
    "weights=123": (lambda: dynapcnn_dsl.build(NET, 123), "weights-format"),
    "a meta-device model": (lambda: dynapcnn_dsl.build(NET, meta_model()), "weights-dtype"),
    "a meta-device state_dict": (lambda: dynapcnn_dsl.check(NET, meta_model().state_dict()), "weights-dtype"),
    "Document.read(5)": (lambda: dynapcnn_dsl.Document.read(5), "file-unreadable"),
    "diff(1, 2)": (lambda: dynapcnn_dsl.diff(1, 2), "file-unreadable"),
}


@pytest.mark.parametrize("case", sorted(BUILD_CASES))
def test_wrong_arguments_raise_build_error(case):
    call, code = BUILD_CASES[case]
    with pytest.raises(BuildError) as exc:
        call()
    assert code in [d.code for d in exc.value.diagnostics]


SIMULATE_CASES = {
    "record='x'": ({"record": "x"}, "api-argument"),
    "record=3 on a Document": ({"record": 3}, "api-argument"),
    "states='yes'": ({"states": "yes"}, "api-argument"),
    "progress=5": ({"progress": 5}, "api-argument"),
    "key=5": ({"key": 5}, "api-argument"),
    "slow_clock_hz='fast'": ({"slow_clock_hz": "fast"}, "simulate-slow-clock"),
    "until_us='x'": ({"until_us": "x"}, "simulate-events-time"),
    "budget=-1": ({"budget": -1}, "simulate-budget"),
    "bin_us with columns": ({"bin_us": 1}, "simulate-events-fields"),
}


@pytest.mark.parametrize("case", sorted(SIMULATE_CASES))
def test_wrong_simulate_options_raise_simulation_error(case):
    options, code = SIMULATE_CASES[case]
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.Document(DOC).simulate(EVENTS, **options)
    assert code in [d.code for d in exc.value.diagnostics]


@pytest.mark.parametrize("events", [123, [[0, 0, 0, 0]], {k: np.array([None]) for k in "txyp"}])
def test_events_of_the_wrong_type_raise_simulation_error(events):
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.simulate(DOC, events)
    assert [d.code for d in exc.value.diagnostics] == ["simulate-events-fields"]


def test_imports_of_the_wrong_things_are_failures_not_exceptions():
    for model in (5, "model.py", None):
        result = importer.import_torch(model, input_shape=(2, 8, 8))
        assert not result.ok and "not a torch nn.Module" in result.diagnostics[0].message
    result = importer.import_torch(meta_model(), input_shape=(2, 8, 8))
    assert "are on the meta device (shapes without values)" in result.diagnostics[0].message
    for shape in ("2,8,8", (2, 8), (2, 0, 8), (2, 8, 8.5), (2, 256, 8)):
        import torch

        result = importer.import_torch(torch.nn.Conv2d(2, 4, 3), input_shape=shape)
        assert not result.ok and "the input shape" in result.diagnostics[0].message
    assert "not a NIR graph" in importer.import_nir(5).diagnostics[0].message
    assert "the document is a int" in importer.import_document(5).diagnostics[0].message


WITHOUT = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None          # as if not installed: `import name` raises ModuleNotFoundError
from dynapcnn_dsl.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize(("missing", "argv", "says"), [
    ("torch", ["import", "tests/importer/zoo.py:SumPoolChain", "--input-shape", "2,16,16", "-o", "{tmp}/o"],
     "this needs the torch package, which is not installed: pip install 'dynapcnn-dsl[torch]'"),
    ("torch", ["compare", "examples/sinabs-nmnist/network.yaml", "examples/sinabs-nmnist/nmnist_snn.pth",
               "--model", "examples/sinabs-nmnist/model.py:SNN", "--events", "{tmp}/ev.npy"],
     "this needs the torch package, which is not installed: pip install 'dynapcnn-dsl[torch]'"),
    ("nir,h5py", ["import", "{tmp}/m.nir", "-o", "{tmp}/o"],
     "needs the nir package, which is not installed: pip install 'dynapcnn-dsl[nir]'"),
    ("aedat", ["simulate", "tests/golden/dvs-speck2f.samna.json", "--events", "{tmp}/r.aedat4"],
     "needs the aedat package, which is not installed"),
])
def test_a_missing_optional_package_says_install_it(tmp_path, missing, argv, says):
    for name in ("ev.npy", "m.nir", "r.aedat4"):
        (tmp_path / name).write_bytes(b"\x93NUMPY")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    done = subprocess.run([sys.executable, "-c", WITHOUT, missing, *argv], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    text = done.stdout + done.stderr
    assert done.returncode in (1, 2), text
    assert says in text and "internal error" not in text and "Traceback" not in text

"""The three real-network examples imported from their model.py with their checkpoints as the
training wrote them (`import --weights`), then built: each gives exactly the configuration of the
hand-written example built from the same checkpoint (the gesture example's file monitors the
sensor too, which no model can say).

What this pins: a sinabs checkpoint's saved states (`v_mem`, shaped by the last batch) are not
loaded into a fresh model, and a Lightning checkpoint, whose names are the model's under
`model.`, is read as it is (info `import-prefix`), the network's `weights:` names keeping the
prefix so the next checkpoint builds with no new import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dynapcnn_dsl
from dynapcnn_dsl import importer

pytest.importorskip("torch")
pytest.importorskip("sinabs")
ROOT = Path(__file__).resolve().parents[2] / "examples"
CASES = {  # example: (model.py NAME, checkpoint, --key, import options, paths that differ)
    "sinabs-nmnist": ("nmnist_snn", "nmnist_snn.pth", None, {"input_shape": (2, 34, 34)}, []),
    "retina-eye-tracking": ("Retina", "retina.ckpt", "state_dict",
                            {"input_shape": (2, 64, 64), "dvs": True}, []),
    # the hand-written file also monitors the sensor's events (`input: {monitor: true}`), as
    # sinabs's gesture example does; a model says nothing of what to watch
    "sinabs-dvs-gesture": ("gesture_snn", "gesture_snn.pth", None,
                           {"input_shape": (2, 128, 128), "dvs": True}, ["dvs_layer.monitor_enable"]),
}


@pytest.mark.parametrize("example", sorted(CASES))
def test_importing_the_model_with_its_checkpoint_rebuilds_the_example(example, tmp_path):
    name, checkpoint, key, options, differ = CASES[example]
    folder = ROOT / example
    result = importer.import_source(f"{folder / 'model.py'}:{name}", weights=str(folder / checkpoint),
                                    key=key, **options)
    assert result.ok, [d.message for d in result.diagnostics]
    network, _ = importer.write(result, tmp_path)
    imported = dynapcnn_dsl.build(network, folder / checkpoint, key=key)  # the checkpoint itself
    handwritten = dynapcnn_dsl.build(folder / "network.yaml", folder / checkpoint, key=key)
    assert [c.path for c in dynapcnn_dsl.diff(handwritten, imported).changes] == differ
    prefixes = [d for d in result.diagnostics if d.code == "import-prefix"]
    if key is None:
        assert prefixes == []
    else:
        (note,) = prefixes
        assert note.message.startswith("the model's tensors are under 'model.' in ")
        assert "weights: model.seq.1\n" in network.read_text()
        assert "name: Retina\n" in network.read_text()


def test_compare_reads_the_model_under_the_networks_prefix(tmp_path):
    """The network imported from a Lightning checkpoint names `model.seq.N`; compare given the
    bare model (`model.py:Retina`) nests it the same way, loads the checkpoint and agrees."""
    from test_compare import random_events

    folder = ROOT / "retina-eye-tracking"
    name, checkpoint, key, options, _ = CASES["retina-eye-tracking"]
    result = importer.import_source(f"{folder / 'model.py'}:{name}", weights=str(folder / checkpoint),
                                    key=key, **options)
    network, _ = importer.write(result, tmp_path)
    verdict = dynapcnn_dsl.compare(network, folder / checkpoint, f"{folder / 'model.py'}:{name}",
                                   random_events((2, 64, 64), n=4000, duration_us=40_000), key=key)
    assert verdict.agrees, verdict.cores
    assert [row.module for row in verdict.cores][:2] == ["model.seq.0.spk", "model.seq.3"]

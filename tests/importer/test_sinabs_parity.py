"""Imported models against sinabs 3.1.3's own configuration for the same torch model, bit for bit.

sinabs's `DynapcnnNetwork.make_config` runs against the samna stand-in (tests/sinabs_samna.py);
our side is `dynapcnn-dsl import` -> build -> the samna bridge into the same stand-in classes.
Every field of every core is compared (`sinabs_parity.differences`), with sinabs given our
placement (ours keeps leaky cores off cores 0-1).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import zoo
from sinabs_parity import differences, our_config, placement, sinabs_config
from sinabs_samna import sinabs_backend

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def backend():
    with sinabs_backend() as module:
        yield module


def imported_build(model, tmp_path: Path, **kw):
    result = importer.import_torch(model, **kw)
    assert result.ok, [d.message for d in result.diagnostics]
    return build(*importer.write(result, tmp_path))


def body(model):
    """What sinabs is given: the Sequential itself where the model wraps one."""
    return getattr(model, "seq", model)


CASES = {  # name: (input shape, DVS input)
    "DvsGesture": ((2, 32, 32), True),        # sensor pooling, AvgPool2d -> average: true, Linear
    "SumPoolChain": ((2, 16, 16), False),     # SumPool2d, Dropout, a reset-to-zero neuron
    "ResidualMerge": ((2, 16, 16), False),    # Merge, per-branch pooling
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_imported_model_configures_the_chip_as_sinabs_does(name, backend, tmp_path):
    shape, dvs = CASES[name]
    model = getattr(zoo, name)()
    doc = imported_build(model, tmp_path, input_shape=None if dvs else shape, dvs=dvs)
    theirs = sinabs_config(backend, body(model), shape, dvs_input=dvs, cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


def with_eps(eps: float):
    model = zoo.WithBatchNorm().eval()
    for module in model.seq:
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eps = eps
    return model


def test_batchnorm_folds_as_sinabs_does_when_eps_is_zero(backend, tmp_path):
    model = with_eps(0.0)
    doc = imported_build(model, tmp_path, input_shape=(2, 16, 16))
    theirs = sinabs_config(backend, model.seq, (2, 16, 16), cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


def test_with_eps_ours_is_torchs_fusion_and_sinabs_drops_eps(backend, tmp_path):
    """sinabs's merge_bn divides by sqrt(running_var), without BatchNorm's eps: the model and
    sinabs's chip then disagree. Ours follows torch's fuse_conv_bn_weights (tested bit for bit in
    tests/unit/test_weights_fold.py), so the two configurations differ exactly there."""
    model = with_eps(1e-2)
    doc = imported_build(model, tmp_path, input_shape=(2, 16, 16))
    theirs = sinabs_config(backend, model.seq, (2, 16, 16), cores=placement(doc))
    changed = {re.match(r"cnn_layers\[\d\]\.(\w+)", d)[1] for d in differences(our_config(doc), theirs)}
    assert changed and changed <= {"weights", "biases", "threshold_high", "threshold_low"}

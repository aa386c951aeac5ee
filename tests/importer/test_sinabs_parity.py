"""Imported models against sinabs 3.1.3's own configuration for the same torch model, bit for bit.

sinabs's `DynapcnnNetwork.make_config` runs against the samna stand-in (tests/sinabs_samna.py);
our side is `dynapcnn-dsl import` -> build -> the samna bridge into the same stand-in classes.
Every field of every core is compared (`sinabs_parity.differences`), with sinabs given our
placement (ours keeps leaky cores off cores 0-1).

Where sinabs cannot express a form, it is given the same weights in the form it can: a `+` as
sinabs's Merge (its tracer follows module calls only), a nested block flattened, an ANN
converted by sinabs's own from_model. A concatenation, which sinabs cannot make at all, is
checked against sinabs's discretization core by core, and by its feature shifts.
"""

from __future__ import annotations

import re

import pytest
import zoo
from sinabs_parity import differences, imported_build, our_config, placement, sinabs_config

from dynapcnn_dsl import importer
from dynapcnn_dsl.api import build

torch = pytest.importorskip("torch")


def body(model):
    """What sinabs is given: the Sequential itself where the model wraps one."""
    return getattr(model, "seq", model)


CASES = {  # ours: (what sinabs is given, input shape, DVS input)
    "DvsGesture": ("DvsGesture", (2, 32, 32), True),   # sensor pooling, AvgPool2d, Linear
    "SumPoolChain": ("SumPoolChain", (2, 16, 16), False),  # SumPool2d, Dropout, reset to zero
    "ResidualMerge": ("ResidualMerge", (2, 16, 16), False),  # Merge, both branches pooled
    "ResidualMergeAsPlus": ("ResidualMerge", (2, 16, 16), False),  # the same residual by `+`
    "PerBranchPool": ("PerBranchPool", (2, 16, 16), False),  # one neuron pooled 2 and 4
    "FanIn3": ("FanIn3Merge", (2, 16, 16), False),      # `b + c + d` as two Merges
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_imported_model_configures_the_chip_as_sinabs_does(name, backend, tmp_path):
    theirs_name, shape, dvs = CASES[name]
    _, doc = imported_build(getattr(zoo, name)(), tmp_path, input_shape=None if dvs else shape, dvs=dvs)
    theirs = sinabs_config(backend, body(getattr(zoo, theirs_name)()), shape, dvs_input=dvs,
                           cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


def unordered_destinations(config: dict) -> dict:
    """The configuration with each core's destination slots sorted by target core: two slots
    receive the same events, so their order is no part of what the chip computes."""
    layers = [{**layer, "destinations": sorted(layer["destinations"], key=lambda d: (
        not d["enable"], d["layer"]))} for layer in config["cnn_layers"]]
    return {**config, "cnn_layers": layers}


def test_a_nested_block_configures_the_chip_as_its_flat_twin_does_in_sinabs(backend, tmp_path):
    """sinabs's graph extractor refuses Nested itself (see zoo.NestedFlat); its flat twin has the
    same weights. sinabs lists the Merge's reader of the skip first, we the model's call order."""
    _, doc = imported_build(zoo.Nested(), tmp_path, input_shape=(2, 16, 16))
    theirs = sinabs_config(backend, zoo.NestedFlat(), (2, 16, 16), cores=placement(doc))
    assert differences(unordered_destinations(our_config(doc)), unordered_destinations(theirs)) == []


def test_an_ann_configures_the_chip_as_sinabs_from_model_converts_it(backend, tmp_path):
    """sinabs.from_model turns each ReLU into an IAFSqueeze (threshold 1, min_v_mem -1) and adds
    a spiking output; its DynapcnnNetwork then needs the nesting flattened."""
    import sinabs

    ann = zoo.Ann()
    _, doc = imported_build(ann, tmp_path, input_shape=(1, 16, 16))
    snn = sinabs.from_model(ann, input_shape=(1, 16, 16), batch_size=1, add_spiking_output=True)
    flat = torch.nn.Sequential(*[m for m in snn.spiking_model.modules() if not list(m.children())])
    theirs = sinabs_config(backend, flat, (1, 16, 16), cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


def test_sinabs_dvs_layer_module_is_the_dvs_input(backend, tmp_path):
    """A model that starts with sinabs's DVSLayer (pooling, crop, flip, merged polarities):
    imported with no --dvs and no input shape, both taken from the layer."""
    torch.manual_seed(9)
    dvs = backend.DVSLayer(input_shape=(32, 32), pool=(2, 2), crop=((1, 15), (0, 14)),
                           merge_polarities=True, flip_x=True)
    model = torch.nn.Sequential(dvs, zoo.conv(1, 8), zoo.spk(), torch.nn.AvgPool2d(2),
                                zoo.conv(8, 4), zoo.spk())
    result = importer.import_torch(model)
    assert result.ok, [d.message for d in result.diagnostics]
    assert "  source: dvs\n  shape: [1, 32, 32]\n  pool: 2\n" in result.text
    assert "crop: {origin: {x: 0, y: 1}, size: {x: 14, y: 14}}" in result.text
    doc = build(*importer.write(result, tmp_path))
    theirs = sinabs_config(backend, model, (1, 32, 32), dvs_input=True, cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


def test_a_concatenation_is_sinabs_discretization_in_cat_order(backend, tmp_path):
    """sinabs cannot make a concatenation. Each core of ResidualPlus (its `+` and its
    `torch.cat([c, b])`) holds what sinabs's own discretize_conv_spike makes of its conv and
    neuron, the concatenating core's input features in cat order: c's at shift 0, b's at 4."""
    from sinabs.backend.dynapcnn.discretize import discretize_conv_spike

    model = zoo.ResidualPlus()
    _, doc = imported_build(model, tmp_path, input_shape=(2, 16, 16))
    config = our_config(doc)
    for core in doc.linked.cores:
        conv, spk = discretize_conv_spike(getattr(model, core.name), getattr(model, "s" + core.name[1:]),
                                          to_int=False)
        layer = config["cnn_layers"][core.index]
        assert layer["weights"] == conv.weight.transpose(2, 3).int().tolist()
        assert (layer["threshold_high"], layer["threshold_low"]) == (int(spk.spike_threshold),
                                                                     int(spk.min_v_mem))
    cat = doc.linked.core("c4").index
    shifts = {core.name: d["feature_shift"] for core in doc.linked.cores
              for d in config["cnn_layers"][core.index]["destinations"] if d["enable"] and d["layer"] == cat}
    assert shifts == {"c3": 0, "c2": 4}
    assert config["cnn_layers"][cat]["dimensions"]["input_shape"]["feature_count"] == 8


def with_eps(eps: float):
    model = zoo.WithBatchNorm().eval()
    for module in model.seq:
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eps = eps
    return model


def test_batchnorm_folds_as_sinabs_does_when_eps_is_zero(backend, tmp_path):
    model = with_eps(0.0)
    _, doc = imported_build(model, tmp_path, input_shape=(2, 16, 16))
    theirs = sinabs_config(backend, model.seq, (2, 16, 16), cores=placement(doc))
    assert differences(our_config(doc), theirs) == []


def test_with_eps_ours_is_torchs_fusion_and_sinabs_drops_eps(backend, tmp_path):
    """sinabs's merge_bn divides by sqrt(running_var), without BatchNorm's eps: the model and
    sinabs's chip then disagree. Ours follows torch's fuse_conv_bn_weights (tested bit for bit in
    tests/unit/test_weights_fold.py), so the two configurations differ exactly there."""
    model = with_eps(1e-2)
    _, doc = imported_build(model, tmp_path, input_shape=(2, 16, 16))
    theirs = sinabs_config(backend, model.seq, (2, 16, 16), cores=placement(doc))
    changed = {re.match(r"cnn_layers\[\d\]\.(\w+)", d)[1] for d in differences(our_config(doc), theirs)}
    assert changed and changed <= {"weights", "biases", "threshold_high", "threshold_low"}

"""Rules of `dynapcnn_dsl.rules.checkpoint`: neuron-weights, fold-integers (model stage) and
no-output (build stage, run with the weights)."""

from __future__ import annotations

import numpy as np
from helpers import ONE_CORE_QUANTIZE as HEAD
from helpers import check_model, found_model, only_model

from dynapcnn_dsl.pipeline import Stage, run_text


def net(line: str, quantize: str = "auto") -> str:
    """`line` is line 8, indented as a key of core `a`."""
    return HEAD.format(quantize=quantize) + f"    {line}\n"


# -- neuron-weights ------------------------------------------------------------------------------

def test_a_threshold_beside_neuron_weights_is_refused_at_its_key():
    d = only_model(net("neuron: {weights: spk, threshold: 2.0}"))
    assert (str(d.position), d.code) == ("8:28", "neuron-weights")
    assert d.message == ("core 'a': `threshold` beside `weights: spk`, which reads it from "
                         "'spk.spike_threshold'")
    assert d.hint.startswith("with `neuron: {weights: P}`")


def test_a_min_v_mem_beside_neuron_weights_is_refused():
    d = only_model(net("neuron: {weights: spk, min_v_mem: -1.0}"))
    assert (str(d.position), d.code) == ("8:28", "neuron-weights")
    assert "'spk.min_v_mem'" in d.message


def test_defaults_thresholds_do_not_apply_to_a_neuron_read_from_the_checkpoint():
    text = net("neuron: {weights: spk}").replace(
        "cores:", "defaults:\n  neuron: {threshold: 2.0, min_v_mem: -2.0, reset: zero}\ncores:")
    result = check_model(text)
    assert [d.code for d in result.diagnostics] == []
    neuron = result.network.cores["a"].neuron
    assert (neuron.weights, neuron.given("threshold"), neuron.given("min_v_mem")) == ("spk", False, False)
    assert neuron.reset == "zero"  # the rest of the defaults still applies


def test_neuron_weights_alone_is_fine():
    assert found_model(net("neuron: {weights: spk, reset: zero}")) == []


# -- fold-integers -------------------------------------------------------------------------------

def test_a_batchnorm_with_quantize_none_is_refused():
    d = only_model(net("batchnorm: bn", quantize="none"))
    assert (str(d.position), d.code) == ("8:5", "fold-integers")
    assert d.message == ("core 'a' folds a BatchNorm, but the file says `quantize: none` (the "
                         "weights are the chip's integers)")


def test_an_average_with_quantize_none_is_refused():
    text = net("to: [{core: b, pool: 2, average: true}]", quantize="none") + \
        "  b: {conv: {out_channels: 4, kernel: 3}}\n"
    d = only_model(text)
    assert (str(d.position), d.code) == ("8:29", "fold-integers")
    assert "averages on its link to 'b'" in d.message


def test_folding_with_quantize_auto_is_fine():
    assert found_model(net("batchnorm: {weights: bn, eps: 0.001}")) == []


# -- no-output (build stage) ---------------------------------------------------------------------

def built(text: str) -> list[tuple[str, str]]:
    tensors = {"a.weight": np.full((4, 1, 3, 3), 0.5, np.float32)}
    weighted = run_text(text, "t.yaml", until=Stage.QUANTIZE, weights=tensors)
    assert weighted.quantized is not None
    return [(str(d.position), d.code) for d in weighted.diagnostics]


def test_a_network_nothing_leaves_is_warned_about_at_its_cores():
    assert built(net("neuron: {threshold: 1.0}")) == [("5:1", "no-output")]


def test_a_monitored_core_is_an_output():
    assert built(net("monitor: true")) == []


def test_no_output_is_not_a_validation_finding():
    assert found_model(net("neuron: {threshold: 1.0}")) == []

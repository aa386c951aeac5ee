"""How `import --weights` matches a checkpoint's names to the model: neuron states are never
loaded, and a checkpoint holding the model under one prefix (Lightning's `model.`) is read so."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sl = pytest.importorskip("sinabs.layers")

from dynapcnn_dsl.importer.from_torch import ImportFailure  # noqa: E402
from dynapcnn_dsl.importer.model_file import (  # noqa: E402
    held_under,
    load_weights,
    neuron_states,
)


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, bias=False),
                               sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0))


def saved(prefix: str = "", **extra: np.ndarray) -> dict[str, np.ndarray]:
    state = {k: v.numpy() for k, v in model().state_dict().items()}
    return {f"{prefix}{k}": v for k, v in {**state, **extra}.items()}


def test_a_neurons_states_are_its_buffers_not_its_parameters():
    assert neuron_states(model()) == {"1.v_mem"}


def test_a_saved_v_mem_of_any_shape_is_not_loaded():
    m = model()
    load_weights(m, saved(**{"1.v_mem": np.ones((4, 4, 14, 14), np.float32)}))
    assert tuple(m[1].v_mem.shape) == (0,)


def test_the_models_own_names_need_no_prefix():
    m = model()
    assert held_under(m, saved()) == (m, "")


def test_names_under_one_prefix_nest_the_model_under_it():
    tensors = saved("model.net.")
    held, prefix = held_under(model(), tensors)
    assert prefix == "model.net."
    assert set(held.state_dict()) == set(tensors)
    assert held.model_name == "Sequential"
    load_weights(held, tensors)   # every name found
    x = torch.ones(1, 2, 5, 5)
    assert torch.equal(held(x), model()(x))


def test_two_complete_prefixes_are_ambiguous_and_nothing_is_guessed():
    tensors = {**saved("ema."), **saved("model.")}
    m = model()
    assert held_under(m, tensors) == (m, "")
    with pytest.raises(ImportFailure, match="lacks 3 of the model's tensors"):
        load_weights(m, tensors)


def test_a_partial_load_that_matches_nothing_is_refused():
    """compare loads only what the network binds; a file naming none of the model's tensors
    would leave the model on its initial weights, and the verdict would blame the network."""
    with pytest.raises(ImportFailure, match="holds none of the model's tensors"):
        load_weights(model(), {"other.weight": np.zeros((4, 2, 3, 3), np.float32)}, partial=True)


def test_a_partial_set_of_names_finds_its_prefix():
    names = ["model.0.weight", "model.1.spike_threshold"]   # what an imported network binds
    held, prefix = held_under(model(), names, partial=True)
    assert prefix == "model." and held.model_name == "Sequential"
    bare = model()
    assert held_under(bare, names) == (bare, "")   # without `partial` every tensor must be there


def test_load_model_nests_the_model_under_the_networks_prefix_and_loads_what_it_binds(tmp_path):
    """compare and evaluate: the network's `weights:` names say the prefix, and the network's
    weights file (only what the cores bind) is loaded into the nested model."""
    from safetensors.numpy import save_file

    from dynapcnn_dsl.importer.model_file import load_model

    weights = {"model.0.weight": np.full((4, 2, 3, 3), 0.5, np.float32)}
    save_file(weights, tmp_path / "w.safetensors")
    loaded = load_model(model(), tmp_path / "w.safetensors", network_names=["model.0.weight"])
    assert loaded.model.held == "model" and loaded.own_values == () and loaded.notes == ()
    assert torch.equal(loaded.model.state_dict()["model.0.weight"], torch.full((4, 2, 3, 3), 0.5))


def test_load_model_raises_an_unreadable_weights_file_with_the_readers_diagnostics(tmp_path):
    """Never dropped: a model left on its initial weights would make compare blame the network."""
    from dynapcnn_dsl.diagnostics import DslError
    from dynapcnn_dsl.importer.model_file import load_model
    from dynapcnn_dsl.weights.readers import read

    bad = tmp_path / "w.safetensors"
    bad.write_bytes(b"not a weights file")
    _, expected = read(bad)
    for names in (None, ["0.weight"]):            # import's use, and compare's / evaluate's
        with pytest.raises(DslError) as caught:
            load_model(model(), bad, network_names=names)
        assert [(d.code, d.file) for d in caught.value.diagnostics] == [(d.code, d.file) for d in expected]
        assert expected and expected[0].is_error


def test_load_model_says_what_an_anns_checkpoint_lacks(tmp_path):
    """import: a checkpoint without the neurons' parameters keeps the model's own, and says so."""
    from safetensors.numpy import save_file

    from dynapcnn_dsl.importer.model_file import load_model

    save_file({"0.weight": np.zeros((4, 2, 3, 3), np.float32)}, tmp_path / "ann.safetensors")
    loaded = load_model(model(), tmp_path / "ann.safetensors")
    assert loaded.own_values == ("1.min_v_mem", "1.spike_threshold")
    assert [d.code for d in loaded.notes] == ["import-thresholds"]

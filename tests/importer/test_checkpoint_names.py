"""How `import --weights` matches a checkpoint's names to the model: neuron states are never
loaded, and a checkpoint holding the model under one prefix (Lightning's `model.`) is read so."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sl = pytest.importorskip("sinabs.layers")

from dynapcnn_dsl.importer.from_torch import (  # noqa: E402
    ImportFailure,
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

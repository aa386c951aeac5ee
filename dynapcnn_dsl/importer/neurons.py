"""The spiking-neuron modules of sinabs, snnTorch and Norse, recognised as units.

A neuron module is stateful and data-dependent: traced operation by operation it would become a
dozen ATen calls (comparisons, multiplications, in-place updates), each refused on its own. So
every neuron module a framework defines is recognised here by its class, before the trace, and
becomes one node: an integrate-and-fire neuron the chip computes (with its threshold, its reset
and its lower bound), or one refusal naming the module, its class, why and what to do.

The packages are never imported to recognise their classes (sinabs's backend imports samna,
and snnTorch and Norse are optional): a class is known by the names and modules of its bases.

What the chip's neuron is: it adds its input to its state, fires once when the state reaches
the threshold, then subtracts the threshold or resets to 0, and its state is bounded below. Its
only leak is a bias added per slow-clock tick, not a decay: a leaky neuron (snnTorch's beta < 1,
a finite time constant) is not one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynapcnn_dsl.importer.graph import IAF

FRAMEWORKS = ("sinabs", "snntorch", "norse")
NORSE_BASES = ("SNNCell", "SNN", "SNNRecurrentCell", "SNNRecurrent",
               "LILinearCell", "CobaLIFCell")    # (the last two: neuron cells on nn.Module itself)

LEAK_WHY = ("a leaky neuron: the chip's neurons integrate and fire without a leak of their own "
            "(a core's bias is added per slow-clock tick, not a decay)")


@dataclass(frozen=True)
class NeuronModule:
    """What a neuron module is on the chip: an integrate-and-fire neuron (`iaf`, a core's
    neuron), or refused (`why` and `hint` say why and what to do)."""

    framework: str
    iaf: IAF | None = None
    why: str = ""
    hint: str = ""
    outputs: str = "spikes"        # what a call returns: 'spikes', 'spikes+state' (a tuple)


def _bases(module: Any) -> list[tuple[str, str]]:
    return [(c.__module__, c.__name__) for c in type(module).__mro__]


def framework_of(module: Any) -> str | None:
    """'sinabs', 'snntorch' or 'norse' for a neuron module of one of them, None otherwise."""
    for mod, name in _bases(module):
        if mod.startswith("sinabs.") and name == "StatefulLayer":
            return "sinabs"
        if mod.startswith("snntorch.") and name == "SpikingNeuron":
            return "snntorch"
        if mod.startswith("norse.") and name in NORSE_BASES:
            return "norse"
    return None


def _scalar(t: Any) -> float | None:
    """The one value of a tensor or number whose entries are all equal; None otherwise."""
    import torch

    if t is None:
        return None
    values = torch.as_tensor(t).detach().flatten()
    return float(values[0]) if values.numel() and bool((values == values[0]).all()) else None


def describe(module: Any) -> NeuronModule | None:
    """The neuron a module is, or None when it is no framework's neuron module."""
    framework = framework_of(module)
    if framework == "sinabs":
        return _sinabs(module)
    if framework == "snntorch":
        return _snntorch(module)
    if framework == "norse":
        return _norse(module)
    return None


def _sinabs(module: Any) -> NeuronModule:
    if not any(mod.startswith("sinabs.") and name == "IAF" for mod, name in _bases(module)):
        return NeuronModule("sinabs", why=LEAK_WHY, hint="train with sinabs's IAF/IAFSqueeze")
    reset = type(getattr(module, "reset_fn", None)).__name__
    return NeuronModule("sinabs", IAF(
        threshold=_scalar(getattr(module, "spike_threshold", 1.0)),
        min_v_mem=_scalar(getattr(module, "min_v_mem", None)),
        reset="zero" if reset == "MembraneReset" else "subtract"))


def _snntorch(module: Any) -> NeuronModule:
    cls = type(module).__name__
    outputs = "spikes" if getattr(module, "init_hidden", False) and not getattr(module, "output", False) \
        else "spikes+state"
    if cls != "Leaky" or not type(module).__module__.startswith("snntorch."):
        why = {"Synaptic": "a synaptic current and a leaking membrane",
               "Alpha": "an alpha-shaped synaptic current and a leaking membrane",
               "Lapicque": "an RC membrane (a leak)", "RLeaky": "a recurrent leaky neuron",
               "RSynaptic": "a recurrent neuron with a synaptic current",
               }.get(cls, "a neuron model other than integrate-and-fire")
        return NeuronModule("snntorch", why=f"{why}: the chip's neurons integrate and fire, "
                            "without leak, synaptic current or recurrence", outputs=outputs,
                            hint="use snn.Leaky(beta=1.0) (integrate-and-fire) and train again")
    beta = _scalar(module.beta.clamp(0, 1)) if hasattr(module.beta, "clamp") else _scalar(module.beta)
    if beta != 1.0:
        shown = "per-neuron values" if beta is None else f"beta={beta:g}"
        return NeuronModule("snntorch", outputs=outputs, why=f"a leaky neuron ({shown}): the "
                            "chip's neurons integrate and fire without a leak of their own (a core's bias "
                            "is added per slow-clock tick, not a decay)",
                            hint="train with beta=1.0 (integrate-and-fire), or keep this layer on the host")
    threshold = _scalar(module.threshold)
    if threshold is None:
        return NeuronModule("snntorch", outputs=outputs, why="its thresholds differ between "
                            "neurons; a chip core has one threshold",
                            hint="train with one threshold per layer")
    if _scalar(module.graded_spikes_factor) != 1.0:
        return NeuronModule("snntorch", outputs=outputs, why="graded spikes (graded_spikes_factor"
                            " is not 1): a chip neuron sends one spike", hint="fold the factor into the next "
                            "layer's weights and set graded_spikes_factor=1.0")
    if getattr(module, "inhibition", False):
        return NeuronModule("snntorch", outputs=outputs, why="inhibition=True (only the "
                            "strongest neuron fires): the chip's neurons fire independently",
                            hint="train without inhibition")
    reset = module.reset_mechanism
    if reset == "none":
        return NeuronModule("snntorch", outputs=outputs, why="reset_mechanism='none' keeps the "
                            "membrane after a spike; the chip's neuron subtracts the threshold or resets "
                            "to 0", hint="train with reset_mechanism='subtract' or 'zero'")
    return NeuronModule("snntorch", IAF(
        threshold=threshold, reset="zero" if reset == "zero" else "subtract", explicit_reset=True,
        note=f"snnTorch Leaky(beta=1), reset_mechanism='{reset}'"), outputs=outputs)


def _norse(module: Any) -> NeuronModule:
    cls = type(module).__name__
    if cls not in ("IAFCell", "IAF"):
        p = getattr(module, "p", None)
        leaky = p is not None and any(hasattr(p, f) for f in ("tau_mem_inv", "tau_syn_inv"))
        why = (f"a leaky integrator without spikes ({cls})" if cls.startswith("LI") and "LIF" not in cls
               else f"a leaky neuron ({cls}: finite time constants)" if leaky
               else f"Norse's {cls} is no integrate-and-fire neuron")
        return NeuronModule("norse", outputs="spikes+state",
                            why=f"{why}: the chip's neurons integrate and fire without a leak, "
                            "synaptic current or recurrence", hint="use norse.torch.IAFCell "
                            "(integrate-and-fire) and train again, or keep this layer on the host")
    p = module.p
    threshold, v_reset = _scalar(p.v_th), _scalar(p.v_reset)
    if threshold is None or threshold <= 0:
        return NeuronModule("norse", outputs="spikes+state", why="its threshold v_th is not one "
                            "positive value; a chip core has one positive threshold",
                            hint="train with one positive v_th per layer")
    if v_reset != 0.0:
        return NeuronModule("norse", outputs="spikes+state", why=f"it resets to v_reset "
                            f"{v_reset}; the chip resets to 0 or subtracts the threshold",
                            hint="train with v_reset=0.0")
    return NeuronModule("norse", IAF(
        threshold=threshold, reset="zero", explicit_reset=True,
        note=f"Norse {cls}: resets to v_reset 0"), outputs="spikes+state")


def neuron_kind(module: Any) -> str | None:
    """'iaf' for an integrate-and-fire neuron module the chip computes, 'leaky' for a neuron
    module it cannot compute, None for any other module."""
    found = describe(module)
    return None if found is None else ("iaf" if found.iaf is not None else "leaky")


def state_names(module: Any) -> list[str]:
    """The module's own state_dict entries that are states, not parameters (never loaded from a
    checkpoint): a sinabs StatefulLayer's buffers (v_mem, ...; its spike_threshold and min_v_mem
    are parameters). snnTorch's `mem` is not persistent; Norse keeps its states outside."""
    if framework_of(module) != "sinabs":
        return []
    return [name for name, _ in module.named_buffers(recurse=False)]


def reset(module: Any) -> None:
    """Start a neuron module's state over (at 0, as the chip's)."""
    framework = framework_of(module)
    if framework == "sinabs":
        module.reset_states()
    elif framework == "snntorch" and hasattr(module, "reset_mem"):
        module.reset_mem()


def stepped(model: Any) -> bool:
    """Whether the model computes one time step per call (snnTorch and Norse neurons keep or hand
    back their state between calls), rather than a whole recording (sinabs's squeezed layers)."""
    return any(framework_of(m) in ("snntorch", "norse") for m in model.modules())


def run_steps(model: Any, frames: Any, state: Any = None) -> tuple[Any, Any]:
    """The model over [T, C, H, W] frames, one [1, C, H, W] step per call: its spikes per step,
    stacked on the time axis, and the state to carry into the next window of the same recording.
    A forward that takes a state besides its input (Norse's `forward(x, state)`) is given back
    the state it returned; snnTorch's layers with `init_hidden` keep theirs. The caller starts
    the states over (`reset`) before a recording's first window."""
    import inspect

    import torch

    takes_state = len(inspect.signature(model.forward).parameters) > 1
    steps = []
    for t in range(frames.shape[0]):
        x = torch.as_tensor(frames[t: t + 1])
        out = model(x, state) if takes_state else model(x)
        if takes_state and isinstance(out, tuple) and len(out) == 2:
            out, state = out
        steps.append(spikes_of(out))
    return torch.cat(steps), state


def spikes_of(out: Any) -> Any:
    """A neuron module's spikes from what its call returned (snnTorch and Norse return
    (spikes, state))."""
    return out[0] if isinstance(out, tuple | list) else out

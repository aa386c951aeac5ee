"""Rules of `dynapcnn_dsl.rules.link_memory` (link stage): core-memory, index-memory, placement,
leak-core.

Figures by HARDWARE.md: kernel = c_in * 2^(ceil(log2(k*k)) + ceil(log2(c_out))), neuron =
c_out * 2^(ceil(log2(out_h)) + ceil(log2(out_w))), bias = c_out with a bias. Per physical core
(kernel / neuron, entries): cores 0-2 16 Ki / 64 Ki, 3-4 32 Ki / 32 Ki, 5-6 64 Ki / 16 Ki,
7-8 16 Ki / 16 Ki; bias 1 Ki everywhere. Limits are inclusive.
"""

from __future__ import annotations

import pytest
from helpers import check, found, only


def net(*cores: str, shape: str = "[1, 16, 16]", to: str = "[a]", head: str = "") -> str:
    """The input on line 3 (+ lines in `head`), one core per line from line 5."""
    lines = "".join(f"  {c}\n" for c in cores)
    return (f"dsl: 1\nchip: speck2f\n{head}input: {{source: host, shape: {shape}, to: {to}}}\n"
            f"cores:\n{lines}")


def placed(text: str) -> dict[str, int]:
    result = check(text)
    assert result.linked is not None, [d.message for d in result.diagnostics]
    return {c.name: c.index for c in result.linked.cores}


# -- core-memory ---------------------------------------------------------------------------------

def test_core_memory_the_worked_example_of_the_datasheet():
    """16 -> 32, 3x3, padding 1 on 64x64: kernel 16 * 2^(4+5) = 8 Ki, neuron 32 * 2^(6+6) = 128 Ki."""
    d = only(net("a: {conv: {out_channels: 32, kernel: 3, padding: 1}}", shape="[16, 64, 64]"))
    assert (str(d.position), d.code) == ("5:3", "core-memory")
    assert d.message == ("core 'a' needs kernel 8 Ki, neuron 128 Ki, bias 0: it fits no core (the "
                         "most neuron memory is 64 Ki on cores 0-2)")
    assert d.hint == ("shrink the core: fewer features, a smaller output map (stride, or pooling "
                      "before it), or split it over two cores")


def test_core_memory_neuron_rounds_each_axis_up_to_a_power_of_two():
    """17 features on 33x33: 17 * 2^(6+6) = 68 Ki (not 17 * 33 * 33)."""
    d = only(net("a: {conv: {out_channels: 17, kernel: 1}}", shape="[1, 33, 33]"))
    assert d.code == "core-memory"
    assert d.message.startswith("core 'a' needs kernel 32, neuron 68 Ki, bias 0: it fits no core")


def test_core_memory_kernel():
    """64 -> 128, 3x3 on 8x8: kernel 64 * 2^(4+7) = 128 Ki; neuron 128 * 2^(3+3) = 8 Ki."""
    d = only(net("a: {conv: {out_channels: 128, kernel: 3}}", shape="[64, 8, 8]"))
    assert (str(d.position), d.code) == ("5:3", "core-memory")
    assert d.message == ("core 'a' needs kernel 128 Ki, neuron 8 Ki, bias 0: it fits no core (the "
                         "most kernel memory is 64 Ki on cores 5-6)")


def test_core_memory_kernel_and_neuron_both_too_big_for_any_core():
    """128 -> 64, 3x3, padding 1 on 64x64: kernel 128 * 2^(4+6) = 128 Ki, neuron 64 * 2^12 = 256 Ki."""
    d = only(net("a: {conv: {out_channels: 64, kernel: 3, padding: 1}}", shape="[128, 64, 64]"))
    assert d.message == ("core 'a' needs kernel 128 Ki, neuron 256 Ki, bias 0: it fits no core (the "
                         "most kernel memory is 64 Ki on cores 5-6; the most neuron memory is 64 Ki "
                         "on cores 0-2)")


def test_core_memory_each_fits_somewhere_but_no_core_holds_both():
    """128 -> 32, 3x3, padding 1 on 32x32: kernel 128 * 2^(4+5) = 64 Ki (cores 5-6 only, neuron
    16 Ki there), neuron 32 * 2^(5+5) = 32 Ki (cores 0-4, kernel at most 32 Ki there)."""
    d = only(net("a: {conv: {out_channels: 32, kernel: 3, padding: 1}}", shape="[128, 32, 32]"))
    assert (str(d.position), d.code) == ("5:3", "core-memory")
    assert d.message == ("core 'a' needs kernel 64 Ki, neuron 32 Ki, bias 0: it fits no core (no "
                         "single core has enough of all three at once)")


def test_core_memory_bias_is_counted():
    d = only(net("a: {conv: {out_channels: 32, kernel: 3, padding: 1, bias: true}}",
                 shape="[16, 64, 64]"))
    assert "needs kernel 8 Ki, neuron 128 Ki, bias 32:" in d.message


@pytest.mark.parametrize(("conv", "shape", "where"), [
    # neuron exactly 64 Ki: 16 * 2^(6+6); only cores 0-2 hold it
    ("{out_channels: 16, kernel: 1}", "[1, 64, 64]", {0, 1, 2}),
    # kernel exactly 64 Ki: 64 * 2^(4+6), and neuron exactly 16 Ki: 64 * 2^(4+4): cores 5-6
    ("{out_channels: 64, kernel: 3, padding: 1}", "[64, 16, 16]", {5, 6}),
    # kernel and neuron exactly 32 Ki: 32 * 2^(4+6) and 64 * 2^(5+4): cores 3-6 hold the
    # kernel, cores 0-4 the neuron: cores 3-4
    ("{out_channels: 64, kernel: 3, padding: 1}", "[32, 32, 16]", {3, 4}),
])
def test_core_memory_exactly_at_the_limit_fits(conv, shape, where):
    text = net(f"a: {{conv: {conv}}}", shape=shape)
    assert found(text) == []
    assert placed(text)["a"] in where


# -- index-memory --------------------------------------------------------------------------------

SIXTEEN_KI = "{out_channels: 64, kernel: 3, padding: 1}"
"""On a [16, 4, 4] input: kernel 16 * 2^(4+6) = 16 Ki exactly, neuron 64 * 2^(2+2) = 1 Ki."""


@pytest.mark.parametrize("pin", range(9))
def test_index_memory_exactly_16_ki_of_kernel_fits_every_core(pin):
    text = net(f"a: {{conv: {SIXTEEN_KI}, index: {pin}}}", shape="[16, 4, 4]")
    assert found(text) == []
    assert placed(text) == {"a": pin}


@pytest.mark.parametrize("pin", [0, 1, 2, 7, 8])
def test_index_memory_17_ki_of_kernel_at_the_index_value(pin):
    """17 * 2^(4+6) = 17 Ki: too much for the 16 Ki cores."""
    d = only(net(f"a: {{conv: {SIXTEEN_KI}, index: {pin}}}", shape="[17, 4, 4]"))
    assert (str(d.position), d.code) == ("5:63", "index-memory")
    assert d.message == (f"core 'a' is pinned to core {pin}, which is too small: kernel 17 Ki > 16 Ki "
                         "(cores 3-6 fit)")
    assert d.hint == "pin the core to a physical core with enough memory, or remove `index:`"


@pytest.mark.parametrize("pin", [3, 4, 5, 6])
def test_index_memory_17_ki_of_kernel_fits_the_larger_cores(pin):
    assert found(net(f"a: {{conv: {SIXTEEN_KI}, index: {pin}}}", shape="[17, 4, 4]")) == []


def test_index_memory_names_every_shortfall():
    """32 Ki of kernel and of neuron (see above) pinned to core 7 (16 Ki / 16 Ki)."""
    d = only(net("a: {conv: {out_channels: 64, kernel: 3, padding: 1}, index: 7}",
                 shape="[32, 32, 16]"))
    assert d.code == "index-memory"
    assert d.message == ("core 'a' is pinned to core 7, which is too small: kernel 32 Ki > 16 Ki, "
                         "neuron 32 Ki > 16 Ki (cores 3-4 fit)")


def test_index_memory_neuron():
    d = only(net("a: {conv: {out_channels: 16, kernel: 1}, index: 5}", shape="[1, 64, 64]"))
    assert d.message == ("core 'a' is pinned to core 5, which is too small: neuron 64 Ki > 16 Ki "
                         "(cores 0-2 fit)")


def test_index_memory_when_no_core_fits_comes_with_core_memory():
    text = net("a: {conv: {out_channels: 32, kernel: 3, padding: 1}, index: 0}", shape="[16, 64, 64]")
    diags = check(text).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("5:3", "core-memory"), ("5:63", "index-memory")]
    assert diags[1].message == ("core 'a' is pinned to core 0, which is too small: neuron 128 Ki > 64 "
                                "Ki (no core fits)")


# -- placement -----------------------------------------------------------------------------------

BIG = "{conv: {out_channels: 16, kernel: 1}"
"""On 64x64: neuron 16 * 2^(6+6) = 64 Ki, which only cores 0-2 hold."""


def chain(n: int, last: str = "") -> str:
    names = [f"c{i}" for i in range(n)]
    cores = [f"{name}: {BIG}, to: [{names[i + 1]}]}}" for i, name in enumerate(names[:-1])]
    cores.append(f"{names[-1]}: {BIG}}}")
    if last:
        cores[-1] = cores[-1][:-1] + ", to: [x]}"
        cores.append(last)
    return net(*cores, shape="[1, 64, 64]", to="[c0]")


def test_placement_four_cores_for_three_physical_cores_at_the_cores_key():
    d = only(chain(4))
    assert (str(d.position), d.code) == ("4:1", "placement")
    assert d.message == (
        "no placement exists: 4 cores fit only into physical cores 0-2: "
        "'c0' (kernel 16, neuron 64 Ki, bias 0); 'c1' (kernel 256, neuron 64 Ki, bias 0); "
        "'c2' (kernel 256, neuron 64 Ki, bias 0); 'c3' (kernel 256, neuron 64 Ki, bias 0)")
    assert d.hint == ("shrink one of these cores (fewer features, a smaller map), or remove a pin "
                      "that blocks the cores they need")


def test_placement_three_cores_for_three_physical_cores_passes():
    assert sorted(placed(chain(3)).values()) == [0, 1, 2]


def test_placement_a_pin_that_blocks_the_cores_others_need():
    """A small core pinned to 2 leaves cores 0-1 for three cores that need 64 Ki of neuron."""
    text = chain(3, last="x: {conv: {out_channels: 1, kernel: 1}, index: 2}")
    d = only(text)
    assert (str(d.position), d.code) == ("4:1", "placement")
    assert d.message.startswith("no placement exists: 4 cores fit only into physical cores 0-2: ")
    assert d.message.endswith("'x' (kernel 16, neuron 4 Ki, bias 0, pinned to 2)")


def test_placement_the_same_small_core_pinned_elsewhere_passes():
    text = chain(3, last="x: {conv: {out_channels: 1, kernel: 1}, index: 7}")
    assert found(text) == []
    assert placed(text)["x"] == 7


def test_placement_names_only_the_group_that_does_not_fit():
    """Three cores that need 64 Ki of kernel, 64 * 2^(4+6) (cores 5-6 only), after one that needs
    4 Ki (fits anywhere)."""
    text = net("a: {conv: {out_channels: 64, kernel: 1}, to: [b]}",
               "b: {conv: {out_channels: 64, kernel: 3, padding: 1}, to: [c]}",
               "c: {conv: {out_channels: 64, kernel: 3, padding: 1}, to: [d]}",
               "d: {conv: {out_channels: 64, kernel: 3, padding: 1}}",
               shape="[64, 16, 16]")
    d = only(text)
    assert d.code == "placement"
    assert d.message.startswith("no placement exists: 3 cores fit only into physical cores 5-6: 'b' ")
    assert "'a'" not in d.message


def test_placement_nine_small_cores_fill_the_chip():
    names = [f"c{i}" for i in range(9)]
    cores = [f"{n}: {{conv: {{out_channels: 2, kernel: 1}}, to: [{names[i + 1]}]}}"
             for i, n in enumerate(names[:-1])] + ["c8: {conv: {out_channels: 2, kernel: 1}}"]
    assert sorted(placed(net(*cores, to="[c0]")).values()) == list(range(9))


# -- leak-core -----------------------------------------------------------------------------------

def leak(index: str) -> str:
    return net(f"a: {{conv: {{out_channels: 4, kernel: 1, bias: true}}{index}}}")


@pytest.mark.parametrize("pin", [0, 1])
def test_leak_core_warns_at_the_core_key(pin):
    result = check(leak(f", index: {pin}"))
    (d,) = result.diagnostics
    assert (str(d.position), d.code, d.severity.value) == ("5:3", "leak-core", "warning")
    assert d.message == f"core 'a' has a bias (leak) and is placed on core {pin}"
    assert d.hint == ("the datasheet lists leak (bias) as broken on cores 0 and 1: pin this core "
                      "elsewhere")
    assert result.ok


@pytest.mark.parametrize("pin", [2, 7])
def test_leak_core_pinned_elsewhere_passes(pin):
    assert found(leak(f", index: {pin}")) == []


def test_leak_core_placement_keeps_a_leaking_input_core_off_cores_0_and_1():
    text = leak("")
    assert found(text) == []
    assert placed(text)["a"] not in (0, 1)


def test_leak_core_without_a_bias_on_core_0_passes():
    assert found(net("a: {conv: {out_channels: 4, kernel: 1}, index: 0}")) == []


DEFAULT_BIAS = "defaults:\n  conv: {bias: true}\n"
"""`bias: true` written once (line 4), inherited by every core; the input moves to line 5 and the
cores start on line 7."""


def test_leak_core_a_bias_from_defaults_names_each_pinned_core():
    """Each core is warned at its own key, not once at the shared bias value."""
    result = check(net("a: {conv: {out_channels: 4, kernel: 1}, index: 0, to: [b]}",
                       "b: {conv: {out_channels: 4, kernel: 1}, index: 1}", head=DEFAULT_BIAS))
    assert [(str(d.position), d.code, d.message) for d in result.diagnostics] == [
        ("7:3", "leak-core", "core 'a' has a bias (leak) and is placed on core 0"),
        ("8:3", "leak-core", "core 'b' has a bias (leak) and is placed on core 1")]
    assert result.ok


def test_leak_core_a_bias_from_defaults_names_each_placed_core():
    """Three cores needing 64 Ki of neuron (cores 0-2 only): the two on cores 0 and 1 are both named."""
    text = net("a: {conv: {out_channels: 16, kernel: 1}, to: [b]}",
               "b: {conv: {out_channels: 16, kernel: 1}, to: [c]}",
               "c: {conv: {out_channels: 16, kernel: 1}}", shape="[1, 64, 64]", head=DEFAULT_BIAS)
    result = check(text)
    assert result.ok
    line = {"a": 7, "b": 8, "c": 9}
    on = placed(text)
    assert sorted((str(d.position), d.message) for d in result.diagnostics) == sorted(
        (f"{line[name]}:3", f"core '{name}' has a bias (leak) and is placed on core {index}")
        for name, index in on.items() if index in (0, 1))
    assert len(result.diagnostics) == 2


def test_leak_core_when_only_cores_0_to_2_hold_the_leaking_cores():
    """Three cores with a bias that need 64 Ki of neuron: two must go to cores 0 and 1."""
    text = net("a: {conv: {out_channels: 16, kernel: 1, bias: true}, to: [b]}",
               "b: {conv: {out_channels: 16, kernel: 1, bias: true}, to: [c]}",
               "c: {conv: {out_channels: 16, kernel: 1, bias: true}}", shape="[1, 64, 64]")
    result = check(text)
    assert [d.code for d in result.diagnostics] == ["leak-core", "leak-core"]
    assert result.ok
    on = placed(text)
    assert sorted(on.values()) == [0, 1, 2]
    warned = {d.message.split("'")[1] for d in result.diagnostics}
    assert warned == {name for name, index in on.items() if index in (0, 1)}

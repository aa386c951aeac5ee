"""`dynapcnn_dsl.differ.compare` and `json_patch`: configuration documents compared by path.

Every document here is built by the real pipeline (`dynapcnn_dsl.build`) from YAML written to
tmp_path; weights are numpy arrays saved as .npz at test time. The weights are chosen so that
every core's quantization scale is exactly 127 (largest weight 1.0, smallest -1.0, threshold
pair (-1, 1)): a weight w becomes round(127 w), threshold 1.0 becomes 127.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonpatch
import numpy as np
import pytest
from helpers import CHAIN, make_weights, write

import dynapcnn_dsl
from dynapcnn_dsl.differ import Change, compare, json_patch
from dynapcnn_dsl.differ.compare import normalize, to_plain
from dynapcnn_dsl.emit.configuration import unused_core

STRUCTURE_NOTE = "one side has no weights: tensors and thresholds are not compared"
NEITHER_NOTE = "neither side has weights: tensors and thresholds are not compared"
NAMES_NOTE = "cores matched by their names in the network file"


# a residual block: a -> b -> c and the skip a -> c, summed at c
RESIDUAL = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 16, 16], to: [a]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  a:
    conv: {out_channels: 4, kernel: 3, padding: 1}
    to: [b, c]
  b:
    conv: {out_channels: 4, kernel: 3, padding: 1}
    to: [c]
  c:
    merge: sum
    conv: {out_channels: 4, kernel: 3, padding: 1}
    monitor: true
"""


# ------------------------------------------------------------------------------------ helpers
def doc(network: Path, weights: Path | None = None, *, annotate: bool = True) -> dict:
    return dynapcnn_dsl.build(network, weights, annotate=annotate).data


def lines(changes: list[Change]) -> list[str]:
    return [f"{c.path}: {c.text}" for c in changes]


# --------------------------------------------------------------------------------- identical
@pytest.mark.parametrize("annotate", [True, False])
@pytest.mark.parametrize("with_weights", [True, False])
def test_identical_builds_have_no_differences(chain, annotate, with_weights):
    net, weights = chain
    w = weights if with_weights else None
    changes, notes = compare(doc(net, w, annotate=annotate), doc(net, w, annotate=annotate))
    assert changes == []
    assert (NEITHER_NOTE in notes) is not with_weights
    assert (NAMES_NOTE in notes) is annotate
    assert json_patch(doc(net, w)["config"], doc(net, w)["config"]) == []


def test_a_document_compared_with_itself_after_a_copy(chain):
    net, weights = chain
    d = doc(net, weights)
    assert compare(d, copy.deepcopy(d)) == ([], [NAMES_NOTE])


def test_the_network_path_and_generator_are_not_compared(chain, tmp_path):
    net, weights = chain
    other = write(tmp_path, "elsewhere.yaml", CHAIN)
    a, b = doc(net, weights), doc(other, weights)
    assert a["source"] != b["source"]
    assert compare(a, b)[0] == []


# ------------------------------------------------------------------------- single changes
def test_a_changed_pooling_is_reported_on_its_path(chain, tmp_path):
    net, weights = chain
    pool4 = write(tmp_path, "pool4.yaml", CHAIN.replace("pool: 2", "pool: 4"))
    changes, notes = compare(doc(net, weights), doc(pool4, weights))
    assert notes == [NAMES_NOTE]
    assert lines(changes) == [
        "cnn_layers[0].destinations[0].pooling: 2 -> 4   (core 'a')",
        "cnn_layers[1].dimensions.input_shape.size.x: 8 -> 4   (core 'b')",
        "cnn_layers[1].dimensions.input_shape.size.y: 8 -> 4   (core 'b')",
        "cnn_layers[1].dimensions.output_shape.size.x: 8 -> 4   (core 'b')",
        "cnn_layers[1].dimensions.output_shape.size.y: 8 -> 4   (core 'b')",
        # the receiver's neuron state follows its smaller map: a shape change, summarised
        "cnn_layers[1].neurons_initial_value: shape [4, 8, 8] -> [4, 4, 4]   (core 'b')",
    ]
    (pooling,) = [c for c in changes if c.path.endswith("pooling")]
    assert (pooling.old, pooling.new) == (2, 4)


def test_a_changed_pooling_without_annotations_has_the_plain_paths(chain, tmp_path):
    net, weights = chain
    pool4 = write(tmp_path, "pool4.yaml", CHAIN.replace("pool: 2", "pool: 4"))
    changes, notes = compare(doc(net, weights, annotate=False), doc(pool4, weights, annotate=False))
    assert notes == []
    assert lines(changes)[0] == "cnn_layers[0].destinations[0].pooling: 2 -> 4"
    assert lines(changes)[-1] == "cnn_layers[1].neurons_initial_value: shape [4, 8, 8] -> [4, 4, 4]"


def test_a_changed_destination_is_reported_by_the_names_it_points_at(tmp_path):
    old = write(tmp_path, "old.yaml", RESIDUAL)
    new = write(tmp_path, "new.yaml", RESIDUAL.replace("to: [b, c]", "to: [c, b]"))
    a, b = doc(old), doc(new)
    assert [s and s["core"] for s in a["annotations"]["cnn_layers"]][:3] == ["a", "b", "c"]
    assert [s and s["core"] for s in b["annotations"]["cnn_layers"]][:3] == ["a", "b", "c"]
    changes, _ = compare(a, b)
    assert lines(changes) == [
        "cnn_layers[0].destinations[0].layer: 1 (b) -> 2 (c)   (core 'a')",
        "cnn_layers[0].destinations[1].layer: 2 (c) -> 1 (b)   (core 'a')",
    ]
    plain, _ = compare(doc(old, annotate=False), doc(new, annotate=False))
    assert lines(plain) == ["cnn_layers[0].destinations[0].layer: 1 -> 2",
                            "cnn_layers[0].destinations[1].layer: 2 -> 1"]


def test_a_dropped_destination_is_one_line(tmp_path):
    old = write(tmp_path, "old.yaml", RESIDUAL)
    new = write(tmp_path, "new.yaml", RESIDUAL.replace("to: [b, c]", "to: [b]"))
    changes, _ = compare(doc(old), doc(new))
    assert lines(changes) == [
        "cnn_layers[0].destinations[1]: enabled: layer 2, pooling 1, feature_shift 0 -> disabled"
        "   (core 'a')",
    ]


def test_a_changed_threshold_is_reported_with_weights(chain, tmp_path):
    net, weights = chain
    high = write(tmp_path, "high.yaml", CHAIN.replace(
        "    to: [{core: b, pool: 2}]",
        "    to: [{core: b, pool: 2}]\n    neuron: {threshold: 2.0, min_v_mem: -1.0}"))
    changes, _ = compare(doc(net, weights), doc(high, weights))
    assert lines(changes) == ["cnn_layers[0].threshold_high: 127 -> 254   (core 'a')"]
    (c,) = changes
    assert (c.old, c.new) == (127, 254)


def test_a_changed_threshold_is_not_compared_structure_only(chain, tmp_path):
    net, _ = chain
    high = write(tmp_path, "high.yaml", CHAIN.replace("threshold: 1.0", "threshold: 2.0"))
    changes, notes = compare(doc(net), doc(high))
    assert changes == []
    assert NEITHER_NOTE in notes


def test_a_changed_weight_is_summarised(chain, tmp_path):
    net, weights = chain
    tensors = dict(np.load(weights))
    w = tensors["a.weight"].copy()
    w.flat[2] = 0.25                       # 0 -> round(127 * 0.25) = 32, the scale unchanged
    tensors["a.weight"] = w
    changed = tmp_path / "changed.npz"
    np.savez(changed, **tensors)
    changes, _ = compare(doc(net, weights), doc(net, changed))
    assert lines(changes) == [
        "cnn_layers[0].weights: 1 of 72 entries changed, largest change 32 (shape [4, 2, 3, 3])"
        "   (core 'a')",
    ]


def test_a_changed_kernel_is_a_shape_change(chain, tmp_path):
    net, weights = chain
    wide = write(tmp_path, "wide.yaml", CHAIN.replace(
        "conv: {out_channels: 4, kernel: 3, padding: 1}\n    to:",
        "conv: {out_channels: 4, kernel: 5, padding: 2}\n    to:"))
    wide_weights = tmp_path / "wide.npz"
    make_weights(wide, wide_weights)
    changes, _ = compare(doc(net, weights), doc(wide, wide_weights))
    text = lines(changes)
    assert "cnn_layers[0].weights: shape [4, 2, 3, 3] -> [4, 2, 5, 5]   (core 'a')" in text
    assert "cnn_layers[0].dimensions.kernel_size: 3 -> 5   (core 'a')" in text
    assert "cnn_layers[0].dimensions.padding.x: 1 -> 2   (core 'a')" in text
    # the shape change is the whole story of the tensor: no entry count on top of it
    assert [t for t in text if t.startswith("cnn_layers[0].weights")] == [
        "cnn_layers[0].weights: shape [4, 2, 3, 3] -> [4, 2, 5, 5]   (core 'a')"]
    (shape,) = [c for c in changes if c.path == "cnn_layers[0].weights"]
    assert (shape.old, shape.new) == ([4, 2, 3, 3], [4, 2, 5, 5])


def test_a_changed_chip(chain, tmp_path):
    net, _ = chain
    other = write(tmp_path, "e.yaml", CHAIN.replace("chip: speck2f", "chip: speck2e"))
    changes, _ = compare(doc(net), doc(other))
    assert lines(changes) == ["chip: speck2f -> speck2e"]


def test_a_renamed_core_is_removed_and_added(chain, tmp_path):
    net, _ = chain
    renamed = write(tmp_path, "renamed.yaml", CHAIN.replace("core: b", "core: z").replace("  b:", "  z:"))
    changes, _ = compare(doc(net), doc(renamed))
    assert lines(changes) == [
        "cnn_layers[0].destinations[0].layer: 1 (b) -> 1 (z)   (core 'a')",
        "cnn_layers[1]: core 'b' removed",
        "cnn_layers[1]: core 'z' added",
    ]


# ------------------------------------------------------------------- weights on one side only
def test_document_with_weights_against_a_structure_only_build(chain):
    net, weights = chain
    changes, notes = compare(doc(net, weights), doc(net))
    assert changes == []
    assert notes == [STRUCTURE_NOTE, NAMES_NOTE]


def test_structure_only_still_compares_structure(chain, tmp_path):
    net, weights = chain
    pool4 = write(tmp_path, "pool4.yaml", CHAIN.replace("pool: 2", "pool: 4"))
    for old, note in ((doc(net), NEITHER_NOTE), (doc(net, weights), STRUCTURE_NOTE)):
        changes, notes = compare(old, doc(pool4))
        assert note in notes
        assert lines(changes)[0] == "cnn_layers[0].destinations[0].pooling: 2 -> 4   (core 'a')"
        assert not any("neurons_initial_value" in c.path or "weights" in c.path for c in changes)


def test_structure_only_is_decided_by_the_source_header(chain):
    net, weights = chain
    assert doc(net)["source"]["weights"] is None
    assert doc(net, weights)["source"]["weights"] == str(weights)
    stripped = copy.deepcopy(doc(net, weights))
    del stripped["source"]   # e.g. a configuration read back from a device: everything compared
    assert compare(stripped, doc(net, weights)) == ([], [NAMES_NOTE])


# ------------------------------------------------------------------------- cores that move
def test_a_moved_core_is_one_change(chain, tmp_path):
    net, weights = chain
    pinned = write(tmp_path, "pinned.yaml", CHAIN.replace("  b:\n", "  b:\n    index: 5\n"))
    old, new = doc(net, weights), doc(pinned, weights)
    assert new["config"]["cnn_layers"][0]["destinations"][0]["layer"] == 5   # it did move
    changes, notes = compare(old, new)
    assert NAMES_NOTE in notes
    assert lines(changes) == ["cnn_layers[1->5]: moved from core 1 to core 5 (core 'b')"]
    assert (changes[0].old, changes[0].new) == (1, 5)


def test_a_moved_core_still_reports_its_own_changes(chain, tmp_path):
    net, weights = chain
    pinned = write(tmp_path, "pinned.yaml", CHAIN.replace("  b:\n", "  b:\n    index: 5\n")
                   .replace("pool: 2", "pool: 4"))
    changes, _ = compare(doc(net, weights), doc(pinned, weights))
    text = lines(changes)
    assert text[0] == "cnn_layers[0].destinations[0].pooling: 2 -> 4   (core 'a')"
    assert "cnn_layers[1->5]: moved from core 1 to core 5 (core 'b')" in text
    assert "cnn_layers[1->5].dimensions.input_shape.size.x: 8 -> 4   (core 'b')" in text
    assert not any(".layer" in t for t in text)   # a's destination still names 'b'


def test_two_cores_that_swap_places(chain, tmp_path):
    net, weights = chain
    pinned = write(tmp_path, "pinned.yaml", CHAIN.replace("  a:\n", "  a:\n    index: 1\n"))
    changes, _ = compare(doc(net, weights), doc(pinned, weights))
    assert lines(changes) == ["cnn_layers[0->1]: moved from core 0 to core 1 (core 'a')",
                              "cnn_layers[1->0]: moved from core 1 to core 0 (core 'b')"]


def test_a_moved_core_behind_the_dvs(tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "dvs-speck2f" / "network.yaml"
    text = example.read_text(encoding="utf-8")
    old = write(tmp_path, "dvs.yaml", text)
    new = write(tmp_path, "dvs-pinned.yaml", text.replace("  stem:\n", "  stem:\n    index: 1\n"))
    a, b = doc(old), doc(new)
    assert a["config"]["dvs_layer"]["destinations"][0] != b["config"]["dvs_layer"]["destinations"][0]
    changes, _ = compare(a, b)
    assert lines(changes) == ["cnn_layers[0->1]: moved from core 0 to core 1 (core 'stem')",
                              "cnn_layers[1->0]: moved from core 1 to core 0 (core 'block')"]


def test_without_annotations_a_move_is_reported_slot_by_slot(chain, tmp_path):
    net, weights = chain
    pinned = write(tmp_path, "pinned.yaml", CHAIN.replace("  b:\n", "  b:\n    index: 5\n"))
    changes, notes = compare(doc(net, weights, annotate=False), doc(pinned, weights, annotate=False))
    assert notes == []
    paths = [c.path for c in changes]
    assert paths[0] == "cnn_layers[0].destinations[0].layer"
    assert "cnn_layers[1].dimensions" in paths and "cnn_layers[5].dimensions" in paths
    assert not any("moved from" in c.text for c in changes)


def test_an_added_or_removed_tensor_is_summarised_on_one_line(chain, tmp_path):
    net, weights = chain
    pinned = write(tmp_path, "pinned.yaml", CHAIN.replace("  b:\n", "  b:\n    index: 5\n"))
    changes, _ = compare(doc(net, weights, annotate=False), doc(pinned, weights, annotate=False))
    removed = {c.path: c.text for c in changes}["cnn_layers[1].weights"]
    assert "\n" not in removed
    assert "[4, 4, 3, 3]" in removed
    assert all("\n" not in c.text for c in changes)


# -------------------------------------------------------------------- leftovers and noise
def leftovers(data: dict) -> dict:
    """A hand-edited copy: unused core 6 and a's unused slot hold samna's leftovers."""
    edited = copy.deepcopy(data)
    layers = edited["config"]["cnn_layers"]
    layers[6] = {
        "dimensions": {"kernel_size": 5},
        "weights": np.ones((2, 3, 5, 5), dtype=np.int64),
        "threshold_high": 9,
        "return_to_zero": True,
        "monitor_enable": False,
        "destinations": [{"enable": False, "layer": 3, "pooling": 2, "feature_shift": 7},
                         {"enable": False, "layer": 1}],
    }
    layers[7] = {"destinations": [{"enable": 0, "layer": 8}, {"enable": False}]}
    layers[0]["destinations"][1] = {"enable": False, "layer": 7, "pooling": 4, "feature_shift": 3}
    return edited


@pytest.mark.parametrize("annotate", [True, False])
def test_unused_cores_with_leftovers_are_not_reported(chain, annotate):
    net, weights = chain
    built = doc(net, weights, annotate=annotate)
    edited = leftovers(built)
    assert compare(built, edited)[0] == []
    assert compare(edited, built)[0] == []


def test_normalize_reduces_leftovers_to_what_the_chip_uses(chain):
    net, weights = chain
    config = normalize(leftovers(doc(net, weights)))
    assert config["cnn_layers"][6] == unused_core()
    assert config["cnn_layers"][7] == unused_core()
    assert config["cnn_layers"][0]["destinations"][1] == {"enable": False}


def test_a_leftover_core_that_is_live_is_reported_without_annotations(chain):
    net, weights = chain
    built = doc(net, weights, annotate=False)
    edited = copy.deepcopy(built)
    edited["config"]["cnn_layers"][6] = {
        "destinations": [{"enable": True, "layer": 1, "pooling": 1, "feature_shift": 0},
                         {"enable": False}],
        "monitor_enable": False,
    }
    assert lines(compare(built, edited)[0]) == [
        "cnn_layers[6].destinations[0]: disabled -> enabled: layer 1, pooling 1, feature_shift 0"]


def test_a_leftover_core_that_is_live_is_reported_with_annotations(chain):
    net, weights = chain
    built = doc(net, weights)
    edited = copy.deepcopy(built)
    edited["config"]["cnn_layers"][6] = {
        "destinations": [{"enable": True, "layer": 1, "pooling": 1, "feature_shift": 0},
                         {"enable": False}],
        "monitor_enable": False,
    }
    changes, _ = compare(built, edited)
    assert [c.path for c in changes] == ["cnn_layers[6].destinations[0]"]


# ----------------------------------------------------------------------------- JSON patch
@pytest.mark.parametrize("edit", ["pool", "pin", "threshold", "kernel", "weights"])
def test_a_json_patch_turns_the_old_config_into_the_new(chain, tmp_path, edit):
    net, weights = chain
    text = {
        "pool": CHAIN.replace("pool: 2", "pool: 4"),
        "pin": CHAIN.replace("  b:\n", "  b:\n    index: 5\n"),
        "threshold": CHAIN.replace("threshold: 1.0", "threshold: 3.0"),
        "kernel": CHAIN.replace("kernel: 3, padding: 1}\n    monitor", "kernel: 1}\n    monitor"),
        "weights": CHAIN,
    }[edit]
    new_net = write(tmp_path, "new.yaml", text)
    new_weights = tmp_path / "new.npz"
    make_weights(new_net, new_weights, seed=1 if edit == "weights" else 0)
    old, new = doc(net, weights), doc(new_net, new_weights)
    patch = json_patch(old["config"], new["config"])
    assert patch
    old_plain, new_plain = to_plain(old["config"]), to_plain(new["config"])
    assert jsonpatch.apply_patch(old_plain, patch) == new_plain
    assert old_plain == to_plain(old["config"])   # apply_patch worked on a copy


def test_to_plain_turns_arrays_and_numpy_scalars_into_json_values():
    plain = to_plain({"a": [np.arange(3), np.int32(4)], "b": {"c": np.bool_(True)}})
    assert plain == {"a": [[0, 1, 2], 4], "b": {"c": True}}
    assert type(plain["a"][1]) is int and type(plain["b"]["c"]) is bool


# ------------------------------------------------- one way to get a side: api.read_side
def test_a_side_is_a_document_read_back_or_a_network_built_and_both_say_why_not(tmp_path):
    """The API's `diff` and the command get their sides from `api.read_side`: a document read
    back keeps what reading found, a network is built annotated (cores matched by name), and a
    side that cannot be had is a BuildError, with the pipeline's result for a network."""
    from dynapcnn_dsl.api import BuildError, read_side

    net = write(tmp_path, "chain.yaml", CHAIN)
    weights = make_weights(net, tmp_path / "chain.npz")
    built = read_side(net, weights, None)
    assert built.linked is not None
    assert built.to_json() == dynapcnn_dsl.build(net, weights, annotate=True).to_json()
    built.write(tmp_path / "chain.json")
    read = read_side(tmp_path / "chain.json", None, None)
    assert read.linked is None and read.diagnostics == () and compare(read.data, built.data)[0] == []

    broken = write(tmp_path, "broken.yaml", CHAIN.replace("kernel: 3", "kernel: 3, bogus: 1", 1))
    with pytest.raises(BuildError) as exc:
        read_side(broken, None, None)
    assert exc.value.result is not None and exc.value.result.file == str(broken)
    damaged = tmp_path / "damaged.json"
    damaged.write_text((tmp_path / "chain.json").read_text().replace('"cnn_layers"', '"cnn_layer"', 1))
    with pytest.raises(BuildError) as exc:
        read_side(damaged, None, None)
    assert exc.value.result is None and {d.code for d in exc.value.diagnostics} == {"document-invalid"}
    with pytest.raises(BuildError) as exc:
        dynapcnn_dsl.diff(damaged, net)
    assert {d.code for d in exc.value.diagnostics} == {"document-invalid"}

"""`SourceMap`: positions by path, the nearest-ancestor fallback, `copy_subtree` and `renumber`."""

from __future__ import annotations

import pytest

from dynapcnn_dsl.diagnostics import Position, Related
from dynapcnn_dsl.load import SourceMap, load_text

TEXT = """\
cores:
  a:
    conv: {kernel: 3}
    to:
      - b
"""


def smap() -> SourceMap:
    doc, problems = load_text(TEXT, "t.yaml")
    assert problems == []
    return doc.source_map


def test_value_of_an_existing_node():
    m = smap()
    assert m.value(("cores", "a", "conv", "kernel")) == Position(3, 20)
    assert m.value(("cores", "a", "conv")) == Position(3, 11)


def test_key_of_an_existing_node():
    m = smap()
    assert m.key(("cores", "a", "conv", "kernel")) == Position(3, 12)
    assert m.key(("cores", "a")) == Position(2, 3)


def test_key_of_a_list_item_is_its_value():
    m = smap()
    assert m.key(("cores", "a", "to", 0)) == Position(5, 9)
    assert m.value(("cores", "a", "to", 0)) == Position(5, 9)


def test_the_root():
    m = smap()
    assert m.value(()) == Position(1, 1)
    assert m.key(()) == Position(1, 1)


def test_missing_value_falls_back_to_the_nearest_ancestors_key():
    m = smap()
    # `stride` is not in the file: the user reads the name of the mapping it belongs in
    assert m.value(("cores", "a", "conv", "stride")) == Position(3, 5)
    assert m.key(("cores", "a", "conv", "stride")) == Position(3, 5)


def test_a_deeply_missing_path_climbs_several_levels():
    m = smap()
    assert m.value(("cores", "a", "neuron", "threshold", "x")) == Position(2, 3)
    assert m.value(("cores", "zz", "conv")) == Position(1, 1)


def test_a_missing_list_item_falls_back_to_the_list_key():
    m = smap()
    assert m.value(("cores", "a", "to", 5)) == Position(4, 5)


def test_a_path_outside_the_document_falls_back_to_the_root():
    m = smap()
    assert m.value(("nowhere",)) == Position(1, 1)
    assert m.key(("nowhere", "deeper")) == Position(1, 1)


def test_an_empty_map_answers_none():
    m = SourceMap("t.yaml")
    assert m.value(("a",)) is None
    assert m.key(()) is None


def test_value_prefers_the_value_and_key_prefers_the_key():
    m = SourceMap("t.yaml", keys={("a",): Position(1, 1)}, values={("a",): Position(1, 4)})
    assert m.value(("a",)) == Position(1, 4)
    assert m.key(("a",)) == Position(1, 1)


def test_each_answers_with_the_other_when_its_own_is_missing():
    m = SourceMap("t.yaml", keys={("k",): Position(2, 1)}, values={("v",): Position(3, 5)})
    assert m.value(("k",)) == Position(2, 1)
    assert m.key(("v",)) == Position(3, 5)


def test_copy_subtree_copies_keys_and_values_under_the_source():
    m = smap()
    m.copy_subtree(("cores", "a", "conv"), ("cores", "b", "conv"))
    assert m.key(("cores", "b", "conv", "kernel")) == Position(3, 12)
    assert m.value(("cores", "b", "conv", "kernel")) == Position(3, 20)
    assert m.values[("cores", "b", "conv")] == Position(3, 11)
    assert m.keys[("cores", "b", "conv")] == Position(3, 5)


def test_copy_subtree_leaves_other_paths_alone():
    m = smap()
    before = dict(m.values)
    m.copy_subtree(("cores", "a", "conv"), ("x",))
    added = set(m.values) - set(before)
    assert added == {("x",), ("x", "kernel")}
    assert all(m.values[p] == before[p] for p in before)


def test_copy_subtree_never_overwrites_a_position_the_target_has():
    m = SourceMap("t.yaml", values={("d", "k"): Position(1, 1), ("c", "k"): Position(9, 9),
                                   ("d", "j"): Position(2, 2)})
    m.copy_subtree(("d",), ("c",))
    assert m.values[("c", "k")] == Position(9, 9)
    assert m.values[("c", "j")] == Position(2, 2)


def test_copy_subtree_of_a_list_copies_its_items():
    m = smap()
    m.copy_subtree(("cores", "a", "to"), ("cores", "c", "to"))
    assert m.value(("cores", "c", "to", 0)) == Position(5, 9)


def test_copy_subtree_of_a_missing_source_adds_nothing():
    m = smap()
    keys, values = dict(m.keys), dict(m.values)
    m.copy_subtree(("nope",), ("cores", "z"))
    assert m.keys == keys
    assert m.values == values


LIST = """\
to:
  - a
  - {core: b, pool: 2}
  - c
"""


def test_renumber_moves_every_position_under_an_item_with_it():
    m = load_text(LIST, "t.yaml")[0].source_map
    m.set_origin(("to", 1, "pool"), Related("tpl.yaml", Position(7, 7), "in template"))
    m.renumber(("to",), [(1, 0), (0, 1)])
    assert m.value(("to", 0)) == Position(3, 5)
    assert m.keys[("to", 0, "pool")] == Position(3, 15)
    assert m.notes(("to", 0, "pool")) == (Related("tpl.yaml", Position(7, 7), "in template"),)
    assert m.values[("to", 1)] == Position(2, 5)
    assert ("to", 1, "pool") not in m.keys and m.notes(("to", 1, "pool")) == ()


def test_renumber_can_make_one_item_several_and_drops_unnamed_ones():
    m = load_text(LIST, "t.yaml")[0].source_map
    m.renumber(("to",), [(1, 0), (1, 1)])
    assert m.keys[("to", 0, "core")] == m.keys[("to", 1, "core")] == Position(3, 6)
    assert ("to", 2) not in m.values
    assert m.value(("to", 2)) == m.key(("to",))  # falls back to the list's key
    assert m.values[("to",)] == Position(2, 3)


def test_the_tables_are_read_only_views():
    m = smap()
    with pytest.raises(TypeError):
        m.values[("x",)] = Position(1, 1)  # type: ignore[index]
    m.set_value(("x",), Position(1, 1))
    m.set_value(("x",), Position(2, 2), keep=True)
    assert m.values[("x",)] == Position(1, 1)

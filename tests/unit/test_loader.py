"""The loader (`dynapcnn_dsl.load`): YAML 1.2 core scalars, positions of keys and values, and
every refusal with its exact (line:col) and code. Positions are 1-based."""

from __future__ import annotations

import math
import textwrap

import pytest

from dynapcnn_dsl.diagnostics import Position, Severity
from dynapcnn_dsl.load import MAX_BYTES, MAX_DEPTH, load_file, load_text
from dynapcnn_dsl.load.reader import MAX_LOAD_ERRORS


def load(text: str, file: str = "t.yaml"):
    return load_text(textwrap.dedent(text), file)


def refused(text: str, file: str = "t.yaml") -> list[tuple[str, str]]:
    """[("line:col", code), ...] of the refusals; asserts the document was not built."""
    doc, problems = load(text, file)
    assert doc is None
    assert problems
    return [(str(d.position) if d.position else "-", d.code) for d in problems]


def value_of(scalar: str):
    doc, problems = load_text(f"k: {scalar}\n", "t.yaml")
    assert problems == []
    return doc.data["k"]


# -- scalars: the YAML 1.2 core schema --------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("42", 42),
    ("-7", -7),
    ("+12", 12),
    ("0", 0),
    ("012", 12),            # 1.2: a leading zero is decimal, not octal
    ("0x1F", 31),
    ("0o17", 15),
    ("9223372036854775807", 2**63 - 1),      # the bound itself (64 bits)
    ("-9223372036854775807", -(2**63 - 1)),
    ("0o777777777777777777777", 2**63 - 1),  # 21 octal digits
    ("0x7fffffffffffffff", 2**63 - 1),
    ("0000000000000000000000000000000000000000000000000000000000000000000000001", 1),
])
def test_integers(text, expected):
    value = value_of(text)
    assert type(value) is int
    assert value == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1.5", 1.5),
    ("-0.25", -0.25),
    (".5", 0.5),
    ("5.", 5.0),
    ("1e3", 1000.0),
    ("1.5e-3", 0.0015),
    ("1e39", 1e39),        # a float: the neuron rules refuse it beyond float32 (issue 9)
    (".inf", math.inf),
    (".Inf", math.inf),
    ("+.inf", math.inf),
    ("-.inf", -math.inf),
    ("-.INF", -math.inf),
])
def test_floats(text, expected):
    value = value_of(text)
    assert type(value) is float
    assert value == expected


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_nan(text):
    value = value_of(text)
    assert type(value) is float
    assert math.isnan(value)


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("True", True), ("TRUE", True),
    ("false", False), ("False", False), ("FALSE", False),
])
def test_booleans(text, expected):
    assert value_of(text) is expected


@pytest.mark.parametrize("text", ["null", "Null", "NULL", "~", ""])
def test_nulls(text):
    assert value_of(text) is None


@pytest.mark.parametrize("text", [
    "yes", "no", "Yes", "NO", "on", "off", "On", "y", "n",   # YAML 1.1 booleans: strings in 1.2
    "1:20",            # YAML 1.1 sexagesimal
    "2001-12-14",      # timestamps are not constructed
    "0b2", "0o8", "0x", "0xG", "1e", "_1", "1.2.3", "-.nan",
    # issue 9: the YAML 1.2 core schema has no underscores in numbers, no binary and no sign on
    # hex or octal (ruamel's resolver accepted these as numbers; they were tested as such before)
    "1_000", "1_000_000", "1_", "0x_1F", "-0x10", "+0o17", "0b11", "1_000.5",
])
def test_words_that_only_look_typed_stay_strings(text):
    value = value_of(text)
    assert type(value) is str
    assert value == text


@pytest.mark.parametrize(("text", "digits"), [
    ("9223372036854775808", 19), ("-9223372036854775808", 19), ("0x8000000000000000", 16),
    ("1" * 5000, 5000), ("0x" + "f" * 70, 70),
])
def test_an_integer_beyond_64_bits_is_refused_where_it_is_written(text, digits):
    doc, problems = load(f"a: 1\nk: {text}\n")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("2:4", "number-range")]
    assert problems[0].message.startswith(f"an integer of {digits} digits, beyond ±{2**63 - 1}")


def test_a_5000_digit_integer_in_json_keeps_its_position():
    doc, problems = load_text('{\n  "dsl": 1,\n  "k": ' + "7" * 5000 + "\n}\n", "n.json")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("3:8", "number-range")]


@pytest.mark.parametrize(("text", "expected"), [
    ("'1'", "1"),
    ('"42"', "42"),
    ("'0x10'", "0x10"),
    ('"true"', "true"),
    ("'null'", "null"),
    ("'~'", "~"),
    ('".inf"', ".inf"),
    ("''", ""),
])
def test_quoted_scalars_stay_strings(text, expected):
    value = value_of(text)
    assert type(value) is str
    assert value == expected


def test_keys_are_strings_even_when_they_look_like_numbers():
    doc, problems = load("1: a\ntrue: b\n")
    assert problems == []
    assert doc.data == {"1": "a", "true": "b"}


def test_block_literal_and_folded_scalars_are_strings():
    doc, problems = load("""\
        a: |
          1
        b: >-
          true
        """)
    assert problems == []
    assert doc.data == {"a": "1\n", "b": "true"}


# -- positions ---------------------------------------------------------------------------------

def test_block_mapping_positions():
    doc, problems = load("""\
        dsl: 1
        cores:
          conv1:
            kernel:   3
        """)
    assert problems == []
    smap = doc.source_map
    assert smap.keys[("dsl",)] == Position(1, 1)
    assert smap.values[("dsl",)] == Position(1, 6)
    assert smap.keys[("cores",)] == Position(2, 1)
    assert smap.keys[("cores", "conv1")] == Position(3, 3)
    assert smap.values[("cores", "conv1")] == Position(4, 5)    # a block mapping starts at its first key
    assert smap.keys[("cores", "conv1", "kernel")] == Position(4, 5)
    assert smap.values[("cores", "conv1", "kernel")] == Position(4, 15)


def test_root_position():
    doc, _ = load("\n\na: 1\n")
    assert doc.source_map.values[()] == Position(3, 1)
    assert () not in doc.source_map.keys


def test_flow_mapping_positions():
    doc, problems = load("a: {b: 1, c: [x, {d: 2}]}\n")
    assert problems == []
    smap = doc.source_map
    assert smap.values[("a",)] == Position(1, 4)
    assert smap.keys[("a", "b")] == Position(1, 5)
    assert smap.values[("a", "b")] == Position(1, 8)
    assert smap.keys[("a", "c")] == Position(1, 11)
    assert smap.values[("a", "c")] == Position(1, 14)
    assert smap.values[("a", "c", 0)] == Position(1, 15)
    assert smap.values[("a", "c", 1)] == Position(1, 18)
    assert smap.keys[("a", "c", 1, "d")] == Position(1, 19)
    assert smap.values[("a", "c", 1, "d")] == Position(1, 22)


def test_block_list_positions():
    doc, problems = load("""\
        l:
          - 1
          -   foo
          - k: v
            k2: [1,2]
        """)
    assert problems == []
    smap = doc.source_map
    assert doc.data == {"l": [1, "foo", {"k": "v", "k2": [1, 2]}]}
    assert smap.values[("l",)] == Position(2, 3)
    assert smap.values[("l", 0)] == Position(2, 5)
    assert smap.values[("l", 1)] == Position(3, 7)
    assert smap.values[("l", 2)] == Position(4, 5)
    assert smap.keys[("l", 2, "k")] == Position(4, 5)
    assert smap.values[("l", 2, "k")] == Position(4, 8)
    assert smap.keys[("l", 2, "k2")] == Position(5, 5)
    assert smap.values[("l", 2, "k2", 1)] == Position(5, 12)
    # list items have no key
    assert ("l", 0) not in smap.keys


def test_positions_count_characters_not_bytes():
    doc, problems = load("n: [éé, {x: 1}]\n")
    assert problems == []
    assert doc.source_map.keys[("n", 1, "x")] == Position(1, 10)


def test_json_positions():
    doc, problems = load_text('{\n  "a": 1,\n  "b": {"c": [1, 2]}\n}\n', "net.json")
    assert problems == []
    assert doc.data == {"a": 1, "b": {"c": [1, 2]}}
    smap = doc.source_map
    assert smap.keys[("a",)] == Position(2, 3)
    assert smap.values[("a",)] == Position(2, 8)
    assert smap.keys[("b", "c")] == Position(3, 9)
    assert smap.values[("b", "c", 1)] == Position(3, 18)


def test_source_lines_are_kept_for_excerpts():
    doc, _ = load("a: 1\nb: 2\n")
    assert doc.source_map.lines == ("a: 1", "b: 2")
    assert doc.source_map.file == "t.yaml"
    assert doc.file == "t.yaml"


def test_a_leading_document_marker_is_one_document():
    doc, problems = load("---\na: 1\n")
    assert problems == []
    assert doc.data == {"a": 1}
    assert doc.source_map.keys[("a",)] == Position(2, 1)


def test_an_empty_value_is_positioned_on_its_own_line():
    doc, _ = load("a:\n\n\nb: 1\n")
    assert doc.data == {"a": None, "b": 1}
    assert doc.source_map.values[("a",)] == Position(1, 3)


# -- refusals: tags ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "where", "tag"), [
    ("a: !!python/object/apply:os.system ['true']\n", "1:4", "!!python/object/apply:os.system"),
    ("a: !!python/name:os.system\n", "1:4", "!!python/name:os.system"),
    ("a: !!str 1\n", "1:4", "!!str"),
    ("a: !include other.yaml\n", "1:4", "!include"),
    ("a: !!map {}\n", "1:4", "!!map"),
    ("a: !custom [1]\n", "1:4", "!custom"),
    ("a: !<tag:yaml.org,2002:int> 1\n", "1:4", "!!int"),
    ("!!map\na: 1\n", "1:1", "!!map"),
    ("a:\n  - 1\n  - !!float 2\n", "3:5", "!!float"),
])
def test_tags_are_refused(text, where, tag):
    doc, problems = load_text(text, "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(where, "yaml-tag")]
    assert problems[0].message == f"the tag '{tag}' is not allowed"
    assert problems[0].severity is Severity.ERROR
    assert "remove the tag" in problems[0].hint


def test_every_tag_is_reported():
    assert refused("a: !!str 1\nb: !x 2\nc: 3\n") == [("1:4", "yaml-tag"), ("2:4", "yaml-tag")]


@pytest.mark.parametrize("payload", [
    "a: !!python/object/apply:os.system ['touch {path}']\n",
    "a: !!python/object/apply:builtins.open ['{path}', 'w']\n",
    "a: !!python/object/new:subprocess.Popen [['touch', '{path}']]\n",
])
def test_a_code_execution_payload_runs_nothing(tmp_path, payload):
    target = tmp_path / "pwned"
    problems = load_text(payload.format(path=target), "t.yaml")[1]
    assert [d.code for d in problems] == ["yaml-tag"]
    assert not target.exists()


# -- refusals: aliases -------------------------------------------------------------------------

def test_an_alias_is_refused_at_the_alias():
    doc, problems = load("a: &x 1\nb: *x\n")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("2:4", "yaml-alias")]
    assert problems[0].message == "the alias '*x' is not allowed"
    assert "defaults:" in problems[0].hint


def test_an_alias_used_as_a_key_is_refused():
    assert refused("a: &x 1\n*x : 2\n") == [("2:1", "yaml-alias")]


def test_a_merge_key_alias_is_refused():
    assert refused("base: &b {x: 1}\nc:\n  <<: *b\n") == [("3:7", "yaml-alias")]


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_is_refused_without_expanding_anything():
    doc, problems = load_text(BILLION_LAUGHS, "t.yaml")
    assert doc is None
    assert problems[0].position == Position(2, 8)
    assert problems[0].message == "the alias '*a' is not allowed"
    assert {d.code for d in problems} == {"yaml-alias"}
    assert len(problems) <= MAX_LOAD_ERRORS


def test_billion_laughs_is_refused_alias_by_alias_and_stops_at_the_cap():
    from dynapcnn_dsl.load.reader import MAX_LOAD_ERRORS

    doc, problems = load_text(BILLION_LAUGHS, "t.yaml")
    assert doc is None
    assert {d.code for d in problems} == {"yaml-alias"}
    assert len(problems) == MAX_LOAD_ERRORS  # nothing expanded; collecting stops at the cap
    assert (str(problems[0].position), problems[0].code) == ("2:8", "yaml-alias")


# -- refusals: duplicate and complex keys ------------------------------------------------------

def test_duplicate_key_points_at_the_second_and_notes_the_first():
    doc, problems = load("dsl: 1\nchip: speck2f\ndsl: 2\n")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("3:1", "yaml-duplicate-key")]
    d = problems[0]
    assert d.message == "duplicate key 'dsl' (first defined at line 1)"
    assert len(d.related) == 1
    assert d.related[0].position == Position(1, 1)
    assert d.related[0].file == "t.yaml"
    assert d.related[0].message == "first defined here"


def test_duplicate_key_in_a_flow_mapping():
    _, problems = load("a: {b: 1, b: 2}\n")
    assert [(str(d.position), d.code) for d in problems] == [("1:11", "yaml-duplicate-key")]
    assert problems[0].related[0].position == Position(1, 5)


def test_duplicate_key_in_a_nested_block_mapping():
    assert refused("""\
        cores:
          a:
            kernel: 1
            kernel: 2
        """) == [("4:5", "yaml-duplicate-key")]


def test_the_same_key_in_different_mappings_is_no_duplicate():
    doc, problems = load("a: {k: 1}\nb: {k: 2}\n")
    assert problems == []
    assert doc.data == {"a": {"k": 1}, "b": {"k": 2}}


def test_duplicate_key_in_json():
    doc, problems = load_text('{"a": 1, "a": 2}', "t.json")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("1:10", "yaml-duplicate-key")]
    assert problems[0].related[0].position == Position(1, 2)


def test_a_third_copy_still_points_at_the_first_definition():
    _, problems = load("a: 1\na: 2\na: 3\n")
    assert [(str(d.position), d.code) for d in problems] == [
        ("2:1", "yaml-duplicate-key"), ("3:1", "yaml-duplicate-key")]
    assert [d.related[0].position for d in problems] == [Position(1, 1), Position(1, 1)]
    assert all("first defined at line 1" in d.message for d in problems)


@pytest.mark.parametrize(("text", "where"), [
    ("? [a]\n: 1\n", "1:3"),
    ("? {a: 1}\n: 1\n", "1:3"),
    ("{[a]: 1}\n", "1:2"),
    ("a: {[a]: 1}\n", "1:5"),
])
def test_complex_keys_are_refused(text, where):
    doc, problems = load_text(text, "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(where, "yaml-complex-key")]
    assert problems[0].message == "a mapping key must be a plain name, not a mapping or list"


# -- refusals: depth, documents, emptiness, syntax ---------------------------------------------

def test_max_depth_is_accepted():
    doc, problems = load_text("[" * MAX_DEPTH + "]" * MAX_DEPTH, "t.yaml")
    assert problems == []
    depth, node = 0, doc.data
    while isinstance(node, list):
        depth += 1
        node = node[0] if node else None
    assert depth == MAX_DEPTH


def test_one_level_more_is_refused_at_that_level():
    text = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    doc, problems = load_text(text, "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(f"1:{MAX_DEPTH + 1}", "yaml-depth")]
    assert problems[0].message == f"nesting deeper than {MAX_DEPTH} levels"


def test_deep_block_mappings_are_refused():
    text = "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH)) + " " * MAX_DEPTH + "k: 1\n"
    doc, problems = load_text(text, "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(f"{MAX_DEPTH + 1}:{MAX_DEPTH + 1}",
                                                              "yaml-depth")]


@pytest.mark.parametrize(("text", "where"), [
    ("a: 1\n---\nb: 2\n", "2:1"),
    ("---\na: 1\n...\n---\nb: 1\n", "4:1"),
])
def test_multiple_documents_are_refused_at_the_second(text, where):
    doc, problems = load_text(text, "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(where, "yaml-multiple-documents")]


@pytest.mark.parametrize("text", ["", "\n\n", "   \n", "# just a comment\n", "---\n"])
def test_empty_documents(text):
    doc, problems = load_text(text, "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("1:1", "empty-document")]
    assert problems[0].message == "the file is empty"


@pytest.mark.parametrize(("text", "where"), [
    ("a: [1, 2\n", "1:4"),          # the file ends inside a flow list: at its bracket
    ("a: [1, 2\nb: 3\n", "2:2"),     # a line later: where the list should have gone on
    ("a: b: c\n", "1:5"),
    ("a: 1\n b: 2\n", "2:3"),
    ("\ta: 1\n", "1:1"),
])
def test_yaml_syntax_errors(text, where):
    doc, problems = load_text(text, "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(where, "yaml-syntax")]
    assert problems[0].message.startswith("YAML syntax error: ")


def test_an_unterminated_string_is_reported_at_its_opening_quote():
    doc, problems = load_text('a: "x\nb: 1\nc: 2\n', "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("1:4", "yaml-syntax")]


def test_a_control_character_is_a_positioned_syntax_error():
    doc, problems = load_text("a: 1\nb: \x00\n", "t.yaml")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("2:4", "yaml-syntax")]
    assert "\n" not in problems[0].message


def test_a_yaml_1_1_directive_does_not_change_the_schema():
    """(With the pure-Python parser, used when ruamel.yaml.clib is missing, it does.)"""
    doc, problems = load_text("%YAML 1.1\n---\na: yes\n", "t.yaml")
    if doc is None:     # refusing the directive is as good as ignoring it
        assert problems
    else:
        assert doc.data == {"a": "yes"}


def test_a_yaml_1_1_sexagesimal_never_raises():
    """(With the pure-Python parser, used when ruamel.yaml.clib is missing, it raises ValueError.)"""
    doc, problems = load_text("%YAML 1.1\n---\na: 1:20\n", "t.yaml")
    if doc is None:
        assert problems
    else:
        assert doc.data == {"a": "1:20"}


@pytest.fixture
def pure_parser(monkeypatch):
    """The pure-Python parser the loader falls back to when ruamel.yaml.clib is missing."""
    from dynapcnn_dsl.load import reader

    monkeypatch.setattr(reader, "_HAVE_CLIB", False)


def test_the_pure_parser_gives_the_same_data_and_positions(pure_parser):
    doc, problems = load("a: {b: 1, c: [x, 0x10]}\nd: yes\n")
    assert problems == []
    assert doc.data == {"a": {"b": 1, "c": ["x", 16]}, "d": "yes"}
    assert doc.source_map.values[("a", "c", 1)] == Position(1, 18)


def test_the_pure_parser_ignores_a_yaml_1_1_directive(pure_parser):
    doc, problems = load_text("%YAML 1.1\n---\na: yes\n", "t.yaml")
    if doc is None:
        assert problems
    else:
        assert doc.data == {"a": "yes"}


def test_the_pure_parser_never_raises_on_a_yaml_1_1_sexagesimal(pure_parser):
    doc, problems = load_text("%YAML 1.1\n---\na: 1:20\n", "t.yaml")
    if doc is None:
        assert problems
    else:
        assert doc.data == {"a": "1:20"}


# -- JSON --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "where", "message"), [
    ('{"a": 1,}', "1:9", "JSON syntax error: Expecting property name enclosed in double quotes"),
    ('{\n  "a": 1\n  "b": 2\n}', "3:3", "JSON syntax error: Expecting ',' delimiter"),
    ('{"a": [1, 2}', "1:12", "JSON syntax error: Expecting ',' delimiter"),
    ("a: 1\n", "1:1", "JSON syntax error: Expecting value"),     # YAML is not JSON
])
def test_json_syntax_errors(text, where, message):
    doc, problems = load_text(text, "net.json")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(where, "json-syntax")]
    assert problems[0].message == message


def test_json_depth_is_refused_like_yaml():
    n = MAX_DEPTH + 1
    doc, problems = load_text("[" * n + "]" * n, "t.json")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(f"1:{n}", "yaml-depth")]


def test_very_deep_json_is_refused_at_the_first_level_too_deep():
    n = 3000
    doc, problems = load_text("[" * n + "]" * n, "t.json")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(f"1:{MAX_DEPTH + 1}", "yaml-depth")]
    assert problems[0].message == f"nesting deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize(("text", "where", "word"), [
    ('{"a": NaN}', "1:7", "NaN"),
    ('{"a": Infinity}', "1:7", "Infinity"),
    ('{\n  "a": -Infinity\n}', "2:8", "-Infinity"),
])
def test_json_refuses_python_constants(text, where, word):
    doc, problems = load_text(text, "t.json")
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [(where, "json-syntax")]
    assert problems[0].message == f"JSON syntax error: {word} is not a JSON value"


def test_json_strings_that_spell_constants_are_fine():
    doc, problems = load_text('{"NaN": "Infinity"}', "t.json")
    assert problems == []
    assert doc.data == {"NaN": "Infinity"}


def test_json_constant_is_positioned_at_the_constant_not_at_a_string():
    _, problems = load_text('{"a": "NaN", "b": NaN}', "t.json")
    assert [(str(d.position), d.code) for d in problems] == [("1:19", "json-syntax")]


def test_json_is_recognised_by_a_case_insensitive_suffix():
    assert load_text("a: 1\n", "NET.JSON")[1][0].code == "json-syntax"


def test_yaml_names_accept_yaml():
    doc, problems = load_text("a: 1\n", "net.yml")
    assert problems == []
    assert doc.data == {"a": 1}


# -- files -------------------------------------------------------------------------------------

def test_load_file_reads_a_yaml_file(tmp_path):
    path = tmp_path / "network.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    doc, problems = load_file(path)
    assert problems == []
    assert doc.data == {"a": 1}
    assert doc.file == str(path)


def test_display_name_replaces_the_path(tmp_path):
    path = tmp_path / "network.yaml"
    path.write_text("a: !!str 1\n", encoding="utf-8")
    _, problems = load_file(path, display_name="shown.yaml")
    assert [d.file for d in problems] == ["shown.yaml"]


def test_a_missing_file(tmp_path):
    path = tmp_path / "missing.yaml"
    doc, problems = load_file(path)
    assert doc is None
    assert [(d.position, d.code) for d in problems] == [(None, "file-unreadable")]
    assert problems[0].message == "no such file"
    assert problems[0].file == str(path)


def test_a_directory(tmp_path):
    doc, problems = load_file(tmp_path)
    assert doc is None
    assert [(d.position, d.code) for d in problems] == [(None, "file-unreadable")]
    assert problems[0].message == "this is a directory, not a file"


def test_a_file_over_the_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    doc, problems = load_file(path)
    assert doc is None
    assert [(d.position, d.code) for d in problems] == [(None, "file-too-large")]
    assert problems[0].message == f"the file is {MAX_BYTES + 1} bytes; the limit is {MAX_BYTES}"


def test_a_file_at_the_limit_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * (MAX_BYTES - 5))
    assert path.stat().st_size == MAX_BYTES
    doc, problems = load_file(path)
    assert problems == []
    assert doc.data == {"a": 1}


def test_invalid_utf8_is_refused_at_the_bad_byte(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_bytes(b"a: 1\nb: \xff\n")
    doc, problems = load_file(path)
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("2:4", "file-encoding")]
    assert problems[0].message == "the file is not valid UTF-8"


def test_invalid_utf8_on_the_first_line(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_bytes(b"\xc3(: 1\n")
    assert [(str(d.position), d.code) for d in load_file(path)[1]] == [("1:1", "file-encoding")]


def test_windows_line_endings_count_lines(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_bytes(b"a: 1\r\nb: \xff\r\n")
    assert [(str(d.position), d.code) for d in load_file(path)[1]] == [("2:4", "file-encoding")]


def test_invalid_utf8_column_counts_characters(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_bytes("a: 1\nb: é".encode() + b"\xff\n")
    assert [(str(d.position), d.code) for d in load_file(path)[1]] == [("2:5", "file-encoding")]


def test_invalid_utf8_after_a_bom_is_positioned_correctly(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\nb\xff: 2\n")
    assert [(str(d.position), d.code) for d in load_file(path)[1]] == [("2:2", "file-encoding")]


@pytest.mark.parametrize(("raw", "expected"), [
    (b"\xef\xbb\xbfa\xff: 1\n", "1:2"),      # the BOM is not a column of line 1
    (b"\xef\xbb\xbf\xff: 1\n", "1:1"),
    (b"a\xff: 1\n", "1:2"),                   # the same without a BOM
])
def test_invalid_utf8_on_the_first_line_after_a_bom(tmp_path, raw, expected):
    path = tmp_path / "n.yaml"
    path.write_bytes(raw)
    assert [(str(d.position), d.code) for d in load_file(path)[1]] == [(expected, "file-encoding")]


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\nb: 2\n")
    doc, problems = load_file(path)
    assert problems == []
    assert doc.data == {"a": 1, "b": 2}
    assert doc.source_map.keys[("a",)] == Position(1, 1)
    assert doc.source_map.lines[0] == "a: 1"


def test_a_bom_in_a_json_file_is_accepted(tmp_path):
    path = tmp_path / "n.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    doc, problems = load_file(path)
    assert problems == []
    assert doc.data == {"a": 1}


def test_refusals_from_load_file_carry_positions(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    doc, problems = load_file(path)
    assert doc is None
    assert [(str(d.position), d.code) for d in problems] == [("2:1", "yaml-duplicate-key")]

"""The committed JSON schema: fresh, draft-07 only, described everywhere, and agreeing with
the examples (what editors validate must match what the tool accepts)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from dynapcnn_dsl.load import load_file, load_text
from dynapcnn_dsl.schema import DRAFT, network_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schema" / "network.schema.json"
EXAMPLES = sorted((ROOT / "examples").glob("*/network.yaml"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _walk(node, path="#"):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_committed_schema_is_fresh():
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "schema/network.schema.json is stale: run `make schema` and commit it"
    )


def test_schema_is_valid_draft07():
    schema = network_schema()
    assert schema["$schema"] == DRAFT
    Draft7Validator.check_schema(schema)


def test_schema_uses_no_keywords_newer_than_draft07():
    text = schema_text()
    for keyword in ("prefixItems", "$defs", "unevaluatedProperties", "dependentRequired", "$anchor"):
        assert f'"{keyword}"' not in text, keyword


def test_refs_have_no_siblings_which_draft07_would_ignore():
    for path, node in _walk(network_schema()):
        if isinstance(node, dict) and "$ref" in node:
            assert set(node) == {"$ref"}, path


def test_every_property_has_a_description_for_hover_help():
    missing = [
        f"{path}/properties/{name}"
        for path, node in _walk(network_schema())
        if isinstance(node, dict) and isinstance(node.get("properties"), dict)
        for name, prop in node["properties"].items()
        if not prop.get("description")
    ]
    assert missing == []


def test_every_definition_has_a_description():
    definitions = network_schema()["definitions"]
    assert [name for name, d in definitions.items() if not d.get("description")] == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_validate_against_the_schema(example):
    doc, problems = load_file(example)
    assert problems == []
    errors = list(Draft7Validator(network_schema()).iter_errors(doc.data))
    assert [e.message for e in errors] == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_carry_a_modeline_that_points_at_the_schema(example):
    first = example.read_text().splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{example}: first line must be the yaml-language-server modeline"
    assert (example.parent / match.group(1)).resolve() == SCHEMA_FILE


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ("kernel: 3}", "kernel: 17}"),
        ("kernel: 3}", "kernel: 3, stirde: 2}"),
        ("kernel: 3}", "kernel: 3, stride: 3}"),
        ("chip: speck2f", "chip: speck9"),
    ],
)
def test_editors_see_the_hardware_ranges(change, needle):
    text = (
        "dsl: 1\nchip: speck2f\ninput: {source: host, shape: [1, 16, 16], to: [a]}\n"
        "cores:\n  a: {conv: {out_channels: 4, kernel: 3}}\n"
    )
    good, _ = load_text(text, "t.yaml")
    bad, _ = load_text(text.replace(change, needle), "t.yaml")
    validator = Draft7Validator(network_schema())
    assert list(validator.iter_errors(good.data)) == []
    assert list(validator.iter_errors(bad.data)) != []


def test_cli_schema_matches_the_committed_file(tmp_path):
    from dynapcnn_dsl.cli import run

    out = tmp_path / "s.json"
    assert run(["schema", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(SCHEMA_FILE.read_text())


# -- template files -------------------------------------------------------------------------------

TEMPLATE_SCHEMA_FILE = ROOT / "schema" / "template.schema.json"
TEMPLATES = sorted((ROOT / "templates").glob("*.yaml"))


def test_committed_template_schema_is_fresh_and_draft07():
    from dynapcnn_dsl.schema import template_schema

    assert TEMPLATE_SCHEMA_FILE.read_text() == schema_text("template"), (
        "schema/template.schema.json is stale: run `make schema` and commit it")
    Draft7Validator.check_schema(template_schema())
    missing = [f"{path}/properties/{name}" for path, node in _walk(template_schema())
               if isinstance(node, dict) and isinstance(node.get("properties"), dict)
               for name, prop in node["properties"].items() if not prop.get("description")]
    assert missing == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
def test_bundled_templates_validate_and_carry_the_modeline(template):
    from dynapcnn_dsl.schema import template_schema

    doc, problems = load_file(template)
    assert problems == []
    assert list(Draft7Validator(template_schema()).iter_errors(doc.data)) == []
    match = MODELINE.match(template.read_text().splitlines()[0])
    assert match and (template.parent / match.group(1)).resolve() == TEMPLATE_SCHEMA_FILE


def test_a_template_instance_is_a_valid_core_for_editors():
    text = ("dsl: 1\nchip: speck2f\ninput: {source: host, shape: [1, 16, 16], to: [b]}\n"
            "cores:\n  b: {template: residual_block, with: {channels: 1}, to: []}\n")
    doc, _ = load_text(text, "t.yaml")
    assert list(Draft7Validator(network_schema()).iter_errors(doc.data)) == []
    bad, _ = load_text(text.replace("to: []", "to: [], kernal: 3"), "t.yaml")
    assert list(Draft7Validator(network_schema()).iter_errors(bad.data)) != []


@pytest.mark.parametrize(("chip", "valid"), [
    ("speck2f", True), ("Speck2fModuleDevKit", True), ("SPECK2F", True), ("speck2fmodule", True),
    ("DynapcnnDevKit", True), ("dynapcnndevkit", True), ("speck9", False), ("speck2f ", False),
    ("xspeck2f", False), ("speck2", False),
])
def test_the_chip_is_matched_in_any_case_as_the_tool_does(chip, valid):
    """Issue 9: the schema's chip enum was case-sensitive while the tool is not."""
    from dynapcnn_dsl.chips import resolve_chip

    text = ("dsl: 1\nchip: CHIP\ninput: {source: host, shape: [1, 16, 16], to: [a]}\n"
            "cores:\n  a: {conv: {out_channels: 4, kernel: 3}}\n")
    doc, _ = load_text(text.replace("CHIP", repr(chip)), "t.yaml")
    errors = list(Draft7Validator(network_schema()).iter_errors(doc.data))
    assert (errors == []) is valid is (resolve_chip(chip) is not None)


def test_two_mistakes_in_one_core_are_two_errors_at_their_own_paths():
    """Issue 9: with `anyOf` (core or instance) a mistake in a core made the whole core fail both
    alternatives; with if/then/else each mistake is one error at its own path (the editor test,
    tests/acceptance/test_editor_lsp.py, checks the same through the language server)."""
    text = ("dsl: 1\nchip: speck2f\ninput: {source: host, shape: [1, 64, 64], to: [conv1]}\n"
            "cores:\n  conv1:\n    conv: {out_channels: 8, kernel: 17}\n"
            "    to: [{core: conv2, poool: 2}]\n  conv2: {conv: {out_channels: 8, kernel: 3}}\n")
    doc, _ = load_text(text, "t.yaml")
    errors = sorted(Draft7Validator(network_schema()).iter_errors(doc.data),
                    key=lambda e: list(e.absolute_path))
    assert [list(e.absolute_path) for e in errors] == [["cores", "conv1", "conv", "kernel"],
                                                       ["cores", "conv1", "to", 0]]
    assert errors[0].validator == "maximum"
    assert any(c.validator == "additionalProperties" and "'poool'" in c.message
               for c in errors[1].context)  # the long form of a destination, `oneOf` a name


@pytest.mark.parametrize(("value", "valid"), [("0", False), ("0.0", False), ("-0.5", True), ("1", False)])
def test_min_v_mem_must_be_below_zero_for_editors(value, valid):
    text = ("dsl: 1\nchip: speck2f\ninput: {source: host, shape: [1, 16, 16], to: [a]}\n"
            f"defaults: {{neuron: {{min_v_mem: {value}}}}}\n"
            f"cores:\n  a: {{conv: {{out_channels: 4, kernel: 3}}, neuron: {{min_v_mem: {value}}}}}\n")
    doc, _ = load_text(text, "t.yaml")
    errors = list(Draft7Validator(network_schema()).iter_errors(doc.data))
    assert len(errors) == (0 if valid else 2)

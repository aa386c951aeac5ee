"""Configuration documents read back (dynapcnn_dsl.config.reader): the published schema, damaged or
hostile documents refused at the file:line:col of the offending value, and what `diff` does
with documents (read once, no network models, a one-core build, complete JSON patches with one
operation per changed tensor).

Documents are real builds (dynapcnn_dsl.build) written to tmp_path, then edited as text.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonpatch
import numpy as np
import pytest
from conftest import CHAIN, ROOT, write_weights
from jsonschema import Draft7Validator

import dynapcnn_dsl
from dynapcnn_dsl.api import BuildError
from dynapcnn_dsl.cli import main
from dynapcnn_dsl.config.model import FORMAT
from dynapcnn_dsl.config.reader import read_document
from dynapcnn_dsl.config.schema import document_schema, schema_text
from dynapcnn_dsl.diagnostics import Position
from dynapcnn_dsl.differ import compare, json_patch

SCHEMA_FILE = ROOT / "schema" / "document.schema.json"
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.samna.json"))

ONE_CORE = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 64, 64], to: [a]}
defaults:
  neuron: {threshold: 1.0, min_v_mem: -1.0}
cores:
  a: {conv: {out_channels: 8, kernel: 1}, monitor: true}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def built(tmp_path: Path, network: str = CHAIN, *, name: str = "net", seed: int = 0,
          annotate: bool = False) -> Path:
    """A document built from `network` with random weights, written to tmp_path."""
    net = write(tmp_path, f"{name}.yaml", network)
    weights = tmp_path / f"{name}-{seed}.npz"
    write_weights(net, weights, seed=seed)
    out = tmp_path / f"{name}-{seed}.json"
    dynapcnn_dsl.build(net, weights, annotate=annotate).write(out)
    return out


def edited(path: Path, old: str, new: str, *, count: int = 1) -> tuple[Path, Position]:
    """A copy of the document with the first `old` replaced, and where the new text starts."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    out = path.with_name("edited.json")
    out.write_text(text.replace(old, new, count), encoding="utf-8")
    return out, Position(line, col)


def problems(path: Path) -> list[tuple[str, str, str]]:
    data, diags = read_document(path)
    assert data is None
    assert all(d.file == str(path) and d.is_error for d in diags)
    return [(str(d.position), d.code, d.message) for d in diags]


# --------------------------------------------------------------------------------- the schema
def test_committed_document_schema_is_fresh():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "schema/document.schema.json is stale: run `make schema` and commit it")


def test_document_schema_is_draft07_with_a_description_everywhere():
    schema = document_schema()
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"

    def walk(node, path="#"):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "description" in sub or "$ref" in sub, f"{path}/properties/{name}"
            for key, sub in node.items():
                yield from walk(sub, f"{path}/{key}")
    list(walk(schema))


def test_the_golden_documents_are_valid():
    for golden in GOLDEN:
        data, diags = read_document(golden)
        assert diags == [] and data is not None, golden.name
        assert isinstance(data["config"]["cnn_layers"][0]["destinations"], list)
    small = min(GOLDEN, key=lambda p: p.stat().st_size)   # the schema itself, with jsonschema
    assert list(Draft7Validator(document_schema()).iter_errors(json.loads(small.read_text()))) == []


def test_the_tensors_read_are_numpy_arrays(tmp_path):
    data, _ = read_document(built(tmp_path))
    layer = data["config"]["cnn_layers"][0]
    assert isinstance(layer["weights"], np.ndarray) and layer["weights"].shape == (4, 2, 3, 3)
    assert layer["weights"].dtype == np.int64


# ------------------------------------------------------------------------- damaged documents
def test_a_ragged_tensor_is_refused_where_it_is(tmp_path):
    doc = built(tmp_path)
    text = doc.read_text(encoding="utf-8")
    start = text.index('"weights": [') + len('"weights": ')
    row_end = text.index("]", start)                    # drop the last value of the first row
    cut = text[:text.rindex(",", start, row_end)] + text[row_end:]
    bad = tmp_path / "ragged.json"
    bad.write_text(cut, encoding="utf-8")
    line = text.count("\n", 0, start) + 1
    col = start - text.rfind("\n", 0, start)
    assert problems(bad) == [(f"{line}:{col}", "document-invalid", "weights: ragged (rows of different "
                                                                   "lengths) or nested too deep for 4 axes")]


@pytest.mark.parametrize("old, new, message", [
    ('"monitor_enable": false', '"monitor_enable": "no"',
     "config.cnn_layers[0].monitor_enable: 'no' is not of type 'boolean'"),
    ('"kernel_size": 3', '"kernel_size": 17',
     "config.cnn_layers[0].dimensions.kernel_size: 17 is greater than the maximum of 16"),
    ('"threshold_high": ', '"threshold_high": 1.5, "x": ',
     "config.cnn_layers[0].threshold_high: 1.5 is not of type 'integer'"),
    ('"pooling": 2', '"pooling": 3',
     "config.cnn_layers[0].destinations[0].pooling: 3 is not one of [1, 2, 4]"),
], ids=["bool", "range", "float", "enum"])
def test_a_wrong_value_is_refused_at_its_position(tmp_path, old, new, message):
    doc, at = edited(built(tmp_path), old, new)
    found = problems(doc)
    assert (f"{at.line}:{at.col + len(old.split(':')[0]) + 2}", "document-invalid", message) in found


def test_a_tensor_of_floats_or_out_of_range(tmp_path):
    doc = built(tmp_path)
    data = json.loads(doc.read_text(encoding="utf-8"))
    data["config"]["cnn_layers"][0]["biases"] = [0.5, 0, 0, 0]
    data["config"]["cnn_layers"][1]["weights"][0][0][0][0] = 300
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, indent=1), encoding="utf-8")
    assert [(c, m) for _, c, m in problems(bad)] == [
        ("document-invalid", "biases: holds values that are not integers"),
        ("document-invalid", "weights: holds values outside -128..127")]


@pytest.mark.parametrize("layers", [0, 8])
def test_empty_or_short_cnn_layers_are_refused(tmp_path, layers):
    doc = built(tmp_path)
    data = json.loads(doc.read_text(encoding="utf-8"))
    data["config"]["cnn_layers"] = data["config"]["cnn_layers"][:layers]
    bad = tmp_path / "short.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    ((where, code, message),) = problems(bad)
    assert code == "document-invalid" and "is too short" in message
    text = json.dumps(data)
    at = text.index("[", text.index('"cnn_layers"'))
    assert where == f"1:{at + 1}"


THRESHOLD = '"threshold_high": '


def test_nan_is_refused_at_its_position(tmp_path):
    doc = built(tmp_path)
    high = json.loads(doc.read_text(encoding="utf-8"))["config"]["cnn_layers"][0]["threshold_high"]
    doc, at = edited(doc, f"{THRESHOLD}{high},", f"{THRESHOLD}NaN,")
    ((where, code, message),) = problems(doc)
    assert code == "document-json" and message.startswith("the document is not valid JSON")
    assert where == f"{at.line}:{at.col + len(THRESHOLD)}"


def test_deep_nesting_is_a_diagnostic_not_a_recursion_error(tmp_path):
    header = f'{{"format": "{FORMAT}", "version": 1, "chip": "speck2f", "config": '
    deep = tmp_path / "deep.json"
    deep.write_text(header + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    ((_, code, message),) = problems(deep)
    assert code == "document-json" and "depth" in message
    shallow = tmp_path / "shallow.json"   # within the parser's limit: the schema refuses it unwalked
    shallow.write_text(header + '{"cnn_layers": []}, "generator": ' + "[" * 900 + "]" * 900 + "}",
                       encoding="utf-8")
    codes = {c for _, c, _ in problems(shallow)}
    assert codes == {"document-invalid"}


def test_not_utf8_and_not_a_document(tmp_path):
    raw = tmp_path / "latin1.json"
    raw.write_bytes(b'{"format": "\xff"}')
    assert [c for _, c, _ in problems(raw)] == ["document-json"]
    other = write(tmp_path, "other.json", '{"hello": 1}')
    assert [c for _, c, _ in problems(other)] == ["document-format"]


def test_document_read_raises_with_the_diagnostics(tmp_path):
    doc, _ = edited(built(tmp_path), '"monitor_enable": false', '"monitor_enable": 0')
    with pytest.raises(BuildError) as caught:
        dynapcnn_dsl.Document.read(doc)
    assert [d.code for d in caught.value.diagnostics] == ["document-invalid"]


# ----------------------------------------------------------------------------- diff, on files
def run_cli(*argv) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_diff_of_a_one_core_build_with_itself(tmp_path):
    """host [1, 64, 64], 8 features, kernel 1: dense tensors that outgrew orjson's buffer."""
    doc = built(tmp_path, ONE_CORE)
    assert run_cli("diff", doc, doc) == (0, "no differences\n", "")
    assert run_cli("diff", doc, doc, "--format", "json-patch")[:2] == (0, "[]\n")


def test_diff_of_a_damaged_document_is_positioned(tmp_path):
    doc = built(tmp_path)
    bad, at = edited(doc, '"return_to_zero": false', '"return_to_zero": null')
    code, out, err = run_cli("diff", doc, bad)
    assert code == 2 and out == ""
    col = at.col + len('"return_to_zero": ')
    assert err.startswith(f"{bad}:{at.line}:{col}: error[document-invalid]: config.cnn_layers[0]."
                          "return_to_zero: None is not of type 'boolean'")


PROBE = """
import json, os, sys
parsed = []   # sizes of what the stdlib JSON parser is given: never a document
loads = json.loads
json.loads = lambda s, *a, **k: parsed.append(len(s)) or loads(s, *a, **k)
from dynapcnn_dsl.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
smallest = min(os.path.getsize(p) for p in {argv!r}[-2:])
heavy = ("dynapcnn_dsl.model", "dynapcnn_dsl.pipeline", "dynapcnn_dsl.link", "pydantic", "torch")
loaded = sorted(m for m in sys.modules if m.startswith(heavy))
print("PROBE", code, [n for n in parsed if n >= smallest], loaded)
"""


def test_diffing_two_documents_parses_once_and_imports_no_network_model(tmp_path):
    a, b = built(tmp_path, seed=0), built(tmp_path, seed=1)
    env = {k: v for k, v in os.environ.items() if k != "DYNAPCNN_DSL_DEBUG"}
    for argv in (["diff", str(a), str(b)], ["diff", "--format", "json-patch", str(a), str(b)]):
        proc = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        probe = [line for line in proc.stdout.splitlines() if line.startswith("PROBE")]
        assert probe == ["PROBE 1 [] []"], proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- JSON patches
def pointer(path: str) -> str:
    """A text-format path (cnn_layers[0].destinations[1]) as a JSON pointer under /config."""
    parts = path.replace("[", ".").replace("]", "").split(".")
    return "/" + "/".join(["config", *parts] if parts[0] != "chip" else parts)


@pytest.mark.parametrize("edit", ["chip", "pool", "threshold", "weights", "pin"])
def test_every_text_difference_is_in_the_patch(tmp_path, edit):
    text = {
        "chip": CHAIN.replace("chip: speck2f", "chip: speck2e"),
        "pool": CHAIN.replace("pool: 2", "pool: 4"),
        "threshold": CHAIN.replace("threshold: 1.0", "threshold: 3.0"),
        "weights": CHAIN,
        "pin": CHAIN.replace("  b:\n", "  b:\n    index: 5\n"),
    }[edit]
    old_path = built(tmp_path)
    new_path = built(tmp_path, text, name="new", seed=1 if edit == "weights" else 0)
    (old, _), (new, _) = read_document(old_path), read_document(new_path)
    changes, _ = compare(copy.deepcopy(old), copy.deepcopy(new))
    assert changes
    patch = json_patch({"chip": old["chip"], "config": old["config"]},
                       {"chip": new["chip"], "config": new["config"]})
    paths = [op["path"] for op in patch]
    for change in changes:
        want = pointer(change.path)
        assert any(p.startswith(want) or want.startswith(p) for p in paths), (change, paths)
    # and the patch turns the old document into the new one
    code, out, _ = run_cli("diff", old_path, new_path, "--format", "json-patch")
    assert code == 1
    plain = json.loads(old_path.read_text(encoding="utf-8"))
    after = jsonpatch.JsonPatch(json.loads(out)).apply(plain)
    want = json.loads(new_path.read_text(encoding="utf-8"))
    assert (after["chip"], after["config"]) == (want["chip"], want["config"])


def test_a_chip_change_is_in_the_patch(tmp_path):
    old = built(tmp_path)
    new = built(tmp_path, CHAIN.replace("chip: speck2f", "chip: speck2e"), name="e")
    code, out, _ = run_cli("diff", old, new, "--format", "json-patch")
    assert code == 1
    assert json.loads(out) == [{"op": "replace", "path": "/chip", "value": "speck2e"}]


def test_a_retrained_tensor_is_one_replace(tmp_path):
    old, new = read_document(built(tmp_path, seed=0))[0], read_document(built(tmp_path, seed=1))[0]
    patch = json_patch(old["config"], new["config"])
    tensors = [op for op in patch if "/weights" in op["path"] or "/neurons" in op["path"]]
    assert [(op["op"], op["path"]) for op in tensors] == [("replace", "/cnn_layers/0/weights"),
                                                          ("replace", "/cnn_layers/1/weights")]
    assert tensors[0]["value"] == new["config"]["cnn_layers"][0]["weights"].tolist()
    assert {op["path"].rsplit("/", 1)[1] for op in patch} == {"weights", "threshold_high", "threshold_low"}


def test_compare_reports_a_short_cnn_layers(tmp_path):
    data, _ = read_document(built(tmp_path))
    short = copy.deepcopy(data)
    short["config"]["cnn_layers"] = []
    changes, _ = compare(data, short)
    assert {c.path.split(".")[0] for c in changes} == {"cnn_layers[0]", "cnn_layers[1]"}


# ---------------------------------------------------------------------------- structure only
def test_a_structure_only_build_writes_no_weights_kill_bit(tmp_path):
    net = write(tmp_path, "legacy.yaml", CHAIN.replace("chip: speck2f", "chip: dynapcnn"))
    layers = [layer for layer in dynapcnn_dsl.build(net).config["cnn_layers"] if "dimensions" in layer]
    assert layers and all("weights_kill_bit" not in layer for layer in layers)
    assert all("biases_kill_bit" in layer for layer in layers)   # which features are killed: structure


def test_a_document_without_config(tmp_path):
    doc = built(tmp_path)
    data = json.loads(doc.read_text(encoding="utf-8"))
    del data["config"]
    bad = tmp_path / "no-config.json"
    bad.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert problems(bad) == [("1:1", "document-invalid", "document: 'config' is a required property")]
    code, _, err = run_cli("diff", doc, bad)
    assert code == 2 and f"{bad}:1:1: error[document-invalid]" in err


def test_positions_past_strings_with_brackets_and_quotes(tmp_path):
    """The subtrees skipped on the way to a problem may hold strings with brackets and quotes."""
    odd = tmp_path / 'we[i]r"d{'
    odd.mkdir()
    doc = built(odd, annotate=True)
    data = json.loads(doc.read_text(encoding="utf-8"))
    assert "[i]" in data["annotations"]["cnn_layers"][0]["file"]
    data["annotations"]["dvs_layer"]["line"] = "one"
    bad = tmp_path / "bad.json"
    text = json.dumps(data, indent=2)
    bad.write_text(text, encoding="utf-8")
    at = text.index('"one"')
    line, col = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    assert problems(bad) == [(f"{line}:{col}", "document-invalid",
                              "annotations.dvs_layer.line: 'one' is not of type 'integer', 'null'")]

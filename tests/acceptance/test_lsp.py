"""`dynapcnn-dsl lsp` end to end (issue 22), driven over stdio as an editor drives it: every
example clean, an edit that makes and then mends a mistake, half-typed text, the weight
checks, hover, definition, references, rename, completion, quick fixes, and a few hundred
random edits without the server dying or falling silent. One server for the module.

Expected diagnostics are the pipeline's own on the same text (`run_text`): one pipeline.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dynapcnn_dsl.pipeline import Stage, run_text

from .lsp_client import ROOT, Client, LspError, doc_at

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")

EXAMPLES = sorted((ROOT / "examples").glob("*/network.yaml"))
RESNET = ROOT / "examples" / "dvs-resnet" / "network.yaml"
FILLING = ROOT / "examples" / "chip-filling" / "network.yaml"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    client = Client(tmp_path_factory.mktemp("lsp"))
    yield client
    client.shutdown()


def find(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """(line, character) of the `nth` occurrence of `needle` (0-based, as the protocol counts)."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def flagged(server: Client, uri: str) -> list[tuple[int, int, str]]:
    return [(d["range"]["start"]["line"], d["range"]["start"]["character"], d["code"])
            for d in server.diagnostics(uri)]


def pipeline(path: Path, text: str, **choices) -> list[tuple[int, int, str]]:
    """The pipeline's diagnostics of `text` as the contents of `path`, as the server places them."""
    result = run_text(text, str(path), base=path.parent, **choices)
    return [(d.position.line - 1, d.position.col - 1, d.code) if d.position and d.file == str(path)
            else (0, 0, d.code) for d in result.diagnostics]


def apply(text: str, edits: list[dict]) -> str:
    """The text with the protocol's TextEdits applied (last first, so ranges stay valid)."""
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                    reverse=True):
        s, t = e["range"]["start"], e["range"]["end"]
        assert s["line"] == t["line"]
        line = lines[s["line"]]
        lines[s["line"]] = line[:s["character"]] + e["newText"] + line[t["character"]:]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ diagnostics
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_every_example_is_clean(server, path):
    """No errors, and exactly validate's diagnostics (the legacy chip's example warns that
    current samna does not support it)."""
    uri = server.open(path)
    found = server.diagnostics(uri)
    assert all(d["severity"] != 1 for d in found)
    assert flagged(server, uri) == pipeline(path, path.read_text())
    server.close(uri)


def test_the_mistakes_example_is_flagged_as_validate_flags_it(server):
    path = ROOT / "examples" / "mistakes.yaml"
    uri = server.open(path)
    found = server.diagnostics(uri)
    assert [(d["range"]["start"]["line"], d["range"]["start"]["character"], d["code"]) for d in found] \
        == pipeline(path, path.read_text())
    kernel = next(d for d in found if d["code"] == "conv-kernel")
    assert kernel["severity"] == 1 and kernel["source"] == "dynapcnn-dsl"
    assert "\nhint: " in kernel["message"]
    r = kernel["range"]  # the whole value `17`, not just its start
    line = path.read_text().splitlines()[r["start"]["line"]]
    assert line[r["start"]["character"]:r["end"]["character"]] == "17"
    server.close(uri)


def test_an_edit_makes_a_mistake_and_the_next_mends_it(server):
    text = RESNET.read_text()
    uri = server.open(RESNET, text)
    assert server.diagnostics(uri) == []
    line, char = find(text, "kernel: 4}")
    char += len("kernel: ")
    server.change(uri, text.replace("kernel: 4}", "kernel: 17}"))
    assert flagged(server, uri) == [(line, char, "conv-kernel")]
    server.change(uri, text)
    assert server.diagnostics(uri) == []
    server.close(uri)


HALF_TYPED = [
    ("an unclosed flow mapping", "conv: {out_channels: 2, kernel: 4}", "conv: {out_channels: 2, kernel: 4"),
    ("an unclosed list", "to: [{core: classifier, pool: 4}]", "to: [{core: classifier, pool: 4}"),
    ("a key without a value", "conv: {out_channels: 2, kernel: 4}", "conv:"),
    ("half a key", "    neuron: {threshold: 2.0, min_v_mem: -2.0}\n", "    neur\n"),
    ("an unclosed quote", "from: classifier", "from: 'classif"),
    ("a lone dash", "  stem:\n", "  stem:\n  -\n"),
]


@pytest.mark.parametrize(("old", "new"), [c[1:] for c in HALF_TYPED], ids=[c[0] for c in HALF_TYPED])
def test_half_typed_text_gets_the_pipelines_diagnostics_and_the_server_stays(server, old, new):
    text = RESNET.read_text()
    assert old in text
    uri = server.open(RESNET, text)
    assert server.diagnostics(uri) == []
    typed = text.replace(old, new, 1)
    server.change(uri, typed)
    found = flagged(server, uri)
    assert found and found == pipeline(RESNET, typed)
    server.change(uri, text)  # typed to the end: clean again, and the server still answers
    assert server.diagnostics(uri) == []
    assert server.request("textDocument/hover", doc_at(uri, *find(text, "stem:"))) is not None
    server.close(uri)


def test_a_broken_file_keeps_its_names_for_the_editor(server):
    text = RESNET.read_text()
    broken = text.replace("to: [block1]", "to: [block1", 1)
    uri = server.open(RESNET, text)
    server.diagnostics(uri)
    server.change(uri, broken)
    assert [c for *_, c in flagged(server, uri)] == ["yaml-syntax"]
    line, char = find(broken, "to: [block2]")
    items = server.request("textDocument/completion", doc_at(uri, line, char + len("to: [")))
    labels = {i["label"] for i in items["items"]}
    assert {"classifier", "block1.a"} <= labels  # from the last text that loaded, and that linked
    server.close(uri)


def test_the_weight_checks_run_with_the_weights_beside_the_network(server):
    """dvs-resnet has weights.safetensors beside it: a classifier with one feature too few is
    structurally fine, but its weights no longer fit; the diagnostics are `check`'s."""
    text = RESNET.read_text().replace("out_channels: 2, kernel: 4", "out_channels: 1, kernel: 4")
    text = text.replace("classes: 2", "classes: 1")
    weights = RESNET.parent / "weights.safetensors"
    assert pipeline(RESNET, text) == []
    want = pipeline(RESNET, text, until=Stage.QUANTIZE, weights=weights)
    assert want and all(code.startswith("weights") for *_, code in want)
    uri = server.open(RESNET, text)
    assert flagged(server, uri) == want
    server.close(uri)


def test_settings_name_the_weights_file(server):
    missing = "no-such-weights.safetensors"
    server.notify("workspace/didChangeConfiguration", {"settings": {"dynapcnn-dsl": {"weights": missing}}})
    try:
        uri = server.open(FILLING)
        want = pipeline(FILLING, FILLING.read_text(), until=Stage.QUANTIZE,
                        weights=FILLING.parent / missing)
        assert want and flagged(server, uri) == want
        server.close(uri)
    finally:
        server.notify("workspace/didChangeConfiguration", {"settings": {"dynapcnn-dsl": {}}})
    uri = server.open(FILLING)
    assert server.diagnostics(uri) == []
    server.close(uri)


# ----------------------------------------------------------------------------- what it answers
@pytest.fixture
def resnet(server):
    text = RESNET.read_text()
    uri = server.open(RESNET, text)
    assert server.diagnostics(uri) == []
    yield uri, text
    server.close(uri)


def test_hover_on_a_core_shows_its_placement_shapes_memory_and_destinations(server, resnet):
    uri, text = resnet
    at_definition = server.request("textDocument/hover", doc_at(uri, *find(text, "stem:")))
    shown = at_definition["contents"]["value"]
    assert "physical core 2" in shown and "input [2, 64, 64]" in shown and "output [8, 32, 32]" in shown
    assert "kernel 256 of 16384" in shown and "to `block1.a`" in shown and "to `block1.b`" in shown
    line, char = find(text, "to: [stem]")
    at_reference = server.request("textDocument/hover", doc_at(uri, line, char + 6))
    assert at_reference["contents"] == at_definition["contents"]
    line, char = find(text, "to: [{core: classifier, pool: 4}]")
    classifier = server.request("textDocument/hover", doc_at(uri, line, char + 13))["contents"]["value"]
    assert "merges" not in classifier and "from `block2.b`" in classifier


def test_hover_on_an_instance_shows_its_template_its_parameters_and_what_it_makes(server, resnet):
    uri, text = resnet
    shown = server.request("textDocument/hover", doc_at(uri, *find(text, "block1:")))["contents"]["value"]
    assert "template `residual_block`" in shown
    assert "`channels` (int) = `8`" in shown and "`kernel` (int) = `3`" in shown
    assert "`block1.a` on core" in shown and "`block1.b` on core" in shown


def test_hover_on_a_key_shows_the_schemas_description(server, resnet):
    uri, text = resnet
    line, char = find(text, "polarity:")
    shown = server.request("textDocument/hover", doc_at(uri, line, char + 2))["contents"]["value"]
    from dynapcnn_dsl.schema import network_schema

    assert network_schema()["definitions"]["Input"]["properties"]["polarity"]["description"] in shown


def test_definition_of_a_reference_and_of_a_template(server, resnet):
    uri, text = resnet
    line, char = find(text, "to: [block1]")
    found = server.request("textDocument/definition", doc_at(uri, line, char + 6))
    assert [(f["uri"], f["range"]["start"]["line"]) for f in found] == [(uri, find(text, "  block1:")[0])]
    line, char = find(text, "residual_block_downsample")
    found = server.request("textDocument/definition", doc_at(uri, line, char + 3))
    assert [f["uri"] for f in found] == [(ROOT / "templates" / "residual_block_downsample.yaml").as_uri()]


def test_references_of_a_core(server, resnet):
    uri, text = resnet
    params = {**doc_at(uri, *find(text, "classifier:")), "context": {"includeDeclaration": True}}
    found = server.request("textDocument/references", params)
    assert sorted((f["range"]["start"]["line"], f["range"]["start"]["character"]) for f in found) == sorted(
        [find(text, "classifier:"), _after(find(text, "{core: classifier"), len("{core: ")),
         _after(find(text, "from: classifier"), len("from: "))])


def _after(at: tuple[int, int], n: int) -> tuple[int, int]:
    return at[0], at[1] + n


def test_rename_of_a_core_updates_every_reference(server):
    """On chip-filling (dvs-resnet's weights name its cores: a renamed core would not find them)."""
    text = FILLING.read_text()
    uri = server.open(FILLING, text)
    assert server.diagnostics(uri) == []
    line, char = find(text, "mid1:")
    assert server.request("textDocument/prepareRename", doc_at(uri, line, char))["start"] == \
        {"line": line, "character": char}
    edit = server.request("textDocument/rename", {**doc_at(uri, line, char), "newName": "middle"})
    assert len(edit["changes"][uri]) == 2  # the definition and `{core: mid1, pool: 2}`
    renamed = apply(text, edit["changes"][uri])
    assert "mid1" not in renamed and renamed.count("middle") == 2
    server.change(uri, renamed)
    assert server.diagnostics(uri) == []
    with pytest.raises(LspError, match="not a valid core name"):
        server.request("textDocument/rename",
                       {**doc_at(uri, *find(renamed, "middle:")), "newName": "two words"})
    server.close(uri)


def test_rename_of_an_instance_renames_references_to_its_cores(server, resnet):
    uri, text = resnet
    edit = server.request("textDocument/rename", {**doc_at(uri, *find(text, "block1:")), "newName": "res1"})
    assert sorted(e["newText"] for e in edit["changes"][uri]) == ["res1", "res1"]


def completions(server: Client, uri: str, text: str, old: str, new: str) -> set[str]:
    """The labels offered at the end of `new`, typed in place of `old`."""
    typed = text.replace(old, new, 1)
    server.change(uri, typed)
    end = text.index(old) + len(new)  # the cursor: at the end of what was typed
    line, char = typed.count("\n", 0, end), end - (typed.rfind("\n", 0, end) + 1)
    found = server.request("textDocument/completion", doc_at(uri, line, char))
    server.change(uri, text)
    assert server.diagnostics(uri) == []
    return {i["label"] for i in found["items"]}


def test_completion_of_cores_keys_values_templates_and_parameters(server, resnet):
    uri, text = resnet
    cores = completions(server, uri, text, "to: [block1]", "to: [")
    assert {"stem", "block1", "down1", "block2", "classifier", "block1.a", "readout"} <= cores
    assert completions(server, uri, text, "from: classifier", "from: ") >= {"classifier", "block2.b"}
    assert completions(server, uri, text, "kernel: 3, stride: 2", "ke") >= {"kernel", "stride", "padding"}
    assert completions(server, uri, text, "polarity: both", "polarity: ") == {"both", "on", "off", "merge"}
    assert completions(server, uri, text, "template: residual_block_downsample", "template: ") >= {
        "residual_block", "residual_block_downsample", "conv_pool"}
    assert completions(server, uri, text, "with: {channels: 16}", "with: {") == {"channels", "kernel",
                                                                                "threshold"}
    assert completions(server, uri, text, "    neuron: {threshold: 2.0", "    ne") >= {"neuron", "monitor",
                                                                                     "merge"}


@pytest.mark.parametrize(("old", "new", "code"), [
    ("to: [{core: classifier", "to: [{core: clasifier", "dest-unknown"),
    ("stride: 2, padding: 1", "stride: 2, paddin: 1", "unknown-key"),
    ("template: residual_block\n", "template: residual_blok\n", "template-not-found"),
    ("dsl: 1", "dsl: 7", "dsl-version"),
])
def test_a_quick_fix_mends_the_mistake(server, resnet, old, new, code):
    uri, text = resnet
    typed = text.replace(old, new, 1)
    server.change(uri, typed)
    found = server.diagnostics(uri)
    assert [d["code"] for d in found] == [code]
    r = found[0]["range"]
    actions = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": r, "context": {"diagnostics": found}})
    assert len(actions) == 1 and actions[0]["kind"] == "quickfix"
    assert actions[0]["diagnostics"][0]["code"] == code
    fixed = apply(typed, actions[0]["edit"]["changes"][uri])
    assert fixed == text
    server.change(uri, fixed)
    assert server.diagnostics(uri) == []


# ------------------------------------------------------------------------------------ liveness
ALPHABET = ["a", "1", " ", ":", "-", "[", "]", "{", "}", ",", "\n", "  ", "'", '"', "#", "é", "😀", "\t",
            "core", "to: [", "template: ", "${x}", "!!python/object", "*a", "&a "]


def _utf16(line: str, char: int) -> int:
    """A code-point column as UTF-16 units (the protocol's default)."""
    return len(line[:char].encode("utf-16-le")) // 2


def test_hundreds_of_random_edits_never_take_the_server_down(server):
    """Random insertions and deletions, each sent as a change; every 20 edits the server must
    publish the diagnostics of the newest text and answer a hover and a completion. At the
    end, its diagnostics are the pipeline's on the final text. (Liveness: no timing.)"""
    rng = random.Random(22)
    text = RESNET.read_text()
    uri = server.open(RESNET, text)
    server.diagnostics(uri)
    for step in range(300):
        lines = text.split("\n")
        line = rng.randrange(len(lines))
        old = lines[line]
        start = rng.randint(0, len(old))
        end = min(len(old), start + rng.choice([0, 0, 1, 2, 5]))
        new = rng.choice(ALPHABET) if rng.random() < 0.7 or end == start else ""
        lines[line] = old[:start] + new + old[end:]
        text = "\n".join(lines)
        server.change(uri, text)
        if step % 20 == 19:
            server.diagnostics(uri)
            server.request("textDocument/hover", doc_at(uri, line, 0))
            server.request("textDocument/completion", doc_at(uri, line, 0))
    final = text.split("\n")
    assert flagged(server, uri) == [(li, _utf16(final[li], ch) if li < len(final) else ch, code)
                                    for li, ch, code in pipeline(RESNET, text)]
    server.close(uri)


def test_a_template_file_gets_a_templates_checks_not_a_networks(server):
    path = ROOT / "templates" / "residual_block.yaml"
    text = path.read_text()
    uri = server.open(path, text)
    assert server.diagnostics(uri) == []  # not "missing dsl:, chip:, input:"
    typed = text.replace("kernel: {type: int,", "kernel: {type: integer,")
    server.change(uri, typed)
    line, char = find(typed, "integer")
    assert flagged(server, uri) == [(line, char, "invalid-choice")]
    line, char = find(typed, "exit: b")
    found = server.request("textDocument/definition", doc_at(uri, line, char + len("exit: ")))
    assert [f["range"]["start"] for f in found] == [{"line": find(typed, "  b:")[0], "character": 2}]
    server.close(uri)


def test_a_yaml_file_of_another_kind_gets_no_diagnostics(server, tmp_path):
    """Editors attach the server to every YAML file: a CI workflow is not a network missing
    its `dsl:`. (A file that does not load is checked: its syntax error is shown.)"""
    workflow = tmp_path / "ci.yaml"
    uri = server.open(workflow, "name: ci\non: [push]\ndefaults: {run: {shell: bash}}\njobs: {}\n")
    assert server.diagnostics(uri) == []
    server.close(uri)
    uri = server.open(tmp_path / "broken.yaml", "name: [ci\n")
    assert [d["code"] for d in server.diagnostics(uri)] == ["yaml-syntax"]
    server.close(uri)


def test_settings_given_when_the_server_starts(tmp_path):
    """Initialization options (and the workspace/configuration the server then asks for) choose
    the weights file as didChangeConfiguration does; a second server, for its own settings."""
    missing = tmp_path / "none.safetensors"
    client = Client(tmp_path, settings={"dynapcnn-dsl": {"weights": str(missing)}})
    try:
        uri = client.open(FILLING)
        want = pipeline(FILLING, FILLING.read_text(), until=Stage.QUANTIZE, weights=missing)
        assert want and flagged(client, uri) == want
    finally:
        client.shutdown()


def test_hover_on_a_concat_shows_what_it_merges_and_the_shifts(server):
    path = ROOT / "examples" / "concat" / "network.yaml"
    text = path.read_text()
    uri = server.open(path, text)
    shown = server.request("textDocument/hover", doc_at(uri, *find(text, "cat:")))["contents"]["value"]
    assert "merges (concat): `left`, `right` (shift 8)" in shown
    left = server.request("textDocument/hover", doc_at(uri, *find(text, "left:")))["contents"]["value"]
    assert "to `cat`" in left
    server.close(uri)


def test_definition_of_a_core_an_instance_makes_is_in_its_template(server, tmp_path):
    text = RESNET.read_text().replace("to: [{core: classifier, pool: 4}]", "to: [{core: block1.b, pool: 4}]")
    text = text.replace("to: [block2]", "to: [block2, classifier]")  # keep classifier reachable
    uri = server.open(RESNET, text)
    line, char = find(text, "block1.b, pool")
    found = server.request("textDocument/definition", doc_at(uri, line, char + 8))
    template = ROOT / "templates" / "residual_block.yaml"
    b = template.read_text().splitlines().index("  b:")
    assert [(f["uri"], f["range"]["start"]) for f in found] == [
        (template.as_uri(), {"line": b, "character": 2})]
    server.close(uri)


def test_hover_on_input_and_readout_in_a_list(server):
    text = (ROOT / "tests" / "corpus" / "invalid" / "input-shift-input-after-core.yaml").read_text()
    text = text.replace("from: [conv1, input]", "from: [input, conv1]")  # mended: input first
    uri = server.open(ROOT / "examples" / "scratch.yaml", text)
    assert server.diagnostics(uri) == []
    line, char = find(text, "from: [input", nth=1)  # the first is in the header comment
    shown = server.request("textDocument/hover", doc_at(uri, line, char + len("from: [")))
    assert shown["contents"]["value"].startswith("**input**: host events [2, 32, 32], to `conv1`")
    server.close(uri)


def test_hover_on_a_template_parameter_shows_how_the_template_declares_it(server, resnet):
    uri, text = resnet
    line, char = find(text, "with: {channels: 8}")
    found = server.request("textDocument/hover", doc_at(uri, line, char + len("with: {")))
    shown = found["contents"]["value"]
    assert shown == ("**channels**: parameter of template `residual_block` (int; required; 1..1024): "
                     "features in and out (the skip's features)")

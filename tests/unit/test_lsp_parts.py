"""The language server's parts without a server (issue 22): spans of tokens, the completion
context read from half-typed text, the settings, the index of names, the checker's reuse, and
the VS Code client shipped in editors/vscode. End to end: tests/acceptance/test_lsp*.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dynapcnn_dsl.diagnostics import Position
from dynapcnn_dsl.lsp.analysis import Checker, Settings
from dynapcnn_dsl.lsp.context import context
from dynapcnn_dsl.lsp.text import Span, name_span, split_lines, token_span

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("line", "col", "span"), [
    ("    conv: {out_channels: 8, kernel: 17}", 37, (36, 38)),      # a plain scalar in a flow mapping
    ("    to: [{core: b, poool: 2}]", 9, (8, 29)),                  # a whole flow collection
    ("  from: 'conv1'", 9, (8, 15)),                                # a quoted scalar, quotes included
    ('  name: "a \\" b"  # note', 9, (8, 16)),                     # an escaped quote inside
    ("  chip: speck2x   # comment", 9, (8, 15)),                   # a comment is not the value
    ("  x: !!python/object foo", 6, (5, 20)),                       # a tag
    ("  conv:", 8, (7, 7)),                                         # past the end: empty
])
def test_token_span(line, col, span):
    assert token_span([line], Position(1, col)) == Span(0, *span)


def test_name_span_is_inside_the_quotes_and_no_position_is_the_top():
    assert name_span(["  from: 'conv1'"], Position(1, 9)) == Span(0, 9, 14)
    assert token_span(["a: 1"], None) == Span(0, 0, 0)
    assert split_lines("a\r\nb\rc\n") == ["a", "b", "c", ""]


NET = """\
dsl: 1
input: {source: host, shape: [1, 16, 16], to: [a]}
cores:
  a:
    conv: {out_channels: 4, kernel: 3}
    to:
      - b
  b:
    template: residual_block
    with:
      ch
"""


@pytest.mark.parametrize(("line", "prefix", "want"), [
    (1, "input: {source: ", (("input", "source"), "value", "")),
    (1, "input: {source: host, sh", (("input",), "key", "sh")),
    (1, "input: {source: host, shape: [1, 16, 16], to: [", (("input", "to", 0), "value", "")),
    (4, "    conv: {out_channels: 4, ker", (("cores", "a", "conv"), "key", "ker")),
    (4, "    co", (("cores", "a"), "key", "co")),
    (6, "      - ", (("cores", "a", "to", 0), "value", "")),
    (8, "    template: res", (("cores", "b", "template"), "value", "res")),
    (10, "      ch", (("cores", "b", "with"), "key", "ch")),
])
def test_the_completion_context_is_read_from_the_text(line, prefix, want):
    lines = split_lines(NET)
    lines[line] = prefix
    ctx = context(lines, line, len(prefix))
    assert ctx is not None and (ctx.path, ctx.wants, ctx.word) == want


def test_no_completion_in_a_comment():
    assert context(["# a comment: "], 0, 13) is None


def test_settings_from_the_client_take_what_they_understand(tmp_path):
    s = Settings.from_client({"dynapcnn-dsl": {"weights": "w.safetensors", "templates": ["lib"],
                                               "disable": "dest-pool", "key": 3, "other": 1}})
    assert s == Settings("w.safetensors", None, ("lib",), ("dest-pool",))
    assert Settings.from_client(None) == Settings.from_client({"weights": 5}) == Settings()
    net = tmp_path / "network.yaml"
    assert s.weights_for(net) == tmp_path / "w.safetensors"
    assert Settings().weights_for(net) is None
    (tmp_path / "weights.safetensors").write_bytes(b"")
    assert Settings().weights_for(net) == tmp_path / "weights.safetensors"
    mapped = Settings.from_client({"weights": {"network.yaml": "/abs/w.pt", "b/net.yaml": "w.npz",
                                               str(tmp_path / "c.yaml"): "c.pt"}})
    assert mapped.weights_for(net) == Path("/abs/w.pt")
    assert mapped.weights_for(tmp_path / "b" / "net.yaml") == tmp_path / "b" / "w.npz"
    assert mapped.weights_for(tmp_path / "c.yaml") == tmp_path / "c.pt"
    assert mapped.weights_for(tmp_path / "other.yaml") == tmp_path / "weights.safetensors"


def test_the_checker_runs_again_only_for_new_text():
    path = ROOT / "examples" / "chip-filling" / "network.yaml"
    text = path.read_text()
    checker = Checker()
    first = checker.check(path, text)
    assert checker.check(path, text) is first and checker.runs == 1
    assert checker.check(path, text + "\n").result.ok and checker.runs == 2
    checker.invalidate()
    assert checker.check(path, text) is not first and checker.runs == 3


def test_the_index_names_definitions_references_and_instances():
    path = ROOT / "examples" / "dvs-resnet" / "network.yaml"
    idx = Checker().check(path, path.read_text()).index
    assert set(idx.definitions) == {"stem", "block1", "down1", "block2", "classifier"}
    assert {(r.name, r.kind) for r in idx.references} == {
        ("stem", "input"), ("block1", "to"), ("down1", "to"), ("block2", "to"),
        ("classifier", "to"), ("classifier", "readout")}
    assert idx.owner("block1.b") == "block1" and idx.owner("nothing.b") is None
    assert idx.instances["down1"].template == "residual_block_downsample"


def test_the_vscode_client_runs_the_server_and_declares_the_settings_it_reads():
    client = ROOT / "editors" / "vscode"
    manifest = json.loads((client / "package.json").read_text())
    assert (client / manifest["main"]).is_file()
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["dynapcnn-dsl.command"]["default"] == ["dynapcnn-dsl", "lsp"]
    assert {k.removeprefix("dynapcnn-dsl.") for k in settings} - {"command"} == set(
        Settings.__dataclass_fields__)
    if shutil.which("node"):
        subprocess.run(["node", "--check", str(client / manifest["main"])], check=True)


def test_every_feature_answers_on_randomly_mangled_text():
    """Hover, definition, references, rename, completion and quick fixes on 150 randomly
    edited versions of the demo network, at random places: an answer (maybe none), never an
    exception (a request that raises is an error in the editor)."""
    import random

    from dynapcnn_dsl.lsp import features

    rng = random.Random(2022)
    path = ROOT / "examples" / "dvs-resnet" / "network.yaml"
    original = path.read_text()
    pieces = ["a", "1", " ", ":", "- ", "[", "]", "{", "}", ",", "\n", "'", '"', "#", "é", "\t", "to: [",
              "template: ", "with: {", "from: ", "${x}", "!!str ", "*a", "&a ", "block1.", "core: "]
    checker = Checker()
    for _ in range(150):
        text = original  # a few edits each time: most texts still load, many still link
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(text))
            cut = rng.choice([0, 0, 1, 3, 10])
            text = text[:at] + (rng.choice(pieces) if rng.random() < 0.7 else "") + text[at + cut:]
        snap = checker.check(path, text)
        lines = snap.lines
        features.fixes(snap, list(snap.diagnostics))
        for _ in range(10):
            line = rng.randrange(len(lines))
            char = rng.randint(0, len(lines[line]))
            features.hover(snap, line, char, checker.templates)
            features.definition(snap, line, char, checker.templates)
            features.references(snap, line, char)
            features.completion(snap, lines, line, char, checker.templates)
            if features.rename_target(snap, line, char) is not None:
                features.rename(snap, line, char, "renamed")


def test_without_pygls_the_command_says_what_to_install():
    probe = ("import sys; sys.modules['pygls'] = None\n"
             "from dynapcnn_dsl.cli import main\nmain(['lsp'])")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == ""
    assert "pip install 'dynapcnn-dsl[lsp]'" in done.stderr and "Traceback" not in done.stderr


def test_every_quick_fix_on_the_corpus_mends_its_diagnostic():
    """Each fix offered on a corpus file, applied, makes its diagnostic go away (the same id at
    the same place); between them they cover every did-you-mean and the one-edit hints."""
    from dynapcnn_dsl.lsp.features import fixes

    checker, fixed = Checker(), set()
    corpus = ROOT / "tests" / "corpus" / "invalid"
    for path in sorted(p for p in corpus.iterdir() if p.suffix in (".yaml", ".json")):
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        snap = checker.check(path, text)
        for fix in fixes(snap, list(snap.diagnostics)):
            lines = list(snap.lines)
            for e in sorted(fix.edits, key=lambda e: (e.span.line, e.span.start), reverse=True):
                line = lines[e.span.line]
                lines[e.span.line] = line[:e.span.start] + e.text + line[e.span.end:]
            after = checker.check(path, "\n".join(lines)).diagnostics
            d = fix.diagnostic
            assert not [a for a in after if (a.code, a.position) == (d.code, d.position)], (path.name, fix)
            fixed.add(d.code)
    assert fixed >= {"dest-unknown", "from-unknown", "readout-from-unknown", "unknown-key", "unknown-chip",
                     "invalid-choice", "template-not-found", "template-param-unknown", "dsl-version",
                     "readout-errata", "yaml-tag", "core-name"}


def test_hover_in_a_template_file_explains_its_own_keys_and_its_cores_keys():
    from dynapcnn_dsl.lsp.features import hover

    path = ROOT / "templates" / "residual_block.yaml"
    text = path.read_text()
    snap = Checker().check(path, text)
    lines = text.split("\n")

    def about(prefix: str, word: str) -> str:
        line = next(i for i, t in enumerate(lines) if t.startswith(prefix))
        found = hover(snap, line, lines[line].index(word) + 1)
        assert found is not None
        return found[0]

    assert about("exit:", "exit").startswith("**exit**: The core whose destinations")
    assert about("  channels:", "min").startswith("**min**: Smallest allowed value")
    assert about("    conv:", "conv") == "**conv**: The convolution of this core."

"""`dynapcnn_dsl.render`: the text, JSON and GitHub formats and the summary line."""

from __future__ import annotations

import json

import pytest
from helpers import BASE, ROOT, check

from dynapcnn_dsl.diagnostics import Diagnostic, Position, Related, Severity
from dynapcnn_dsl.render import (
    FORMATS,
    count,
    entry,
    format_github,
    format_text,
    summary_line,
    to_dict,
    write_envelope,
)

AT = Position(5, 5)
LINES = ("dsl: 1", "chip: speck2f", "cores:", "  a:", "    to: [b, c, d]")


def diag(position=AT, severity=Severity.ERROR, code="dest-max", message="too many",
         hint="send to one core", related=(), file="net.yaml") -> Diagnostic:
    return Diagnostic(file, position, severity, code, message, hint, related)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_offered_by_validate_and_renders_the_diagnostic(fmt, capsys):
    from dynapcnn_dsl.cli import run

    bad = ROOT / "tests" / "corpus" / "invalid" / "conv-kernel-too-big.yaml"
    assert run(["validate", "--format", fmt, str(bad)]) == 1
    out = capsys.readouterr().out
    line = {"text": "error[conv-kernel]: ", "github": "::error file=",
            "json": '"code": "conv-kernel"'}[fmt]
    assert line in out
    if fmt == "json":
        assert json.loads(out)["files"][0]["valid"] is False


# -- text ----------------------------------------------------------------------------------------

def test_text_header_excerpt_caret_and_hint():
    assert format_text(diag(), LINES) == (
        "net.yaml:5:5: error[dest-max]: too many\n"
        "  5 |     to: [b, c, d]\n"
        "    |     ^\n"
        "  hint: send to one core"
    )


def test_text_caret_under_the_column():
    text = format_text(diag(Position(5, 16)), LINES).splitlines()
    source, caret = text[1], text[2]
    assert caret.index("^") == source.index("d]")


def test_text_caret_at_column_one():
    text = format_text(diag(Position(1, 1)), LINES).splitlines()
    assert text[1] == "  1 | dsl: 1"
    assert text[2] == "    | ^"


def test_text_gutter_widens_with_the_line_number():
    lines = [""] * 11 + ["abc"]
    text = format_text(diag(Position(12, 2)), lines).splitlines()
    assert text[1] == "  12 | abc"
    assert text[2] == "     |  ^"


def test_text_tabs_keep_the_caret_aligned():
    text = format_text(diag(Position(1, 3)), ["\tab: 1"]).splitlines()
    assert text[1][text[2].index("^")] == "b"


def test_text_note_lines_for_related_positions():
    related = (Related("net.yaml", Position(5, 10), "first listed here"),
               Related("other.yaml", None, "see also"))
    text = format_text(diag(related=related), LINES).splitlines()
    assert text[-2:] == ["  note: net.yaml:5:10: first listed here", "  note: other.yaml: see also"]


def test_text_without_position_has_no_excerpt():
    assert format_text(diag(position=None), LINES) == (
        "net.yaml: error[dest-max]: too many\n  hint: send to one core")


def test_text_without_lines_or_hint():
    assert format_text(diag(hint=None)) == "net.yaml:5:5: error[dest-max]: too many"


def test_text_position_past_the_end_has_no_excerpt():
    assert format_text(diag(Position(99, 1)), LINES).splitlines() == [
        "net.yaml:99:1: error[dest-max]: too many", "  hint: send to one core"]


@pytest.mark.parametrize(("severity", "word"), [
    (Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info")])
def test_text_severity_words(severity, word):
    assert format_text(diag(severity=severity)).startswith(f"net.yaml:5:5: {word}[dest-max]: ")


def test_text_colour():
    text = format_text(diag(), LINES, color=True)
    assert "\x1b[1;31merror[dest-max]\x1b[0m" in text
    assert "\x1b[31m^\x1b[0m" in text
    assert "\x1b[1;33mwarning[" in format_text(diag(severity=Severity.WARNING), color=True)
    assert "\x1b" not in format_text(diag(), LINES)


def test_text_of_a_real_diagnostic():
    result = check(BASE.replace("kernel: 3", "kernel: 17"))
    (d,) = result.diagnostics
    assert format_text(d, result.source.source_map.lines) == (
        "t.yaml:9:37: error[conv-kernel]: core 'a': kernel 17 is outside 1..16\n"
        "  9 |     conv: {out_channels: 4, kernel: 17}\n"
        "    |                                     ^\n"
        "  hint: the chip's kernels are square, 1..16: use a smaller kernel or stride/pool first"
    )


# -- summary line --------------------------------------------------------------------------------

@pytest.mark.parametrize(("severities", "line"), [
    ([], "f.yaml: valid"),
    ([Severity.INFO], "f.yaml: valid"),
    ([Severity.WARNING], "f.yaml: valid (1 warning)"),
    ([Severity.WARNING] * 2, "f.yaml: valid (2 warnings)"),
    ([Severity.ERROR], "f.yaml: invalid (1 error)"),
    ([Severity.ERROR] * 3, "f.yaml: invalid (3 errors)"),
    ([Severity.ERROR, Severity.WARNING], "f.yaml: invalid (1 error, 1 warning)"),
    ([Severity.ERROR] * 2 + [Severity.WARNING] * 2 + [Severity.INFO],
     "f.yaml: invalid (2 errors, 2 warnings)"),
])
def test_summary_line(severities, line):
    diags = [diag(severity=s) for s in severities]
    assert summary_line("f.yaml", diags, not any(d.is_error for d in diags)) == line


def test_summary_line_says_what_the_pipeline_decided():
    """The verdict is the pipeline's (`--strict` fails a warning): never recomputed here."""
    assert summary_line("f.yaml", [diag(severity=Severity.WARNING)], False) == (
        "f.yaml: invalid (1 warning)")


def test_count():
    diags = [diag(severity=s) for s in (Severity.ERROR, Severity.INFO, Severity.ERROR)]
    assert count(diags) == {"error": 2, "warning": 0, "info": 1}


# -- JSON ----------------------------------------------------------------------------------------

def test_json_fields():
    d = diag(related=(Related("net.yaml", Position(5, 10), "first"),))
    assert to_dict(d) == {
        "file": "net.yaml", "line": 5, "col": 5, "severity": "error", "code": "dest-max",
        "message": "too many", "hint": "send to one core",
        "related": [{"file": "net.yaml", "line": 5, "col": 10, "message": "first"}],
    }


def test_json_without_positions():
    d = diag(position=None, hint=None, related=(Related("x", None, "m"),))
    out = to_dict(d)
    assert (out["line"], out["col"], out["hint"]) == (None, None, None)
    assert out["related"] == [{"file": "x", "line": None, "col": None, "message": "m"}]


def test_json_envelope():
    import io

    out = io.StringIO()
    write_envelope(out, iter([
        entry("a.yaml", False, [diag(file="a.yaml"), diag(file="a.yaml", severity=Severity.WARNING)]),
        entry("b.yaml", True, [], network={"cores": 1})]))
    doc = json.loads(out.getvalue())
    assert [f["file"] for f in doc["files"]] == ["a.yaml", "b.yaml"]
    assert [f["valid"] for f in doc["files"]] == [False, True]
    assert [len(f["diagnostics"]) for f in doc["files"]] == [2, 0]
    assert doc["files"][0]["diagnostics"][1]["severity"] == "warning"
    assert doc["files"][1]["network"] == {"cores": 1}
    assert doc["summary"] == {"error": 1, "warning": 1, "info": 0}
    assert out.getvalue() == json.dumps(doc, indent=2) + "\n"  # the layout of json.dumps


def test_json_envelope_without_files():
    import io

    out = io.StringIO()
    write_envelope(out, [])
    assert out.getvalue() == json.dumps({"files": [], "summary": count([])}, indent=2) + "\n"


# -- GitHub --------------------------------------------------------------------------------------

def test_github_annotation():
    assert format_github(diag()) == (
        "::error file=net.yaml,line=5,col=5,title=dest-max::too many%0Ahint: send to one core")


@pytest.mark.parametrize(("severity", "level"), [
    (Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "notice")])
def test_github_levels(severity, level):
    assert format_github(diag(severity=severity)).startswith(f"::{level} ")


def test_github_without_position_or_hint():
    assert format_github(diag(position=None, hint=None)) == (
        "::error file=net.yaml,title=dest-max::too many")


def test_github_escapes_the_message():
    out = format_github(diag(message="50% done\nnext\rline", hint=None))
    assert out.endswith("::50%25 done%0Anext%0Dline")


def test_github_escapes_percent_first():
    assert format_github(diag(message="%0A", hint=None)).endswith("::%250A")


def test_github_escapes_colons_and_commas_in_properties_only():
    out = format_github(diag(file="dir,x/a:b%.yaml", code="x:y,z", message="a: b, c", hint=None))
    assert out == "::error file=dir%2Cx/a%3Ab%25.yaml,line=5,col=5,title=x%3Ay%2Cz::a: b, c"


# -- text from the file is never printed raw ------------------------------------------------------

HOSTILE = "\x1b[2J\x1b[H\r\u202evalid"


def test_control_characters_and_escapes_are_shown_escaped_in_text():
    d = diag(message=f"core '{HOSTILE}' sends to 'b'", hint=f"rename {HOSTILE}",
             related=(Related(f"n{HOSTILE}.yaml", None, HOSTILE),), file=f"f{HOSTILE}.yaml")
    text = format_text(d)
    assert not any(c in text for c in "\x1b\r\u202e")
    assert "core '\\x1b[2J\\x1b[H\\r\\u202evalid' sends to 'b'" in text
    assert "  hint: rename \\x1b[2J" in text and "  note: n\\x1b[2J" in text
    assert summary_line(f"f{HOSTILE}.yaml", [d], False).startswith("f\\x1b[2J")


def test_the_caret_stays_under_the_column_after_escaping():
    line = "  \x1b[31m: {kernel: 17}"
    col = line.index("17") + 1
    source, caret = format_text(diag(Position(1, col)), [line]).splitlines()[1:3]
    assert "\x1b" not in source
    assert source[caret.index("^")] == "1" and source[caret.index("^") + 1] == "7"


def test_github_escapes_control_characters_too():
    out = format_github(diag(message=f"x{HOSTILE}", hint=HOSTILE, file=f"{HOSTILE}.yaml"))
    assert not any(c in out for c in "\x1b\r\u202e\n")


def test_a_hostile_key_in_a_file_is_escaped_end_to_end(tmp_path, capsys):
    from dynapcnn_dsl.cli import run

    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE + '    "\\e[2J\\rvalid": 1\n', encoding="utf-8")
    assert run(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    assert "\\x1b[2J\\rvalid" in out
